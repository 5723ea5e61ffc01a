import t from 'tap';
import type { RRset, Zone } from '../../src/zone/model.js';
import { assertValidZone, normalizeRRset, RRsetError, validateZone, ZoneValidationError, type RRsetInput } from '../../src/zone/validate.js';

const APEX = 'example.com.';
const SOA: RRset = { name: APEX, type: 'SOA', ttl: 3600, records: ['ns1.example.com. hostmaster.example.com. 1 7200 1800 1209600 300'] };
const NS: RRset = { name: APEX, type: 'NS', ttl: 3600, records: ['ns1.example.com.'] };

function rr(name: string, type: string, ...records: string[]): RRset {
  return { name, type, ttl: 300, records };
}

/** A valid zone plus `extra`; `without` drops the base SOA or NS. */
function zone(extra: RRset[], without: string[] = []): Zone {
  return { name: APEX, rrsets: [SOA, NS].filter((r) => !without.includes(r.type)).concat(extra) };
}

const accepted: { behaviour: string; zone: Zone }[] = [
  { behaviour: 'a zone with SOA and NS at the apex is valid', zone: zone([]) },
  { behaviour: 'a CNAME may share its name with RRSIG and NSEC (RFC 4035 §2.5)', zone: zone([rr('www.example.com.', 'CNAME', 'example.com.'), rr('www.example.com.', 'RRSIG', 'CNAME 13 3 300 20240101000000 20231201000000 12345 example.com. AAAA'), rr('www.example.com.', 'NSEC', 'www.example.com. CNAME RRSIG NSEC')]) },
  { behaviour: 'a delegation may carry DS', zone: zone([rr('sub.example.com.', 'NS', 'ns.other.'), rr('sub.example.com.', 'DS', '1 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118')]) },
  { behaviour: 'glue A and AAAA below a delegation are allowed', zone: zone([rr('sub.example.com.', 'NS', 'ns1.sub.example.com.'), rr('ns1.sub.example.com.', 'A', '192.0.2.1'), rr('ns1.sub.example.com.', 'AAAA', '2001:db8::1')]) },
  { behaviour: 'glue A at the delegation point itself is allowed', zone: zone([rr('sub.example.com.', 'NS', 'sub.example.com.'), rr('sub.example.com.', 'A', '192.0.2.1')]) },
  { behaviour: 'a name with only deeper records is an empty non-terminal, which is fine', zone: zone([rr('a.b.deep.example.com.', 'A', '192.0.2.1')]) },
  { behaviour: 'an RRset stored as TYPE65 in generic form before edgedns knew HTTPS is still valid', zone: zone([rr('a.example.com.', 'TYPE65', '\\# 3 000100')]) },
  { behaviour: 'TTL 0 and 2^31-1 are both allowed', zone: zone([{ ...rr('a.example.com.', 'A', '192.0.2.1'), ttl: 0 }, { ...rr('b.example.com.', 'A', '192.0.2.1'), ttl: 2147483647 }]) },
];

for (const c of accepted) {
  t.test(c.behaviour, async (t) => {
    t.same(validateZone(c.zone), []);
    t.doesNotThrow(() => assertValidZone(c.zone));
  });
}

