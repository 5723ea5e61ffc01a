// Asks a node for the A record of many names at once over one UDP socket (a bounded window of queries in flight,
// each asked again once when its reply is lost), so every name of a zone can be sampled within a moment of a write.

import dgram from 'node:dgram';
import { Type } from '../../src/proto/constants.js';
import { buildQuery } from '../helpers/wire.js';
import { decodeMessage } from '../helpers/decode.js';

const WINDOW = 64;
const TIMEOUT_MS = 1000;

/** Name → the first A address answered, or the rcode name ("NXDOMAIN", "NOERROR" for NODATA, "TIMEOUT"). */
export async function sampleNames(port: number, names: readonly string[]): Promise<Map<string, string>> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const answers = new Map<string, string>();
  const waiting = new Map<number, (reply: Buffer | undefined) => void>();
  socket.on('message', (msg) => waiting.get(msg.readUInt16BE(0))?.(msg));
  let next = 0;
  let id = 0;
  const ask = (name: string): Promise<Buffer | undefined> => {
    const queryId = (id = (id + 1) & 0xffff);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), TIMEOUT_MS);
      const done = (reply: Buffer | undefined): void => {
        clearTimeout(timer);
        waiting.delete(queryId);
        resolve(reply);
      };
      waiting.set(queryId, done);
      socket.send(buildQuery(name, Type.A, { id: queryId }), port, '127.0.0.1');
    });
  };
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const name = names[next++];
      const reply = (await ask(name)) ?? (await ask(name));
      if (!reply) {
        answers.set(name, 'TIMEOUT');
        continue;
      }
      const msg = decodeMessage(reply);
      const a = msg.answer.find((rr) => rr.type === 'A');
      answers.set(name, a ? [...a.rdata].join('.') : msg.header.rcode === 3 ? 'NXDOMAIN' : 'NOERROR');
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
  socket.close();
  return answers;
}

/** How many answers each distinct value got: {"192.0.2.1": 2999, "NXDOMAIN": 1}. */
export function tally(answers: Map<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of answers.values()) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
