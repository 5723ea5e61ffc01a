// DS, CDS, DNSKEY, CDNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM, CSYNC and ZONEMD: vectors from their RFCs and from knotd serving the same text.

import t from 'tap';
import { checkInvalid, checkValid, checkWire } from '../helpers/rdata-cases.js';
import { parseRdataText, rdataKey } from '../../src/proto/rdata.js';

const RFC4034_DNSKEY =
  'AQPSKmynfzW4kyBv015MUG2DeIQ3Cbl+BBZH4b/0PY1kxkmvHjcZc8nokfzj31GajIQKY+5CptLr3buXA10hWqTkF7H6RfoRqXQeogmMHfpftf6zMv1LyBUgia7za6ZEzOJBOztyvhjL742iU/TpPSEDhm2SNKLijfUppn1UaNvv4w==';
const P256_KEY = 'HSLIx1JH25CQWN7fNIrslM61PacrFD/Ee2YaGHPRYOFpXJuYBJATWCX0YdCuMrIaphUlpYbFgKtH4545gT2dag==';
const RRSIG_SIGNATURE =
  'oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o=';
const RRSIG_HEAD = '00010503000151803E7C9DD73E5510D70A52076578616D706C6503636F6D00';
const ZONEMD_DIGEST = 'C68090D90A7AED716BC459F9340E3D7C1370D4D24B7E2FC3A1DDC0B9A87153B9A9713B3C9AE5CC27777F98B8E730044C';

