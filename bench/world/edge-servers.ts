// The world's edges: one HTTP health endpoint per edge on its own loopback address, answering a probe after the
// round trip the model gives for the node that asks (edgedns names itself in the probe's User-Agent). A node that
// cannot reach the edge gets its connection reset; a dead edge stops listening. Jitter, when on, varies each delay.

import http from 'node:http';
import type { Socket } from 'node:net';
import { EDGES, NODES, probeDelayMs, type Faults, type WorldEdge } from './model.js';

export interface Jitter {
  /** Each delay is multiplied by a factor drawn evenly from 1 ± ratio... */
  ratio: number;
  /** ...and, this often (0-1), by 1.5: a spike. */
  spikeRate: number;
}

const NODE_IN_USER_AGENT = /\(node ([^)]+)\)/;

/** A small deterministic generator, so a jitter run can be repeated. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export class EdgeServer {
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  port = 0;
  probes = 0;

  constructor(
    readonly edge: WorldEdge,
    private readonly world: { faults: Faults; jitter?: Jitter; random: () => number },
  ) {}

  get url(): string {
    return `http://${this.edge.address}:${this.port}/healthz`;
  }

  async listen(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => this.answer(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.edge.address, port: this.port }, () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
  }

  /** Stops listening and drops every connection: the edge is dead. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.probes++;
    const nodeId = NODE_IN_USER_AGENT.exec(req.headers['user-agent'] ?? '')?.[1];
    const node = NODES.find((n) => n.id === nodeId);
    const delay = node ? probeDelayMs(node, this.edge, this.world.faults) : 0;
    if (delay === undefined) {
      // no route from that node: the connection goes nowhere
      req.socket.destroy();
      return;
    }
    const jitter = this.world.jitter;
    let ms = delay;
    if (jitter) {
      ms *= 1 + jitter.ratio * (2 * this.world.random() - 1);
      if (this.world.random() < jitter.spikeRate) ms *= 1.5;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    }, ms);
    this.timers.add(timer);
  }
}

export async function startEdgeServers(world: { faults: Faults; jitter?: Jitter; random: () => number }): Promise<Map<string, EdgeServer>> {
  const servers = new Map<string, EdgeServer>();
  try {
    for (const edge of EDGES) {
      const server = new EdgeServer(edge, world);
      servers.set(edge.name, server);
      await server.listen();
    }
  } catch (err) {
    await Promise.all([...servers.values()].map((s) => s.close()));
    throw err;
  }
  return servers;
}
