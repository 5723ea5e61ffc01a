// TCP transport (RFC 1035 §4.2.2, RFC 7766): two-octet length prefix, several queries per connection answered in
// order. A public port meets clients that open connections and never finish a message, so every connection lives
// under two deadlines that trickled octets cannot extend (as Knot's tcp-io-timeout and tcp-idle-timeout, NSD's
// tcp-timeout; RFC 7766 §6.2.3 asks servers to manage idle connections):
//   - the message deadline: a message must be complete within `messageTimeoutMs` of its first octet;
//   - the idle deadline: the next message must begin within `idleTimeoutMs` of the connection opening or of the
//     last complete message.
// Connections are capped per client (IPv4 address, IPv6 /64) and in total. A client at its cap may replace one of
// its own idle connections, else it is refused; at the total cap a new connection replaces the oldest idle
// connection, else the one whose unfinished message began longest ago, else the oldest just-opened one. So a new
// client always gets a slot, and a connection is not pushed out in the moment between its opening and its query.

import net from 'node:net';
import type { Logger } from 'pino';
import { ClientAddress, endSiteKey } from './client-address.js';
import type { DnsResponder } from './update-dispatch.js';
import type { TcpCloseReason, TcpMetrics } from './tcp-metrics.js';
import type { ListenOptions, Listening } from './udp-server.js';

export interface TcpOptions {
  /** Time allowed between messages (and before the first one). */
  idleTimeoutMs: number;
  /** Time allowed from a message's first octet to its last. */
  messageTimeoutMs: number;
  /** Connections open at once, over all clients. */
  maxConnections: number;
  /** Connections open at once from one IPv4 address or IPv6 /64. */
  maxPerAddress: number;
  metrics?: TcpMetrics;
  /** See ListenOptions. */
  ipv6Only?: ListenOptions['ipv6Only'];
}

export const DEFAULT_TCP_OPTIONS: TcpOptions = { idleTimeoutMs: 10_000, messageTimeoutMs: 2_000, maxConnections: 512, maxPerAddress: 16 };

const MAX_UNREAD_BYTES = 256 * 1024;
/**
 * A connection that has not sent a message yet counts as idle (to be closed first under pressure) only this long
 * after it opened: before that it is a client whose query is on its way, and is closed last.
 */
const NEW_CONNECTION_GRACE_MS = 1_000;

interface Connection {
  socket: net.Socket;
  /** Per-client accounting key (see endSiteKey). */
  client: string;
  /** When the unfinished message began (ms); 0 when none is being read. */
  messageStart: number;
  /** When the connection last had nothing to read or write: opened, or answered its last message (ms). */
  idleSince: number;
  /** Whether a message has been answered on it: idle from then on means a client keeping it open. */
  answered: boolean;
  /** Set once the connection is removed from the books, with the reason counted. */
  closed: boolean;
}

/** The deadline sweep runs this often (ms): a fraction of the shorter timeout, within [25, 250]. */
function sweepInterval(options: TcpOptions): number {
  return Math.max(25, Math.min(250, Math.floor(Math.min(options.idleTimeoutMs, options.messageTimeoutMs) / 4)));
}