const rejected: { behaviour: string; zone: Zone; problem: { name: string; type: string; message: RegExp } }[] = [
  { behaviour: 'a zone needs an SOA at its apex', zone: zone([], ['SOA']), problem: { name: APEX, type: 'SOA', message: /no SOA at its apex/ } },
  { behaviour: 'an SOA below the apex is refused', zone: zone([rr('sub.example.com.', 'SOA', SOA.records[0])]), problem: { name: 'sub.example.com.', type: 'SOA', message: /only allowed at the apex/ } },
  { behaviour: 'the SOA RRset holds exactly one record', zone: { name: APEX, rrsets: [{ ...SOA, records: [...SOA.records, 'a. b. 2 1 1 1 1'] }, NS] }, problem: { name: APEX, type: 'SOA', message: /exactly one record, not 2/ } },
  { behaviour: 'a zone needs NS at its apex', zone: zone([], ['NS']), problem: { name: APEX, type: 'NS', message: /no NS records at its apex/ } },
  { behaviour: 'a CNAME must be alone at its name (RFC 1034 §3.6.2)', zone: zone([rr('www.example.com.', 'CNAME', 'x.'), rr('www.example.com.', 'A', '192.0.2.1')]), problem: { name: 'www.example.com.', type: 'CNAME', message: /CNAME must be alone at its name, but A is there too/ } },
  { behaviour: 'a CNAME at the apex is refused', zone: zone([rr(APEX, 'CNAME', 'x.')]), problem: { name: APEX, type: 'CNAME', message: /not allowed at the zone apex/ } },
  { behaviour: 'a CNAME RRset holds one record', zone: zone([rr('www.example.com.', 'CNAME', 'x.', 'y.')]), problem: { name: 'www.example.com.', type: 'CNAME', message: /exactly one record, not 2/ } },
  { behaviour: 'a negative TTL is refused', zone: zone([{ ...rr('a.example.com.', 'A', '192.0.2.1'), ttl: -1 }]), problem: { name: 'a.example.com.', type: 'A', message: /TTL -1 is not an integer 0-2147483647/ } },
  { behaviour: 'a TTL over 2^31-1 is refused (RFC 2181 §8)', zone: zone([{ ...rr('a.example.com.', 'A', '192.0.2.1'), ttl: 2147483648 }]), problem: { name: 'a.example.com.', type: 'A', message: /TTL 2147483648/ } },
  { behaviour: 'a fractional TTL is refused', zone: zone([{ ...rr('a.example.com.', 'A', '192.0.2.1'), ttl: 1.5 }]), problem: { name: 'a.example.com.', type: 'A', message: /TTL 1\.5/ } },
  { behaviour: 'an owner outside the zone is refused', zone: zone([rr('www.example.net.', 'A', '192.0.2.1')]), problem: { name: 'www.example.net.', type: 'A', message: /outside the zone example\.com\./ } },
  { behaviour: 'an owner that is not lower case is refused', zone: zone([rr('WWW.example.com.', 'A', '192.0.2.1')]), problem: { name: 'WWW.example.com.', type: 'A', message: /not in canonical lower-case form/ } },
  { behaviour: 'an owner with a label over 63 octets is refused', zone: zone([rr(`${'a'.repeat(64)}.example.com.`, 'A', '192.0.2.1')]), problem: { name: `${'a'.repeat(64)}.example.com.`, type: 'A', message: /limit is 63/ } },
  { behaviour: 'an owner over 255 octets is refused', zone: zone([rr(`${'a.'.repeat(125)}example.com.`, 'A', '192.0.2.1')]), problem: { name: `${'a.'.repeat(125)}example.com.`, type: 'A', message: /limit is 255/ } },
  { behaviour: 'a record that does not parse is refused', zone: zone([rr('a.example.com.', 'A', '1.2.3')]), problem: { name: 'a.example.com.', type: 'A', message: /record "1\.2\.3": A address/ } },
  { behaviour: 'a record not in canonical form is refused', zone: zone([rr('a.example.com.', 'TXT', 'x')]), problem: { name: 'a.example.com.', type: 'TXT', message: /^record x is not in canonical form; expected "x"$/ } },
  { behaviour: 'a duplicate record is refused', zone: zone([rr('a.example.com.', 'A', '192.0.2.1', '192.0.2.1')]), problem: { name: 'a.example.com.', type: 'A', message: /appears twice/ } },
  { behaviour: 'an RRset listed twice is refused', zone: zone([rr('a.example.com.', 'A', '192.0.2.1'), rr('a.example.com.', 'A', '192.0.2.2')]), problem: { name: 'a.example.com.', type: 'A', message: /RRset appears twice/ } },
  { behaviour: 'an empty RRset is refused', zone: zone([rr('a.example.com.', 'A')]), problem: { name: 'a.example.com.', type: 'A', message: /no records/ } },
  { behaviour: 'an unknown type is refused', zone: zone([rr('a.example.com.', 'FOO', 'x')]), problem: { name: 'a.example.com.', type: 'FOO', message: /unknown type FOO/ } },
  { behaviour: 'an RRset stored both as TYPE65 and as HTTPS is refused, with the way out', zone: zone([rr('a.example.com.', 'TYPE65', '\\# 3 000100'), rr('a.example.com.', 'HTTPS', '1 .')]), problem: { name: 'a.example.com.', type: 'HTTPS', message: /^RRset appears twice; it is also stored as TYPE65 from before edgedns knew HTTPS: export the zone and import it again with --replace$/ } },
  { behaviour: 'a type spelt other than constants.ts spells it is refused', zone: zone([rr('a.example.com.', 'TYPE44', '1 1 ABCD')]), problem: { name: 'a.example.com.', type: 'TYPE44', message: /should be written SSHFP/ } },
  { behaviour: 'a DNAME is refused', zone: zone([rr('a.example.com.', 'DNAME', 'b.')]), problem: { name: 'a.example.com.', type: 'DNAME', message: /DNAME records are not supported/ } },
  { behaviour: 'other data beside a delegation is refused (not authoritative)', zone: zone([rr('sub.example.com.', 'NS', 'ns.other.'), rr('sub.example.com.', 'TXT', '"x"')]), problem: { name: 'sub.example.com.', type: 'TXT', message: /beside the delegation NS is not authoritative/ } },
  { behaviour: 'non-glue data below a delegation is refused as occluded', zone: zone([rr('sub.example.com.', 'NS', 'ns.other.'), rr('x.sub.example.com.', 'TXT', '"x"')]), problem: { name: 'x.sub.example.com.', type: 'TXT', message: /below the delegation at sub\.example\.com\. is occluded/ } },
  { behaviour: 'a delegation below a delegation is occluded', zone: zone([rr('sub.example.com.', 'NS', 'ns.other.'), rr('x.sub.example.com.', 'NS', 'ns.other.')]), problem: { name: 'x.sub.example.com.', type: 'NS', message: /below the delegation at sub\.example\.com\./ } },
  { behaviour: 'DS away from a delegation is refused (RFC 4035 §2.4)', zone: zone([rr('a.example.com.', 'DS', '1 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118')]), problem: { name: 'a.example.com.', type: 'DS', message: /only at a delegation/ } },
  { behaviour: 'DS at the apex is refused: it belongs in the parent', zone: zone([rr(APEX, 'DS', '1 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118')]), problem: { name: APEX, type: 'DS', message: /only at a delegation/ } },
];

