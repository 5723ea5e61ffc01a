// LOC, APL, NAPTR, URI, EUI48/EUI64 and the small name types (RP, AFSDB, MINFO, KX, SPF): vectors from their RFCs
// and from knotd serving the same text. knot separates some LOC fields with two spaces; edgedns prints one.

import t from 'tap';
import { checkInvalid, checkValid, checkWire } from '../helpers/rdata-cases.js';
import { parseRdataText, rdataKey } from '../../src/proto/rdata.js';

t.test('LOC (RFC 1876)', async (t) => {
  checkValid(t, [
    { behaviour: 'whole seconds and metres print without decimals (knotd wire)', type: 'LOC', input: '52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m', text: '52 22 23 N 4 53 32 E -2m 0m 10000m 10m', wire: '000016138B3CF018810CBCE0009895B8' },
    { behaviour: 'fractions print with three and two decimals, sizes take defaults (knotd wire)', type: 'LOC', input: '42 21 54.5 S 71 6 18.125 W 24.5m 30m', text: '42 21 54.500 S 71 6 18.125 W 24.50m 30m 10000m 10m', wire: '0033161376E8D03C70BE15730098A012' },
    { behaviour: 'minutes and seconds may be left out; zero is north and east (knotd wire)', type: 'LOC', input: '0 N 0 W 0', text: '0 0 0 N 0 0 0 E 0m 1m 10000m 10m', wire: '0012161380000000800000000098968' + '0' },
    { behaviour: 'the limits of every field', type: 'LOC', input: '90 0 0 N 180 0 0 W 42849672.95m 90000000m 90000000m 90000000m', text: '90 0 0 N 180 0 0 W 42849672.95m 90000000m 90000000m 90000000m' },
    { behaviour: 'the lowest altitude', type: 'LOC', input: '0 S 0 E -100000m', text: '0 0 0 N 0 0 0 E -100000m 1m 10000m 10m' },
    { behaviour: 'sizes keep one significant digit, truncated as knot does', type: 'LOC', input: '0 N 0 E 0.1m 0.5m 1.5m 12m', text: '0 0 0 N 0 0 0 E 0.10m 0.50m 1m 10m' },
    { behaviour: 'a trailing decimal point is read, as knot reads it', type: 'LOC', input: '0 0 1. N 0 E 5.m', text: '0 0 1 N 0 0 0 E 5m 1m 10000m 10m' },
    { behaviour: 'hemispheres may be lower case', type: 'LOC', input: '1 s 2 w 0m', text: '1 0 0 S 2 0 0 W 0m 1m 10000m 10m' },
  ]);
  checkInvalid(t, [
    { behaviour: 'latitude over 90 degrees', type: 'LOC', input: '91 0 0 N 0 E 0m', error: /^LOC latitude degrees "91" is not a number 0-90$/ },
    { behaviour: 'latitude of 90 degrees and a minute', type: 'LOC', input: '90 1 0 N 0 E 0m', error: /^LOC latitude is more than 90 degrees$/ },
    { behaviour: 'longitude over 180 degrees', type: 'LOC', input: '0 N 181 E 0m', error: /^LOC longitude degrees "181" is not a number 0-180$/ },
    { behaviour: 'minutes of 60', type: 'LOC', input: '0 60 0 N 0 E 0m', error: /^LOC latitude minutes "60" is not a number 0-59$/ },
    { behaviour: 'seconds of 60', type: 'LOC', input: '0 0 60 N 0 E 0m', error: /^LOC latitude seconds "60" is not a number 0-59\.999/ },
    { behaviour: 'seconds with four decimals', type: 'LOC', input: '0 0 59.9999 N 0 E 0m', error: /seconds "59\.9999"/ },
    { behaviour: 'no hemisphere', type: 'LOC', input: '1 2 3 4 E 0m', error: /^LOC latitude "1 2 3 4" needs N or S after at most degrees, minutes and seconds$/ },
    { behaviour: 'an altitude below -100000m', type: 'LOC', input: '0 N 0 E -100000.01m', error: /^LOC altitude "-100000\.01m" is not a number of metres -100000\.00 to 42849672\.95/ },
    { behaviour: 'an altitude over 42849672.95m', type: 'LOC', input: '0 N 0 E 42849672.96m', error: /^LOC altitude/ },
    { behaviour: 'an altitude with three decimals', type: 'LOC', input: '0 N 0 E 0.123m', error: /^LOC altitude "0\.123m"/ },
    { behaviour: 'a size over 90000000m', type: 'LOC', input: '0 N 0 E 0m 90000001m', error: /^LOC size "90000001m" is not a number of metres 0-90000000/ },
    { behaviour: 'a unit other than m', type: 'LOC', input: '0 N 0 E 1M', error: /^LOC altitude "1M"/ },
    { behaviour: 'a fifth size field', type: 'LOC', input: '0 N 0 E 0m 1m 2m 3m 4m', error: /^LOC has unexpected data "4m"$/ },
    { behaviour: 'no altitude', type: 'LOC', input: '0 N 0 E', error: /^LOC altitude is missing$/ },
    { behaviour: 'a version other than 0 on the wire', type: 'LOC', input: '\\# 16 01121613800000008000000000989680', error: /^LOC version 1 is not 0/ },
    { behaviour: 'a size digit over 9 on the wire', type: 'LOC', input: '\\# 16 00A21613800000008000000000989680', error: /^LOC size 0xa2 has a digit over 9/ },
    { behaviour: 'a zero size written with an exponent on the wire', type: 'LOC', input: '\\# 16 00051613800000008000000000989680', error: /^LOC size 0x05 is zero with an exponent; zero is 0x00$/ },
    { behaviour: 'a latitude over 90 degrees on the wire', type: 'LOC', input: '\\# 16 0012161300000000800000000098968' + '0', error: /^LOC latitude is more than 90 degrees$/ },
  ]);
});