export function listenTcp(host: string, port: number, handle: DnsResponder, logger: Logger, options: TcpOptions = DEFAULT_TCP_OPTIONS): Promise<Listening> {
  const { metrics } = options;
  const connections = new Set<Connection>();
  const perClient = new Map<string, Set<Connection>>();
  const address = new ClientAddress();
  const stopCounting = metrics?.countOpen(() => connections.size);
  /** Set while shutting down gracefully: a connection is ended as soon as it has nothing left to answer. */
  let draining = false;
  /** Sockets ended gracefully (their answers still flushing): destroyed if still open when the drain time is up. */
  const leaving = new Set<net.Socket>();

  /** `graceful`: end the socket after what was written is sent, instead of destroying it. */
  function close(conn: Connection, reason: TcpCloseReason, graceful = false): void {
    if (conn.closed) return;
    conn.closed = true;
    connections.delete(conn);
    const mine = perClient.get(conn.client);
    mine?.delete(conn);
    if (mine?.size === 0) perClient.delete(conn.client);
    metrics?.closed(reason);
    if (graceful) {
      const { socket } = conn;
      leaving.add(socket);
      socket.once('close', () => leaving.delete(socket));
      socket.end();
    } else if (reason === 'client' || reason === 'malformed') conn.socket.destroySoon();
    else conn.socket.destroy();
  }

  function isIdle(conn: Connection, now: number): boolean {
    return conn.messageStart === 0 && conn.socket.writableLength === 0 && (conn.answered || now - conn.idleSince >= NEW_CONNECTION_GRACE_MS);
  }

  /**
   * The oldest idle connection of `pool`; else, when `busyToo`, the one whose unfinished message (or unread answer)
   * is oldest, else the oldest of those just opened.
   */
  function victim(pool: Iterable<Connection>, busyToo: boolean, now: number): Connection | undefined {
    let idle: Connection | undefined;
    let busy: Connection | undefined;
    let opening: Connection | undefined;
    for (const conn of pool) {
      if (isIdle(conn, now)) {
        if (!idle || conn.idleSince < idle.idleSince) idle = conn;
      } else if (!busyToo) continue;
      else if (conn.messageStart !== 0 || conn.socket.writableLength > 0) {
        if (!busy || conn.messageStart < busy.messageStart) busy = conn;
      } else if (!opening || conn.idleSince < opening.idleSince) opening = conn;
    }
    return idle ?? busy ?? opening;
  }

  function admit(socket: net.Socket): Connection | undefined {
    metrics?.accepted();
    const client = address.parse(socket.remoteAddress ?? '') ? endSiteKey(address) : (socket.remoteAddress ?? '?');
    const now = performance.now();
    let mine = perClient.get(client);
    if (mine && mine.size >= options.maxPerAddress) {
      const old = victim(mine, false, now);
      if (!old) {
        metrics?.closed('per-address-limit');
        socket.resetAndDestroy();
        return undefined;
      }
      close(old, 'evicted-idle');
    }
    if (connections.size >= options.maxConnections) {
      const old = victim(connections, true, now);
      if (old) close(old, isIdle(old, now) ? 'evicted-idle' : 'evicted-busy');
    }
    const conn: Connection = { socket, client, messageStart: 0, idleSince: now, answered: false, closed: false };
    connections.add(conn);
    mine = perClient.get(client);
    if (!mine) perClient.set(client, (mine = new Set()));
    mine.add(conn);
    return conn;
  }

  function send(socket: net.Socket, response: Buffer): void {
    const framed = Buffer.allocUnsafe(2 + response.length);
    framed.writeUInt16BE(response.length, 0);
    response.copy(framed, 2);
    // A client that pipelines queries but does not read its answers must not make us buffer without bound.
    if (!socket.write(framed) && socket.writableLength > MAX_UNREAD_BYTES) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  }

  function serve(conn: Connection): void {
    const { socket } = conn;
    let pending = Buffer.alloc(0);
    socket.setNoDelay(true);
    socket.on('error', (err: NodeJS.ErrnoException) => close(conn, err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'client' : 'error'));
    socket.on('close', () => close(conn, 'client'));
    socket.on('end', () => close(conn, 'client'));
    socket.on('data', (chunk) => {
      if (conn.closed) return;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let answered = false;
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const message = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        const response = handle(message, 'tcp', socket.remoteAddress);
        answered = true;
        conn.answered = true;
        if (response instanceof Promise) {
          // an UPDATE's answer comes later; RFC 7766 §7 lets answers on one connection come out of order
          void response.then((r) => {
            if (r && !conn.closed) send(socket, r);
          });
          continue;
        }
        if (!response) {
          // RFC 7766 §6.2.4-ish: nothing sensible to say to garbage; close rather than keep reading it
          close(conn, 'malformed');
          return;
        }
        send(socket, response);
      }
      const now = performance.now();
      if (draining && pending.length === 0) {
        close(conn, 'shutdown', true);
        return;
      }
      if (pending.length === 0) {
        conn.messageStart = 0;
        conn.idleSince = now;
      } else if (answered || conn.messageStart === 0) {
        // the octets left over begin a new message: its deadline starts now, and only now
        conn.messageStart = now;
      }
    });
  }

  const timer = setInterval(() => {
    const now = performance.now();
    for (const conn of connections) {
      if (conn.messageStart !== 0) {
        if (now - conn.messageStart > options.messageTimeoutMs) close(conn, 'message-timeout');
      } else if (now - conn.idleSince > options.idleTimeoutMs) close(conn, 'idle-timeout');
    }
  }, sweepInterval(options));
  timer.unref();

  const server = net.createServer((socket) => {
    const conn = admit(socket);
    if (conn) serve(conn);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => {
      clearInterval(timer);
      stopCounting?.();
      reject(err);
    });
    server.listen({ host, port, exclusive: false, ipv6Only: options.ipv6Only === true }, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => logger.warn({ err }, 'TCP server error'));
      const bound = server.address() as net.AddressInfo;
      resolve({
        address: bound.address,
        port: bound.port,
        close: (drainMs) =>
          new Promise<void>((done) => {
            let deadline: NodeJS.Timeout | undefined;
            server.close(() => {
              clearInterval(timer);
              stopCounting?.();
              clearTimeout(deadline);
              done();
            });
            if (drainMs === undefined || drainMs <= 0) {
              for (const conn of [...connections]) close(conn, 'shutdown');
              return;
            }
            // Drain: no new connections; the idle ones end now (their written answers still go out), one whose
            // query is arriving ends once it is answered; whatever is left when the time is up is cut.
            draining = true;
            for (const conn of [...connections]) if (conn.messageStart === 0) close(conn, 'shutdown', true);
            deadline = setTimeout(() => {
              for (const conn of [...connections]) close(conn, 'shutdown');
              for (const socket of leaving) socket.destroy();
            }, drainMs);
          }),
      });
    });
  });
}
