// SVCB and HTTPS (RFC 9460 §2): priority, target name and SvcParams. Params may be written in any order; on the
// wire and in canonical text they are sorted by key, each key at most once, and a zone file gets the same checks a
// client would make before using the record (RFC 9460 §8 mandatory keys, §7.1.1 no-default-alpn needs alpn).

import { u16, type RdataCodec } from './rdata-codec.js';
import type { TokenReader, WireReader } from './rdata-fields.js';
import { RdataError } from './rdata-fields.js';
import { ALPN, formatSvcParam, MANDATORY, NO_DEFAULT_ALPN, parseSvcParamValue, SvcParamError, svcParamKeyCode, svcParamKeyName } from './rdata-svcb-params.js';

/** What a set of params, sorted by key, lacks to be usable; undefined when nothing. */
function consistencyProblem(params: ReadonlyMap<number, Buffer>): string | undefined {
  const mandatory = params.get(MANDATORY);
  if (mandatory !== undefined) {
    for (let i = 0; i < mandatory.length; i += 2) {
      const code = mandatory.readUInt16BE(i);
      if (!params.has(code)) return `mandatory lists ${svcParamKeyName(code)}, which the record does not have (RFC 9460 §8)`;
    }
  }
  if (params.has(NO_DEFAULT_ALPN) && !params.has(ALPN)) return 'no-default-alpn needs alpn beside it (RFC 9460 §7.1.1)';
  return undefined;
}

function readParam(r: TokenReader, params: Map<number, Buffer>): void {
  const token = r.next('SvcParam');
  if (token.quoted && !token.valueQuoted) r.fail(`SvcParam "${token.text}" must not be quoted as a whole; write key="value"`);
  const eq = token.text.indexOf('=');
  const key = eq < 0 ? token.text : token.text.slice(0, eq);
  const value = eq < 0 ? undefined : token.text.slice(eq + 1);
  const code = svcParamKeyCode(key);
  if (code === undefined) r.fail(`SvcParam key "${key}" is not known; write other keys as keyNNNNN (RFC 9460 §2.1)`);
  if (params.has(code)) r.fail(`SvcParam ${svcParamKeyName(code)} appears twice`);
  if (value === '' && !token.valueQuoted) r.fail(`SvcParam ${key}= has no value; write ${key} alone or ${key}=""`);
  try {
    params.set(code, parseSvcParamValue(code, value, key.startsWith('key')));
  } catch (err) {
    if (err instanceof SvcParamError) r.fail(`SvcParam ${key} ${err.message}`);
    if (err instanceof RdataError) r.fail(`SvcParam ${key}: ${err.message}`);
    throw err;
  }
}

function decodeParams(w: WireReader): string[] {
  const params = new Map<number, Buffer>();
  const fields: string[] = [];
  let previous = -1;
  while (w.remaining > 0) {
    const code = w.u16();
    const value = w.bytes(w.u16());
    if (code <= previous) throw new RdataError(`${w.type} SvcParam keys are not in strictly ascending order (RFC 9460 §2.2)`);
    previous = code;
    try {
      fields.push(formatSvcParam(code, value));
    } catch (err) {
      if (err instanceof SvcParamError) throw new RdataError(`${w.type} SvcParam ${svcParamKeyName(code)}: ${err.message}`);
      throw err;
    }
    params.set(code, value);
  }
  const problem = consistencyProblem(params);
  if (problem !== undefined) throw new RdataError(`${w.type} ${problem}`);
  return fields;
}

const svcb: RdataCodec = {
  encode(r) {
    const priority = r.number('priority', 2);
    const target = r.name('target');
    const params = new Map<number, Buffer>();
    while (r.remaining > 0) readParam(r, params);
    const problem = consistencyProblem(params);
    if (problem !== undefined) r.fail(problem);
    const parts = [priority, target];
    for (const code of [...params.keys()].sort((a, b) => a - b)) {
      const value = params.get(code) as Buffer;
      parts.push(u16(code), u16(value.length), value);
    }
    return parts;
  },
  decode: (w) => [String(w.u16()), w.name(), ...decodeParams(w)],
  // knot adds the target's A/AAAA to the additional section, as for MX and SRV (RFC 9460 §4.3 allows it).
  target: 1,
};

export const SVCB_CODECS: [number, RdataCodec][] = [
  [64, svcb], // SVCB
  [65, svcb], // HTTPS, RFC 9460 §9: SVCB's format under its own type
];
