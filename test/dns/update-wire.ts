// Hand-built RFC 2136 UPDATE messages and TSIG signatures for tests, written apart from src/proto (its own MAC
// input per RFC 8945 §4.3), so a signing mistake there cannot hide behind the same mistake here.

import { createHmac } from 'node:crypto';
import { textToWire } from '../../src/proto/names.js';

export interface WireRR {
  name: string;
  type: number;
  class: number;
  ttl: number;
  rdata?: Buffer;
}

export const IN = 1;
export const NONE = 254;
export const ANY = 255;
export const T = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, ANY: 255 } as const;

export function a(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

export function txt(...strings: string[]): Buffer {
  return Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)])));
}

function rr(r: WireRR): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt16BE(r.type, 0);
  head.writeUInt16BE(r.class, 2);
  head.writeUInt32BE(r.ttl, 4);
  const rdata = r.rdata ?? Buffer.alloc(0);
  head.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([textToWire(r.name), head, rdata]);
}

export function buildUpdate(options: { id?: number; zone: string; zoneClass?: number; zoneType?: number; prerequisites?: WireRR[]; updates?: WireRR[] }): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id ?? 0x4242, 0);
  header.writeUInt16BE(5 << 11, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(options.prerequisites?.length ?? 0, 6);
  header.writeUInt16BE(options.updates?.length ?? 0, 8);
  const zone = Buffer.alloc(4);
  zone.writeUInt16BE(options.zoneType ?? T.SOA, 0);
  zone.writeUInt16BE(options.zoneClass ?? IN, 2);
  return Buffer.concat([header, textToWire(options.zone), zone, ...(options.prerequisites ?? []).map(rr), ...(options.updates ?? []).map(rr)]);
}

const HASH: Record<string, string> = { 'hmac-sha256': 'sha256', 'hmac-sha512': 'sha512', 'hmac-sha1': 'sha1', 'hmac-md5.sig-alg.reg.int': 'md5' };

function time48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt16BE(Math.floor(seconds / 2 ** 32), 0);
  b.writeUInt32BE(seconds % 2 ** 32, 2);
  return b;
}

export interface Signing {
  keyName: string;
  algorithm: string;
  secret: Buffer;
  time?: number;
  fudge?: number;
  /** Sign, then overwrite the MAC with this (a bad signature). */
  mac?: Buffer;
}

/** Appends a TSIG RR (RFC 8945 §4.2) signing `msg`; returns the message and the MAC (a response is signed over it). */
export function sign(msg: Buffer, s: Signing): { message: Buffer; mac: Buffer } {
  const time = s.time ?? Math.floor(Date.now() / 1000);
  const fudge = s.fudge ?? 300;
  const keyWire = textToWire(s.keyName.toLowerCase());
  const algWire = textToWire(s.algorithm.toLowerCase() + '.');
  const vars = Buffer.alloc(2 + 4);
  vars.writeUInt16BE(ANY, 0);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(fudge, 0); // fudge, error 0, other len 0
  const macInput = Buffer.concat([msg, keyWire, vars, algWire, time48(time), tail]);
  const mac = s.mac ?? createHmac(HASH[s.algorithm] ?? 'sha256', s.secret).update(macInput).digest();
  const rdata = Buffer.concat([algWire, time48(time), Buffer.from([fudge >> 8, fudge & 0xff, mac.length >> 8, mac.length & 0xff]), mac, msg.subarray(0, 2), Buffer.alloc(4)]);
  const out = Buffer.concat([msg, rr({ name: s.keyName, type: 250, class: ANY, ttl: 0, rdata })]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return { message: out, mac };
}

export interface ResponseTsig {
  keyName: string;
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
  /** Offset of the TSIG RR. */
  start: number;
}

/** Reads an uncompressed name (responses here never compress). */
function readName(msg: Buffer, pos: number): { text: string; end: number } {
  const labels: string[] = [];
  while (msg[pos] !== 0) {
    const len = msg[pos] as number;
    labels.push(msg.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { text: labels.join('.') + '.', end: pos + 1 };
}

/** The rcode and the TSIG of an UPDATE response (zone section and OPT skipped). */
export function readResponse(msg: Buffer): { id: number; qr: boolean; opcode: number; rcode: number; zocount: number; arcount: number; tsig?: ResponseTsig } {
  const flags = msg.readUInt16BE(2);
  const out = { id: msg.readUInt16BE(0), qr: (flags & 0x8000) !== 0, opcode: (flags >> 11) & 0xf, rcode: flags & 0xf, zocount: msg.readUInt16BE(4), arcount: msg.readUInt16BE(10) };
  let pos = 12;
  for (let i = 0; i < out.zocount; i++) pos = readName(msg, pos).end + 4;
  let tsig: ResponseTsig | undefined;
  for (let i = 0; i < out.arcount; i++) {
    const start = pos;
    const owner = readName(msg, pos);
    pos = owner.end;
    const type = msg.readUInt16BE(pos);
    const rdlength = msg.readUInt16BE(pos + 8);
    pos += 10;
    if (type === 250) {
      const alg = readName(msg, pos);
      let p = alg.end;
      const timeSigned = msg.readUInt16BE(p) * 2 ** 32 + msg.readUInt32BE(p + 2);
      const fudge = msg.readUInt16BE(p + 6);
      const macSize = msg.readUInt16BE(p + 8);
      p += 10;
      const mac = msg.subarray(p, p + macSize);
      p += macSize;
      tsig = { keyName: owner.text, algorithm: alg.text, timeSigned, fudge, mac, originalId: msg.readUInt16BE(p), error: msg.readUInt16BE(p + 2), other: msg.subarray(p + 6, p + 6 + msg.readUInt16BE(p + 4)), start };
    }
    pos += rdlength;
  }
  return { ...out, ...(tsig ? { tsig } : {}) };
}

/** Does the response's TSIG verify (RFC 8945 §4.3.1: the request MAC, the response without TSIG, the variables)? */
export function responseVerifies(msg: Buffer, secret: Buffer, requestMac: Buffer, hash = 'sha256'): boolean {
  const r = readResponse(msg);
  const t = r.tsig;
  if (!t) return false;
  const head = Buffer.from(msg.subarray(0, t.start));
  head.writeUInt16BE(head.readUInt16BE(10) - 1, 10);
  const macLength = Buffer.from([requestMac.length >> 8, requestMac.length & 0xff]);
  const vars = Buffer.alloc(6);
  vars.writeUInt16BE(ANY, 0);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(t.fudge, 0);
  tail.writeUInt16BE(t.error, 2);
  tail.writeUInt16BE(t.other.length, 4);
  const input = Buffer.concat([macLength, requestMac, head, textToWire(t.keyName.toLowerCase()), vars, textToWire(t.algorithm.toLowerCase()), time48(t.timeSigned), tail, t.other]);
  return createHmac(hash, secret).update(input).digest().equals(t.mac);
}
