// The PowerDNS Authoritative HTTP API subset that ACME clients and DNS tools use (lego `pdns`, external-dns,
// octoDNS, certbot-dns-powerdns): server info, zone list/create/get/delete, PATCH of RRsets with changetype
// REPLACE/DELETE, and notify as a no-op. Errors keep PowerDNS's shape {"error": "..."}, since clients read
// that field (lego treats any body with a non-empty "error" as a failure), plus our code and field beside it.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../keys/api-keys.js';
import { allowsChallenge, allowsZone, scopeOf } from '../../keys/scopes.js';
import type { Store } from '../../store/store.js';
import { readZoneDocs } from '../zone-reads.js';
import type { Catalog } from '../../zone/catalog.js';
import type { RRset, Zone } from '../../zone/model.js';
import { normalizeRRset, RRsetError } from '../../zone/validate.js';
import { isInZone, lowerAscii, NameError, normalizeName } from '../../proto/names.js';
import { rrTypeCode } from '../../proto/rdata.js';
import { typeName } from '../../proto/constants.js';
import { docToRRset, type RRsetDoc } from '../../zone/zone-docs.js';
import type { ZoneSync } from '../../zone/zone-sync.js';
import { deleteZone, saveZone, updateRRsets, ZoneExistsError, ZoneNotFoundError, type RRsetWrite } from '../../zone/zone-writer.js';
import { audit } from '../audit.js';
import { forbidden, identify } from '../auth.js';
import { ApiError } from '../errors.js';
import { waitGone, waitServed, type ServedZones } from '../wait-served.js';
import { toApiError } from '../write-errors.js';
import { pdnsZoneId, zoneFromId } from './pdns-ids.js';

export interface PdnsRoutesOptions {
  store: Store;
  sync: ZoneSync;
  catalog: Catalog;
  /** Which serial every answering process serves: writes wait for it. */
  served: ServedZones;
}

const BASE = '/api/v1/servers/localhost';
const MAX_CHANGES = 1000;

interface PdnsRecord {
  content?: unknown;
  disabled?: unknown;
}

interface PdnsRRset {
  name?: unknown;
  type?: unknown;
  ttl?: unknown;
  changetype?: unknown;
  records?: unknown;
}

function soaSerialOf(docs: RRsetDoc[]): number {
  const soa = docs.find((d) => d.rrtype === 'SOA');
  return Number(soa?.records[0]?.split(/\s+/)[2] ?? 0);
}

function zoneSummary(name: string, serial: number): Record<string, unknown> {
  const id = pdnsZoneId(name);
  return { id, name, type: 'Zone', url: `${BASE}/zones/${id}`, kind: 'Native', serial, notified_serial: serial, edited_serial: serial, masters: [], dnssec: false, account: '', catalog: '' };
}

function pdnsRRset(rrset: RRset): Record<string, unknown> {
  return { name: rrset.name, type: rrset.type, ttl: rrset.ttl, records: rrset.records.map((content) => ({ content, disabled: false })), comments: [] };
}