t.test('APL (RFC 3123)', async (t) => {
  checkValid(t, [
    { behaviour: 'the RFC 3123 §5 example, trailing zero octets left out (knotd wire)', type: 'APL', input: '1:192.168.32.0/21 !1:192.168.38.0/28', text: '1:192.168.32.0/21 !1:192.168.38.0/28', wire: '00011503C0A82000011C83C0A826' },
    { behaviour: 'IPv6 prefixes print compressed (knotd wire)', type: 'APL', input: '1:224.0.0.0/4 2:FF00:0:0:0:0:0:0:0/8', text: '1:224.0.0.0/4 2:ff00::/8', wire: '00010401E000020801FF' },
    { behaviour: 'host bits are kept and 0/0 has no address octets (knotd wire)', type: 'APL', input: '1:192.168.32.1/21 !2:2001:db8::/32 1:0.0.0.0/0', text: '1:192.168.32.1/21 !2:2001:db8::/32 1:0.0.0.0/0', wire: '00011504C0A820010002208420010DB800010000' },
    { behaviour: 'an empty list', type: 'APL', input: '', text: '', wire: '' },
  ]);
  checkWire(t, [{ behaviour: 'a negated IPv4 prefix', type: 'APL', wire: '00011C83C0A826', text: '!1:192.168.38.0/28' }]);
  checkInvalid(t, [
    { behaviour: 'an IPv4 prefix over 32', type: 'APL', input: '1:192.168.32.0/33', error: /^APL item "1:192\.168\.32\.0\/33" has prefix 33, over 32$/ },
    { behaviour: 'an IPv6 prefix over 128', type: 'APL', input: '2:2001:db8::1/129', error: /has prefix 129, over 128/ },
    { behaviour: 'a family other than 1 and 2', type: 'APL', input: '3:1.2.3.4/8', error: /^APL item "3:1\.2\.3\.4\/8" is not \[!\]1:IPv4\/prefix or \[!\]2:IPv6\/prefix$/ },
    { behaviour: 'no prefix length', type: 'APL', input: '1:1.2.3.4', error: /is not \[!\]1:IPv4\/prefix/ },
    { behaviour: 'an IPv6 address in family 1', type: 'APL', input: '1:2001:db8::/32', error: /has an address that is not IPv4/ },
    { behaviour: 'an address part with a trailing zero octet on the wire', type: 'APL', input: '\\# 6 00011502C000', error: /address part ends in a zero octet/ },
    { behaviour: 'an address part longer than the family allows on the wire', type: 'APL', input: '\\# 9 0001200501020304 05'.replace(' 05', '05'), error: /address part of 5 octets is longer than an IPv4 address/ },
  ]);
});

