// A strict decoder for responses in tests: follows compression pointers, keeps rdata as raw octets so tests
// compare exactly what went on the wire.

import { labelsToText, lowerAscii } from '../../src/proto/names.js';
import { typeName } from '../../src/proto/constants.js';
import { parseHeader, type ParsedHeader } from './wire.js';

export interface DecodedRR {
  name: string;
  type: string;
  class: number;
  ttl: number;
  rdata: Buffer;
}

export interface DecodedMessage {
  header: ParsedHeader;
  qname: string;
  /** The question name octets exactly as sent back, to check case is preserved. */
  qnameRaw: Buffer;
  qtype: number;
  answer: DecodedRR[];
  authority: DecodedRR[];
  additional: DecodedRR[];
  opt?: { udpSize: number; extendedRcode: number; version: number; dnssecOk: boolean; options: Buffer };
}

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  for (let hops = 0; hops < 64; hops++) {
    const len = msg[pos];
    if (len === undefined) throw new Error(`name at ${offset} runs off the message`);
    if (len === 0) {
      if (end < 0) end = pos + 1;
      return { name: lowerAscii(labelsToText(labels)), end };
    }
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = pos + 2;
      const target = ((len & 0x3f) << 8) | msg[pos + 1];
      if (target >= pos) throw new Error(`forward compression pointer at ${pos}`);
      pos = target;
      continue;
    }
    labels.push(msg.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  throw new Error('compression loop');
}

export function decodeMessage(msg: Buffer): DecodedMessage {
  const header = parseHeader(msg);
  let pos = 12;
  let qname = '';
  let qnameRaw: Buffer = Buffer.alloc(0);
  let qtype = 0;
  if (header.qdcount === 1) {
    const q = readName(msg, 12);
    qname = q.name;
    qnameRaw = msg.subarray(12, q.end);
    qtype = msg.readUInt16BE(q.end);
    pos = q.end + 4;
  }
  const sections: DecodedRR[][] = [[], [], []];
  const counts = [header.ancount, header.nscount, header.arcount];
  let opt: DecodedMessage['opt'];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]; i++) {
      const owner = readName(msg, pos);
      pos = owner.end;
      const type = msg.readUInt16BE(pos);
      const klass = msg.readUInt16BE(pos + 2);
      const ttl = msg.readUInt32BE(pos + 4);
      const rdlength = msg.readUInt16BE(pos + 8);
      const rdata = msg.subarray(pos + 10, pos + 10 + rdlength);
      if (rdata.length !== rdlength) throw new Error('rdata runs off the message');
      pos += 10 + rdlength;
      if (type === 41) {
        opt = { udpSize: klass, extendedRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0, options: Buffer.from(rdata) };
        continue;
      }
      sections[s].push({ name: owner.name, type: typeName(type), class: klass, ttl, rdata: Buffer.from(rdata) });
    }
  }
  if (pos !== msg.length) throw new Error(`${msg.length - pos} trailing octets after the last record`);
  return { header, qname, qnameRaw, qtype, answer: sections[0], authority: sections[1], additional: sections[2], opt };
}
