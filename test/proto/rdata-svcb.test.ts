// SVCB and HTTPS (RFC 9460): the test vectors of its Appendix D, what knotd 3.2 prints for the same input, and the
// checks a zone file gets (mandatory keys present, no-default-alpn beside alpn, each key once, values well formed).

import t from 'tap';
import { checkInvalid, checkValid, checkWire } from '../helpers/rdata-cases.js';

const FOO_COM = '03666f6f076578616d706c6503636f6d00';
const FOO_ORG = '03666f6f076578616d706c65036f726700';

t.test('RFC 9460 Appendix D.1 and D.2: presentation to wire', async (t) => {
  checkValid(t, [
    { behaviour: 'AliasMode', type: 'HTTPS', input: '0 foo.example.com.', text: '0 foo.example.com.', wire: `0000${FOO_COM}`, target: 'foo.example.com.' },
    { behaviour: 'ServiceMode, target "." and no params', type: 'SVCB', input: '1 .', text: '1 .', wire: '000100' },
    { behaviour: 'a port', type: 'SVCB', input: '16 foo.example.com. port=53', text: '16 foo.example.com. port=53', wire: `0010${FOO_COM}000300020035`, target: 'foo.example.com.' },
    { behaviour: 'a generic key with an unquoted value', type: 'SVCB', input: '1 foo.example.com. key667=hello', text: '1 foo.example.com. key667="hello"', wire: `0001${FOO_COM}029b000568656c6c6f`, target: 'foo.example.com.' },
    {
      behaviour: 'a generic key with a quoted value holding an escaped octet',
      type: 'SVCB',
      input: String.raw`1 foo.example.com. key667="hello\210qoo"`,
      text: String.raw`1 foo.example.com. key667="hello\210qoo"`,
      wire: `0001${FOO_COM}029b000968656c6c6fd2716f6f`,
      target: 'foo.example.com.',
    },
    {
      behaviour: 'two IPv6 hints, quoted',
      type: 'SVCB',
      input: '1 foo.example.com. ipv6hint="2001:db8::1,2001:db8::53:1"',
      text: '1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1',
      wire: `0001${FOO_COM}0006002020010db800000000000000000000000120010db8000000000000000000530001`,
      target: 'foo.example.com.',
    },
    {
      behaviour: 'an IPv6 hint with an embedded IPv4 address, printed in hex as knot does',
      type: 'SVCB',
      input: '1 example.com. ipv6hint="2001:db8:122:344::192.0.2.33"',
      text: '1 example.com. ipv6hint=2001:db8:122:344::c000:221',
      wire: '0001076578616d706c6503636f6d000006001020010db80122034400000000c0000221',
      target: 'example.com.',
    },
    {
      behaviour: 'params in any order come out sorted by key, mandatory keys too',
      type: 'SVCB',
      input: '16 foo.example.org. (alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1)',
      text: '16 foo.example.org. mandatory=alpn,ipv4hint alpn=h2,h3-19 ipv4hint=192.0.2.1',
      wire: `0010${FOO_ORG}0000000400010004000100090268320568332d313900040004c0000201`,
      target: 'foo.example.org.',
    },
    {
      behaviour: 'an alpn id holding a backslash and a comma, quoted',
      type: 'SVCB',
      input: String.raw`16 foo.example.org. alpn="f\\\\oo\\,bar,h2"`,
      text: String.raw`16 foo.example.org. alpn=f\\\\oo\\,bar,h2`,
      wire: `0010${FOO_ORG}0001000c08665c6f6f2c626172026832`,
      target: 'foo.example.org.',
    },
    {
      behaviour: 'the same alpn id unquoted with \\DDD escapes',
      type: 'SVCB',
      input: String.raw`16 foo.example.org. alpn=f\\\092oo\092,bar,h2`,
      text: String.raw`16 foo.example.org. alpn=f\\\\oo\\,bar,h2`,
      wire: `0010${FOO_ORG}0001000c08665c6f6f2c626172026832`,
      target: 'foo.example.org.',
    },
  ]);
});

