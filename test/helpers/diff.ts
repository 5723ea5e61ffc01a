// Differential comparison of two authoritative servers: the same questions to both, the replies compared as data
// (rcode, AA, and each section as a set of normalized records). Used to hold edgedns to what knotd answers.

import { digMany, digSections, describe, type DigOptions, type DigResult } from './dig.js';

export interface Query {
  name: string;
  type: string;
}

export interface CompareOptions {
  /** dig options for every query (transport, EDNS, ...). */
  dig?: DigOptions;
  /** Header flags to compare (default: all of them; "aa" alone is what the differential test needs at least). */
  flags?: string[];
  /**
   * When both replies are truncated (TC=1), compare only rcode and flags (default true): what a truncated reply
   * holds is up to the server (knotd sends empty sections for a large RRset, and partial glue for a large referral),
   * and a client ignores it and retries over TCP (RFC 2181 §9).
   */
  truncatedHeadersOnly?: boolean;
  /** Compare TTLs (default true). */
  ttl?: boolean;
  /** Labels for the two servers in messages (default "a" and "b"). */
  labels?: [string, string];
}

export type DiffField = 'error' | 'rcode' | 'flags' | 'answer' | 'authority' | 'additional';

export interface Difference {
  query: Query;
  field: DiffField;
  /** What each server gave for that field (records one per line). */
  a: string;
  b: string;
  /** Readable, multi-line account of the difference with both full replies. */
  message: string;
}

function withoutTtl(key: string): string {
  // key: "name ttl class type data"
  const parts = key.split(' ');
  parts[1] = '*';
  return parts.join(' ');
}

/** Differences between two replies to one query (empty when they agree). */
export function compareReplies(query: Query, ra: DigResult, rb: DigResult, options: CompareOptions = {}): Difference[] {
  const [la, lb] = options.labels ?? ['a', 'b'];
  const width = Math.max(la.length, lb.length) + 5;
  const differences: Difference[] = [];
  const indent = (text: string, by: string): string => text.split('\n').join(`\n${by}`);
  const add = (field: DiffField, a: string, b: string, detail: string[]): void => {
    const message = [
      `${query.name} ${query.type}: ${field} differs`,
      ...detail.map((line) => `  ${line}`),
      `  full reply from ${la}:\n    ${indent(describe(ra), '    ')}`,
      `  full reply from ${lb}:\n    ${indent(describe(rb), '    ')}`,
    ].join('\n');
    differences.push({ query, field, a, b, message });
  };
  const sideBySide = (a: string, b: string): string[] => [
    `${`${la}:`.padEnd(width)}${a}`,
    `${`${lb}:`.padEnd(width)}${b}`,
  ];

  if (ra.rcode !== rb.rcode) add('rcode', ra.rcode, rb.rcode, sideBySide(ra.rcode, rb.rcode));

  const watched = options.flags?.map((f) => f.toLowerCase());
  const flagsOf = (r: DigResult): string =>
    [...r.flags].filter((f) => watched === undefined || watched.includes(f)).sort().join(' ') || '(none)';
  if (flagsOf(ra) !== flagsOf(rb)) add('flags', flagsOf(ra), flagsOf(rb), sideBySide(flagsOf(ra), flagsOf(rb)));

  if (options.truncatedHeadersOnly !== false && ra.flags.includes('tc') && rb.flags.includes('tc')) return differences;

  const sa = digSections(ra);
  const sb = digSections(rb);
  for (const section of ['answer', 'authority', 'additional'] as const) {
    let ka = sa[section];
    let kb = sb[section];
    if (options.ttl === false) {
      ka = ka.map(withoutTtl).sort();
      kb = kb.map(withoutTtl).sort();
    }
    const ta = ka.join('\n');
    const tb = kb.join('\n');
    if (ta === tb) continue;
    const onlyA = ka.filter((k) => !kb.includes(k));
    const onlyB = kb.filter((k) => !ka.includes(k));
    const detail = [
      ...onlyA.map((k) => `${`only ${la}:`.padEnd(width + 5)}${k}`),
      ...onlyB.map((k) => `${`only ${lb}:`.padEnd(width + 5)}${k}`),
    ];
    if (detail.length === 0) detail.push(`same records, different multiplicity (${ka.length} vs ${kb.length})`);
    add(section, ta || '(empty)', tb || '(empty)', detail);
  }
  return differences;
}

/**
 * Ask both servers every query and list where they differ: rcode, header flags (AA, TC, RA, ...), and the answer,
 * authority and additional sections as sorted sets of normalized records (OPT pseudo-RR left out, order ignored).
 * A query that fails on one side only is a difference; on both sides, too (a test should not pass on timeouts).
 */
export async function compareServers(
  a: { port: number },
  b: { port: number },
  queries: readonly Query[],
  options: CompareOptions = {},
): Promise<Difference[]> {
  const [la, lb] = options.labels ?? ['a', 'b'];
  const digOptions = options.dig ?? {};
  const [ra, rb] = await Promise.all([digMany(a.port, queries, digOptions), digMany(b.port, queries, digOptions)]);
  return queries.flatMap((query, i) => {
    const oa = ra[i];
    const ob = rb[i];
    if (oa instanceof Error || ob instanceof Error) {
      const ea = oa instanceof Error ? oa.message : 'replied';
      const eb = ob instanceof Error ? ob.message : 'replied';
      const difference: Difference = {
        query,
        field: 'error',
        a: ea,
        b: eb,
        message: `${query.name} ${query.type}: query failed\n  ${la}: ${ea}\n  ${lb}: ${eb}`,
      };
      return [difference];
    }
    return compareReplies(query, oa, ob, options);
  });
}

/** All differences as one readable report, capped so a broken server does not flood the test output. */
export function formatDifferences(differences: readonly Difference[], max = 40): string {
  if (differences.length === 0) return 'no differences';
  const shown = differences.slice(0, max).map((d) => d.message);
  const more = differences.length > max ? `\n... and ${differences.length - max} more differences` : '';
  return `${differences.length} differences:\n\n${shown.join('\n\n')}${more}`;
}
