// The PowerDNS Authoritative HTTP API as the DNS-as-code and ACME clients call it (octodns-powerdns, dnscontrol,
// lexicon, external-dns, lego `pdns`, certbot-dns-powerdns): server info and statistics, search, zones (list,
// create, get with rrset filters, PATCH, delete, export, notify), and the DNSSEC and metadata lists those clients
// read (empty: edgedns does not sign zones yet). Errors keep PowerDNS's shape {"error": "..."}, since clients read
// that field (lego treats any body with a non-empty "error" as a failure), with our code and field beside it. A
// missing or existing zone is worded as PowerDNS words it ("Could not find domain '…'", which octoDNS matches).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../../keys/api-keys.js';
import { allowsChallenge, allowsZone, allowsZoneWrite, scopeOf, type Scope } from '../../keys/scopes.js';
import { zoneFor as zoneServing } from '../../acme/challenges.js';
import type { Store } from '../../store/store.js';
import { readZoneDocs, zoneExists } from '../zone-reads.js';
import type { Catalog } from '../../zone/catalog.js';
import type { RRset, Zone } from '../../zone/model.js';
import { normalizeRRset, type RRsetFields } from '../../zone/validate.js';
import { docsToZone, rrsetToDoc, zoneDocId, type RRsetDoc } from '../../zone/zone-docs.js';
import type { ZoneSync } from '../../zone/zone-sync.js';
import { writeZoneFile } from '../../zone/zonefile-write.js';
import { deleteZone, saveZone, updateRRsets } from '../../zone/zone-writer.js';
import { lowerAscii, normalizeName } from '../../proto/names.js';
import { audit } from '../audit.js';
import { adminFirst, forbidden } from '../auth.js';
import { ZONE_BODY_LIMIT } from '../body-limits.js';
import { ApiError } from '../../errors.js';
import { answerError } from '../error-handler.js';
import { nameParam } from '../name-param.js';
import { waitGone, waitServed, type ServedZones } from '../wait-served.js';
import { packageVersion } from '../package-version.js';
import { pdnsZoneId, zoneFromId } from './pdns-ids.js';
import { parseChanges, planChanges } from './pdns-changes.js';
import { searchPattern, searchZone, statistics, type SearchHit } from './pdns-search.js';
import { BASE, PDNS_COMPATIBLE_VERSION, pdnsRRsets, soaSerialOf, zoneSummary } from './pdns-views.js';

export interface PdnsRoutesOptions {
  store: Store;
  sync: ZoneSync;
  catalog: Catalog;
  /** Which serial every answering process serves: writes wait for it. */
  served: ServedZones;
  /** The node's metrics as Prometheus text (every answering process's): statistics are read from it. */
  metricsText: () => Promise<string>;
  startedAt: number;
}

const MAX_SEARCH_RESULTS = 10_000;

/** An acme: key sees the zones its names live in (so lego finds the zone to PATCH), and only its challenges there. */
function acmeSeesZone(scope: Scope | undefined, zone: string): boolean {
  return scope?.kind === 'acme' && (scope.name === zone || scope.name.endsWith('.' + zone));
}

