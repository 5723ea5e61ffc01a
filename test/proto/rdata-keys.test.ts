// TLSA, SMIMEA, OPENPGPKEY, DHCID, CERT and IPSECKEY: vectors from their RFCs and from knotd serving the same text.

import t from 'tap';
import { checkInvalid, checkValid, checkWire } from '../helpers/rdata-cases.js';

const RFC4025_KEY = 'AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==';
const KEY_HEX = Buffer.from(RFC4025_KEY, 'base64').toString('hex').toUpperCase();
const BLOB = 'VxfNdGSBlA9q7OVBXSgnk4bf6iX36Ay5IN6ALK0yKU9a3sktBCrcYQ==';
const BLOB_HEX = Buffer.from(BLOB, 'base64').toString('hex').toUpperCase();

t.test('presentation to wire and canonical text', async (t) => {
  checkValid(t, [
    { behaviour: 'SMIMEA has the fields of TLSA', type: 'SMIMEA', input: '3 1 1 d752c2c51fba0e29', text: '3 1 1 D752C2C51FBA0E29', wire: '030101D752C2C51FBA0E29' },
    { behaviour: 'OPENPGPKEY is one base64 blob (knotd wire)', type: 'OPENPGPKEY', input: BLOB, text: BLOB, wire: BLOB_HEX },
    { behaviour: 'OPENPGPKEY base64 may span lines', type: 'OPENPGPKEY', input: `( ${BLOB.slice(0, 20)}\n ${BLOB.slice(20)} )`, text: BLOB },
    { behaviour: 'DHCID of RFC 4701 §3.6 (knotd wire)', type: 'DHCID', input: '( AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA= )', text: 'AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=', wire: '000201636FC0B8271C82825BB1AC5C41CF5351AA69B4FEBD94E8F17CDB95000DA48C40' },
    { behaviour: 'CERT takes the RFC 4398 type mnemonic and prints the number, as knot does', type: 'CERT', input: `PGP 0 0 ${BLOB}`, text: `3 0 0 ${BLOB}`, wire: `00030000 00${BLOB_HEX}`.replace(/ /g, '') },
    { behaviour: 'CERT takes an algorithm mnemonic (knotd wire)', type: 'CERT', input: `IPKIX 12345 RSASHA256 ${BLOB}`, text: `4 12345 8 ${BLOB}`, wire: `0004303908${BLOB_HEX}` },
    { behaviour: 'CERT mnemonics are case-insensitive', type: 'CERT', input: 'pkix 1 rsasha1 AAAA', text: '1 1 5 AAAA' },
    { behaviour: 'CERT URI and OID types', type: 'CERT', input: 'URI 0 0 AAAA', text: '253 0 0 AAAA' },
    { behaviour: 'CERT with numbers at their limits', type: 'CERT', input: '65535 65535 255 AAAA', text: '65535 65535 255 AAAA' },
    { behaviour: 'IPSECKEY of RFC 4025 §3.1 with an IPv4 gateway (knotd wire)', type: 'IPSECKEY', input: `( 10 1 2 192.0.2.38 ${RFC4025_KEY} )`, text: `10 1 2 192.0.2.38 ${RFC4025_KEY}`, wire: `0A0102C0000226${KEY_HEX}` },
    { behaviour: 'IPSECKEY without a gateway (knotd wire)', type: 'IPSECKEY', input: `10 0 2 . ${RFC4025_KEY}`, text: `10 0 2 . ${RFC4025_KEY}`, wire: `0A0002${KEY_HEX}` },
    { behaviour: 'IPSECKEY with an IPv6 gateway (knotd wire)', type: 'IPSECKEY', input: `10 2 2 2001:0DB8:0:8002::2000:1 ${RFC4025_KEY}`, text: `10 2 2 2001:db8:0:8002::2000:1 ${RFC4025_KEY}`, wire: `0A020220010DB8000080020000000020000001${KEY_HEX}` },
    { behaviour: 'IPSECKEY with a gateway name (knotd wire)', type: 'IPSECKEY', input: `10 3 2 mygateway.example.com. ${RFC4025_KEY}`, text: `10 3 2 mygateway.example.com. ${RFC4025_KEY}`, wire: `0A0302096D7967617465776179076578616D706C6503636F6D00${KEY_HEX}` },
    { behaviour: 'IPSECKEY algorithm 0 has no key (RFC 4025 §2.4, as knot reads it)', type: 'IPSECKEY', input: '10 3 0 gw', text: '10 3 0 gw.example.com.', wire: '0A0300026777076578616d706c6503636f6d00' },
  ]);
});