function invalid(message: string, field: string): ApiError {
  return new ApiError('invalid_rrset', message, field);
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
  app.setErrorHandler((err: Error, request, reply) => {
    let apiError = toApiError(err);
    if (!(apiError instanceof ApiError)) {
      const status = (err as { statusCode?: number }).statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500) apiError = new ApiError(status === 413 ? 'payload_too_large' : 'bad_request', err.message);
      else {
        request.log.error({ err }, 'internal error in PowerDNS API request');
        apiError = new ApiError('internal', 'internal error; see the node log');
      }
    }
    const e = apiError as ApiError;
    void reply.status(e.status).send({ error: e.message, code: e.code, ...(e.field ? { field: e.field } : {}) });
  });
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.url === '/api') return; // version discovery, as PowerDNS (still needs no zone data)
    await identify(store, request, reply);
  });

  const principalOf = (request: FastifyRequest): Principal => request.principal as Principal;
  const requireAdmin = (request: FastifyRequest): void => {
    const p = principalOf(request);
    if (p.scope !== 'admin') throw forbidden(request, p, 'this (it needs admin)');
  };
  const readZone = async (zone: string): Promise<RRsetDoc[]> => {
    const docs = await readZoneDocs(store, sync, zone);
    if (!docs) throw new ApiError('zone_not_found', `Could not find domain '${zone}'`, 'zone_id');
    return docs;
  };

  app.get('/api', async () => [{ url: '/api/v1', version: 1 }]);
  const server = { type: 'Server', id: 'localhost', daemon_type: 'authoritative', version: 'edgedns', url: BASE, config_url: `${BASE}/config{/config_setting}`, zones_url: `${BASE}/zones{/zone}` };
  app.get('/api/v1/servers', async () => [server]);
  app.get(BASE, async () => server);
  app.get(`${BASE}/config`, async () => [
    { type: 'ConfigSetting', name: 'api', value: 'yes' },
    { type: 'ConfigSetting', name: 'daemon-type', value: 'authoritative' },
  ]);

  app.get<{ Querystring: { zone?: string } }>(`${BASE}/zones`, async (request) => {
    const scope = scopeOf(principalOf(request).scope);
    const only = request.query.zone !== undefined ? zoneFromId(request.query.zone) : undefined;
    const out: Record<string, unknown>[] = [];
    for (const name of sync.zoneNames()) {
      if (only !== undefined && name !== only) continue;
      // acme: keys see the zones their names live in, so lego can find the zone to PATCH
      const visible = allowsZone(scope, name) || (scope?.kind === 'acme' && (scope.name === name || scope.name.endsWith('.' + name)));
      if (!visible) continue;
      out.push(zoneSummary(name, catalog.get(name)?.soaSerial ?? soaSerialOf(sync.rrsetDocs(name))));
    }
    return out;
  });

  app.post<{ Body: { name?: unknown; nameservers?: unknown; rrsets?: unknown; kind?: unknown } }>(`${BASE}/zones`, async (request, reply) => {
    requireAdmin(request);
    const body = request.body ?? {};
    if (typeof body.name !== 'string' || !body.name.endsWith('.')) throw invalid('name must be the absolute zone name, with its trailing dot', 'name');
    const name = zoneFromId(body.name);
    const nameservers = Array.isArray(body.nameservers) ? body.nameservers : [];
    if (!nameservers.every((n) => typeof n === 'string')) throw invalid('nameservers must be a list of names', 'nameservers');
    const changes = parseChanges(body.rrsets ?? [], name);
    const rrsets = new Map<string, RRset>();
    for (const c of changes) if (c.rrset) rrsets.set(`${c.name}/${c.type}`, c.rrset);
    try {
      if (!rrsets.has(`${name}/SOA`)) {
        const primary = (nameservers[0] as string | undefined) ?? `ns1.${name}`;
        rrsets.set(`${name}/SOA`, normalizeRRset({ name, type: 'SOA', ttl: 3600, records: [`${primary} hostmaster.${name} 1 10800 3600 604800 3600`] }, name));
      }
      if (!rrsets.has(`${name}/NS`) && nameservers.length > 0) rrsets.set(`${name}/NS`, normalizeRRset({ name, type: 'NS', ttl: 3600, records: nameservers as string[] }, name));
      const zone: Zone = { name, rrsets: [...rrsets.values()] };
      const saved = await saveZone(store, zone, { replace: false });
      await waitServed(servedZones, name, saved.serial);
      audit(request, 'zone.create', { zone: name, via: 'pdns', rrsets: zone.rrsets.length });
      return reply.status(201).send({ ...zoneSummary(name, saved.serial), rrsets: zone.rrsets.map(pdnsRRset) });
    } catch (err) {
      if (err instanceof ZoneExistsError) throw new ApiError('zone_exists', `Domain '${name}' already exists`, 'name');
      if (err instanceof RRsetError) throw invalid(err.message, 'rrsets');
      throw err;
    }
  });

  app.get<{ Params: { id: string } }>(`${BASE}/zones/:id`, async (request) => {
    const zone = zoneFromId(request.params.id);
    const p = principalOf(request);
    const scope = scopeOf(p.scope);
    const acmeView = scope?.kind === 'acme' && (scope.name === zone || scope.name.endsWith('.' + zone));
    if (!allowsZone(scope, zone) && !acmeView) throw forbidden(request, p, `zone ${zone}`);
    let docs = await readZone(zone);
    // an acme: key sees only its challenge RRsets (and the SOA), not the rest of the zone
    if (!allowsZone(scope, zone)) docs = docs.filter((d) => d.rrtype === 'SOA' || (d.rrtype === 'TXT' && allowsChallenge(scope, d.name, zone)));
    const rrsets = docs.map(docToRRset).sort((a, b) => (a.name === b.name ? a.type.localeCompare(b.type) : a.name.localeCompare(b.name)));
    return { ...zoneSummary(zone, soaSerialOf(docs)), rrsets: rrsets.map(pdnsRRset) };
  });

  app.patch<{ Params: { id: string }; Body: { rrsets?: unknown } }>(`${BASE}/zones/:id`, async (request, reply) => {
    const zone = zoneFromId(request.params.id);
    const p = principalOf(request);
    const scope = scopeOf(p.scope);
    const body = request.body;
    if (typeof body !== 'object' || body === null || !Array.isArray(body.rrsets)) throw invalid('send {"rrsets": [...]}', 'rrsets');
    const changes = parseChanges(body.rrsets, zone);
    for (const c of changes) {
      const allowed = allowsZone(scope, zone) || (c.type === 'TXT' && allowsChallenge(scope, c.name, zone));
      if (!allowed) throw forbidden(request, p, `${c.name} ${c.type}`);
    }
    await readZone(zone);
    try {
      const result = await updateRRsets(store, zone, () => changes.map(({ name, type, rrset }) => ({ name, type, rrset })));
      await waitServed(servedZones, zone, result.serial);
      audit(request, 'zone.patch', { zone, via: 'pdns', changes: changes.map((c) => ({ name: c.name, type: c.type, records: c.rrset?.records ?? null })) });
    } catch (err) {
      if (err instanceof ZoneNotFoundError) throw new ApiError('zone_not_found', `Could not find domain '${zone}'`, 'zone_id');
      throw err;
    }
    return reply.status(204).send();
  });

  app.delete<{ Params: { id: string } }>(`${BASE}/zones/:id`, async (request, reply) => {
    requireAdmin(request);
    const zone = zoneFromId(request.params.id);
    try {
      await deleteZone(store, zone);
    } catch (err) {
      if (err instanceof ZoneNotFoundError) throw new ApiError('zone_not_found', `Could not find domain '${zone}'`, 'zone_id');
      throw err;
    }
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

/** PATCH (or POST) rrsets → writes, each checked like an import; any bad entry fails the whole request (422). */
function parseChanges(input: unknown, zone: string): (RRsetWrite & { rrset?: RRset })[] {
  if (!Array.isArray(input)) throw invalid('rrsets must be a list', 'rrsets');
  if (input.length > MAX_CHANGES) throw new ApiError('payload_too_large', `at most ${MAX_CHANGES} RRsets per request`, 'rrsets');
  const seen = new Set<string>();
  return input.map((raw: PdnsRRset, i) => {
    const field = `rrsets.${i}`;
    if (typeof raw !== 'object' || raw === null) throw invalid(`${field} must be an object`, field);
    if (typeof raw.name !== 'string' || !raw.name.endsWith('.')) throw invalid(`${field}.name must be an absolute name with its trailing dot`, `${field}.name`);
    if (typeof raw.type !== 'string') throw invalid(`${field}.type is required`, `${field}.type`);
    const changetype = typeof raw.changetype === 'string' ? raw.changetype.toUpperCase() : 'REPLACE';
    if (changetype !== 'REPLACE' && changetype !== 'DELETE') throw invalid(`${field}.changetype "${String(raw.changetype)}" is not REPLACE or DELETE`, `${field}.changetype`);
    const records = raw.records === undefined ? [] : raw.records;
    if (!Array.isArray(records)) throw invalid(`${field}.records must be a list`, `${field}.records`);
    const contents: string[] = [];
    records.forEach((r: PdnsRecord, j) => {
      if (typeof r !== 'object' || r === null || typeof r.content !== 'string') throw invalid(`${field}.records.${j}.content must be a string`, `${field}.records.${j}.content`);
      if (r.disabled !== true) contents.push(r.content); // disabled records are not kept (nothing here can serve them)
    });
    let rrset: RRset | undefined;
    let name: string;
    let type: string;
    try {
      if (changetype === 'REPLACE' && contents.length > 0) {
        const ttl = raw.ttl === undefined ? 3600 : raw.ttl;
        if (typeof ttl !== 'number') throw invalid(`${field}.ttl must be a number`, `${field}.ttl`);
        rrset = normalizeRRset({ name: raw.name, type: raw.type.toUpperCase(), ttl, records: contents }, zone);
        name = rrset.name;
        type = rrset.type;
      } else {
        // DELETE, or REPLACE with no records (which empties the RRset): only the name and type matter
        ({ name, type } = ownerAndType(raw.name, raw.type, zone));
      }
    } catch (err) {
      if (err instanceof RRsetError) {
        const sub = err.record !== undefined ? `.records.${err.record}.content` : /^TTL/.test(err.message) ? '.ttl' : /^name/.test(err.message) ? '.name' : '.type';
        throw invalid(err.message, field + sub);
      }
      throw err;
    }
    const key = `${name}/${type}`;
    if (seen.has(key)) throw invalid(`${field}: ${name} ${type} appears twice in one request`, field);
    seen.add(key);
    return { name, type, rrset };
  });
}

function ownerAndType(rawName: string, rawType: string, zone: string): { name: string; type: string } {
  let name: string;
  try {
    name = lowerAscii(normalizeName(rawName, zone));
  } catch (err) {
    if (err instanceof NameError) throw new RRsetError(`name "${rawName}": ${err.message}`);
    throw err;
  }
  if (!isInZone(name, zone)) throw new RRsetError(`name ${name} is outside the zone ${zone}`);
  const code = rrTypeCode(rawType.toUpperCase());
  if (code === undefined) throw new RRsetError(`unknown record type "${rawType}"`);
  return { name, type: typeName(code) };
}