for (const c of rejected) {
  t.test(c.behaviour, async (t) => {
    const problems = validateZone(c.zone);
    t.match(problems, [c.problem]);
    t.equal(problems.length, 1, 'exactly this problem');
    t.throws(() => assertValidZone(c.zone), ZoneValidationError);
  });
}

t.test('the validation error lists the problems in its message', async (t) => {
  try {
    assertValidZone(zone([], ['SOA', 'NS']));
    t.fail('expected a ZoneValidationError');
  } catch (err) {
    t.type(err, ZoneValidationError);
    t.equal((err as ZoneValidationError).problems.length, 2);
    t.match((err as Error).message, /^zone example\.com\. is not valid: example\.com\. SOA: .*; example\.com\. NS: /);
  }
});

t.test('a zone name that is not a valid name is one problem', async (t) => {
  t.match(validateZone({ name: 'a..b.', rrsets: [] }), [{ name: 'a..b.', type: '', message: /zone name: empty label/ }]);
});

const normalized: { behaviour: string; input: RRsetInput; rrset: RRset }[] = [
  { behaviour: 'a relative owner is completed with the zone name', input: { name: 'www', type: 'A', ttl: 60, records: ['192.0.2.1'] }, rrset: { name: 'www.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] } },
  { behaviour: '"@" is the apex', input: { name: '@', type: 'MX', ttl: 60, records: ['10 mail'] }, rrset: { name: 'example.com.', type: 'MX', ttl: 60, records: ['10 mail.example.com.'] } },
  { behaviour: 'an absolute owner is lower-cased', input: { name: 'WWW.Example.com.', type: 'a', ttl: 60, records: ['192.0.2.1'] }, rrset: { name: 'www.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] } },
  { behaviour: 'records are made canonical', input: { name: 'a', type: 'TXT', ttl: 60, records: ['x y', '"é"'] }, rrset: { name: 'a.example.com.', type: 'TXT', ttl: 60, records: ['"x" "y"', '"\\195\\169"'] } },
  { behaviour: 'duplicate records are dropped', input: { name: 'a', type: 'AAAA', ttl: 60, records: ['2001:db8::1', '2001:DB8:0::1'] }, rrset: { name: 'a.example.com.', type: 'AAAA', ttl: 60, records: ['2001:db8::1'] } },
  { behaviour: 'the type is stored as constants.ts names it', input: { name: 'a', type: 'TYPE44', ttl: 60, records: ['1 1 abcd'] }, rrset: { name: 'a.example.com.', type: 'SSHFP', ttl: 60, records: ['1 1 ABCD'] } },
];

for (const c of normalized) {
  t.test(`normalizeRRset: ${c.behaviour}`, async (t) => {
    t.same(normalizeRRset(c.input, 'example.com.'), c.rrset);
  });
}

const badInputs: { behaviour: string; input: RRsetInput; message: RegExp; field: string }[] = [
  { behaviour: 'a bad record is named by its position', input: { name: 'a', type: 'A', ttl: 60, records: ['192.0.2.1', '1.2.3'] }, message: /^record 2 "1\.2\.3" of a\.example\.com\. A: A address "1\.2\.3" is not IPv4/, field: 'records.1' },
  { behaviour: 'an owner outside the zone is refused', input: { name: 'a.example.net.', type: 'A', ttl: 60, records: ['192.0.2.1'] }, message: /outside the zone example\.com\./, field: 'name' },
  { behaviour: 'an invalid owner is refused', input: { name: 'a..b', type: 'A', ttl: 60, records: ['192.0.2.1'] }, message: /^name "a\.\.b": empty label/, field: 'name' },
  { behaviour: 'an unknown type is refused', input: { name: 'a', type: 'FOO', ttl: 60, records: ['x'] }, message: /unknown record type "FOO"/, field: 'type' },
  { behaviour: 'a refused type is refused', input: { name: 'a', type: 'DNAME', ttl: 60, records: ['b.'] }, message: /DNAME records are not supported/, field: 'records.0' },
  { behaviour: 'a TTL out of range is refused', input: { name: 'a', type: 'A', ttl: 2 ** 31, records: ['192.0.2.1'] }, message: /TTL 2147483648 is not an integer/, field: 'ttl' },
  { behaviour: 'an RRset without records is refused', input: { name: 'a', type: 'A', ttl: 60, records: [] }, message: /has no records/, field: 'records' },
  { behaviour: 'a CNAME with two targets is refused', input: { name: 'a', type: 'CNAME', ttl: 60, records: ['b', 'c'] }, message: /must have exactly one record, not 2/, field: 'records' },
  { behaviour: 'a pool on a type other than A or AAAA is refused', input: { name: 'a', type: 'MX', ttl: 60, records: [], pool: 'web' }, message: /only A and AAAA RRsets can name a pool/, field: 'pool' },
  { behaviour: 'a pool name out of its alphabet is refused', input: { name: 'a', type: 'A', ttl: 60, records: [], pool: 'Web!' }, message: /pool name "Web!" must be/, field: 'pool' },
];

for (const c of badInputs) {
  t.test(`normalizeRRset: ${c.behaviour}`, async (t) => {
    try {
      normalizeRRset(c.input, 'example.com.');
      t.fail('expected an RRsetError');
    } catch (err) {
      t.type(err, RRsetError);
      t.match((err as Error).message, c.message);
      t.equal((err as RRsetError).field, c.field, 'the error names the field at fault');
    }
  });
}
