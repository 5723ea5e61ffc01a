import t from 'tap';
import { parseRdataText, RdataError, rdataKey, rrTypeCode, rrTypeMnemonic } from '../../src/proto/rdata.js';

const ORIGIN = 'example.com.';

interface Valid {
  behaviour: string;
  type: string;
  input: string;
  /** Canonical text; knot 3.2's `zone-read` prints the same unless noted. */
  text: string;
  /** RDATA hex as `kdig +generic` shows it from knotd serving the same input, where given. */
  wire?: string;
  target?: string;
}

const valid: Valid[] = [
  { behaviour: 'A is a dotted quad', type: 'A', input: '192.0.2.1', text: '192.0.2.1', wire: 'C0000201' },
  { behaviour: 'AAAA is compressed at the longest zero run', type: 'AAAA', input: '2001:0db8:0000:0000:0000:0000:0002:0001', text: '2001:db8::2:1' },
  { behaviour: 'AAAA takes an embedded IPv4 tail', type: 'AAAA', input: '2001:db8::ffff:1.2.3.4', text: '2001:db8::ffff:102:304', wire: '20010DB8000000000000FFFF01020304' },
  { behaviour: 'AAAA keeps the dotted tail of an IPv4-mapped address', type: 'AAAA', input: '::FFFF:1.2.3.4', text: '::ffff:1.2.3.4' },
  { behaviour: 'AAAA prints IPv4-compatible addresses in hex', type: 'AAAA', input: '::1.2.3.4', text: '::102:304' },
  { behaviour: 'AAAA compresses the first of two equal zero runs', type: 'AAAA', input: '1:0:0:0:1:0:0:0', text: '1::1:0:0:0' },
  { behaviour: 'AAAA does not compress a single zero group', type: 'AAAA', input: '1:2:3:4:5:6:7:0', text: '1:2:3:4:5:6:7:0' },
  { behaviour: 'AAAA accepts the unspecified address', type: 'AAAA', input: '::', text: '::' },
  { behaviour: 'AAAA accepts "::" standing for one group', type: 'AAAA', input: '1:2:3:4:5:6::8', text: '1:2:3:4:5:6:0:8' },
  { behaviour: 'AAAA writes hex in lower case', type: 'AAAA', input: 'FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF', text: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' },
  { behaviour: 'CNAME target is made absolute and chased', type: 'CNAME', input: 'target.example.net.', text: 'target.example.net.', wire: '06746172676574076578616D706C65036E657400', target: 'target.example.net.' },
  { behaviour: 'CNAME keeps the case of its target but chases its lower-case key', type: 'CNAME', input: 'WWW', text: 'WWW.example.com.', target: 'www.example.com.' },
  { behaviour: 'NS nsdname is chased', type: 'NS', input: 'ns1', text: 'ns1.example.com.', target: 'ns1.example.com.' },
  { behaviour: 'PTR ptrdname is chased', type: 'PTR', input: 'host.example.', text: 'host.example.', wire: '04686F7374076578616D706C6500', target: 'host.example.' },
  { behaviour: 'MX exchange is relative to the origin', type: 'MX', input: '10 mail', text: '10 mail.example.com.', wire: '000A046D61696C076578616D706C6503636F6D00', target: 'mail.example.com.' },
  { behaviour: 'MX "0 ." is a null MX with nothing to chase (RFC 7505)', type: 'MX', input: '0 .', text: '0 .', wire: '000000' },
  { behaviour: 'MX "@" is the origin', type: 'MX', input: '5 @', text: '5 example.com.', target: 'example.com.' },
  { behaviour: 'SRV target is chased', type: 'SRV', input: '1 2 3 sip.example.com.', text: '1 2 3 sip.example.com.', wire: '00010002000303736970076578616D706C6503636F6D00', target: 'sip.example.com.' },
  { behaviour: 'SRV target "." means no service', type: 'SRV', input: '0 0 0 .', text: '0 0 0 .' },
  {
    behaviour: 'SOA timers take TTL units',
    type: 'SOA',
    input: 'ns1 host.master 2024010101 2h 30m 2w 300',
    text: 'ns1.example.com. host.master.example.com. 2024010101 7200 1800 1209600 300',
    wire: '036E7331076578616D706C6503636F6D0004686F7374066D6173746572076578616D706C6503636F6D0078A3F17500001C2000000708001275000000012C',
  },
  { behaviour: 'SOA timer units combine and ignore case', type: 'SOA', input: 'a. b. 1 1H 1w2d 3M 1h30m', text: 'a. b. 1 3600 777600 180 5400' },
  { behaviour: 'SOA serial takes the full 32 bits', type: 'SOA', input: 'a. b. 4294967295 1 1 1 1', text: 'a. b. 4294967295 1 1 1 1' },
  { behaviour: 'TXT holds several strings, quoted or not, with escapes', type: 'TXT', input: '"a b" c "\\"\\\\" "\\200" ""', text: '"a b" "c" "\\"\\\\" "\\200" ""', wire: '03612062016302225C01C800' },
  { behaviour: 'TXT allows a single empty string', type: 'TXT', input: '""', text: '""', wire: '00' },
  { behaviour: 'TXT resolves escaped semicolons and spaces in unquoted words', type: 'TXT', input: 'semi\\;colon a\\ b', text: '"semi;colon" "a b"' },
  { behaviour: 'TXT keeps parentheses and semicolons inside quotes', type: 'TXT', input: '"(x; y)"', text: '"(x; y)"' },
  { behaviour: 'TXT prints octets outside printable ASCII as \\DDD', type: 'TXT', input: '"\\000\\255\\127 ~"', text: '"\\000\\255\\127 ~"', wire: '0500FF7F207E' },
  // knot refuses raw non-ASCII; we take UTF-8 and print it escaped, which knot reads back.
  { behaviour: 'TXT stores non-ASCII text as UTF-8', type: 'TXT', input: '"é"', text: '"\\195\\169"', wire: '02C3A9' },
  { behaviour: 'TXT takes a 255-octet string', type: 'TXT', input: 'x'.repeat(255), text: `"${'x'.repeat(255)}"` },
  { behaviour: 'HINFO holds two character-strings', type: 'HINFO', input: 'PC "Linux OS"', text: '"PC" "Linux OS"', wire: '025043084C696E7578204F53' },
  { behaviour: 'CAA holds flags, tag and quoted value', type: 'CAA', input: '128 issuewild "ca.example;key=value"', text: '128 issuewild "ca.example;key=value"', wire: '8009697373756577696C6463612E6578616D706C653B6B65793D76616C7565' },
  { behaviour: 'CAA value may be unquoted', type: 'CAA', input: '0 iodef mailto:x@example.com', text: '0 iodef "mailto:x@example.com"' },
  { behaviour: 'CAA value may be empty', type: 'CAA', input: '0 issue ";"', text: '0 issue ";"' },
  { behaviour: 'DS digest is printed in upper-case hex', type: 'DS', input: '60485 5 1 2bb183af5f22588179a53b0a98631fad1a292118', text: '60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118', wire: 'EC4505012BB183AF5F22588179A53B0A98631FAD1A292118' },
  { behaviour: 'SSHFP fingerprint may be split by spaces', type: 'SSHFP', input: '4 2 1234 56 78', text: '4 2 12345678', wire: '040212345678' },
  { behaviour: 'TLSA holds usage, selector, matching type and data', type: 'TLSA', input: '3 1 1 d2abde240d7cd3ee', text: '3 1 1 D2ABDE240D7CD3EE', wire: '030101D2ABDE240D7CD3EE' },
  { behaviour: 'TYPEnnn of a type with a codec takes its presentation form', type: 'TYPE44', input: '1 1 abcd', text: '1 1 ABCD' },
  { behaviour: 'an unknown type takes the RFC 3597 generic form', type: 'TYPE65280', input: '\\# 4 deadbeef', text: '\\# 4 DEADBEEF', wire: 'DEADBEEF' },
  { behaviour: 'generic hex may be split by spaces', type: 'TYPE65280', input: '\\# 4 de ad be ef', text: '\\# 4 DEADBEEF' },
  { behaviour: 'generic rdata may be empty', type: 'TYPE65281', input: '\\# 0', text: '\\# 0', wire: '' },
  { behaviour: 'the generic form of a known type prints in its own form (RFC 3597 §5)', type: 'A', input: '\\# 4 0a000001', text: '10.0.0.1' },
  { behaviour: 'a known type without a codec is kept in generic form, as knot prints NULL', type: 'NULL', input: '\\# 3 010203', text: '\\# 3 010203' },
  { behaviour: 'type mnemonics are case-insensitive', type: 'mx', input: '1 mx.example.', text: '1 mx.example.', target: 'mx.example.' },
  { behaviour: 'rdata may span lines in parentheses', type: 'SOA', input: 'a. b. ( 1 ; serial\n 2 3 4 5 )', text: 'a. b. 1 2 3 4 5' },
];

for (const v of valid) {
  t.test(v.behaviour, async (t) => {
    const parsed = parseRdataText(v.type, v.input, ORIGIN);
    t.equal(parsed.type, rrTypeCode(v.type));
    t.equal(parsed.text, v.text);
    if (v.wire !== undefined) t.equal(parsed.wire.toString('hex').toUpperCase(), v.wire);
    t.equal(parsed.target, v.target);
    const again = parseRdataText(v.type, parsed.text, '.');
    t.equal(again.wire.toString('hex'), parsed.wire.toString('hex'), 'the canonical text parses to the same wire');
    t.equal(again.text, parsed.text, 'the canonical text is a fixed point');
  });
}

interface Invalid {
  behaviour: string;
  type: string;
  input: string;
  error: RegExp;
}

const invalid: Invalid[] = [
  { behaviour: 'A rejects three octets', type: 'A', input: '1.2.3', error: /^A address "1\.2\.3" is not IPv4/ },
  { behaviour: 'A rejects an octet over 255', type: 'A', input: '1.2.3.256', error: /is not IPv4/ },
  { behaviour: 'A rejects leading zeros as knot does', type: 'A', input: '01.2.3.4', error: /is not IPv4/ },
  { behaviour: 'A rejects a second address', type: 'A', input: '1.2.3.4 5.6.7.8', error: /^A has unexpected data "5\.6\.7\.8"/ },
  { behaviour: 'A rejects a missing address', type: 'A', input: '', error: /^A address is missing/ },
  { behaviour: 'A rejects a quoted address', type: 'A', input: '"1.2.3.4"', error: /must not be quoted/ },
  { behaviour: 'AAAA rejects two "::"', type: 'AAAA', input: '1::2::3', error: /^AAAA address "1::2::3" is not IPv6/ },
  { behaviour: 'AAAA rejects nine groups', type: 'AAAA', input: '1:2:3:4:5:6:7:8:9', error: /is not IPv6/ },
  { behaviour: 'AAAA rejects "::" with eight groups', type: 'AAAA', input: '1:2:3:4::5:6:7:8', error: /is not IPv6/ },
  { behaviour: 'AAAA rejects a five-digit group', type: 'AAAA', input: '12345::', error: /is not IPv6/ },
  { behaviour: 'AAAA rejects a zone index', type: 'AAAA', input: 'fe80::1%eth0', error: /is not IPv6/ },
  { behaviour: 'AAAA rejects a bare IPv4 address', type: 'AAAA', input: '1.2.3.4', error: /is not IPv6/ },
  { behaviour: 'AAAA rejects an IPv4 tail in the middle', type: 'AAAA', input: '1.2.3.4::', error: /is not IPv6/ },
  { behaviour: 'MX rejects a preference that is not a number', type: 'MX', input: 'x mail', error: /^MX preference "x" is not a number 0-65535$/ },
  { behaviour: 'MX rejects a preference over 65535', type: 'MX', input: '65536 mail', error: /^MX preference "65536" is not a number 0-65535$/ },
  { behaviour: 'MX rejects a missing exchange', type: 'MX', input: '10', error: /^MX exchange is missing$/ },
  { behaviour: 'MX rejects an empty label in the exchange', type: 'MX', input: '10 a..b.', error: /^MX exchange "a\.\.b\.": empty label/ },
  { behaviour: 'NS rejects a label over 63 octets', type: 'NS', input: `${'a'.repeat(64)}.`, error: /limit is 63/ },
  { behaviour: 'SRV rejects a port over 65535', type: 'SRV', input: '1 1 70000 sip.', error: /^SRV port "70000" is not a number 0-65535$/ },
  { behaviour: 'SOA rejects a serial with units', type: 'SOA', input: 'a. b. 1h 1 1 1 1', error: /^SOA serial "1h" is not a number 0-4294967295$/ },
  { behaviour: 'SOA rejects "1h30" as knot does', type: 'SOA', input: 'a. b. 1 1h30 1 1 1', error: /^SOA refresh "1h30" is not a number of seconds/ },
  { behaviour: 'SOA rejects a timer over 32 bits', type: 'SOA', input: 'a. b. 1 1 1 1 4294967296', error: /^SOA minimum "4294967296"/ },
  { behaviour: 'SOA rejects a missing minimum', type: 'SOA', input: 'a. b. 1 2 3 4', error: /^SOA minimum is missing$/ },
  { behaviour: 'TXT rejects a string over 255 octets', type: 'TXT', input: 'x'.repeat(256), error: /^TXT string is 256 octets; a character-string holds at most 255$/ },
  { behaviour: 'TXT counts the octets of escapes and UTF-8', type: 'TXT', input: `"${'é'.repeat(128)}"`, error: /is 256 octets/ },
  { behaviour: 'TXT rejects an escape over 255', type: 'TXT', input: '"\\256"', error: /escape \\256, over 255/ },
  { behaviour: 'TXT rejects a short \\DDD escape', type: 'TXT', input: '"\\25"', error: /bad escape \\25/ },
  { behaviour: 'TXT rejects no strings at all', type: 'TXT', input: '', error: /^TXT string is missing$/ },
  { behaviour: 'TXT rejects an unclosed quote', type: 'TXT', input: '"abc', error: /quoted string is not closed/ },
  { behaviour: 'TXT rejects text glued to a closing quote as knot does', type: 'TXT', input: '"a"b', error: /right after the closing quote/ },
  { behaviour: 'TXT rejects a quote inside a word as knot does', type: 'TXT', input: 'a"b', error: /quote inside the word/ },
  { behaviour: 'TXT rejects a record on two lines', type: 'TXT', input: 'a\nb', error: /more than one line/ },
  { behaviour: 'CAA rejects a tag with a hyphen (RFC 8659 §4.1)', type: 'CAA', input: '0 a-b "x"', error: /^CAA tag "a-b" must be 1-255 letters and digits$/ },
  { behaviour: 'CAA rejects flags over 255', type: 'CAA', input: '256 issue "x"', error: /^CAA flags "256" is not a number 0-255$/ },
  { behaviour: 'CAA rejects a missing value', type: 'CAA', input: '0 issue', error: /^CAA value is missing$/ },
  { behaviour: 'CAA rejects a value in two strings', type: 'CAA', input: '0 issue a b', error: /^CAA has unexpected data "b"$/ },
  { behaviour: 'DS rejects an odd number of hex digits', type: 'DS', input: '1 5 1 abc', error: /^DS digest "abc" is not an even number of hex digits$/ },
  { behaviour: 'DS rejects a missing digest', type: 'DS', input: '1 5 1', error: /^DS digest is missing$/ },
  { behaviour: 'TLSA rejects non-hex data', type: 'TLSA', input: '3 1 1 xyz0', error: /is not an even number of hex digits/ },
  { behaviour: 'generic form rejects a length that does not match', type: 'TYPE65280', input: '\\# 3 abcd', error: /^TYPE65280 generic rdata is 2 octets but its length says 3$/ },
  { behaviour: 'generic form rejects a missing length', type: 'TYPE65280', input: '\\#', error: /generic rdata length is missing/ },
  { behaviour: 'generic form of a known type must decode as that type', type: 'A', input: '\\# 3 010203', error: /^A rdata is too short$/ },
  { behaviour: 'generic form of a known type rejects left-over octets', type: 'A', input: '\\# 5 0102030405', error: /^A rdata has 1 octets left over$/ },
  { behaviour: 'an unknown type needs the generic form', type: 'TYPE65280', input: 'abc', error: /must be written in the RFC 3597 generic form/ },
  { behaviour: 'a known type without a codec needs the generic form', type: 'NULL', input: '01', error: /^NULL rdata must be written in the RFC 3597 generic form/ },
  { behaviour: 'an unknown mnemonic is rejected', type: 'FOO', input: '1', error: /^unknown record type "FOO"/ },
  { behaviour: 'DNAME is refused', type: 'DNAME', input: 'target.', error: /^DNAME records are not supported/ },
  { behaviour: 'DNAME is refused in TYPEnnn form too', type: 'TYPE39', input: '\\# 1 00', error: /^DNAME records are not supported/ },
  { behaviour: 'OPT is refused', type: 'OPT', input: '\\# 0', error: /^OPT is the EDNS pseudo-record/ },
  { behaviour: 'AXFR is refused', type: 'AXFR', input: '\\# 0', error: /^AXFR is a query or meta type/ },
  { behaviour: 'IXFR is refused', type: 'IXFR', input: '\\# 0', error: /^IXFR is a query or meta type/ },
  { behaviour: 'ANY is refused', type: 'ANY', input: '\\# 0', error: /^ANY is a query or meta type/ },
  { behaviour: 'MAILA is refused', type: 'MAILA', input: '\\# 0', error: /^MAILA is a query or meta type/ },
  { behaviour: 'MAILB is refused', type: 'MAILB', input: '\\# 0', error: /^MAILB is a query or meta type/ },
  { behaviour: 'TSIG (250) is refused as a meta type', type: 'TYPE250', input: '\\# 0', error: /^TSIG is a query or meta type/ },
  { behaviour: 'type 0 is refused', type: 'TYPE0', input: '\\# 0', error: /^type 0 is reserved/ },
];

for (const v of invalid) {
  t.test(v.behaviour, async (t) => {
    t.throws(() => parseRdataText(v.type, v.input, ORIGIN), RdataError);
    t.throws(() => parseRdataText(v.type, v.input, ORIGIN), { message: v.error });
  });
}

t.test('rdata of 65535 octets is the limit', async (t) => {
  const string = `"${'x'.repeat(255)}" `;
  const full = string.repeat(257); // 257 * 256 = 65792 octets
  t.throws(() => parseRdataText('TXT', full), { message: /^TXT rdata is 65792 octets; the limit is 65535$/ });
  t.equal(parseRdataText('TXT', string.repeat(255)).wire.length, 65280);
});

t.test('relative names without an origin are relative to the root', async (t) => {
  t.equal(parseRdataText('CNAME', 'host').text, 'host.');
});

t.test('records differing only in the case of a name are the same record (RFC 4034 §6.2)', async (t) => {
  t.equal(rdataKey(parseRdataText('MX', '1 MAIL.example.')), rdataKey(parseRdataText('MX', '1 mail.example.')));
});

t.test('records differing in the case of text are different records', async (t) => {
  t.not(rdataKey(parseRdataText('TXT', 'A')), rdataKey(parseRdataText('TXT', 'a')));
});

t.test('SSHFP and TLSA have mnemonics', async (t) => {
  t.equal(rrTypeCode('sshfp'), 44);
  t.equal(rrTypeCode('TLSA'), 52);
  t.equal(rrTypeMnemonic(44), 'SSHFP');
  t.equal(rrTypeMnemonic(65280), 'TYPE65280');
  t.equal(rrTypeMnemonic(15), 'MX');
});
