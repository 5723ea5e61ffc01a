// A TCP proxy on loopback in front of one server, so a test can break just the path that goes through it: cut it
// (connections reset, new ones refused, as a firewall that rejects) or black-hole it (nothing gets through and nobody
// is told, as a network that drops packets), then heal it.

import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './ports.js';

export interface TcpProxy {
  url: string;
  /** Drops every connection and refuses new ones: a partition between whoever uses the proxy and the target. */
  cut(): Promise<void>;
  /**
   * A network that drops packets instead: connections stay open and new ones are accepted, but no byte (nor the
   * closing of a connection) gets through either way. Nobody is told anything; requests just never get an answer.
   */
  blackHole(): void;
  /**
   * Forwards again, on the same port, for connections made from now on. A connection that was open through a black
   * hole stays silent for good, as a half-open TCP connection does once a middlebox or the far end has lost its
   * state: a client waiting on it without a timeout waits forever.
   */
  heal(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy on loopback to a local port: peers reach a database through it, so a test can cut just that path. */
export async function tcpProxy(targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  /** Connections that lived through a black hole: nothing is forwarded on them any more. */
  const silenced = new WeakSet<Socket>();
  let server: Server | undefined;
  let dropping = false;
  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (silenced.has(from)) return;
      // Backpressure as pipe() would: the reading side waits while the writing side is full.
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
  };
  const track = (socket: Socket, other: Socket | undefined, downstream: boolean): void => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      // Either side going away takes the other with it, as one TCP connection would; a silenced connection's client
      // is not told (its FIN is dropped too), while its upstream half is let go quietly.
      if (other && (downstream || !silenced.has(socket))) other.destroy();
    });
    socket.on('error', () => socket.destroy());
  };
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = createServer((client) => {
        if (dropping) {
          // Accepted, as the SYN got through before the path went dark; nothing more will.
          silenced.add(client);
          track(client, undefined, true);
          return;
        }
        const upstream = connect(targetPort, '127.0.0.1');
        track(client, upstream, true);
        track(upstream, client, false);
        forward(client, upstream);
        forward(upstream, client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
      server = s;
    });
  const cut = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  const blackHole = (): void => {
    dropping = true;
    for (const socket of sockets) silenced.add(socket);
  };
  const heal = async (): Promise<void> => {
    dropping = false;
    if (!server) await listen();
  };
  await listen();
  return { url: `http://127.0.0.1:${port}/`, cut, blackHole, heal, close: cut };
}
