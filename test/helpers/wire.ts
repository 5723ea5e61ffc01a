// Hand-built DNS messages for tests: exact control over every octet, including the malformed ones.

import { textToWire } from '../../src/proto/names.js';

export interface QueryOptions {
  id?: number;
  flags?: number;
  qclass?: number;
  /** Adds an OPT record: payload size, version, DO, and raw options. */
  edns?: { udpSize?: number; version?: number; dnssecOk?: boolean; options?: { code: number; data: Buffer }[] };
}

/** The question name is written exactly as given, so case survives (names.ts keeps label case). */
export function buildQuery(name: string, qtype: number, options: QueryOptions = {}): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id ?? 0x1234, 0);
  header.writeUInt16BE(options.flags ?? 0, 2);
  header.writeUInt16BE(1, 4);
  const question = Buffer.alloc(4);
  question.writeUInt16BE(qtype, 0);
  question.writeUInt16BE(options.qclass ?? 1, 2);
  const parts = [header, textToWire(name), question];
  if (options.edns) {
    const opts = Buffer.concat(
      (options.edns.options ?? []).map((o) => {
        const head = Buffer.alloc(4);
        head.writeUInt16BE(o.code, 0);
        head.writeUInt16BE(o.data.length, 2);
        return Buffer.concat([head, o.data]);
      }),
    );
    const opt = Buffer.alloc(11);
    opt[0] = 0;
    opt.writeUInt16BE(41, 1);
    opt.writeUInt16BE(options.edns.udpSize ?? 1232, 3);
    opt[5] = 0;
    opt[6] = options.edns.version ?? 0;
    opt.writeUInt16BE(options.edns.dnssecOk ? 0x8000 : 0, 7);
    opt.writeUInt16BE(opts.length, 9);
    parts.push(opt, opts);
    header.writeUInt16BE(1, 10);
  }
  return Buffer.concat(parts);
}

export interface ParsedHeader {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export function parseHeader(msg: Buffer): ParsedHeader {
  const flags = msg.readUInt16BE(2);
  return {
    id: msg.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >>> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    qdcount: msg.readUInt16BE(4),
    ancount: msg.readUInt16BE(6),
    nscount: msg.readUInt16BE(8),
    arcount: msg.readUInt16BE(10),
  };
}
