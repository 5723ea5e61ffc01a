// The response to an UPDATE (RFC 2136 §3.8): the request's ID, QR, opcode UPDATE and the rcode, the zone section
// echoed as it came, an OPT when the request had one, and nothing else; TSIG is appended by the signer.

import { EDNS_UDP_PAYLOAD, Opcode, Type } from '../proto/constants.js';

export interface UpdateHead {
  id: number;
  /** Offset past the request's zone section; 12 when it could not be read (no zone section is echoed). */
  zoneEnd: number;
  edns: boolean;
}

export function updateResponse(request: Buffer, head: UpdateHead, rcode: number): Buffer {
  const zone = request.subarray(12, head.zoneEnd);
  const opt = head.edns ? Buffer.alloc(11) : Buffer.alloc(0);
  if (head.edns) {
    opt.writeUInt16BE(Type.OPT, 1);
    opt.writeUInt16BE(EDNS_UDP_PAYLOAD, 3);
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(head.id, 0);
  header.writeUInt16BE(0x8000 | (Opcode.UPDATE << 11) | (rcode & 0xf), 2);
  header.writeUInt16BE(zone.length > 0 ? 1 : 0, 4);
  header.writeUInt16BE(head.edns ? 1 : 0, 10);
  return Buffer.concat([header, zone, opt]);
}
