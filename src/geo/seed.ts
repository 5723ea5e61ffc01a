// `--zones DIR` also seeds edges and pools from DIR/edges.json ({"edges":[…],"pools":[…]}, the API's shapes), each
// only when the store has none of that name, so changes made through the API survive a restart.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { edgeDocId, InvalidFieldError, normalizeEdge, normalizePool, poolDocId } from './edge-docs.js';

export const SEED_FILE = 'edges.json';

export async function seedEdges(store: Store, dir: string, logger: Logger): Promise<void> {
  const file = path.join(dir, SEED_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  let seed: { edges?: Record<string, unknown>[]; pools?: Record<string, unknown>[] };
  try {
    seed = JSON.parse(text) as typeof seed;
  } catch (err) {
    logger.error({ file, err: (err as Error).message }, 'edges seed file is not JSON; nothing seeded from it');
    return;
  }
  const now = new Date().toISOString();
  const write = async (id: string, doc: Record<string, unknown>): Promise<boolean> => {
    if (await store.get(id)) return false;
    await store.put({ _id: id, ...doc, updatedAt: now });
    return true;
  };
  const seeded: string[] = [];
  try {
    for (const input of seed.edges ?? []) {
      const edge = normalizeEdge(input);
      if (await write(edgeDocId(edge.name), { type: 'edge', ...edge })) seeded.push(`edge ${edge.name}`);
    }
    for (const input of seed.pools ?? []) {
      const pool = normalizePool(input);
      if (await write(poolDocId(pool.name), { type: 'pool', ...pool })) seeded.push(`pool ${pool.name}`);
    }
  } catch (err) {
    if (!(err instanceof InvalidFieldError)) throw err;
    logger.error({ file, field: err.field, err: err.message }, 'edges seed file has an invalid entry; the rest is not seeded');
  }
  if (seeded.length > 0) logger.info({ file, seeded }, 'edges and pools seeded');
}
