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
 * A port that could be bound for UDP and TCP on 127.0.0.1 a moment ago, below the ephemeral range (listenPort), so
 * a server stopped and started again on it does not find it taken by some process's outgoing connection. A race
 * with another process remains possible, so callers should fail clearly if binding later fails.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const udp = await bindUdp(listenPort());
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

/** Below Linux's ephemeral range (32768–60999 by default), where the kernel never hands out a port on its own. */
const LISTEN_RANGE = { low: 20_000, high: 32_767 };

/**
 * A port number for a test server that is stopped and started again on the same port: one the kernel picked (port
 * 0) is in the ephemeral range, and while the server is down an outgoing connection of any process may be given it
 * (seen: a node's restart failing with EADDRINUSE). Random, not checked: the caller binds it and picks again on
 * EADDRINUSE.
 */
export function listenPort(): number {
  return LISTEN_RANGE.low + Math.floor(Math.random() * (LISTEN_RANGE.high - LISTEN_RANGE.low + 1));
}
