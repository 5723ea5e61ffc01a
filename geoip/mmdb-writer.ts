// A small writer for the MaxMind DB format (https://maxmind.github.io/MaxMind-DB/), enough to build test databases
// from a readable CSV: an IPv6 tree (IPv4 networks under ::/96, as GeoLite2 stores them), 32-bit records, and a data
// section of maps, strings, doubles and unsigned integers. No JavaScript writer is maintained on npm, so the
// project keeps its own; the real databases (GeoLite2, DB-IP) are only ever read, with `maxmind`.

import { isIPv4, isIPv6 } from 'node:net';

export type MmdbValue = string | number | boolean | MmdbValue[] | { [key: string]: MmdbValue };

export interface MmdbNetwork {
  /** "81.2.69.0/24" or "2a02:c7f::/32". */
  cidr: string;
  data: { [key: string]: MmdbValue };
}

export interface MmdbOptions {
  databaseType: string;
  description?: string;
  /** Seconds since the epoch; fixed in tests so the file is reproducible. */
  buildEpoch?: number;
}

const METADATA_MARKER = Buffer.from([0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com')]);
const RECORD_BITS = 32;

/** The address as 16 octets (IPv4 mapped into ::/96) and the prefix counted in IPv6 bits. */
export function parseCidr(cidr: string): { bytes: Buffer; prefix: number } {
  const slash = cidr.indexOf('/');
  if (slash < 0) throw new Error(`network "${cidr}" has no /prefix`);
  const address = cidr.slice(0, slash);
  const prefix = Number(cidr.slice(slash + 1));
  const bytes = Buffer.alloc(16);
  if (isIPv4(address)) {
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`network "${cidr}": prefix is not 0-32`);
    address.split('.').forEach((part, i) => (bytes[12 + i] = Number(part)));
    return { bytes, prefix: prefix + 96 };
  }
  if (!isIPv6(address)) throw new Error(`network "${cidr}": not an IP address`);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 128) throw new Error(`network "${cidr}": prefix is not 0-128`);
  const [head, tail = ''] = address.split('::');
  const groups = (text: string): number[] => (text === '' ? [] : text.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = address.includes('::') ? groups(tail) : [];
  const all = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  all.forEach((g, i) => bytes.writeUInt16BE(g, i * 2));
  return { bytes, prefix };
}

// ---- data section encoding -------------------------------------------------------------------------------------

function control(type: number, size: number): Buffer {
  const head: number[] = [];
  let sizeBytes: number[] = [];
  let sizeBits = size;
  if (size >= 65821) {
    sizeBits = 31;
    const v = size - 65821;
    sizeBytes = [(v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  } else if (size >= 285) {
    sizeBits = 30;
    const v = size - 285;
    sizeBytes = [(v >>> 8) & 0xff, v & 0xff];
  } else if (size >= 29) {
    sizeBits = 29;
    sizeBytes = [size - 29];
  }
  if (type <= 7) head.push((type << 5) | sizeBits);
  else head.push(sizeBits, type - 7); // extended type: 0 in the type bits, then type - 7
  return Buffer.from([...head, ...sizeBytes]);
}

function uintBytes(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v > 0) {
    out.unshift(v % 256);
    v = Math.floor(v / 256);
  }
  return Buffer.from(out);
}

export function encodeValue(value: MmdbValue): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([control(2, bytes.length), bytes]);
  }
  if (typeof value === 'boolean') return control(14, value ? 1 : 0);
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) {
      const bytes = uintBytes(value);
      return Buffer.concat([control(value <= 0xffff ? 5 : 6, bytes.length), bytes]);
    }
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(value);
    return Buffer.concat([control(3, 8), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map(encodeValue)]);
  const entries = Object.entries(value);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, v]) => [encodeValue(k), encodeValue(v)])]);
}

// ---- search tree -----------------------------------------------------------------------------------------------

interface TrieNode {
  children: [TrieNode | number | undefined, TrieNode | number | undefined];
}

function bitAt(bytes: Buffer, i: number): 0 | 1 {
  return ((bytes[i >> 3] >> (7 - (i & 7))) & 1) as 0 | 1;
}

/** Builds the database. Later networks override earlier ones where they overlap. */
export function writeMmdb(networks: MmdbNetwork[], options: MmdbOptions): Buffer {
  const dataParts: Buffer[] = [];
  const offsets = new Map<string, number>();
  let dataSize = 0;
  const root: TrieNode = { children: [undefined, undefined] };

  for (const network of networks) {
    const { bytes, prefix } = parseCidr(network.cidr);
    if (prefix === 0) throw new Error('a /0 network cannot be stored');
    const encoded = encodeValue(network.data);
    const key = encoded.toString('hex');
    let offset = offsets.get(key);
    if (offset === undefined) {
      offset = dataSize;
      offsets.set(key, offset);
      dataParts.push(encoded);
      dataSize += encoded.length;
    }
    let node = root;
    for (let depth = 0; depth < prefix - 1; depth++) {
      const bit = bitAt(bytes, depth);
      let child = node.children[bit];
      if (typeof child !== 'object') {
        // splitting a shorter network that was here: both halves keep its data
        const next: TrieNode = { children: [child, child] };
        node.children[bit] = next;
        child = next;
      }
      node = child;
    }
    node.children[bitAt(bytes, prefix - 1)] = offset;
  }

  // Number the nodes breadth-first; the root is node 0.
  const order: TrieNode[] = [root];
  const numbers = new Map<TrieNode, number>([[root, 0]]);
  for (let i = 0; i < order.length; i++) {
    for (const child of order[i].children) {
      if (typeof child === 'object' && !numbers.has(child)) {
        numbers.set(child, order.length);
        order.push(child);
      }
    }
  }
  const nodeCount = order.length;
  const tree = Buffer.alloc(nodeCount * 8);
  order.forEach((node, i) => {
    node.children.forEach((child, side) => {
      let record: number;
      if (child === undefined) record = nodeCount; // "no data"
      else if (typeof child === 'number') record = nodeCount + 16 + child;
      else record = numbers.get(child) as number;
      tree.writeUInt32BE(record, i * 8 + side * 4);
    });
  });

  const metadata = encodeValue({
    node_count: nodeCount,
    record_size: RECORD_BITS,
    ip_version: 6,
    database_type: options.databaseType,
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: options.buildEpoch ?? Math.floor(Date.now() / 1000),
    description: { en: options.description ?? options.databaseType },
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...dataParts, METADATA_MARKER, metadata]);
}