export async function pdnsRoutes(app: FastifyInstance, options: PdnsRoutesOptions): Promise<void> {
  const { store, sync, catalog, served: servedZones } = options;

  // PowerDNS clients do not all send Content-Type (lego's pdns client sends none): read any body as JSON here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ApiError('bad_request', 'the body is not valid JSON', 'body'), undefined);
    }
  });
  // The REST API's mapping, PowerDNS's shape: the message is the "error" string.
  app.setErrorHandler((err, request, reply) =>
    answerError(err, request, reply, (e) => ({ error: e.toJSON().error.message, code: e.code, ...(e.field ? { field: e.field } : {}) })),
  );
  // Keys are checked by the API's onRequest hook (auth.ts) before a body is read; GET /api is open, as in PowerDNS.

  const principalOf = (request: FastifyRequest): Principal => request.principal as Principal;
  /** For admin-only routes: checked in onRequest, before the body is read. */
  const adminOnly = adminFirst('this');
  const requireZone = async (zone: string): Promise<void> => {
    if (!(await zoneExists(store, sync, zone))) throw new ApiError('zone_not_found', `Could not find domain '${zone}'`, 'zone_id');
  };
  const readZone = async (zone: string): Promise<RRsetDoc[]> => {
    const docs = await readZoneDocs(store, sync, zone);
    if (!docs) throw new ApiError('zone_not_found', `Could not find domain '${zone}'`, 'zone_id');
    return docs;
  };
  /** The zone of the URL, for a key that may read all of it (`acme` too: then only its challenges are shown). */
  const zoneFor = (request: FastifyRequest<{ Params: { id: string } }>, acmeToo: boolean): { zone: string; scope: Scope | undefined } => {
    const zone = zoneFromId(request.params.id);
    const p = principalOf(request);
    const scope = scopeOf(p.scope);
    if (!allowsZone(scope, zone) && !(acmeToo && acmeSeesZone(scope, zone))) throw forbidden(request, p, `zone ${zone}`);
    return { zone, scope };
  };

  app.get('/api', async () => [{ url: '/api/v1', version: 1 }]);
  const server = {
    type: 'Server',
    id: 'localhost',
    daemon_type: 'authoritative',
    version: PDNS_COMPATIBLE_VERSION,
    edgedns_version: packageVersion(),
    url: BASE,
    config_url: `${BASE}/config{/config_setting}`,
    zones_url: `${BASE}/zones{/zone}`,
  };
  app.get('/api/v1/servers', async () => [server]);
  app.get(BASE, async () => server);
  app.get(`${BASE}/config`, async () => [
    { type: 'ConfigSetting', name: 'api', value: 'yes' },
    { type: 'ConfigSetting', name: 'daemon-type', value: 'authoritative' },
  ]);

  app.get<{ Querystring: { statistic?: string; includerings?: string } }>(`${BASE}/statistics`, async (request) => {
    const items = statistics(await options.metricsText(), Math.round((Date.now() - options.startedAt) / 1000));
    const wanted = request.query.statistic;
    if (wanted === undefined) return items;
    const found = items.filter((i) => i.name === wanted);
    if (found.length === 0) throw new ApiError('not_supported', `Unknown statistic name "${wanted}"; edgedns offers ${items.map((i) => i.name).join(', ')}`, 'statistic');
    return found;
  });

  app.get<{ Querystring: { q?: string; max?: string; object_type?: string } }>(`${BASE}/search-data`, async (request) => {
    const { q, object_type: objectType = 'all' } = request.query;
    if (typeof q !== 'string' || q === '') throw new ApiError('bad_request', 'search-data needs q, the text to look for (* and ? are wildcards)', 'q');
    const max = request.query.max === undefined ? 100 : Number(request.query.max);
    if (!Number.isInteger(max) || max < 1 || max > MAX_SEARCH_RESULTS) throw new ApiError('bad_request', `max must be a whole number 1-${MAX_SEARCH_RESULTS}`, 'max');
    if (!['all', 'zone', 'record', 'comment'].includes(objectType)) throw new ApiError('bad_request', 'object_type must be all, zone, record or comment', 'object_type');
    const kinds = { zones: objectType === 'all' || objectType === 'zone', records: objectType === 'all' || objectType === 'record' };
    const scope = scopeOf(principalOf(request).scope);
    const pattern = searchPattern(q);
    const hits: SearchHit[] = [];
    for (const zone of sync.zoneNames()) {
      if (hits.length >= max) break;
      let docs = sync.rrsetDocs(zone);
      if (!allowsZone(scope, zone)) {
        if (!acmeSeesZone(scope, zone)) continue;
        docs = docs.filter((d) => d.rrtype === 'TXT' && allowsChallenge(scope, d.name, zone));
      }
      searchZone(zone, pdnsZoneId(zone), pdnsRRsets(docs), pattern, { zones: kinds.zones && allowsZone(scope, zone), records: kinds.records }, max, hits);
    }
    return hits;
  });

  app.get<{ Querystring: { zone?: string } }>(`${BASE}/zones`, async (request) => {
    const scope = scopeOf(principalOf(request).scope);
    const only = request.query.zone !== undefined ? zoneFromId(request.query.zone, 'zone') : undefined;
    const out: Record<string, unknown>[] = [];
    for (const name of sync.zoneNames()) {
      if (only !== undefined && name !== only) continue;
      if (!allowsZone(scope, name) && !acmeSeesZone(scope, name)) continue;
      out.push(zoneSummary(name, catalog.get(name)?.soaSerial ?? soaSerialOf(sync.rrsetDocs(name))));
    }
    return out;
  });

  app.post<{ Body: { name?: unknown; nameservers?: unknown; rrsets?: unknown; kind?: unknown } }>(`${BASE}/zones`, { ...adminOnly, bodyLimit: ZONE_BODY_LIMIT }, async (request, reply) => {
    const body = request.body ?? {};
    if (typeof body.name !== 'string' || !body.name.endsWith('.')) throw new ApiError('invalid_rrset', 'name must be the absolute zone name, with its trailing dot', 'name');
    const name = zoneFromId(body.name, 'name');
    const nameservers = Array.isArray(body.nameservers) ? body.nameservers : [];
    if (!nameservers.every((n) => typeof n === 'string')) throw new ApiError('invalid_rrset', 'nameservers must be a list of names', 'nameservers');
    // The rrsets of a new zone are changes to an empty one (LUA records become pool RRsets as in a PATCH).
    const writes = planChanges(new Map(), parseChanges(body.rrsets ?? [], name));
    const rrsets = new Map<string, RRset>();
    for (const w of writes) if (w.rrset) rrsets.set(`${w.name}/${w.type}`, w.rrset);
    // The SOA and NS made up here take their names from `nameservers`: record i is nameservers[i].
    const fromNameservers: RRsetFields = (_part, record) => (record === undefined ? 'nameservers' : `nameservers.${record}`);
    if (!rrsets.has(`${name}/SOA`)) {
      const primary = (nameservers[0] as string | undefined) ?? `ns1.${name}`;
      rrsets.set(`${name}/SOA`, normalizeRRset({ name, type: 'SOA', ttl: 3600, records: [`${primary} hostmaster.${name} 1 10800 3600 604800 3600`] }, name, fromNameservers));
    }
    if (!rrsets.has(`${name}/NS`) && nameservers.length > 0) rrsets.set(`${name}/NS`, normalizeRRset({ name, type: 'NS', ttl: 3600, records: nameservers as string[] }, name, fromNameservers));
    const zone: Zone = { name, rrsets: [...rrsets.values()] };
    if (await store.get(zoneDocId(name))) throw new ApiError('zone_exists', `Domain '${name}' already exists`, 'name');
    const saved = await saveZone(store, zone, { replace: false, source: { field: 'rrsets' } });
    await waitServed(servedZones, name, saved.serial);
    audit(request, 'zone.create', { zone: name, via: 'pdns', rrsets: zone.rrsets.length });
    return reply.status(201).send({ ...zoneSummary(name, saved.serial), rrsets: pdnsRRsets(zone.rrsets.map((r) => rrsetToDoc(name, r))) });
  });

  app.get<{ Params: { id: string }; Querystring: { rrsets?: string; rrset_name?: string; rrset_type?: string } }>(`${BASE}/zones/:id`, async (request) => {
    const { zone, scope } = zoneFor(request, true);
    const { rrset_name: rrsetName, rrset_type: rrsetType } = request.query;
    let docs = await readZone(zone);
    // an acme: key sees only its challenge RRsets (and the SOA), not the rest of the zone
    if (!allowsZone(scope, zone)) docs = docs.filter((d) => d.rrtype === 'SOA' || (d.rrtype === 'TXT' && allowsChallenge(scope, d.name, zone)));
    const summary = zoneSummary(zone, soaSerialOf(docs));
    if (request.query.rrsets === 'false') return summary;
    let rrsets = pdnsRRsets(docs);
    if (rrsetType !== undefined && rrsetName === undefined) throw new ApiError('bad_request', 'rrset_type filters only together with rrset_name', 'rrset_type');
    if (rrsetName !== undefined) {
      const name = nameParam('rrset_name', `rrset_name "${rrsetName}"`, () => lowerAscii(normalizeName(rrsetName.endsWith('.') ? rrsetName : `${rrsetName}.`)));
      rrsets = rrsets.filter((r) => r.name === name && (rrsetType === undefined || r.type === rrsetType.toUpperCase()));
    }
    return { ...summary, rrsets };
  });

  app.get<{ Params: { id: string } }>(`${BASE}/zones/:id/export`, async (request, reply) => {
    const { zone } = zoneFor(request, false);
    const docs = await readZone(zone);
    return reply.type('text/plain; charset=utf-8').send(writeZoneFile(docsToZone(zone, docs)));
  });

  // No DNSSEC yet: every zone has no keys and no metadata, which is what dnscontrol and octoDNS ask before they go on.
  app.get<{ Params: { id: string } }>(`${BASE}/zones/:id/cryptokeys`, async (request) => {
    await requireZone(zoneFor(request, false).zone);
    return [];
  });
  app.get<{ Params: { id: string; key: string } }>(`${BASE}/zones/:id/cryptokeys/:key`, async (request) => {
    const { zone } = zoneFor(request, false);
    await requireZone(zone);
    throw new ApiError('not_found', `Could not find cryptokey ${request.params.key}: zone ${zone} is not signed (edgedns does not sign zones yet)`, 'cryptokey_id');
  });
  app.post<{ Params: { id: string } }>(`${BASE}/zones/:id/cryptokeys`, async (request) => {
    const { zone } = zoneFor(request, false);
    await requireZone(zone);
    throw new ApiError('not_supported', `edgedns does not sign zones yet: no cryptokey can be created for ${zone}`, 'cryptokeys');
  });
  app.get<{ Params: { id: string } }>(`${BASE}/zones/:id/metadata`, async (request) => {
    await requireZone(zoneFor(request, false).zone);
    return [];
  });
  app.get<{ Params: { id: string; kind: string } }>(`${BASE}/zones/:id/metadata/:kind`, async (request) => {
    await requireZone(zoneFor(request, false).zone);
    return { type: 'Metadata', kind: request.params.kind, metadata: [] };
  });
  for (const method of ['POST', 'PUT', 'DELETE'] as const) {
    app.route<{ Params: { id: string; kind?: string } }>({
      method,
      url: method === 'POST' ? `${BASE}/zones/:id/metadata` : `${BASE}/zones/:id/metadata/:kind`,
      handler: async (request) => {
        const { zone } = zoneFor(request, false);
        await requireZone(zone);
        throw new ApiError('not_supported', `edgedns keeps no zone metadata: ${zone}'s settings come from its records and the node's options`, 'metadata');
      },
    });
  }

  app.patch<{ Params: { id: string }; Body: { rrsets?: unknown } }>(`${BASE}/zones/:id`, { bodyLimit: ZONE_BODY_LIMIT }, async (request, reply) => {
    const zone = zoneFromId(request.params.id);
    const p = principalOf(request);
    const scope = scopeOf(p.scope);
    const body = request.body;
    if (typeof body !== 'object' || body === null || !Array.isArray(body.rrsets)) throw new ApiError('invalid_rrset', 'send {"rrsets": [...]}', 'rrsets');
    const changes = parseChanges(body.rrsets, zone);
    for (const c of changes) {
      // Not at or below a child zone served on its own, unless admin; a challenge is judged in the zone that serves it.
      const served = sync.zoneNames();
      const allowed = allowsZoneWrite(scope, zone, c.name, served) || (c.type === 'TXT' && allowsChallenge(scope, c.name, zoneServing(served, c.name)));
      if (!allowed) throw forbidden(request, p, `${c.name} ${c.type}`);
    }
    await requireZone(zone);
    // Applied in order to the zone as the zone writer reads it, validated whole and written at once.
    const result = await updateRRsets(store, zone, (current) => planChanges(current, changes), 'rrsets');
    await waitServed(servedZones, zone, result.serial);
    const audited = changes.map((c) => ({ name: c.name, type: c.type, changetype: c.changetype, records: c.rrset?.records ?? c.pools?.map((x) => `${x.type} pool ${x.pool}`) ?? null }));
    audit(request, 'zone.patch', { zone, via: 'pdns', changes: audited });
    return reply.status(204).send();
  });

  app.delete<{ Params: { id: string } }>(`${BASE}/zones/:id`, adminOnly, async (request, reply) => {
    const zone = zoneFromId(request.params.id);
    await requireZone(zone);
    await deleteZone(store, zone);
    await waitGone(servedZones, zone);
    audit(request, 'zone.delete', { zone, via: 'pdns' });
    return reply.status(204).send();
  });

  // Every node serves from the replicated store: there are no secondaries to notify.
  app.put<{ Params: { id: string } }>(`${BASE}/zones/:id/notify`, async (request) => {
    const zone = zoneFromId(request.params.id);
    const p = principalOf(request);
    const scope = scopeOf(p.scope);
    if (!allowsZone(scope, zone) && scope?.kind !== 'acme') throw forbidden(request, p, `zone ${zone}`);
    await readZone(zone);
    return { result: 'Notification queued' };
  });
}
