// TCP clients for the DNS-over-TCP limit tests and the slow-client bench: from a chosen loopback address (the whole of
// 127/8 is local on Linux), well-behaved or trickling one octet at a time. Every wait is bounded.

import net from 'node:net';

function framed(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from([message.length >> 8, message.length & 0xff]), message]);
}

export interface OpenConnection {
  socket: net.Socket;
  /** Resolves when the server closes (or resets) the connection: ms after it was opened. */
  closed: Promise<number>;
  /** True once the connection has closed. */
  isClosed(): boolean;
}

/** Connects from `from`; resolves once connected. */
export function connectFrom(port: number, from: string, timeoutMs = 2000): Promise<OpenConnection> {
  return new Promise((resolve, reject) => {
    const opened = performance.now();
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
    let done = false;
    const closed = new Promise<number>((resolveClosed) => socket.once('close', () => {
      done = true;
      resolveClosed(performance.now() - opened);
    }));
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TCP connection from ${from} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ socket, closed, isClosed: () => done });
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`connection from ${from} closed before it was established`));
    });
  });
}

/**
 * Opens a connection from `from` and writes `message` one octet every `everyMs`, until the server closes it or
 * `stopAfterMs` passes (then it closes itself). Resolves with the open connection once connected.
 */
export async function trickle(port: number, from: string, message: Buffer, everyMs: number, stopAfterMs: number): Promise<OpenConnection> {
  const conn = await connectFrom(port, from);
  const bytes = framed(message);
  let sent = 0;
  const send = (): void => {
    if (conn.isClosed()) return;
    conn.socket.write(bytes.subarray(sent % bytes.length, (sent % bytes.length) + 1));
    sent++;
  };
  send();
  const timer = setInterval(send, everyMs);
  const stop = setTimeout(() => conn.socket.destroy(), stopAfterMs);
  void conn.closed.then(() => {
    clearInterval(timer);
    clearTimeout(stop);
  });
  return conn;
}

/** Sends one query from `from` on a new connection; resolves with the reply and the ms from connect to reply. */
export function askFrom(port: number, from: string, message: Buffer, timeoutMs = 2000): Promise<{ reply: Buffer; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TCP answer from 127.0.0.1:${port} to ${from} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('connect', () => socket.write(framed(message)));
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.end();
        resolve({ reply: pending.subarray(2, 2 + pending.readUInt16BE(0)), ms: performance.now() - started });
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`connection from ${from} closed without an answer`));
    });
  });
}

/** Keeps a connection from `from` that asks one query, reads the answer and then stays quiet (an idle client). */
export async function idleAfterOneQuery(port: number, from: string, message: Buffer): Promise<OpenConnection> {
  const conn = await connectFrom(port, from);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer on the idle connection')), 2000);
    conn.socket.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    conn.socket.write(framed(message));
  });
  return conn;
}

/** Opens a connection from `from` and sends nothing; resolves with the ms until the server closed or reset it. */
export function lifetimeFrom(port: number, from: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection from ${from} still open after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - started);
    });
  });
}
