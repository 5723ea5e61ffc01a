// Table tests for the rdata codec: presentation text to wire and canonical text (and back, which must give the same
// wire and text), wire to text for known vectors, and inputs that must be refused with a given message.

import type { Test } from 'tap';
import { parseRdataText, RdataError, rrTypeCode } from '../../src/proto/rdata.js';



export const ORIGIN = 'example.com.';

export interface ValidCase {
  behaviour: string;
  type: string;
  input: string;
  /** Canonical text: what knotd 3.2 prints for the same input (kdig), unless the case says otherwise. */
  text: string;
  /** RDATA in hex, from the RFC or `kdig +generic` against knotd serving the same input. */
  wire?: string;
  /** Lower-case name the additional section follows, if any. */
  target?: string;
}

export interface WireCase {
  behaviour: string;
  type: string;
  /** RDATA in hex as the RFC or knotd gives it. */
  wire: string;
  text: string;
}

export interface InvalidCase {
  behaviour: string;
  type: string;
  input: string;
  error: RegExp;
}

export function checkValid(t: Test, cases: readonly ValidCase[]): void {
  for (const v of cases) {
    t.test(v.behaviour, async (t) => {
      const parsed = parseRdataText(v.type, v.input, ORIGIN);
      t.equal(parsed.type, rrTypeCode(v.type));
      t.equal(parsed.text, v.text);
      if (v.wire !== undefined) t.equal(parsed.wire.toString('hex').toUpperCase(), v.wire.replace(/\s+/g, '').toUpperCase());
      t.equal(parsed.target, v.target);
      const again = parseRdataText(v.type, parsed.text, '.');
      t.equal(again.wire.toString('hex'), parsed.wire.toString('hex'), 'the canonical text parses to the same wire');
      t.equal(again.text, parsed.text, 'the canonical text is a fixed point');
    });
  }
}

/** Wire vectors read through the RFC 3597 generic form, which parseRdata decodes with the type's codec. */
export function checkWire(t: Test, cases: readonly WireCase[]): void {
  for (const v of cases) {
    t.test(v.behaviour, async (t) => {
      const hex = v.wire.replace(/\s+/g, '');
      const parsed = parseRdataText(v.type, `\\# ${hex.length / 2} ${hex}`);
      t.equal(parsed.text, v.text);
      t.equal(parseRdataText(v.type, v.text).wire.toString('hex'), hex.toLowerCase(), 'the text gives the wire back');
    });
  }
}

export function checkInvalid(t: Test, cases: readonly InvalidCase[]): void {
  for (const v of cases) {
    t.test(v.behaviour, async (t) => {
      t.throws(() => parseRdataText(v.type, v.input, ORIGIN), RdataError);
      t.throws(() => parseRdataText(v.type, v.input, ORIGIN), { message: v.error });
    });
  }
}
