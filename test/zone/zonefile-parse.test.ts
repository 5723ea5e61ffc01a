import t from 'tap';
import type { RRset } from '../../src/zone/model.js';
import { parseZoneFile, ZoneFileError, type ParseZoneOptions } from '../../src/zone/zonefile-parse.js';

const SOA = '@ 3600 IN SOA ns1 hostmaster 1 7200 1800 1209600 300';
const SOA_TEXT = 'ns1.example.com. hostmaster.example.com. 1 7200 1800 1209600 300';

/** A file for example.com. with `lines` after its $ORIGIN and SOA. */
function zoneText(...lines: string[]): string {
  return ['$ORIGIN example.com.', SOA, ...lines].join('\n') + '\n';
}

/** RRsets of a parse other than the SOA, the interesting part of most tests. */
function rest(text: string, options: ParseZoneOptions = {}): RRset[] {
  return parseZoneFile(text, options).rrsets.filter((r) => r.type !== 'SOA');
}

const valid: { behaviour: string; text: string; options?: ParseZoneOptions; rrsets: RRset[] }[] = [
  {
    behaviour: 'relative owners are completed with $ORIGIN',
    text: zoneText('www 60 IN A 192.0.2.1'),
    rrsets: [{ name: 'www.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] }],
  },
  {
    behaviour: '"@" is the current origin',
    text: zoneText('@ 60 IN NS ns1'),
    rrsets: [{ name: 'example.com.', type: 'NS', ttl: 60, records: ['ns1.example.com.'] }],
  },
  {
    behaviour: 'a later $ORIGIN changes how names are completed',
    text: zoneText('$ORIGIN sub.example.com.', 'www 60 A 192.0.2.1', 'ptr 60 CNAME www'),
    rrsets: [
      { name: 'ptr.sub.example.com.', type: 'CNAME', ttl: 60, records: ['www.sub.example.com.'] },
      { name: 'www.sub.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
    ],
  },
  {
    behaviour: 'absolute owners are taken as they are',
    text: zoneText('www.example.com. 60 A 192.0.2.1'),
    rrsets: [{ name: 'www.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] }],
  },
  {
    behaviour: 'a line starting with a blank reuses the previous owner',
    text: zoneText('www 60 A 192.0.2.1', '   60 AAAA 2001:db8::1'),
    rrsets: [
      { name: 'www.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
      { name: 'www.example.com.', type: 'AAAA', ttl: 60, records: ['2001:db8::1'] },
    ],
  },
  {
    behaviour: 'the owner survives a directive between records',
    text: zoneText('www 60 A 192.0.2.1', '$TTL 30', '  AAAA 2001:db8::1'),
    rrsets: [
      { name: 'www.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
      { name: 'www.example.com.', type: 'AAAA', ttl: 30, records: ['2001:db8::1'] },
    ],
  },
  {
    behaviour: 'TTL may come before the class',
    text: zoneText('a 60 IN A 192.0.2.1'),
    rrsets: [{ name: 'a.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] }],
  },
  {
    behaviour: 'the class may come before the TTL',
    text: zoneText('a IN 60 A 192.0.2.1'),
    rrsets: [{ name: 'a.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] }],
  },
  {
    behaviour: 'TTL and class may both be left out',
    text: zoneText('$TTL 120', 'a A 192.0.2.1'),
    rrsets: [{ name: 'a.example.com.', type: 'A', ttl: 120, records: ['192.0.2.1'] }],
  },
  {
    behaviour: 'class CLASS1 is IN (RFC 3597 §5)',
    text: zoneText('a 60 CLASS1 A 192.0.2.1'),
    rrsets: [{ name: 'a.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] }],
  },
  {
    behaviour: 'TTLs take units in any case',
    text: zoneText('a 1H A 192.0.2.1', 'b 1w2D A 192.0.2.1', 'c 1m30s A 192.0.2.1'),
    rrsets: [
      { name: 'a.example.com.', type: 'A', ttl: 3600, records: ['192.0.2.1'] },
      { name: 'b.example.com.', type: 'A', ttl: 777600, records: ['192.0.2.1'] },
      { name: 'c.example.com.', type: 'A', ttl: 90, records: ['192.0.2.1'] },
    ],
  },
  {
    behaviour: '$TTL takes units and applies to the records after it',
    text: zoneText('a A 192.0.2.1', '$TTL 2h', 'b A 192.0.2.1'),
    rrsets: [
      { name: 'a.example.com.', type: 'A', ttl: 3600, records: ['192.0.2.1'] },
      { name: 'b.example.com.', type: 'A', ttl: 7200, records: ['192.0.2.1'] },
    ],
  },
  {
    behaviour: 'without $TTL a record takes the default TTL, not the previous record\'s (knot)',
    text: zoneText('a 60 A 192.0.2.1', 'b A 192.0.2.1'),
    rrsets: [
      { name: 'a.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
      { name: 'b.example.com.', type: 'A', ttl: 3600, records: ['192.0.2.1'] },
    ],
  },
  {
    behaviour: 'the default TTL can be set by the caller',
    text: zoneText('b A 192.0.2.1'),
    options: { defaultTtl: 600 },
    rrsets: [{ name: 'b.example.com.', type: 'A', ttl: 600, records: ['192.0.2.1'] }],
  },
  {
    behaviour: 'records of one owner and type form one RRset in file order',
    text: zoneText('a 60 A 192.0.2.2', 'b 60 A 192.0.2.9', 'a 60 A 192.0.2.1'),
    rrsets: [
      { name: 'a.example.com.', type: 'A', ttl: 60, records: ['192.0.2.2', '192.0.2.1'] },
      { name: 'b.example.com.', type: 'A', ttl: 60, records: ['192.0.2.9'] },
    ],
  },
  {
    behaviour: 'an RRset whose TTLs differ takes its last record\'s TTL (knot)',
    text: zoneText('d A 192.0.2.8', 'd 120 A 192.0.2.9', 'd 30 A 192.0.2.10'),
    rrsets: [{ name: 'd.example.com.', type: 'A', ttl: 30, records: ['192.0.2.8', '192.0.2.9', '192.0.2.10'] }],
  },
  {
    behaviour: 'identical records are kept once (RFC 2181 §5)',
    text: zoneText('a 60 A 192.0.2.1', 'a 60 A 192.0.2.1', 'a 60 TXT "x"', 'a 60 TXT x'),
    rrsets: [
      { name: 'a.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
      { name: 'a.example.com.', type: 'TXT', ttl: 60, records: ['"x"'] },
    ],
  },
  {
    behaviour: 'records differing only in the case of a name are the same record',
    text: zoneText('a 60 MX 10 Mail', 'a 60 MX 10 mail'),
    rrsets: [{ name: 'a.example.com.', type: 'MX', ttl: 60, records: ['10 Mail.example.com.'] }],
  },
  {
    behaviour: 'owner names are lower-cased keys',
    text: zoneText('WWW.Example.COM. 60 A 192.0.2.1', 'www 60 A 192.0.2.2'),
    rrsets: [{ name: 'www.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1', '192.0.2.2'] }],
  },
  {
    behaviour: 'RRsets come out in canonical order, types by number',
    text: zoneText('z 60 A 192.0.2.1', 'b.a 60 A 192.0.2.1', 'a 60 TXT x', 'a 60 A 192.0.2.1', '@ 60 NS ns1'),
    rrsets: [
      { name: 'example.com.', type: 'NS', ttl: 60, records: ['ns1.example.com.'] },
      { name: 'a.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
      { name: 'a.example.com.', type: 'TXT', ttl: 60, records: ['"x"'] },
      { name: 'b.a.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
      { name: 'z.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
    ],
  },
  {
    behaviour: 'unknown types are read in RFC 3597 form',
    text: zoneText('a 60 TYPE65280 \\# 2 abcd'),
    rrsets: [{ name: 'a.example.com.', type: 'TYPE65280', ttl: 60, records: ['\\# 2 ABCD'] }],
  },
  {
    behaviour: 'a type written as TYPEnnn is stored under its mnemonic',
    text: zoneText('a 60 TYPE44 1 1 abcd'),
    rrsets: [{ name: 'a.example.com.', type: 'SSHFP', ttl: 60, records: ['1 1 ABCD'] }],
  },
  {
    behaviour: 'directives are case-insensitive',
    text: zoneText('$ttl 99', '$origin sub.example.com.', 'a A 192.0.2.1'),
    rrsets: [{ name: 'a.sub.example.com.', type: 'A', ttl: 99, records: ['192.0.2.1'] }],
  },
  {
    behaviour: 'a UTF-8 byte order mark is ignored',
    text: '\uFEFF' + zoneText('a 60 A 192.0.2.1'),
    rrsets: [{ name: 'a.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] }],
  },
  {
    behaviour: 'a wildcard owner is an ordinary name',
    text: zoneText('*.apps 60 A 192.0.2.1'),
    rrsets: [{ name: '*.apps.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] }],
  },
];

for (const c of valid) {
  t.test(c.behaviour, async (t) => {
    t.same(rest(c.text, c.options), c.rrsets);
  });
}

t.test('an SOA spread over lines with comments is one record', async (t) => {
  const zone = parseZoneFile('$ORIGIN example.com.\n@ 60 IN SOA ns1 hostmaster (\n  1 ; serial\n  2h ; refresh\n  30m 2w\n  300 )\n');
  t.same(zone.rrsets, [{ name: 'example.com.', type: 'SOA', ttl: 60, records: ['ns1.example.com. hostmaster.example.com. 1 7200 1800 1209600 300'] }]);
});

const apexes: { behaviour: string; text: string; options?: ParseZoneOptions; apex: string }[] = [
  { behaviour: 'the zone is named by the origin option first', text: `$ORIGIN example.com.\n${SOA}\n`, options: { origin: 'Example.COM' }, apex: 'example.com.' },
  { behaviour: 'without an origin option the SOA owner names the zone', text: `$ORIGIN com.\nexample 60 SOA a. b. 1 2 3 4 5\n`, apex: 'example.com.' },
  { behaviour: 'without an SOA the first $ORIGIN names the zone', text: `$ORIGIN example.com.\na 60 A 192.0.2.1\n`, apex: 'example.com.' },
  { behaviour: 'the origin option completes relative names without $ORIGIN', text: `${SOA}\n`, options: { origin: 'example.com.' }, apex: 'example.com.' },
];

for (const c of apexes) {
  t.test(c.behaviour, async (t) => {
    t.equal(parseZoneFile(c.text, c.options).name, c.apex);
  });
}

t.test('the origin option makes relative names in the file relative to it', async (t) => {
  const zone = parseZoneFile(`${SOA}\n`, { origin: 'example.com' });
  t.same(zone.rrsets, [{ name: 'example.com.', type: 'SOA', ttl: 3600, records: [SOA_TEXT] }]);
});

const errors: { behaviour: string; text: string; options?: ParseZoneOptions; line?: number; message: RegExp }[] = [
  { behaviour: 'a bad rdata field is reported with file and line', text: zoneText('a 60 A 192.0.2.1', 'mx MX x mail'), line: 4, message: /^example\.zone:4: MX preference "x" is not a number 0-65535$/ },
  { behaviour: 'a class other than IN is refused', text: zoneText('a 60 CH A 192.0.2.1'), line: 3, message: /^example\.zone:3: class CH is not supported; edgedns serves class IN only$/ },
  { behaviour: '$INCLUDE is refused', text: zoneText('$INCLUDE other.zone'), line: 3, message: /^example\.zone:3: \$INCLUDE is not supported/ },
  { behaviour: '$GENERATE is refused', text: zoneText('$GENERATE 1-10 host$ A 192.0.2.$'), line: 3, message: /^example\.zone:3: \$GENERATE is not supported/ },
  { behaviour: 'an unknown directive is refused', text: zoneText('$FOO 1'), line: 3, message: /unknown directive \$FOO/ },
  { behaviour: 'a relative $ORIGIN is refused as knot does', text: zoneText('$ORIGIN sub'), line: 3, message: /\$ORIGIN "sub" must be an absolute name/ },
  { behaviour: '$TTL needs exactly one value', text: zoneText('$TTL'), line: 3, message: /\$TTL takes exactly one argument/ },
  { behaviour: 'a record outside the zone is refused', text: zoneText('www.example.net. 60 A 192.0.2.1'), line: 3, message: /^example\.zone:3: www\.example\.net\. is outside the zone example\.com\.$/ },
  { behaviour: 'a record outside the origin option is refused', text: 'a.example.net. 60 A 192.0.2.1\n', options: { origin: 'example.com.' }, line: 1, message: /is outside the zone example\.com\./ },
  { behaviour: 'the first record needs an owner', text: '$ORIGIN example.com.\n  60 A 192.0.2.1\n', line: 2, message: /the first record has no owner name/ },
  { behaviour: 'a relative name needs an origin', text: 'www 60 A 192.0.2.1\n', line: 1, message: /owner name "www": relative name "www" without an origin/ },
  { behaviour: '"@" needs an origin', text: '@ 60 A 192.0.2.1\n', line: 1, message: /"@" used without an origin/ },
  { behaviour: 'a TTL over 2^31-1 is refused (RFC 2181 §8)', text: zoneText('a 2147483648 A 192.0.2.1'), line: 3, message: /TTL 2147483648 is over 2147483647/ },
  { behaviour: 'a TTL with a bare number after a unit is refused as knot does', text: zoneText('a 1h30 A 192.0.2.1'), line: 3, message: /TTL "1h30" is not a number of seconds/ },
  { behaviour: 'two TTLs in one record are refused', text: zoneText('a 60 IN 70 A 192.0.2.1'), line: 3, message: /second TTL "70"/ },
  { behaviour: 'a record without a type is refused', text: zoneText('a 60 IN'), line: 3, message: /record for a\.example\.com\. has no type/ },
  { behaviour: 'an unknown type is refused', text: zoneText('a 60 IN FOO 1'), line: 3, message: /unknown record type "FOO"/ },
  { behaviour: 'a DNAME is refused', text: zoneText('a 60 DNAME b'), line: 3, message: /DNAME records are not supported/ },
  { behaviour: 'a zone file naming no zone is refused', text: '; empty\n', message: /^example\.zone:1: cannot tell the zone name/ },
  { behaviour: 'a lexical error carries its line', text: zoneText('a 60 TXT "open'), line: 3, message: /^example\.zone:3: quoted string is not closed/ },
  { behaviour: 'an error in the rdata of a multi-line record names the type\'s line', text: zoneText('a 60 MX (', '  x mail )'), line: 3, message: /MX preference "x"/ },
  { behaviour: 'an error on the last line fails the whole file', text: zoneText('a 60 A 192.0.2.1', 'b 60 A 192.0.2.1', 'c 60 A 1.2.3'), line: 5, message: /A address "1\.2\.3" is not IPv4/ },
  { behaviour: 'an SVCB whose mandatory key is missing is reported with file and line', text: zoneText('a 60 A 192.0.2.1', 'svc 60 SVCB 1 . mandatory=alpn'), line: 4, message: /^example\.zone:4: SVCB mandatory lists alpn, which the record does not have \(RFC 9460 §8\)$/ },
  { behaviour: 'a LOC over several lines is reported at its first line', text: zoneText('loc 60 LOC ( 91 0 0 N', '  0 E 0m )'), line: 3, message: /^example\.zone:3: LOC latitude degrees "91" is not a number 0-90$/ },
  { behaviour: 'a quote inside a TXT word is refused; only SVCB params take key="value"', text: zoneText('t 60 TXT foo="bar"'), line: 3, message: /TXT string "foo=bar" has a quote inside the word/ },
  { behaviour: 'a bad origin option is refused', text: `${SOA}\n`, options: { origin: 'a..b' }, message: /^example\.zone: origin "a\.\.b": empty label/ },
];

for (const c of errors) {
  t.test(c.behaviour, async (t) => {
    try {
      parseZoneFile(c.text, { file: 'example.zone', ...c.options });
      t.fail('expected a ZoneFileError');
    } catch (err) {
      t.type(err, ZoneFileError);
      const e = err as ZoneFileError;
      t.match(e.message, c.message);
      t.equal(e.file, 'example.zone');
      if (c.line !== undefined) t.equal(e.line, c.line);
    }
  });
}

t.test('without a file name the error says "line N"', async (t) => {
  t.throws(() => parseZoneFile(zoneText('mx MX x mail')), { message: /^line 3: MX preference "x"/, line: 3, file: undefined });
});
