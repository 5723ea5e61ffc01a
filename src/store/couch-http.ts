// One CouchDB server as nano sees it, narrowed to what edgedns uses: a typed request function, credentials from the
// URL or from EDGEDNS_COUCHDB_USER/_PASSWORD, and errors that say whether the server answered at all.

import nano from 'nano';
import { StoreUnavailableError } from './store.js';

export interface CouchServerOptions {
  /** http(s)://[user:pass@]host:port[/] */
  url: string;
  user?: string;
  password?: string;
}

export interface CouchRequest {
  db?: string;
  method?: string;
  /** Already URL-encoded path below the database (or the server when db is unset). */
  path?: string;
  qs?: Record<string, string | number | boolean>;
  body?: unknown;
  signal?: AbortSignal;
}

/** The server answered with an HTTP error: `status` and CouchDB's `error` name ("conflict", "not_found", ...). */
export class CouchError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    reason: string,
  ) {
    super(`CouchDB ${status} ${error}: ${reason}`);
  }
}

/** The server could not be reached (refused, reset, timed out): the node keeps serving what it has. */
export class CouchUnavailableError extends StoreUnavailableError {}

export interface CouchServer {
  /** The URL without credentials, for logs and replication status. */
  readonly publicUrl: string;
  /** The URL with credentials, for `_replicator` documents that the server itself uses. */
  readonly authUrl: string;
  request<T>(req: CouchRequest): Promise<T>;
  /** A request whose body and answer are bytes (attachments): nano would parse a text or JSON attachment. */
  raw(path: string, init: { method?: string; body?: Buffer; contentType?: string; signal?: AbortSignal }): Promise<{ status: number; body: Buffer }>;
}

/** A request that has not been answered by then is a failure (a longpoll brings its own, longer signal). */
const REQUEST_TIMEOUT_MS = 30_000;

/** nano's typings omit `signal`, which its request function passes on to fetch. */
type Relax = (opts: Record<string, unknown>) => Promise<unknown>;

export function couchServer(options: CouchServerOptions): CouchServer {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    throw new Error(`CouchDB URL "${options.url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`CouchDB URL "${options.url}" must be http or https`);
  if (options.user !== undefined && parsed.username === '') {
    parsed.username = encodeURIComponent(options.user);
    parsed.password = encodeURIComponent(options.password ?? '');
  }
  parsed.pathname = parsed.pathname.endsWith('/') ? parsed.pathname : `${parsed.pathname}/`;
  parsed.search = '';
  parsed.hash = '';
  const authUrl = parsed.toString();
  const open = new URL(authUrl);
  open.username = '';
  open.password = '';
  const server = nano({ url: authUrl });
  const relax = server.relax as unknown as Relax;
  const authorization =
    parsed.username === '' ? undefined : `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
  return {
    publicUrl: open.toString(),
    authUrl,
    async request<T>(req: CouchRequest): Promise<T> {
      try {
        return (await relax({ ...req, signal: req.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) })) as T;
      } catch (err) {
        throw translate(err);
      }
    },
    async raw(path, init) {
      const headers: Record<string, string> = {};
      if (authorization) headers.authorization = authorization;
      if (init.contentType) headers['content-type'] = init.contentType;
      let response: Response;
      try {
        response = await fetch(open.toString() + path, {
          method: init.method ?? 'GET',
          headers,
          body: init.body === undefined ? undefined : new Uint8Array(init.body),
          signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (err) {
        throw translate(err);
      }
      const body = Buffer.from(await response.arrayBuffer());
      if (response.status >= 400) {
        let parsed: { error?: string; reason?: string } = {};
        try {
          parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
        } catch {
          // not JSON: the status says enough
        }
        throw new CouchError(response.status, parsed.error ?? 'error', parsed.reason ?? response.statusText);
      }
      return { status: response.status, body };
    },
  };
}

function translate(err: unknown): Error {
  if (typeof err === 'object' && err !== null) {
    const e = err as { statusCode?: unknown; error?: unknown; reason?: unknown; message?: unknown; name?: unknown };
    if (typeof e.statusCode === 'number') {
      return new CouchError(e.statusCode, typeof e.error === 'string' ? e.error : 'error', String(e.reason ?? e.message ?? ''));
    }
    if (e.name === 'AbortError') return err as Error;
    return new CouchUnavailableError(`CouchDB unreachable: ${String(e.message ?? err)}`);
  }
  return new CouchUnavailableError(`CouchDB unreachable: ${String(err)}`);
}

export function statusOf(err: unknown): number | undefined {
  return err instanceof CouchError ? err.status : undefined;
}

/** A document id as one URL path segment ("_design/x" keeps its slash, as CouchDB routes it). */
export function docPath(id: string): string {
  if (id.startsWith('_design/') || id.startsWith('_local/')) return `${id.slice(0, id.indexOf('/'))}/${encodeURIComponent(id.slice(id.indexOf('/') + 1))}`;
  return encodeURIComponent(id);
}