t.test('NAPTR (RFC 3403)', async (t) => {
  checkValid(t, [
    { behaviour: 'a replacement and no regexp (knotd wire)', type: 'NAPTR', input: '100 10 "S" "SIP+D2U" "" _sip._udp.example.com.', text: '100 10 "S" "SIP+D2U" "" _sip._udp.example.com.', wire: '0064000A0153075349502B44325500045F736970045F756470076578616D706C6503636F6D00' },
    { behaviour: 'a regexp and no replacement (knotd wire)', type: 'NAPTR', input: '100 20 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .', text: '100 20 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .', wire: '00640014' + '0175074532552B7369701B215E2E2A24217369703A696E666F406578616D706C652E636F6D2100' },
    { behaviour: 'the RFC 3403 §6.2 regexp with its backslashes escaped for the zone file', type: 'NAPTR', input: String.raw`100 10 "" "" "!^urn:cid:.+@([^\\.]+\\.)(.*)$!\\2!i" .`, text: String.raw`100 10 "" "" "!^urn:cid:.+@([^\\.]+\\.)(.*)$!\\2!i" .` },
    { behaviour: 'strings may be unquoted and the replacement relative', type: 'NAPTR', input: '100 50 a http+I2L+I2C+I2R "" svc', text: '100 50 "a" "http+I2L+I2C+I2R" "" svc.example.com.' },
  ]);
  checkInvalid(t, [
    { behaviour: 'both a regexp and a replacement (RFC 3403 §4.1)', type: 'NAPTR', input: '100 10 "S" "SIP+D2U" "!a!b!" foo.', error: /^NAPTR has both a regexp and a replacement; RFC 3403 §4\.1 allows one of them/ },
    { behaviour: 'no replacement', type: 'NAPTR', input: '100 10 "S" "SIP+D2U" ""', error: /^NAPTR replacement is missing$/ },
    { behaviour: 'an order over 65535', type: 'NAPTR', input: '65536 10 "" "" "" .', error: /^NAPTR order "65536" is not a number 0-65535$/ },
  ]);
  t.test('the replacement compares case-insensitively, the regexp does not', async (t) => {
    t.equal(rdataKey(parseRdataText('NAPTR', '1 1 "" "" "" A.Example.')), rdataKey(parseRdataText('NAPTR', '1 1 "" "" "" a.example.')));
    t.not(rdataKey(parseRdataText('NAPTR', '1 1 "" "" "!A!b!" .')), rdataKey(parseRdataText('NAPTR', '1 1 "" "" "!a!b!" .')));
  });
});

t.test('URI (RFC 7553) and EUI48/EUI64 (RFC 7043)', async (t) => {
  checkValid(t, [
    { behaviour: 'URI of RFC 7553 §4.5 (knotd wire)', type: 'URI', input: '10 1 "ftp://ftp1.example.com/public"', text: '10 1 "ftp://ftp1.example.com/public"', wire: '000A00016674703A2F2F667470312E6578616D706C652E636F6D2F7075626C6963' },
    { behaviour: 'a URI target may be unquoted; it prints quoted', type: 'URI', input: '10 1 http://x', text: '10 1 "http://x"' },
    { behaviour: 'a URI target may be empty, as knot and BIND read it', type: 'URI', input: '10 1 ""', text: '10 1 ""', wire: '000A0001' },
    { behaviour: 'a URI target is not limited to 255 octets', type: 'URI', input: `1 1 "${'x'.repeat(300)}"`, text: `1 1 "${'x'.repeat(300)}"` },
    { behaviour: 'EUI48 of RFC 7043 §3.2, printed in upper case like knot (knotd wire)', type: 'EUI48', input: '00-00-5e-00-53-2a', text: '00-00-5E-00-53-2A', wire: '00005E00532A' },
    { behaviour: 'EUI64 of RFC 7043 §4.2 (knotd wire)', type: 'EUI64', input: '00-00-5e-ef-10-00-00-2a', text: '00-00-5E-EF-10-00-00-2A', wire: '00005EEF1000002A' },
  ]);
  checkInvalid(t, [
    { behaviour: 'a URI target in two strings', type: 'URI', input: '10 1 "a" "b"', error: /^URI has unexpected data "b"$/ },
    { behaviour: 'a URI without a target', type: 'URI', input: '10 1', error: /^URI target is missing$/ },
    { behaviour: 'EUI48 with colons', type: 'EUI48', input: '00:00:5e:00:53:2a', error: /^EUI48 address "00:00:5e:00:53:2a" is not 6 hex pairs joined by "-"/ },
    { behaviour: 'EUI48 with five pairs', type: 'EUI48', input: '00-00-5e-00-53', error: /is not 6 hex pairs/ },
    { behaviour: 'EUI48 with a one-digit pair', type: 'EUI48', input: '0-00-5e-00-53-2a', error: /is not 6 hex pairs/ },
    { behaviour: 'EUI64 with seven pairs', type: 'EUI64', input: '00-00-5e-ef-10-00-00', error: /^EUI64 address "00-00-5e-ef-10-00-00" is not 8 hex pairs/ },
    { behaviour: 'EUI48 of seven octets on the wire', type: 'EUI48', input: '\\# 7 00005E00532A00', error: /^EUI48 rdata has 1 octets left over$/ },
  ]);
});