t.test('RFC 9460 Appendix D: wire to presentation', async (t) => {
  checkWire(t, [
    { behaviour: 'AliasMode', type: 'HTTPS', wire: `0000${FOO_COM}`, text: '0 foo.example.com.' },
    { behaviour: 'a port', type: 'SVCB', wire: `0010${FOO_COM}000300020035`, text: '16 foo.example.com. port=53' },
    { behaviour: 'mandatory, alpn and ipv4hint', type: 'SVCB', wire: `0010${FOO_ORG}0000000400010004000100090268320568332d313900040004c0000201`, text: '16 foo.example.org. mandatory=alpn,ipv4hint alpn=h2,h3-19 ipv4hint=192.0.2.1' },
  ]);
});

t.test('RFC 9460 Appendix D.3: failure cases', async (t) => {
  checkInvalid(t, [
    { behaviour: 'a key twice', type: 'SVCB', input: '1 foo.example.com. (key123=abc key123=def)', error: /^SVCB SvcParam key123 appears twice$/ },
    { behaviour: 'mandatory without a value', type: 'SVCB', input: '1 foo.example.com. mandatory', error: /^SVCB SvcParam mandatory needs a value/ },
    { behaviour: 'alpn without a value', type: 'SVCB', input: '1 foo.example.com. alpn', error: /^SVCB SvcParam alpn needs a value/ },
    { behaviour: 'port without a value', type: 'SVCB', input: '1 foo.example.com. port', error: /^SVCB SvcParam port needs a value/ },
    { behaviour: 'ipv4hint without a value', type: 'SVCB', input: '1 foo.example.com. ipv4hint', error: /^SVCB SvcParam ipv4hint needs a value/ },
    { behaviour: 'ipv6hint without a value', type: 'SVCB', input: '1 foo.example.com. ipv6hint', error: /^SVCB SvcParam ipv6hint needs a value/ },
    { behaviour: 'no-default-alpn with a value', type: 'SVCB', input: '1 foo.example.com. no-default-alpn=abc', error: /^SVCB SvcParam no-default-alpn takes no value/ },
    { behaviour: 'a mandatory key the record lacks', type: 'SVCB', input: '1 foo.example.com. mandatory=key123', error: /^SVCB mandatory lists key123, which the record does not have \(RFC 9460 §8\)$/ },
    { behaviour: 'mandatory listing itself', type: 'SVCB', input: '1 foo.example.com. (mandatory=mandatory)', error: /^SVCB SvcParam mandatory mandatory lists itself/ },
    { behaviour: 'mandatory listing a key twice', type: 'SVCB', input: '1 foo.example.com. (mandatory=key123,key123 key123=abc)', error: /^SVCB SvcParam mandatory mandatory lists key123 twice$/ },
  ]);
});

