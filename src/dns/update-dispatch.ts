// Where UPDATE leaves the query path: a message with opcode UPDATE goes to the (asynchronous) updater, every other
// one to the synchronous query handler as before. The socket servers send what either gives, when it is ready.

import { Opcode } from '../proto/constants.js';
import type { DnsHandler } from './handler.js';
import type { Updater } from './updater.js';

/** A handler whose answer may come later (an UPDATE's); a query's answer is always there at once. */
export type DnsResponder = (message: Buffer, transport: Parameters<DnsHandler>[1], remote?: string) => Buffer | undefined | Promise<Buffer | undefined>;

/** QR clear and opcode UPDATE: the header's third octet with its RD-side bits masked off. */
const UPDATE_REQUEST = Opcode.UPDATE << 3;

export function withUpdates(query: DnsHandler, update: Updater): DnsResponder {
  return function respond(message, transport, remote) {
    if (message.length >= 12 && ((message[2] as number) & 0xf8) === UPDATE_REQUEST) return update(message, transport, remote);
    return query(message, transport, remote);
  };
}