t.test('RP, AFSDB, MINFO, KX and SPF', async (t) => {
  checkValid(t, [
    { behaviour: 'RP holds a mailbox and a TXT name, relative to the origin', type: 'RP', input: 'admin txt', text: 'admin.example.com. txt.example.com.' },
    { behaviour: 'RP "." means none (RFC 1183 §2.2)', type: 'RP', input: '. .', text: '. .', wire: '0000' },
    { behaviour: 'AFSDB holds a subtype and a host (RFC 1183 §1)', type: 'AFSDB', input: '1 afs', text: '1 afs.example.com.', wire: '0001036166730765' + '78616d706c6503636f6d00' },
    { behaviour: 'MINFO holds two mailboxes (RFC 1035 §3.3.7)', type: 'MINFO', input: 'rmail emailerr.example.', text: 'rmail.example.com. emailerr.example.' },
    { behaviour: 'KX holds a preference and an exchanger (RFC 2230)', type: 'KX', input: '10 kx', text: '10 kx.example.com.' },
    { behaviour: 'SPF holds character-strings like TXT (RFC 7208 §3.1)', type: 'SPF', input: 'v=spf1 "ip4:192.0.2.0/24" -all', text: '"v=spf1" "ip4:192.0.2.0/24" "-all"', wire: '06763D73706631106970343A3139322E302E322E302F3234042D616C6C' },
  ]);
  checkInvalid(t, [
    { behaviour: 'RP with one name', type: 'RP', input: 'mbox', error: /^RP text name is missing$/ },
    { behaviour: 'AFSDB subtype over 65535', type: 'AFSDB', input: '65536 afs', error: /^AFSDB subtype "65536" is not a number 0-65535$/ },
    { behaviour: 'MINFO with one name', type: 'MINFO', input: 'a', error: /^MINFO error mailbox is missing$/ },
    { behaviour: 'KX without an exchanger', type: 'KX', input: '10', error: /^KX exchanger is missing$/ },
    { behaviour: 'SPF without strings', type: 'SPF', input: '', error: /^SPF string is missing$/ },
    { behaviour: 'a quote inside a TXT word, which only SVCB params may have', type: 'TXT', input: 'foo="bar"', error: /^TXT string "foo=bar" has a quote inside the word; quote the whole string$/ },
  ]);
  t.test('names in RP, AFSDB, MINFO and KX compare case-insensitively (RFC 4034 §6.2)', async (t) => {
    for (const [type, a, b] of [['RP', 'A.example. t.', 'a.example. T.'], ['AFSDB', '1 Afs.', '1 afs.'], ['MINFO', 'A. B.', 'a. b.'], ['KX', '1 KX.', '1 kx.']]) {
      t.equal(rdataKey(parseRdataText(type, a)), rdataKey(parseRdataText(type, b)), type);
    }
  });
});
