// The probes of ISC's genreport (dns-compliance-testing) in its "full" mode — the EDNS and FULL groups — and the
// checks it applies to each reply, written again in TypeScript: Debian does not package genreport's C tool. Each
// probe is one message over UDP (TCP for the two TCP probes, and after a TC reply unless the probe ignores TC); a
// probe is "ok" when none of genreport's checks add a tag, exactly as genreport prints "test=ok".

import dgram from 'node:dgram';
import net from 'node:net';
import { textToWire } from '../../src/proto/names.js';

export interface Probe {
  name: string;
  /** EDNS UDP size; 0: no OPT record. */
  udpSize?: number;
  ednsFlags?: number;
  version?: number;
  /** Raw EDNS options (code, length, data). */
  options?: Buffer;
  tcp?: boolean;
  /** The probe carries a client cookie: BADCOOKIE is an acceptable answer. */
  cookie?: boolean;
  /** TC in the reply is accepted as it is (no retry over TCP); the reply must fit the advertised size. */
  ignoreTc?: boolean;
  tc?: boolean;
  rd?: boolean;
  ra?: boolean;
  cd?: boolean;
  ad?: boolean;
  aa?: boolean;
  z?: boolean;
  opcode?: number;
  /** Query type (SOA unless said). */
  type?: number;
}

