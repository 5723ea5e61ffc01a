// The part of PouchDB 9 that PouchStore uses. @types/pouchdb describes PouchDB 6 through a global namespace; a few
// exact lines here are easier to trust than that, and add nothing to the dependency tree.

declare module 'pouchdb' {
  namespace PouchDB {
    interface Doc {
      _id: string;
      _rev?: string;
      _deleted?: boolean;
      [field: string]: unknown;
    }

    interface OkResponse {
      ok: true;
      id: string;
      rev: string;
    }

    /** PouchDB's PouchError: an Error carrying the CouchDB status and error name. */
    interface ErrorResponse extends Error {
      error: true;
      status: number;
      id?: string;
      reason?: string;
    }

    interface AllDocsOptions {
      startkey?: string;
      endkey?: string;
      include_docs?: boolean;
      keys?: string[];
    }

    interface AllDocsRow {
      id: string;
      key: string;
      value: { rev: string; deleted?: boolean };
      doc?: Doc | null;
      /** Set instead of `value` for a key asked for with `keys` that was never written ("not_found"). */
      error?: string;
    }

    interface AllDocsResponse {
      total_rows: number;
      offset: number;
      rows: AllDocsRow[];
    }

    type Seq = number | string;

    interface ChangesOptions {
      since?: Seq;
      limit?: number;
      include_docs?: boolean;
    }

    interface ChangesResult {
      id: string;
      seq: Seq;
      changes: { rev: string }[];
      deleted?: boolean;
      doc?: Doc;
    }

    interface ChangesResponse {
      results: ChangesResult[];
      last_seq: Seq;
    }

    /** A live feed: an event emitter until cancelled, when it emits 'complete'. */
    interface LiveChanges {
      on(event: 'change', listener: (change: ChangesResult) => void): this;
      on(event: 'complete', listener: (info: unknown) => void): this;
      on(event: 'error', listener: (err: unknown) => void): this;
      cancel(): void;
    }

    interface Info {
      db_name: string;
      doc_count: number;
      update_seq: Seq;
    }

    interface Options {
      adapter?: string;
      auto_compaction?: boolean;
      /** The leveldown constructor of the leveldb adapter (PouchStore wraps it to keep the instance). */
      db?: (location: string) => unknown;
    }

    interface ReplicateOptions {
      live?: boolean;
      retry?: boolean;
      /** Next delay in ms from the previous one (0 at first). */
      back_off_function?: (delay: number) => number;
      /** Runs in this process on each document before it is written. */
      filter?: (doc: Doc) => boolean;
    }

    /** A live replication: an event emitter until cancelled. */
    interface Replication {
      on(event: 'change', listener: (info: { docs_written: number; docs: Doc[] }) => void): this;
      on(event: 'paused', listener: (err?: unknown) => void): this;
      on(event: 'active', listener: () => void): this;
      on(event: 'denied' | 'error', listener: (err: unknown) => void): this;
      on(event: 'complete', listener: (info: unknown) => void): this;
      cancel(): void;
    }
  }

  class PouchDB {
    constructor(name: string, options?: PouchDB.Options);
    get(id: string, options?: { conflicts?: boolean; rev?: string }): Promise<PouchDB.Doc>;
    put(doc: PouchDB.Doc): Promise<PouchDB.OkResponse>;
    bulkDocs(docs: PouchDB.Doc[]): Promise<(PouchDB.OkResponse | PouchDB.ErrorResponse)[]>;
    remove(id: string, rev: string): Promise<PouchDB.OkResponse>;
    allDocs(options?: PouchDB.AllDocsOptions): Promise<PouchDB.AllDocsResponse>;
    changes(options: PouchDB.ChangesOptions & { live: true }): PouchDB.LiveChanges;
    changes(options?: PouchDB.ChangesOptions): Promise<PouchDB.ChangesResponse>;
    info(): Promise<PouchDB.Info>;
    close(): Promise<void>;
    putAttachment(docId: string, attachmentId: string, rev: string, attachment: Buffer, type: string): Promise<PouchDB.OkResponse>;
    putAttachment(docId: string, attachmentId: string, attachment: Buffer, type: string): Promise<PouchDB.OkResponse>;
    /** In Node, a Buffer. */
    getAttachment(docId: string, attachmentId: string): Promise<Buffer>;
    replicate: { from(source: string, options?: PouchDB.ReplicateOptions): PouchDB.Replication };
  }

  export = PouchDB;
}
