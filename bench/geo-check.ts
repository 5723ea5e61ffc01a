// Before the geo bench measures anything, it asks a few networks once and checks that the answers are what the
// load is meant to exercise: the edge differs by client network, and each reply carries an ECS scope.

import dgram from 'node:dgram';
import { ecsQuery } from './geo-data.js';

export interface GeoReply {
  addresses: string[];
  /** ECS scope prefix of the reply; undefined when it has no ECS option. */
  scope?: number;
}

function skipName(msg: Buffer, p: number): number {
  while (msg[p] !== 0) {
    if ((msg[p] & 0xc0) === 0xc0) return p + 2;
    p += msg[p] + 1;
  }
  return p + 1;
}

export function readReply(msg: Buffer): GeoReply {
  const counts = [msg.readUInt16BE(4), msg.readUInt16BE(6), msg.readUInt16BE(8), msg.readUInt16BE(10)];
  let p = 12;
  for (let i = 0; i < counts[0]; i++) p = skipName(msg, p) + 4;
  const reply: GeoReply = { addresses: [] };
  for (let section = 1; section < 4; section++) {
    for (let i = 0; i < counts[section]; i++) {
      p = skipName(msg, p);
      const type = msg.readUInt16BE(p);
      const length = msg.readUInt16BE(p + 8);
      const rdata = msg.subarray(p + 10, p + 10 + length);
      if (section === 1 && type === 1) reply.addresses.push([...rdata].join('.'));
      if (type === 41) {
        for (let o = 0; o + 4 <= rdata.length; o += 4 + rdata.readUInt16BE(o + 2)) {
          if (rdata.readUInt16BE(o) === 8) reply.scope = rdata[o + 7];
        }
      }
      p += 10 + length;
    }
  }
  return reply;
}

export async function askOnce(port: number, name: string, octets: number[]): Promise<GeoReply> {
  const socket = dgram.createSocket('udp4');
  try {
    return await new Promise<GeoReply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer for ${octets.join('.')}.0/24`)), 2000);
      socket.once('message', (msg) => {
        clearTimeout(timer);
        resolve(readReply(msg));
      });
      const query = ecsQuery(name, octets);
      query.writeUInt16BE(0x4242, 0);
      socket.send(query, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

/** Asks each network once; throws unless at least `minEdges` different answers came back, all with a scope. */
export async function checkGeoAnswers(port: number, name: string, networks: number[][], minEdges: number): Promise<string> {
  const lines: string[] = [];
  const answers = new Set<string>();
  for (const octets of networks) {
    const reply = await askOnce(port, name, octets);
    if (reply.scope === undefined || reply.addresses.length === 0) throw new Error(`${octets.join('.')}.0/24: no address or no ECS scope in the reply`);
    answers.add(reply.addresses.join(','));
    lines.push(`${octets.join('.')}.0/24 → ${reply.addresses.join(',')} scope /${reply.scope}`);
  }
  if (answers.size < minEdges) throw new Error(`answers do not vary by network: ${lines.join('; ')}`);
  return lines.join(', ');
}
