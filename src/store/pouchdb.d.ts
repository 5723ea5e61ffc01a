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
    }

    interface AllDocsRow {
      id: string;
      key: string;
      value: { rev: string; deleted?: boolean };
      doc?: Doc | null;
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
    }
  }

  class PouchDB {
    constructor(name: string, options?: PouchDB.Options);
    get(id: string): Promise<PouchDB.Doc>;
    put(doc: PouchDB.Doc): Promise<PouchDB.OkResponse>;
    bulkDocs(docs: PouchDB.Doc[]): Promise<(PouchDB.OkResponse | PouchDB.ErrorResponse)[]>;
    remove(id: string, rev: string): Promise<PouchDB.OkResponse>;
    allDocs(options?: PouchDB.AllDocsOptions): Promise<PouchDB.AllDocsResponse>;
    changes(options: PouchDB.ChangesOptions & { live: true }): PouchDB.LiveChanges;
    changes(options?: PouchDB.ChangesOptions): Promise<PouchDB.ChangesResponse>;
    info(): Promise<PouchDB.Info>;
    close(): Promise<void>;
  }

  export = PouchDB;
}