t.test('what knotd 3.2 prints, and the forms it reads', async (t) => {
  checkValid(t, [
    {
      behaviour: 'every named key at once, printed in key order',
      type: 'HTTPS',
      input: '1 svc mandatory=alpn,port alpn=h2,h3-19 no-default-alpn port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AEP+DQA= ipv6hint=2001:db8::1 key65333=hello',
      text: '1 svc.example.com. mandatory=alpn,port alpn=h2,h3-19 no-default-alpn port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AEP+DQA= ipv6hint=2001:db8::1 key65333="hello"',
      target: 'svc.example.com.',
    },
    { behaviour: 'a quoted alpn list is split at its commas', type: 'HTTPS', input: '1 . alpn="h2,h3"', text: '1 . alpn=h2,h3' },
    { behaviour: 'a comma escaped once is still a separator (RFC 9460 A.1)', type: 'HTTPS', input: String.raw`1 . alpn=h2\,x`, text: '1 . alpn=h2,x' },
    { behaviour: 'alpn octets outside printable ASCII print as \\DDD', type: 'HTTPS', input: String.raw`1 . alpn=a\010b`, text: String.raw`1 . alpn=a\010b` },
    { behaviour: 'alpn ids with spaces and semicolons are escaped so the text reads back', type: 'HTTPS', input: '1 . alpn="a b,c;d"', text: String.raw`1 . alpn=a\032b,c\;d`, wire: '000100000100080361206203633b64' },
    { behaviour: 'dohpath (RFC 9461) is printed as key7, which knot 3.2 and BIND 9.18 read', type: 'SVCB', input: '1 doh dohpath=/dns-query{?dns} alpn=h2', text: '1 doh.example.com. alpn=h2 key7="/dns-query{?dns}"', target: 'doh.example.com.' },
    { behaviour: 'key7 with a dohpath template', type: 'SVCB', input: '1 doh key7="/q{?dns}"', text: '1 doh.example.com. key7="/q{?dns}"', target: 'doh.example.com.' },
    { behaviour: 'a generic key without a value', type: 'SVCB', input: '1 . key65333', text: '1 . key65333', wire: '000100ff350000' },
    { behaviour: 'a generic key with an empty quoted value', type: 'SVCB', input: '1 . key65333=""', text: '1 . key65333' },
    { behaviour: 'a quoted generic value keeps spaces, quotes and semicolons', type: 'SVCB', input: String.raw`1 . key9="a;b\"c d"`, text: String.raw`1 . key9="a;b\"c d"` },
    { behaviour: 'a generic value may hold "="', type: 'SVCB', input: '1 . key9==', text: '1 . key9="="' },
    { behaviour: 'keyNNNNN of a named key takes its wire value and prints by name', type: 'SVCB', input: String.raw`1 . key3="\000\053" key1="\002h2"`, text: '1 . alpn=h2 port=53' },
    { behaviour: 'key numbers may have leading zeros, as knot reads them', type: 'SVCB', input: '1 . key001="\\002h2"', text: '1 . alpn=h2' },
    { behaviour: 'mandatory may name keys in keyNNNNN form', type: 'SVCB', input: '1 . mandatory=key1 alpn=h2', text: '1 . mandatory=alpn alpn=h2' },
    { behaviour: 'AliasMode with params is kept (clients ignore them, RFC 9460 §2.4.2)', type: 'SVCB', input: '0 x. alpn=h2', text: '0 x. alpn=h2', target: 'x.' },
    { behaviour: 'a relative target is completed with the origin', type: 'HTTPS', input: '1 @ alpn=h2', text: '1 example.com. alpn=h2', target: 'example.com.' },
    { behaviour: 'the target keeps its case but additional processing uses its key', type: 'HTTPS', input: '1 Svc.Example.COM.', text: '1 Svc.Example.COM.', target: 'svc.example.com.' },
    { behaviour: 'an IPv4-mapped hint keeps its dotted tail', type: 'SVCB', input: '1 . ipv6hint=::ffff:1.2.3.4', text: '1 . ipv6hint=::ffff:1.2.3.4' },
    { behaviour: 'ech may be quoted', type: 'SVCB', input: '1 . ech="AEP+DQA="', text: '1 . ech=AEP+DQA=' },
    { behaviour: 'port takes leading zeros', type: 'SVCB', input: '1 . port=053', text: '1 . port=53' },
  ]);
});

