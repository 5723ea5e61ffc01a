// TCP transport (RFC 1035 §4.2.2, RFC 7766): two-octet length prefix, several queries per connection answered in
// order, an idle timeout, and a cap on connections so a slow-loris client cannot hold every socket.

import net from 'node:net';
import type { Logger } from 'pino';
import type { DnsResponder } from './update-dispatch.js';
import type { Listening } from './udp-server.js';

export interface TcpOptions {
  idleTimeoutMs: number;
  maxConnections: number;
}

const MAX_UNREAD_BYTES = 256 * 1024;

export const DEFAULT_TCP_OPTIONS: TcpOptions = { idleTimeoutMs: 10_000, maxConnections: 512 };

function serveConnection(socket: net.Socket, handle: DnsResponder, options: TcpOptions): void {
  let pending = Buffer.alloc(0);
  const send = (response: Buffer): void => {
    const framed = Buffer.allocUnsafe(2 + response.length);
    framed.writeUInt16BE(response.length, 0);
    response.copy(framed, 2);
    // A client that pipelines queries but does not read its answers must not make us buffer without bound.
    if (!socket.write(framed) && socket.writableLength > MAX_UNREAD_BYTES) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  };
  socket.setNoDelay(true);
  socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) break;
      const message = pending.subarray(2, 2 + length);
      pending = pending.subarray(2 + length);
      const response = handle(message, 'tcp', socket.remoteAddress);
      if (response instanceof Promise) {
        // an UPDATE's answer comes later; RFC 7766 §7 lets answers on one connection come out of order
        void response.then((r) => {
          if (r && !socket.destroyed) send(r);
        });
        continue;
      }
      if (!response) {
        // RFC 7766 §6.2.4-ish: nothing sensible to say to garbage; close rather than keep reading it
        socket.end();
        return;
      }
      send(response);
    }
  });
}

export function listenTcp(host: string, port: number, handle: DnsResponder, logger: Logger, options = DEFAULT_TCP_OPTIONS): Promise<Listening> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, handle, options);
  });
  server.maxConnections = options.maxConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: false }, () => {
      server.off('error', reject);
      server.on('error', (err) => logger.warn({ err }, 'TCP server error'));
      const address = server.address() as net.AddressInfo;
      resolve({
        address: address.address,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
