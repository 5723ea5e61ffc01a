// `--zones DIR`: seeds the store from *.zone files, importing only zones the store does not have yet, so edits
// made through the API survive a restart (an explicit `zone import --replace` overwrites).

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { nameKey } from '../proto/names.js';
import { zoneDocId } from './zone-docs.js';
import { saveZone } from './zone-writer.js';
import { parseZoneFile } from './zonefile-parse.js';

export interface SeedReport {
  imported: string[];
  skipped: string[];
  failed: { file: string; error: string }[];
}

/** The zone a file is for when it has no $ORIGIN or SOA to say: its name without ".zone". */
export function originFromFileName(file: string): string | undefined {
  const base = path.basename(file).replace(/\.zone$/, '');
  try {
    return nameKey(base.endsWith('.') ? base : base + '.');
  } catch {
    return undefined;
  }
}

export async function seedZones(store: Store, dir: string, logger: Logger): Promise<SeedReport> {
  const report: SeedReport = { imported: [], skipped: [], failed: [] };
  const files = (await readdir(dir)).filter((f) => f.endsWith('.zone')).sort();
  for (const file of files) {
    const full = path.join(dir, file);
    try {
      const zone = parseZoneFile(await readFile(full, 'utf8'), { file, origin: originFromFileName(file) });
      if (await store.get(zoneDocId(zone.name))) {
        report.skipped.push(zone.name);
        continue;
      }
      await saveZone(store, zone, { replace: false });
      report.imported.push(zone.name);
      logger.info({ zone: zone.name, file: full }, 'zone imported from zones directory');
    } catch (err) {
      report.failed.push({ file: full, error: (err as Error).message });
      logger.error({ file: full, err: (err as Error).message }, 'zone file not imported');
    }
  }
  return report;
}
