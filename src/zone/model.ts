// The zone data model shared by zone files, the store documents and the index.

/** One RRset: every record of one type at one owner name (RFC 2181 §5). */
export interface RRset {
  /** Owner name key: absolute, lower-case presentation text ("www.example.com."). */
  name: string;
  /** Type mnemonic ("A", "MX") or RFC 3597 form ("TYPE65280") for types without one. */
  type: string;
  ttl: number;
  /** Canonical presentation rdata, names absolute; one string per record, duplicates removed. */
  records: string[];
  /**
   * A dynamic A/AAAA RRset: the addresses come from this pool's edges, chosen per query (src/geo); `records` is
   * then empty. Zone-file dialect: `www 30 IN POOL default`.
   */
  pool?: string;
}

/** Pool names: what a dynamic RRset may name (also the pool document's key). */
export const POOL_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface Zone {
  /** Apex key: absolute, lower-case ("example.com."). */
  name: string;
  rrsets: RRset[];
}

export const MAX_TTL = 2147483647; // RFC 2181 §8
