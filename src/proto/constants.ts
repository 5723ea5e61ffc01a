// Wire constants from RFC 1035 §3.2, RFC 6891 and the IANA DNS parameters registry.

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  // RFC 2136 §2.2: what an UPDATE's prerequisites and zone section can fail with
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  BADVERS: 16,
} as const;

export const Opcode = { QUERY: 0, NOTIFY: 4, UPDATE: 5 } as const;

export const Class = { IN: 1, CH: 3, NONE: 254, ANY: 255 } as const;

/** Types edgedns knows by mnemonic; anything else is handled in RFC 3597 `TYPEnnn` form. */
export const Type = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  NULL: 10,
  PTR: 12,
  HINFO: 13,
  MINFO: 14,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  AAAA: 28,
  LOC: 29,
  SRV: 33,
  NAPTR: 35,
  KX: 36,
  CERT: 37,
  DNAME: 39,
  OPT: 41,
  APL: 42,
  DS: 43,
  SSHFP: 44,
  IPSECKEY: 45,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  DHCID: 49,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  SMIMEA: 53,
  CDS: 59,
  CDNSKEY: 60,
  OPENPGPKEY: 61,
  CSYNC: 62,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  EUI48: 108,
  EUI64: 109,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  URI: 256,
  CAA: 257,
} as const;

const NAMES = new Map<number, string>(Object.entries(Type).map(([name, code]) => [code, name]));

export function typeName(code: number): string {
  return NAMES.get(code) ?? `TYPE${code}`;
}

/** Accepts a mnemonic or the RFC 3597 `TYPEnnn` form, case-insensitively. */
export function typeCode(name: string): number | undefined {
  const upper = name.toUpperCase();
  const known = (Type as Record<string, number>)[upper];
  if (known !== undefined) return known;
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  if (!m) return undefined;
  const code = Number(m[1]);
  return code <= 0xffff ? code : undefined;
}

export function rcodeName(code: number): string {
  for (const [name, value] of Object.entries(Rcode)) if (value === code) return name;
  return `RCODE${code}`;
}

/** The payload size we advertise and honour; 1232 is the DNS Flag Day 2020 value that avoids IP fragmentation. */
export const EDNS_UDP_PAYLOAD = 1232;
export const MIN_UDP_PAYLOAD = 512;
