// UDP load for the rate-limiting tests and bench: a flood of one message from several loopback source addresses at a
// set rate, and a steady client asking one question at a time from its own address. Both bounded in time.

import dgram from 'node:dgram';

export interface FloodResult {
  sent: number;
  /** Replies without TC. */
  answered: number;
  /** Replies with TC set (slipped by rate limiting, or too large). */
  truncated: number;
  /** Milliseconds from the first send to the last. */
  ms: number;
}

function bind(from: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
    socket.once('error', reject);
    socket.bind(0, from, () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends `message` (or each of `message` in turn) to 127.0.0.1:port from each of `sources` in turn, `perSecond` in all, for `durationMs`. */
export async function flood(port: number, sources: string[], message: Buffer | Buffer[], perSecond: number, durationMs: number): Promise<FloodResult> {
  const messages = Array.isArray(message) ? message : [message];
  const sockets = await Promise.all(sources.map(bind));
  const result: FloodResult = { sent: 0, answered: 0, truncated: 0, ms: 0 };
  for (const socket of sockets) {
    socket.on('message', (reply) => {
      if (reply.length >= 4 && (reply[2] & 0x02) !== 0) result.truncated++;
      else result.answered++;
    });
  }
  const tickMs = 10;
  const started = performance.now();
  let next = 0;
  while (performance.now() - started < durationMs) {
    // catch up with the schedule: the number that should have been sent by now
    const due = Math.min(Math.floor(((performance.now() - started + tickMs) * perSecond) / 1000), Math.floor((durationMs * perSecond) / 1000));
    for (; result.sent < due; result.sent++) sockets[next++ % sockets.length].send(messages[result.sent % messages.length], port, '127.0.0.1');
    await sleep(tickMs);
  }
  result.ms = performance.now() - started;
  await sleep(300); // replies still on their way
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return result;
}

export interface SteadyResult {
  asked: number;
  answered: number;
  truncated: number;
  unanswered: number;
}

/** Asks `messages` in turn from `from`, one at a time every `everyMs`, each waiting up to 1 s, for `durationMs`. */
export async function steadyClient(port: number, from: string, messages: Buffer[], everyMs: number, durationMs: number): Promise<SteadyResult> {
  const socket = await bind(from);
  const result: SteadyResult = { asked: 0, answered: 0, truncated: 0, unanswered: 0 };
  const started = performance.now();
  let id = 1;
  while (performance.now() - started < durationMs) {
    const message = Buffer.from(messages[result.asked % messages.length]);
    const want = id++ & 0xffff;
    message.writeUInt16BE(want, 0);
    result.asked++;
    const reply = await new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => {
        socket.off('message', onMessage);
        resolve(undefined);
      }, 1000);
      function onMessage(data: Buffer): void {
        if (data.length < 12 || data.readUInt16BE(0) !== want) return;
        clearTimeout(timer);
        socket.off('message', onMessage);
        resolve(data);
      }
      socket.on('message', onMessage);
      socket.send(message, port, '127.0.0.1');
    });
    if (!reply) result.unanswered++;
    else if ((reply[2] & 0x02) !== 0) result.truncated++;
    else result.answered++;
    await sleep(everyMs);
  }
  await new Promise<void>((r) => socket.close(() => r()));
  return result;
}

/** One query from `from`; resolves with the reply (rejects after 1 s). */
export async function askUdpFrom(port: number, from: string, message: Buffer): Promise<Buffer> {
  const socket = await bind(from);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no UDP reply to ${from} within 1 s`)), 1000);
      socket.once('message', (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      socket.send(message, port, '127.0.0.1');
    });
  } finally {
    await new Promise<void>((r) => socket.close(() => r()));
  }
}
