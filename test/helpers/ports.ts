// A port on 127.0.0.1 that is free for both UDP and TCP, for servers started by tests.

import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

const HOST = '127.0.0.1';
const MAX_ATTEMPTS = 50;

function bindUdp(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, HOST, () => resolve(socket));
  });
}

function listenTcp(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: HOST, exclusive: true }, () => resolve(server));
  });
}

function closeUdp(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

function closeTcp(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A port that could be bound for UDP and TCP on 127.0.0.1 a moment ago. The kernel picks a UDP port, then we check
 * TCP on the same number; a race with another process remains possible, so callers should fail clearly if binding
 * later fails.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const udp = await bindUdp(0);
    if (udp === undefined) continue;
    const port = udp.address().port;
    const tcp = await listenTcp(port);
    await closeUdp(udp);
    if (tcp !== undefined) {
      await closeTcp(tcp);
      return port;
    }
  }
  throw new Error(`no port free for both UDP and TCP on ${HOST} after ${MAX_ATTEMPTS} attempts`);
}
