// The one interface every store implements (embedded PouchDB, CouchDB). It is the CouchDB document model:
// documents with _id and _rev, optimistic concurrency, and a changes feed whose sequence values are opaque strings.

export interface StoredDoc {
  _id: string;
  _rev?: string;
  _deleted?: boolean;
  /** Attachment stubs, as CouchDB returns them with a document. Writing a document without them drops them. */
  _attachments?: Record<string, AttachmentStub>;
  [field: string]: unknown;
}

export interface AttachmentStub {
  content_type: string;
  /** Bytes; CouchDB sends it for stubs, PouchDB too. */
  length?: number;
  digest?: string;
  stub?: boolean;
}

export interface Change {
  id: string;
  /** Opaque: CouchDB 3 returns "12-g1AAAA…", PouchDB a number; we only ever hand it back. */
  seq: string;
  deleted: boolean;
  doc?: StoredDoc;
}

export interface ChangesBatch {
  results: Change[];
  lastSeq: string;
}

export interface WriteResult {
  id: string;
  rev: string;
}

export interface BulkResult {
  id: string;
  rev?: string;
  /** "conflict" or another CouchDB error name when this document was not written. */
  error?: string;
  reason?: string;
}

export interface ChangesFollower {
  /** Stops following; resolves once no more callbacks will be made. */
  cancel(): Promise<void>;
}

export interface FollowOptions {
  since: string;
  /**
   * The id prefixes the follower cares about: a store that can filter on its server does, so a change of no
   * interest does not wake the follower (issue 13: a node has several followers, and a write on seven nodes woke
   * every one of them). A hint: other documents may still come.
   */
  prefixes?: readonly string[];
  onChange(change: Change): void;
  onError(err: Error): void;
}

export interface Store {
  /** A human-readable description for logs ("pouchdb:./data/db"). */
  readonly description: string;
  get(id: string): Promise<StoredDoc | undefined>;
  /** Creates or updates; throws ConflictError when `_rev` is not the current revision. */
  put(doc: StoredDoc): Promise<WriteResult>;
  /** Writes several documents; each result says whether that document was written. */
  bulk(docs: StoredDoc[]): Promise<BulkResult[]>;
  /** Deletes the given revision; throws ConflictError when it is not current, NotFoundError when absent. */
  remove(id: string, rev: string): Promise<WriteResult>;
  /** All live documents whose _id starts with `prefix`, in _id order. */
  list(prefix: string): Promise<StoredDoc[]>;
  /** The current end of the changes feed, to start following from after a full read. */
  updateSeq(): Promise<string>;
  /** Changes after `since` ("0" for everything), with documents, up to `limit`. */
  changes(since: string, limit?: number): Promise<ChangesBatch>;
  /** Follows changes after `since` continuously until cancelled. */
  follow(options: FollowOptions): ChangesFollower;
  /**
   * The documents with these ids, in the same order; undefined where one is missing or deleted. Attachments come as
   * stubs in `_attachments` (name → {content_type, length, digest}), never their bytes.
   */
  getMany(ids: string[]): Promise<(StoredDoc | undefined)[]>;
  /**
   * Adds or replaces attachment `name` of document `id` (CouchDB attachments: binary, replicated with the document).
   * `rev` is the document's current revision, or undefined to create the document. Throws ConflictError when `rev`
   * is not current (or is undefined and the document exists).
   */
  putAttachment(id: string, name: string, rev: string | undefined, data: Buffer, contentType: string): Promise<WriteResult>;
  /** The bytes of an attachment, or undefined when the document or the attachment does not exist. */
  getAttachment(id: string, name: string): Promise<Buffer | undefined>;
  /**
   * The losing revisions of a document that replication left in conflict (CouchDB's `_conflicts`), with their
   * bodies; empty when it has none or does not exist. Optional: a store that no peer writes to has none.
   */
  conflicts?(id: string): Promise<StoredDoc[]>;
  close(): Promise<void>;
}

export { ConflictError, NotFoundError, StoreDamagedError, StoreFullError, StoreUnavailableError } from '../errors.js';
