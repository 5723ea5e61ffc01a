// Bounded, seeded fuzzing of every rdata codec: mutated valid records and random octets through the RFC 3597
// generic form, and mutated presentation text, either parse, and then their canonical text gives the same octets
// back, or are refused with an RdataError; nothing else may be thrown. Rdata reaches the codecs from zone files and API text, and from any reader
// of wire rdata built on them.

import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseRdataText, RdataError } from '../../src/proto/rdata.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';

const zone = parseZoneFile(readFileSync('test/fixtures/diff/alltypes.example.zone', 'utf8'));
const MUTATIONS_PER_RECORD = 200;
const RANDOM_PER_TYPE = 200;

/** xorshift32: the same octets on every run, so a failure can be replayed. */
function prng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function check(type: string, wire: Buffer): string | undefined {
  const generic = `\\# ${wire.length} ${wire.toString('hex')}`;
  let text: string;
  try {
    text = parseRdataText(type, generic).text;
  } catch (err) {
    return err instanceof RdataError ? undefined : `${type} ${generic}: threw ${String(err)}`;
  }
  try {
    const again = parseRdataText(type, text);
    if (!again.wire.equals(wire)) return `${type} ${generic}: text "${text}" gives ${again.wire.toString('hex')}`;
  } catch (err) {
    return `${type} ${generic}: its text "${text}" does not parse: ${String(err)}`;
  }
  return undefined;
}

/** Presentation text through the codec: refused with an RdataError, or parsed to a canonical text that is a fixed point. */
function checkText(type: string, text: string): string | undefined {
  let parsed;
  try {
    parsed = parseRdataText(type, text, 'example.');
  } catch (err) {
    return err instanceof RdataError ? undefined : `${type} ${JSON.stringify(text)}: threw ${String(err)}`;
  }
  try {
    const again = parseRdataText(type, parsed.text);
    if (!again.wire.equals(parsed.wire) || again.text !== parsed.text) return `${type} ${JSON.stringify(text)}: "${parsed.text}" is not a fixed point`;
  } catch (err) {
    return `${type} ${JSON.stringify(text)}: its text "${parsed.text}" does not parse: ${String(err)}`;
  }
  return undefined;
}

/** Fragments spliced into valid text: what tends to break parsers of this grammar. */
const FRAGMENTS = ['', ' ', '0', '9', '65536', '-', '.', '..', ',', ',,', '=', '"', '""', '\\', '\\0', '\\256', '\\,', ';', '(', ')', 'ff', 'A', '==', 'key65535', 'mandatory', 'N', 'W', 'm', '!', '/', ':', '::', '1.2.3.4', '\n'];

const samples = new Map<string, Buffer[]>();
const texts = new Map<string, string[]>();
for (const rrset of zone.rrsets) texts.set(rrset.type, [...(texts.get(rrset.type) ?? []), ...rrset.records]);
for (const rrset of zone.rrsets) {
  for (const record of rrset.records) samples.set(rrset.type, [...(samples.get(rrset.type) ?? []), parseRdataText(rrset.type, record).wire]);
}
samples.set('RRSIG', [parseRdataText('RRSIG', 'A 5 3 86400 20030322173103 20030220173103 2642 example.com. AAAA').wire]);
samples.set('NSEC3', [parseRdataText('NSEC3', '1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr A RRSIG').wire]);
samples.set('NSEC3PARAM', [parseRdataText('NSEC3PARAM', '1 0 12 aabbccdd').wire]);

for (const [type, wires] of samples) {
  t.test(`${type}: mutated and random rdata decode to a fixed point or are refused`, async (t) => {
    const random = prng(0x9e3779b9 ^ type.length ^ (type.charCodeAt(0) << 8));
    const problems: string[] = [];
    for (const wire of wires) {
      for (let i = 0; i < MUTATIONS_PER_RECORD; i++) {
        const mutated = Buffer.from(wire);
        const flips = 1 + Math.floor(random() * 3);
        for (let f = 0; f < flips && mutated.length > 0; f++) mutated[Math.floor(random() * mutated.length)] ^= 1 << Math.floor(random() * 8);
        const cut = random() < 0.2 ? Math.floor(random() * mutated.length) : mutated.length;
        const problem = check(type, mutated.subarray(0, cut));
        if (problem) problems.push(problem);
      }
    }
    for (let i = 0; i < RANDOM_PER_TYPE; i++) {
      const bytes = Buffer.alloc(Math.floor(random() * 48));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      const problem = check(type, bytes);
      if (problem) problems.push(problem);
    }
    for (const text of texts.get(type) ?? []) {
      for (let i = 0; i < MUTATIONS_PER_RECORD; i++) {
        const at = Math.floor(random() * (text.length + 1));
        const cut = random() < 0.5 ? Math.floor(random() * 4) : 0;
        const fragment = FRAGMENTS[Math.floor(random() * FRAGMENTS.length)];
        const problem = checkText(type, text.slice(0, at) + fragment + text.slice(at + cut));
        if (problem) problems.push(problem);
      }
    }
    t.same(problems.slice(0, 5), [], `${problems.length} problems`);
  });
}
