// Dynamic (pool) RRsets in the PowerDNS API, as PowerDNS LUA records: `www LUA A "pool('web')"`. PowerDNS keeps
// every Lua snippet of a name in one RRset of type LUA whose records start with the type they answer; edgedns
// keeps one pool per A or AAAA RRset. So a name's pool RRsets read as one LUA RRset, and writing that LUA RRset
// sets or removes them. octodns-powerdns (PowerDnsProvider/LUA: {type, script}), dnscontrol's LUA() and lexicon
// carry such records through unchanged. No Lua runs here: pool('NAME') is the one script understood.

import { POOL_NAME, type RRset } from '../../zone/model.js';

export const LUA = 'LUA';
export const POOL_TYPES = ['A', 'AAAA'] as const;
export type PoolType = (typeof POOL_TYPES)[number];

export interface PoolRecord {
  type: PoolType;
  pool: string;
}

export function luaContent(record: PoolRecord): string {
  return `${record.type} "pool('${record.pool}')"`;
}

/** The one LUA RRset of a name's pool RRsets; its TTL is the lowest of theirs (a write gives all of them that TTL). */
export function luaRRset(pools: RRset[]): { name: string; type: string; ttl: number; records: string[] } {
  const sorted = [...pools].sort((a, b) => a.type.localeCompare(b.type));
  return {
    name: sorted[0]?.name ?? '',
    type: LUA,
    ttl: Math.min(...sorted.map((r) => r.ttl)),
    records: sorted.map((r) => luaContent({ type: r.type as PoolType, pool: r.pool as string })),
  };
}

/** The content of a presentation-quoted string: `"a\"b"` → `a"b`; undefined when it is not one quoted string. */
function unquote(text: string): string | undefined {
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return undefined;
  let out = '';
  for (let i = 1; i < text.length - 1; i++) {
    const ch = text[i];
    if (ch === '"') return undefined;
    if (ch === '\\') {
      i++;
      if (i >= text.length - 1) return undefined;
      out += text[i];
    } else out += ch;
  }
  return out;
}

const POOL_SCRIPT = /^(?:return\s+)?pool\(\s*(['"])([^'"]*)\1\s*\)\s*;?$/;

/** `A "pool('web')"` → {type: 'A', pool: 'web'}; a string saying what is wrong otherwise. */
export function parseLuaContent(content: string): PoolRecord | string {
  const m = /^\s*(\S+)\s+(.*?)\s*$/s.exec(content);
  if (!m) return `LUA content "${content}" is not TYPE "script"`;
  const type = (m[1] as string).toUpperCase();
  if (type !== 'A' && type !== 'AAAA') return `LUA ${m[1]} records are not served here: only A and AAAA can name a pool`;
  const script = unquote(m[2] as string)?.trim();
  if (script === undefined) return `LUA content "${content}": the script must be one quoted string, as in ${type} "pool('web')"`;
  const pool = POOL_SCRIPT.exec(script);
  if (!pool) return `LUA script "${script}": edgedns runs no Lua; the one script it understands is pool('NAME'), naming an edgedns pool`;
  const name = pool[2] as string;
  if (!POOL_NAME.test(name)) return `pool name "${name}" must be 1-63 of a-z, 0-9, "-", "_"`;
  return { type, pool: name };
}
