// The reference for "Node's own limit": a bare UDP responder with a hand-written question reader and answers
// precomputed per (name, type), doing the least work a correct server must (read the question, find the answer,
// copy ID and question, send). No EDNS, no metrics, no wildcard or delegation logic: edgedns is measured against it.
//
//   node dist-bench/bench/node-responder.js PORT ZONEFILE

import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { parseZoneFile } from '../src/zone/zonefile-parse.js';
import { parseRdataText } from '../src/proto/rdata.js';
import { typeCode } from '../src/proto/constants.js';

const [portArg, zoneFile] = process.argv.slice(2);
const zone = parseZoneFile(readFileSync(zoneFile, 'utf8'), { file: zoneFile });

/** Answer sections per "name/qtype", with the owner as a pointer to the question name. */
const answers = new Map<string, { count: number; bytes: Buffer }>();
for (const rrset of zone.rrsets) {
  const type = typeCode(rrset.type) as number;
  const parts = rrset.records.map((text) => {
    const rdata = parseRdataText(rrset.type, text, zone.name).wire;
    const rr = Buffer.alloc(12 + rdata.length);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(type, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(rrset.ttl, 6);
    rr.writeUInt16BE(rdata.length, 10);
    rdata.copy(rr, 12);
    return rr;
  });
  answers.set(`${rrset.name}/${type}`, { count: parts.length, bytes: Buffer.concat(parts) });
}

// the same receive buffer edgedns asks for (src/dns/udp-server.ts), so the two meet a flood alike
const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
socket.on('message', (msg, remote) => {
  if (msg.length < 17 || msg[2] & 0x80) return;
  let pos = 12;
  let name = '';
  while (pos < msg.length && msg[pos] !== 0) {
    const len = msg[pos];
    if (len > 63 || pos + 1 + len >= msg.length) return;
    name += msg.toString('latin1', pos + 1, pos + 1 + len).toLowerCase() + '.';
    pos += 1 + len;
  }
  const end = pos + 5;
  if (end > msg.length) return;
  const qtype = msg.readUInt16BE(pos + 1);
  const answer = answers.get(`${name}/${qtype}`);
  const size = end + (answer ? answer.bytes.length : 0);
  const out = Buffer.allocUnsafe(size);
  msg.copy(out, 0, 0, end);
  out[2] = 0x84 | (msg[2] & 0x01); // QR, AA, RD copied
  out[3] = answer ? 0 : 3;
  out.writeUInt16BE(answer ? answer.count : 0, 6);
  out.writeUInt32BE(0, 8);
  if (answer) answer.bytes.copy(out, end);
  socket.send(out, remote.port, remote.address);
});
socket.bind(Number(portArg), '127.0.0.1', () => process.stdout.write(`node-responder listening on 127.0.0.1:${portArg}\n`));
