// Raw UDP and TCP exchanges with a server under test, each bounded by a timeout.

import dgram from 'node:dgram';
import net from 'node:net';

export function udpExchange(port: number, message: Buffer, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no UDP answer from 127.0.0.1:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.send(message, port, '127.0.0.1');
  });
}

/** Sends every message on one connection (pipelined, in one write) and collects one framed reply per message. */
export function tcpExchange(port: number, messages: Buffer[], timeoutMs = 2000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const replies: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`got ${replies.length} of ${messages.length} TCP answers within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('connect', () => {
      socket.write(Buffer.concat(messages.map(frame)));
    });
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const length = pending.readUInt16BE(0);
        replies.push(pending.subarray(2, 2 + length));
        pending = pending.subarray(2 + length);
      }
      if (replies.length === messages.length) {
        clearTimeout(timer);
        socket.end();
        resolve(replies);
      }
    });
  });
}

/** A message with its two-octet TCP length prefix (RFC 1035 §4.2.2). */
export function frame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from([message.length >> 8, message.length & 0xff]), message]);
}

export interface PiecesResult {
  replies: Buffer[];
  /** For each reply, how many pieces had been written when it arrived. */
  afterPiece: number[];
}

/**
 * Writes `pieces` on one TCP connection one write each, waiting `pauseMs` after every write so that the server
 * reads each piece on its own (Nagle is off; on loopback a write is in the server's socket before the pause
 * ends), and collects `expected` framed replies.
 */
export function tcpPieces(port: number, pieces: Buffer[], expected: number, options: { pauseMs?: number; timeoutMs?: number } = {}): Promise<PiecesResult> {
  const pauseMs = options.pauseMs ?? 10;
  const timeoutMs = options.timeoutMs ?? 3000 + pieces.length * pauseMs;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const replies: Buffer[] = [];
    const afterPiece: number[] = [];
    let written = 0;
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`got ${replies.length} of ${expected} TCP answers within ${timeoutMs} ms after ${written} of ${pieces.length} writes`));
    }, timeoutMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('connect', async () => {
      for (const piece of pieces) {
        if (socket.destroyed) return;
        socket.write(piece);
        written++;
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    });
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const length = pending.readUInt16BE(0);
        replies.push(pending.subarray(2, 2 + length));
        afterPiece.push(written);
        pending = pending.subarray(2 + length);
      }
      if (replies.length >= expected) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ replies, afterPiece });
      }
    });
  });
}

/**
 * Opens a connection, writes `bytes` without ending our side, and watches it for `withinMs`: the octets the server
 * sent, and whether it closed the connection (FIN or reset) and after how long.
 */
export function tcpWriteAndWatch(port: number, bytes: Buffer, withinMs: number): Promise<{ closed: boolean; ms: number; received: Buffer }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ closed, ms: Date.now() - started, received: Buffer.concat(chunks) });
    };
    const timer = setTimeout(() => done(false), withinMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => done(true));
    socket.on('close', () => done(true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return done(true);
      settled = true;
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Sends datagrams without waiting for answers (for floods of garbage). */
export async function udpSendAll(port: number, messages: Buffer[]): Promise<void> {
  const socket = dgram.createSocket('udp4');
  for (const message of messages) {
    await new Promise<void>((resolve) => socket.send(message, port, '127.0.0.1', () => resolve()));
  }
  socket.close();
}