t.test('presentation to wire and canonical text', async (t) => {
  checkValid(t, [
    { behaviour: 'DS of RFC 4509 §2.3 (SHA-256)', type: 'DS', input: '60485 5 2 ( D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A )', text: '60485 5 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A' },
    { behaviour: 'DS takes an algorithm mnemonic and prints its number, as knot does', type: 'DS', input: '60485 RSASHA256 1 2bb183af5f22588179a53b0a98631fad1a292118', text: '60485 8 1 2BB183AF5F22588179A53B0A98631FAD1A292118' },
    { behaviour: 'DS of an unlisted digest type takes any length', type: 'DS', input: '1 8 3 00', text: '1 8 3 00' },
    { behaviour: 'CDS (knotd wire)', type: 'CDS', input: '12345 13 2 d752c2c51fba0e29aa190570a9d4253e44077a058d3297fa3a5630d5bd012622', text: '12345 13 2 D752C2C51FBA0E29AA190570A9D4253E44077A058D3297FA3A5630D5BD012622', wire: '30390D02D752C2C51FBA0E29AA190570A9D4253E44077A058D3297FA3A5630D5BD012622' },
    { behaviour: 'CDS "0 0 0 00" asks the parent to delete its DS (RFC 8078 §4)', type: 'CDS', input: '0 0 0 00', text: '0 0 0 00', wire: '0000000000' },
    { behaviour: 'DNSKEY of RFC 4034 §2.3', type: 'DNSKEY', input: `256 3 5 ( ${RFC4034_DNSKEY.slice(0, 60)}\n ${RFC4034_DNSKEY.slice(60)} )`, text: `256 3 5 ${RFC4034_DNSKEY}` },
    { behaviour: 'DNSKEY takes an algorithm mnemonic', type: 'DNSKEY', input: `257 3 ECDSAP256SHA256 ${P256_KEY}`, text: `257 3 13 ${P256_KEY}`, wire: `0101030D${Buffer.from(P256_KEY, 'base64').toString('hex')}` },
    { behaviour: 'DNSKEY base64 may be split by spaces', type: 'DNSKEY', input: '256 3 8 AwEA AQ==', text: '256 3 8 AwEAAQ==', wire: '01000308030100 01'.replace(/ /g, '') },
    { behaviour: 'CDNSKEY "0 3 0 AA==" asks the parent to delete its DS (RFC 8078 §4)', type: 'CDNSKEY', input: '0 3 0 AA==', text: '0 3 0 AA==', wire: '0000030000' },
    { behaviour: 'NSEC of RFC 4034 §4.3', type: 'NSEC', input: 'host.example.com. ( A MX RRSIG NSEC TYPE1234 )', text: 'host.example.com. A MX RRSIG NSEC TYPE1234', wire: '04686f7374076578616d706c6503636f6d000006400100000003041b000000000000000000000000000000000000000000000000000020' },
    { behaviour: 'NSEC types come out sorted, repeats once, mnemonics in any case', type: 'NSEC', input: 'b TYPE65535 a ns A', text: 'b.example.com. A NS TYPE65535', wire: '01620765' + '78616d706c6503636f6d00' + '000160' + 'ff200000000000000000000000000000000000000000000000000000000000000001' },
    { behaviour: 'NSEC keeps the case of the next name (RFC 6840 §5.1)', type: 'NSEC', input: 'Host.Example. A', text: 'Host.Example. A' },
    { behaviour: 'CSYNC of RFC 7477 §2.2 (knotd wire)', type: 'CSYNC', input: '66 3 A NS AAAA', text: '66 3 A NS AAAA', wire: '000000420003000460000008' },
    { behaviour: 'CSYNC may list no types', type: 'CSYNC', input: '4294967295 0', text: '4294967295 0', wire: 'ffffffff0000' },
    { behaviour: 'ZONEMD of RFC 8976 App. A.1 (knotd wire)', type: 'ZONEMD', input: `2018031900 1 1 ( ${ZONEMD_DIGEST.slice(0, 64).toLowerCase()}\n ${ZONEMD_DIGEST.slice(64)} )`, text: `2018031900 1 1 ${ZONEMD_DIGEST}`, wire: `7848B91C0101${ZONEMD_DIGEST}` },
    { behaviour: 'RRSIG of RFC 4034 §3.3 (knotd wire)', type: 'RRSIG', input: `A 5 3 86400 20030322173103 ( 20030220173103 2642 example.com.\n ${RRSIG_SIGNATURE} )`, text: `A 5 3 86400 20030322173103 20030220173103 2642 example.com. ${RRSIG_SIGNATURE}`, wire: `${RRSIG_HEAD}${Buffer.from(RRSIG_SIGNATURE, 'base64').toString('hex')}` },
    { behaviour: 'RRSIG times given in seconds print as dates; the algorithm takes a mnemonic (knotd wire)', type: 'RRSIG', input: 'A RSASHA1 3 86400 1048354263 1045762263 2642 example.com. AAAA', text: 'A 5 3 86400 20030322173103 20030220173103 2642 example.com. AAAA', wire: `${RRSIG_HEAD}000000` },
    { behaviour: 'RRSIG of an unlisted type', type: 'RRSIG', input: 'TYPE1234 13 2 60 21060207062815 19700101000000 1 . AAAA', text: 'TYPE1234 13 2 60 21060207062815 19700101000000 1 . AAAA' },
    { behaviour: 'NSEC3 of RFC 5155 App. A, types sorted (knotd wire)', type: 'NSEC3', input: '1 1 12 aabbccdd ( 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG )', text: '1 1 12 AABBCCDD 2t7b4g4vsa5smi47k61mv5bv1a22bojr NS SOA MX RRSIG DNSKEY NSEC3PARAM', wire: '0101000C04AABBCCDD14174EB2409FE28BCB4887A1836F957F0A8425E27B000722010000000290' },
    { behaviour: 'NSEC3 without salt or types; the hash prints in lower case (knotd wire)', type: 'NSEC3', input: '1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR', text: '1 0 0 - 2t7b4g4vsa5smi47k61mv5bv1a22bojr', wire: '010000000014174EB2409FE28BCB4887A1836F957F0A8425E27B' },
    { behaviour: 'NSEC3PARAM of RFC 5155 App. A (knotd wire)', type: 'NSEC3PARAM', input: '1 0 12 aabbccdd', text: '1 0 12 AABBCCDD', wire: '0100000C04AABBCCDD' },
    { behaviour: 'NSEC3PARAM without salt (knotd wire)', type: 'NSEC3PARAM', input: '1 0 0 -', text: '1 0 0 -', wire: '0100000000' },
    { behaviour: 'ZONEMD with SHA512 has 64 octets', type: 'ZONEMD', input: `1 1 2 ${'AB'.repeat(64)}`, text: `1 1 2 ${'AB'.repeat(64)}` },
    { behaviour: 'ZONEMD of an unlisted hash takes 12 octets or more', type: 'ZONEMD', input: `1 1 240 ${'00'.repeat(12)}`, text: `1 1 240 ${'00'.repeat(12)}` },
  ]);
});