t.test('malformed SVCB and HTTPS records are refused with the reason', async (t) => {
  checkInvalid(t, [
    { behaviour: 'no target', type: 'SVCB', input: '1', error: /^SVCB target is missing$/ },
    { behaviour: 'a priority over 16 bits', type: 'SVCB', input: '65536 .', error: /^SVCB priority "65536" is not a number 0-65535$/ },
    { behaviour: 'an unknown key name', type: 'SVCB', input: '1 . foo=x', error: /^SVCB SvcParam key "foo" is not known; write other keys as keyNNNNN/ },
    { behaviour: 'an upper-case key name, as knot refuses it', type: 'SVCB', input: '1 . ALPN=h2', error: /^SVCB SvcParam key "ALPN" is not known/ },
    { behaviour: 'a key number over 65535', type: 'SVCB', input: '1 . key65536=x', error: /^SVCB SvcParam key "key65536" is not known/ },
    { behaviour: 'spaces around "="', type: 'SVCB', input: '1 . alpn = h2', error: /^SVCB SvcParam alpn needs a value/ },
    { behaviour: 'a whole param in quotes', type: 'SVCB', input: '1 . "alpn=h2"', error: /^SVCB SvcParam "alpn=h2" must not be quoted as a whole; write key="value"$/ },
    { behaviour: '"key=" with nothing after it', type: 'SVCB', input: '1 . key7=', error: /^SVCB SvcParam key7= has no value; write key7 alone or key7=""$/ },
    { behaviour: 'an empty alpn item', type: 'SVCB', input: '1 . alpn=h2,,h3', error: /^SVCB SvcParam alpn has an empty item/ },
    { behaviour: 'a trailing comma', type: 'SVCB', input: '1 . alpn=h2,', error: /has an empty item/ },
    { behaviour: 'an alpn id over 255 octets', type: 'SVCB', input: `1 . alpn=${'a'.repeat(256)}`, error: /alpn id of 256 octets is over 255/ },
    { behaviour: 'a port over 65535', type: 'SVCB', input: '1 . port=70000', error: /^SVCB SvcParam port port "70000" is not a number 0-65535$/ },
    { behaviour: 'an IPv4 hint that is not IPv4', type: 'SVCB', input: '1 . ipv4hint=1.2.3', error: /ipv4hint "1\.2\.3" is not IPv4/ },
    { behaviour: 'spaces in an address list', type: 'SVCB', input: '1 . ipv4hint="1.2.3.4, 5.6.7.8"', error: /ipv4hint " 5\.6\.7\.8" is not IPv4/ },
    { behaviour: 'an IPv4 address as an IPv6 hint', type: 'SVCB', input: '1 . ipv6hint=1.2.3.4', error: /ipv6hint "1\.2\.3\.4" is not IPv6/ },
    { behaviour: 'ech that is not base64', type: 'SVCB', input: '1 . ech=AEP+DQA', error: /ech "AEP\+DQA" is not base64/ },
    { behaviour: 'an empty ech', type: 'SVCB', input: '1 . ech=""', error: /^SVCB SvcParam ech needs a value/ },
    { behaviour: 'no-default-alpn without alpn (RFC 9460 §7.1.1, as BIND checks)', type: 'HTTPS', input: '1 . no-default-alpn', error: /^HTTPS no-default-alpn needs alpn beside it/ },
    { behaviour: 'a dohpath that is not a path with {?dns}', type: 'SVCB', input: '1 . key7="/x"', error: /dohpath "\/x" must be a path starting with "\/" holding the \{\?dns\} variable/ },
    { behaviour: 'a dohpath without a value', type: 'SVCB', input: '1 . dohpath', error: /^SVCB SvcParam dohpath needs a value/ },
    { behaviour: 'keyNNNNN of a named key with a malformed value', type: 'SVCB', input: '1 . key3=5', error: /^SVCB SvcParam key3 port value is 1 octets, not 2$/ },
    { behaviour: 'keyNNNNN of ipv4hint with a text address', type: 'SVCB', input: '1 . key4=1.2.3.4', error: /ipv4hint value is 7 octets, not a whole number of 4-octet addresses/ },
    { behaviour: 'a quote inside a value word', type: 'SVCB', input: '1 . alpn=h2"x"', error: /quote inside the word "alpn=h2"/ },
    { behaviour: 'text glued to a quoted value', type: 'SVCB', input: '1 . alpn="h2"port=1', error: /text right after the closing quote/ },
    { behaviour: 'a bad list escape', type: 'SVCB', input: String.raw`1 . alpn="a\\b"`, error: /has "\\" before something other than "," or "\\"/ },
  ]);
});

t.test('malformed wire forms are refused', async (t) => {
  checkInvalid(t, [
    { behaviour: 'keys out of order', type: 'SVCB', input: '\\# 13 0001 00 0003 0002 0035 0001 0000', error: /SvcParam keys are not in strictly ascending order/ },
    { behaviour: 'a key twice', type: 'SVCB', input: '\\# 15 0001 00 0003 0002 0035 0003 0002 0035', error: /SvcParam keys are not in strictly ascending order/ },
    { behaviour: 'a value longer than the rdata', type: 'SVCB', input: '\\# 8 0001 00 0003 0005 00', error: /^SVCB rdata is too short$/ },
    { behaviour: 'an alpn id of length 0', type: 'SVCB', input: '\\# 8 0001 00 0001 0001 00', error: /alpn value is not a list of length-prefixed protocol ids/ },
    { behaviour: 'a mandatory key the record lacks', type: 'SVCB', input: '\\# 9 0001 00 0000 0002 0003', error: /^SVCB mandatory lists port, which the record does not have/ },
    { behaviour: 'mandatory out of order', type: 'SVCB', input: '\\# 24 0001 00 0000 0004 0003 0001 0001 0003 026832 0003 0002 0035', error: /^SVCB SvcParam mandatory: mandatory keys are not in ascending order/ },
    { behaviour: 'a port of three octets', type: 'SVCB', input: '\\# 10 0001 00 0003 0003 000035', error: /port value is 3 octets, not 2/ },
  ]);
});