const SOA = 6;
const DNSKEY = 48;
const OPT = 41;
const RRSIG = 46;
const NSID = Buffer.from([0, 3, 0, 0]);
const ECS_ZERO = Buffer.from([0, 8, 0, 4, 0, 1, 0, 0]);
const EXPIRE = Buffer.from([0, 9, 0, 0]);
const COOKIE = Buffer.from([0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
const OPTION_100 = Buffer.from([0, 100, 0, 0]);

/** genreport's EDNS group and FULL group, in its order. */
export const FULL_MODE_PROBES: Probe[] = [
  { name: 'dns' },
  { name: 'aa', aa: true },
  { name: 'ad', ad: true },
  { name: 'cd', cd: true },
  { name: 'ra', ra: true },
  { name: 'rd', rd: true },
  { name: 'tc', tc: true },
  { name: 'zflag', z: true },
  { name: 'opcode', opcode: 15, type: 0 },
  { name: 'opcodeflg', opcode: 15, type: 0, tc: true, rd: true, ra: true, cd: true, ad: true, aa: true, z: true },
  { name: 'type666', type: 666 },
  { name: 'tcp', tcp: true },
  { name: 'edns', udpSize: 4096 },
  { name: 'edns1', udpSize: 4096, version: 1 },
  { name: 'edns@512', udpSize: 512, ednsFlags: 0x8000, ignoreTc: true, type: DNSKEY },
  { name: 'ednsopt', udpSize: 4096, options: OPTION_100 },
  { name: 'edns1opt', udpSize: 4096, version: 1, options: OPTION_100 },
  { name: 'do', udpSize: 4096, ednsFlags: 0x8000 },
  { name: 'docd', udpSize: 4096, ednsFlags: 0x8000, cd: true },
  { name: 'edns1do', udpSize: 4096, ednsFlags: 0x8000, version: 1 },
  { name: 'ednsflags', udpSize: 4096, ednsFlags: 0x0080 },
  { name: 'optlist', udpSize: 4096, options: Buffer.concat([NSID, ECS_ZERO, EXPIRE, COOKIE]), cookie: true },
  { name: 'ednsnsid', udpSize: 4096, options: NSID },
  { name: 'ednscookie', udpSize: 4096, options: COOKIE, cookie: true },
  { name: 'ednsexpire', udpSize: 4096, options: EXPIRE },
  { name: 'ednssubnet', udpSize: 4096, options: ECS_ZERO },
  { name: 'edns1nsid', udpSize: 4096, version: 1, options: NSID },
  { name: 'edns1cookie', udpSize: 4096, version: 1, options: COOKIE, cookie: true },
  { name: 'edns1expire', udpSize: 4096, version: 1, options: EXPIRE },
  { name: 'edns1subnet', udpSize: 4096, version: 1, options: ECS_ZERO },
  { name: 'ednstcp', udpSize: 512, ednsFlags: 0x8000, tcp: true, type: DNSKEY },
];

export function probeMessage(probe: Probe, zone: string, id: number): Buffer {
  const opcode = probe.opcode ?? 0;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  let flags = opcode << 11;
  if (probe.aa) flags |= 0x0400;
  if (probe.tc) flags |= 0x0200;
  if (probe.rd) flags |= 0x0100;
  if (probe.ra) flags |= 0x0080;
  if (probe.z) flags |= 0x0040;
  if (probe.ad) flags |= 0x0020;
  if (probe.cd) flags |= 0x0010;
  header.writeUInt16BE(flags, 2);
  // genreport sends its unknown-opcode probes header-only, as dig +header-only does
  if (opcode !== 0) return header;
  header.writeUInt16BE(1, 4);
  const question = Buffer.alloc(4);
  question.writeUInt16BE(probe.type ?? SOA, 0);
  question.writeUInt16BE(1, 2);
  const parts = [header, textToWire(zone), question];
  if (probe.udpSize) {
    const options = probe.options ?? Buffer.alloc(0);
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(OPT, 1);
    opt.writeUInt16BE(probe.udpSize, 3);
    opt.writeUInt32BE(((probe.version ?? 0) << 16) | (probe.ednsFlags ?? 0), 5);
    opt.writeUInt16BE(options.length, 9);
    parts.push(opt, options);
    header.writeUInt16BE(1, 10);
  }
  return Buffer.concat(parts);
}

interface Name {
  name: string;
  end: number;
}

function readName(msg: Buffer, offset: number): Name {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  for (let hops = 0; hops < 128; hops++) {
    if (pos >= msg.length) throw new Error('name runs off the message');
    const len = msg[pos];
    if (len === 0) return { name: labels.join('.').toLowerCase() + '.', end: end < 0 ? pos + 1 : end };
    if ((len & 0xc0) === 0xc0) {
      if (pos + 2 > msg.length) throw new Error('pointer runs off the message');
      if (end < 0) end = pos + 2;
      pos = ((len & 0x3f) << 8) | msg[pos + 1];
      continue;
    }
    if (len > 63 || pos + 1 + len > msg.length) throw new Error('bad label');
    labels.push(msg.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  throw new Error('compression loop');
}

/**
 * genreport's verdict on one reply: [] for "ok", else its tags (e.g. ["rd", "cd"]). `zone` is the probed apex with
 * its trailing dot. Throws when the reply is malformed ("malformed" in genreport).
 */
export function judge(probe: Probe, zone: string, reply: Buffer): string[] {
  const tags: string[] = [];
  const expectOpcode = probe.opcode ?? 0;
  const version = probe.version ?? 0;
  if (reply.length < 12) throw new Error('reply shorter than a header');
  const b2 = reply[2];
  const b3 = reply[3];
  const opcode = (b2 >> 3) & 0xf;
  const aa = (b2 >> 2) & 1;
  const rd = b2 & 1;
  const ra = (b3 >> 7) & 1;
  const z = (b3 >> 6) & 1;
  const ad = (b3 >> 5) & 1;
  const cd = (b3 >> 4) & 1;
  let rcode = b3 & 0xf;
  const counts = [reply.readUInt16BE(4), reply.readUInt16BE(6), reply.readUInt16BE(8), reply.readUInt16BE(10)];
  const sectionNames = ['question', 'answer', 'authority', 'additional'];
  let pos = 12;
  let seenSoa = false;
  let seenRrsig = false;
  let seenOpt = false;
  let seenEcho = false;
  let seenCookie = false;
  let ednsTtl = 0;
  for (let s = 0; s < 4; s++) {
    if (expectOpcode !== 0 && counts[s] !== 0) {
      tags.push(`non-empty-${sectionNames[s]}-section`);
      continue;
    }
    for (let i = 0; i < counts[s]; i++) {
      const owner = readName(reply, pos);
      pos = owner.end;
      if (s === 0) {
        if (pos + 4 > reply.length) throw new Error('question runs off the message');
        pos += 4;
        continue;
      }
      if (pos + 10 > reply.length) throw new Error('record runs off the message');
      const type = reply.readUInt16BE(pos);
      const ttl = reply.readUInt32BE(pos + 4);
      const rdlength = reply.readUInt16BE(pos + 8);
      pos += 10;
      if (pos + rdlength > reply.length) throw new Error('rdata runs off the message');
      if (s === 1 && type === SOA && owner.name === zone) seenSoa = true;
      if (s === 1 && type === RRSIG) seenRrsig = true;
      if (s === 3 && type === OPT) {
        if (seenOpt) throw new Error('two OPT records');
        seenOpt = true;
        ednsTtl = ttl;
        let o = pos;
        while (pos + rdlength - o >= 4) {
          const code = reply.readUInt16BE(o);
          const length = reply.readUInt16BE(o + 2);
          o += 4;
          if (o + length > pos + rdlength) throw new Error('EDNS option overruns its record');
          if (code === 10 && length >= 16 && length <= 40) seenCookie = true;
          if (code === 100) seenEcho = true;
          o += length;
        }
        if (o !== pos + rdlength) throw new Error('EDNS options do not fill the OPT rdata');
      }
      pos += rdlength;
    }
  }
  if (pos !== reply.length) throw new Error('trailing octets after the last record');
  rcode += (ednsTtl >>> 24) << 4;

  if (opcode !== expectOpcode) tags.push(`opcode${opcode}`);
  if (version === 0) {
    if (expectOpcode === 0 && rcode !== 0 && !(probe.cookie && rcode === 23 && seenCookie)) tags.push(`rcode${rcode}`);
    if (expectOpcode !== 0 && rcode !== 4) tags.push(`rcode${rcode}`);
  } else if (rcode !== 16) tags.push(`rcode${rcode}`);
  const ednsVersion = (ednsTtl >>> 16) & 0xff;
  if (seenOpt && ednsVersion !== 0) tags.push('version-not-zero');
  if (seenOpt && ((ednsVersion < version && rcode !== 16) || (ednsVersion >= version && rcode === 16))) tags.push('badversion');
  if (!seenOpt && probe.udpSize) tags.push('noopt');
  if (seenOpt && !probe.udpSize) tags.push('opt');
  const type = probe.type ?? SOA;
  if (type === SOA && version === 0 && !probe.ignoreTc && !seenSoa && rcode === 0) tags.push('nosoa');
  if (type === SOA && seenSoa && (version !== 0 || rcode !== 0)) tags.push('soa');
  if (seenEcho) tags.push('echoed');
  const dnssecOk = ((probe.ednsFlags ?? 0) & 0x8000) !== 0;
  if (seenOpt && dnssecOk && (ednsTtl & 0x8000) === 0 && seenRrsig) tags.push('nodo');
  if (seenOpt && dnssecOk && probe.cd && (ednsTtl & 0x8000) !== 0 && !cd && seenRrsig) tags.push('nocd');
  // AA, RA, RD, AD and CD are defined for QUERY only
  if (!aa && version === 0 && rcode === 0 && expectOpcode === 0) tags.push('noaa');
  if (aa && expectOpcode !== 0) tags.push('aa');
  if (ra && expectOpcode !== 0) tags.push('ra');
  if (rd && (expectOpcode !== 0 || !probe.rd)) tags.push('rd');
  if (!rd && probe.rd && expectOpcode === 0) tags.push('nord');
  if (ad && (expectOpcode !== 0 || (!probe.ad && !dnssecOk))) tags.push('ad');
  if (cd && (expectOpcode !== 0 || !probe.cd)) tags.push('cd');
  if (z) tags.push('z');
  if ((ednsTtl & 0x7fff) !== 0) tags.push('mbz');
  if (probe.ignoreTc && reply.length > (probe.udpSize || 512)) tags.push('toobig');
  return tags;
}

function udpAsk(port: number, message: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('timeout'));
    }, timeoutMs);
    socket.on('message', (reply) => {
      if (reply.length < 2 || reply.readUInt16BE(0) !== message.readUInt16BE(0)) return;
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.send(message, port, '127.0.0.1');
  });
}

function tcpAsk(port: number, message: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('connect', () => socket.write(Buffer.concat([Buffer.from([message.length >> 8, message.length & 0xff]), message])));
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(pending.subarray(2, 2 + pending.readUInt16BE(0)));
      }
    });
    socket.on('end', () => {
      clearTimeout(timer);
      reject(new Error('eof'));
    });
  });
}

export interface ProbeResult {
  name: string;
  /** "ok", or genreport's tags joined by commas ("rd,cd", "timeout", "malformed"). */
  verdict: string;
}

/** Runs every full-mode probe against 127.0.0.1:port for `zone` ("example.com."), one after another. */
export async function runFullMode(port: number, zone: string, timeoutMs = 2000): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  let id = 0x4000;
  for (const probe of FULL_MODE_PROBES) {
    const message = probeMessage(probe, zone, id++);
    let verdict: string;
    try {
      let reply = probe.tcp ? await tcpAsk(port, message, timeoutMs) : await udpAsk(port, message, timeoutMs);
      // genreport retries over TCP when a UDP reply is truncated, unless the probe looks at the truncation itself
      if (!probe.tcp && (reply[2] & 0x02) !== 0 && !probe.ignoreTc) reply = await tcpAsk(port, message, timeoutMs);
      const tags = judge(probe, zone, reply);
      verdict = tags.length === 0 ? 'ok' : tags.join(',');
    } catch (err) {
      const text = (err as Error).message;
      verdict = text === 'timeout' || text === 'eof' ? text : 'malformed';
    }
    results.push({ name: probe.name, verdict });
  }
  return results;
}