t.test('wire to presentation', async (t) => {
  checkWire(t, [
    { behaviour: 'CERT', type: 'CERT', wire: `0004303908${BLOB_HEX}`, text: `4 12345 8 ${BLOB}` },
    { behaviour: 'IPSECKEY with an IPv4 gateway', type: 'IPSECKEY', wire: `0A0102C0000226${KEY_HEX}`, text: `10 1 2 192.0.2.38 ${RFC4025_KEY}` },
    { behaviour: 'IPSECKEY without a key', type: 'IPSECKEY', wire: '0A0000', text: '10 0 0 .' },
  ]);
});

t.test('malformed keys and certificates are refused with the reason', async (t) => {
  checkInvalid(t, [
    { behaviour: 'SMIMEA without data', type: 'SMIMEA', input: '3 1 1', error: /^SMIMEA certificate association data is missing$/ },
    { behaviour: 'SMIMEA usage over 255', type: 'SMIMEA', input: '256 1 1 00', error: /^SMIMEA certificate usage "256" is not a number 0-255$/ },
    { behaviour: 'an empty OPENPGPKEY', type: 'OPENPGPKEY', input: '', error: /^OPENPGPKEY public key is missing$/ },
    { behaviour: 'an empty DHCID', type: 'DHCID', input: '', error: /^DHCID digest is missing$/ },
    { behaviour: 'DHCID that is not base64', type: 'DHCID', input: 'abc', error: /^DHCID digest "abc" is not base64/ },
    { behaviour: 'CERT without a certificate', type: 'CERT', input: '1 1 1', error: /^CERT certificate is missing$/ },
    { behaviour: 'CERT with an unknown type mnemonic', type: 'CERT', input: 'X509 1 1 AAAA', error: /^CERT certificate type "X509" is neither a number 0-65535 nor a known mnemonic$/ },
    { behaviour: 'CERT with ECC, which has no mnemonic (knot refuses it too)', type: 'CERT', input: '1 1 ECC AAAA', error: /^CERT algorithm "ECC" is neither/ },
    { behaviour: 'IPSECKEY gateway type 0 with a name', type: 'IPSECKEY', input: `10 0 2 foo. ${RFC4025_KEY}`, error: /^IPSECKEY gateway "foo\." must be "\." for gateway type 0/ },
    { behaviour: 'IPSECKEY gateway type 1 with "."', type: 'IPSECKEY', input: `10 1 2 . ${RFC4025_KEY}`, error: /^IPSECKEY gateway "\." is not IPv4, which gateway type 1 needs$/ },
    { behaviour: 'IPSECKEY gateway type 2 with IPv4', type: 'IPSECKEY', input: `10 2 2 1.2.3.4 ${RFC4025_KEY}`, error: /is not IPv6, which gateway type 2 needs/ },
    { behaviour: 'IPSECKEY gateway type 4', type: 'IPSECKEY', input: '10 4 0 1.2.3.4', error: /^IPSECKEY gateway type 4 is not 0 \(none\), 1 \(IPv4\), 2 \(IPv6\) or 3 \(domain name\)$/ },
    { behaviour: 'IPSECKEY algorithm 0 with a key', type: 'IPSECKEY', input: `10 1 0 1.2.3.4 ${RFC4025_KEY}`, error: /^IPSECKEY has a public key but algorithm 0, which means no key/ },
    { behaviour: 'IPSECKEY with an algorithm but no key (knot cannot print it, BIND refuses it)', type: 'IPSECKEY', input: '10 1 2 1.2.3.4', error: /^IPSECKEY public key is missing \(algorithm 2 needs one; 0 means no key\)$/ },
    { behaviour: 'IPSECKEY precedence over 255', type: 'IPSECKEY', input: '256 0 0 .', error: /^IPSECKEY precedence "256" is not a number 0-255$/ },
    { behaviour: 'IPSECKEY gateway type 1 with a short address on the wire', type: 'IPSECKEY', input: '\\# 6 0A0100C00002', error: /^IPSECKEY rdata is too short$/ },
  ]);
});