t.test('wire to presentation', async (t) => {
  checkWire(t, [
    { behaviour: 'NSEC of RFC 4034 §4.3', type: 'NSEC', wire: '04686f7374076578616d706c6503636f6d000006400100000003041b000000000000000000000000000000000000000000000000000020', text: 'host.example.com. A MX RRSIG NSEC TYPE1234' },
    { behaviour: 'DS of RFC 4034 §5.4', type: 'DS', wire: 'EC4505012BB183AF5F22588179A53B0A98631FAD1A292118', text: '60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118' },
    { behaviour: 'CDNSKEY delete', type: 'CDNSKEY', wire: '0000030000', text: '0 3 0 AA==' },
  ]);
});

t.test('malformed DNSSEC records are refused with the reason', async (t) => {
  checkInvalid(t, [
    { behaviour: 'a SHA-1 DS digest that is not 20 octets', type: 'DS', input: '1 5 1 ABCD', error: /^DS digest is 2 octets; digest type 1 has 20$/ },
    { behaviour: 'a SHA-256 CDS digest that is not 32 octets', type: 'CDS', input: '1 8 2 00', error: /^CDS digest is 1 octets; digest type 2 has 32$/ },
    { behaviour: 'a SHA-384 DS digest that is not 48 octets', type: 'DS', input: `1 14 4 ${'00'.repeat(32)}`, error: /^DS digest is 32 octets; digest type 4 has 48$/ },
    { behaviour: 'a digest type mnemonic, which knot refuses too', type: 'DS', input: '1 8 SHA-256 00', error: /^DS digest type "SHA-256" is not a number 0-255$/ },
    { behaviour: 'an unknown algorithm mnemonic', type: 'DS', input: '1 FOO 1 00', error: /^DS algorithm "FOO" is neither a number 0-255 nor a known mnemonic$/ },
    { behaviour: 'a DNSKEY without its key', type: 'DNSKEY', input: '256 3 8', error: /^DNSKEY public key is missing$/ },
    { behaviour: 'DNSKEY flags over 16 bits', type: 'DNSKEY', input: '65536 3 8 AwEAAQ==', error: /^DNSKEY flags "65536" is not a number 0-65535$/ },
    { behaviour: 'base64 with a bad length', type: 'DNSKEY', input: '256 3 8 AAA', error: /^DNSKEY public key "AAA" is not base64/ },
    { behaviour: 'base64 with padding in the middle', type: 'CDNSKEY', input: '256 3 8 AA==AA==', error: /^CDNSKEY public key "AA==AA==" is not base64/ },
    { behaviour: 'base64 with a character outside its alphabet', type: 'DNSKEY', input: '256 3 8 AA-A', error: /is not base64/ },
    { behaviour: 'an NSEC without types (BIND refuses it; the owner has at least NSEC)', type: 'NSEC', input: 'next.', error: /^NSEC type bitmap is missing/ },
    { behaviour: 'an NSEC listing an unknown mnemonic', type: 'NSEC', input: 'next. A FOO', error: /^NSEC type bitmap: "FOO" is not a record type/ },
    { behaviour: 'an NSEC listing OPT', type: 'NSEC', input: 'next. OPT', error: /^NSEC type bitmap: OPT is a pseudo-type and cannot be listed/ },
    { behaviour: 'an NSEC listing a meta type by number', type: 'NSEC', input: 'next. TYPE255', error: /ANY is a pseudo-type/ },
    { behaviour: 'CSYNC flags over 16 bits', type: 'CSYNC', input: '1 65536 A', error: /^CSYNC flags "65536" is not a number 0-65535$/ },
    { behaviour: 'a SHA384 ZONEMD digest that is not 48 octets', type: 'ZONEMD', input: `1 1 1 ${'00'.repeat(12)}`, error: /^ZONEMD digest is 12 octets; hash algorithm 1 has 48$/ },
    { behaviour: 'a ZONEMD digest under 12 octets (RFC 8976 §2.2.4)', type: 'ZONEMD', input: '1 1 240 00', error: /^ZONEMD digest is 1 octets; the minimum is 12/ },
    { behaviour: 'a ZONEMD without its digest', type: 'ZONEMD', input: '1 1 1', error: /^ZONEMD digest is missing$/ },
    { behaviour: 'an RRSIG date that does not exist', type: 'RRSIG', input: 'A 5 3 60 20030230000000 20030220173103 1 . AAAA', error: /^RRSIG signature expiration "20030230000000" is not a date and time YYYYMMDDHHmmSS$/ },
    { behaviour: 'an RRSIG date past 32 bits', type: 'RRSIG', input: 'A 5 3 60 21060207062816 20030220173103 1 . AAAA', error: /^RRSIG signature expiration "21060207062816" is outside 1970-01-01 to 2106-02-07/ },
    { behaviour: 'an RRSIG time that is neither form', type: 'RRSIG', input: 'A 5 3 60 2003-03-22 20030220173103 1 . AAAA', error: /neither YYYYMMDDHHmmSS nor a number of seconds/ },
    { behaviour: 'an RRSIG covering an unknown mnemonic', type: 'RRSIG', input: 'FOO 5 3 60 1 1 1 . AAAA', error: /^RRSIG type covered "FOO" is not a record type/ },
    { behaviour: 'an RRSIG without a signature', type: 'RRSIG', input: 'A 5 3 60 1 1 1 .', error: /^RRSIG signature is missing$/ },
    { behaviour: 'an NSEC3 hash that is not base32hex', type: 'NSEC3', input: '1 0 0 - 2t7b4g4vsa5smi47k61mv5bv1a22bojw', error: /^NSEC3 next hashed owner name "2t7b4g4vsa5smi47k61mv5bv1a22bojw" is not base32hex/ },
    { behaviour: 'an NSEC3 salt of odd length', type: 'NSEC3PARAM', input: '1 0 0 abc', error: /^NSEC3PARAM salt "abc" is not "-" or 1-255 octets of hex$/ },
    { behaviour: 'an NSEC3PARAM without salt', type: 'NSEC3PARAM', input: '1 0 0', error: /^NSEC3PARAM salt is missing$/ },
    { behaviour: 'an NSEC3 with an empty hash on the wire', type: 'NSEC3', input: '\\# 6 010000000000', error: /next hashed owner name is empty/ },
    { behaviour: 'an NSEC bitmap window out of order on the wire', type: 'NSEC', input: '\\# 7 00 010140 000140', error: /not in ascending order/ },
    { behaviour: 'an NSEC bitmap ending in a zero octet on the wire', type: 'NSEC', input: '\\# 5 00 0002 4000', error: /ends in a zero octet/ },
    { behaviour: 'an NSEC bitmap window of length 0 on the wire', type: 'NSEC', input: '\\# 3 00 0000', error: /has length 0, not 1-32/ },
  ]);
});

t.test('NSEC next names compare case-sensitively, as knot keeps them (RFC 6840 §5.1)', async (t) => {
  t.not(rdataKey(parseRdataText('NSEC', 'A.example. A')), rdataKey(parseRdataText('NSEC', 'a.example. A')));
});
