// Parsers for the values of `edgedns serve` options. Each takes the text and the name it came under (`--dns` or
// `EDGEDNS_DNS`, so the error points where the operator wrote it) and returns the value or throws ConfigError.

import os from 'node:os';
import { isIP } from 'node:net';
import { parseNetwork } from '../dns/client-address.js';

export class ConfigError extends Error {}

export interface Address {
  host: string;
  port: number;
}

export type ValueParser<T> = (text: string, name: string) => T;

export function parseAddress(text: string, what: string): Address {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new ConfigError(`${what} "${text}" is not HOST:PORT (use [::1]:5300 for IPv6)`);
  const host = m[1];
  const port = Number(m[2]);
  if (!isIP(host) && host !== 'localhost') throw new ConfigError(`${what} host "${host}" is not an IP address`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${what} port "${m[2]}" is not 0-65535`);
  return { host: host === 'localhost' ? '127.0.0.1' : host, port };
}

/** One or more HOST:PORT, comma-separated (the flag given several times arrives joined by commas too). */
export const addressList: ValueParser<Address[]> = (value, name) => {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new ConfigError(`${name} "${value}" has an empty address (HOST:PORT[,HOST:PORT])`);
  const addresses = parts.map((p) => parseAddress(p, name));
  const seen = new Set<string>();
  for (const a of addresses) {
    const key = `${a.host}|${a.port}`;
    if (a.port !== 0 && seen.has(key)) throw new ConfigError(`${name} names ${a.host}:${a.port} twice`);
    seen.add(key);
  }
  return addresses;
};

export const text: ValueParser<string> = (value) => value;

/** An NSID (RFC 5001) as text: printable ASCII, 1-128 characters; `none` for no NSID (the empty string). */
export const nsidText: ValueParser<string> = (value, name) => {
  if (value === 'none') return '';
  if (!/^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/.test(value)) throw new ConfigError(`${name} "${value}" must be 1-128 printable ASCII characters, or none`);
  return value;
};

/** Seconds in (0, 3600], returned as milliseconds. */
export const secondsAsMs: ValueParser<number> = (value, name) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new ConfigError(`${name} "${value}" is not a number of seconds between 0 and 3600`);
  return n * 1000;
};

/** `auto`, or seconds in (0, 3600] as milliseconds. */
export const secondsOrAuto: ValueParser<number | 'auto'> = (value, name) => {
  if (value === 'auto') return 'auto';
  try {
    return secondsAsMs(value, name);
  } catch {
    throw new ConfigError(`${name} "${value}" is neither auto nor a number of seconds between 0 and 3600`);
  }
};

export function wholeNumber(min: number, max: number, unit = ''): ValueParser<number> {
  return (value, name) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} "${value}" is not a whole number ${unit}${min}-${max}`);
    return n;
  };
}

export const httpUrl: ValueParser<string> = (value, name) => {
  if (!/^https?:\/\/[^/]/.test(value)) throw new ConfigError(`${name} "${value}" is not an http(s) URL`);
  return value;
};

export const nodeId: ValueParser<string> = (value, name) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(value)) throw new ConfigError(`${name} "${value}" must be 1-63 letters, digits, ".", "_" or "-"`);
  return value;
};

export const couchPrefix: ValueParser<string> = (value, name) => {
  if (!/^[a-z][a-z0-9_$()+-]*$/.test(value)) throw new ConfigError(`${name} "${value}" must start with a-z and hold only a-z, 0-9, _$()+- (CouchDB database names)`);
  return value;
};

export const domainName: ValueParser<string> = (value, name) => {
  const domain = value.toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?)*$/.test(domain) || domain.length > 200) {
    throw new ConfigError(`${name} "${domain}" is not a domain name`);
  }
  return domain;
};

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export const logLevel: ValueParser<string> = (value, name) => {
  if (!LOG_LEVELS.includes(value)) throw new ConfigError(`${name} "${value}" is not one of ${LOG_LEVELS.join(', ')}`);
  return value;
};

/** Comma-separated .mmdb paths; "none" for no GeoIP (an empty list). */
export const geoipPaths: ValueParser<string[]> = (value, name) => {
  if (value === 'none') return [];
  const paths = value.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (paths.length === 0) throw new ConfigError(`${name} "${value}" names no file`);
  return paths;
};

/** 1-64, or `auto`: one per CPU this process may use. */
export const workerCount: ValueParser<number> = (value, name) => {
  if (value === 'auto') return Math.max(1, Math.min(64, os.availableParallelism()));
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new ConfigError(`${name} "${value}" is not a whole number 1-64 or "auto"`);
  return count;
};

/** A switch: the flag alone, or its variable set to true/false, yes/no, 1/0. */
export const onOff: ValueParser<boolean> = (value, name) => {
  if (/^(?:true|yes|1)$/i.test(value)) return true;
  if (/^(?:false|no|0)$/i.test(value)) return false;
  throw new ConfigError(`${name} "${value}" is not true or false`);
};

/** A comma-separated list of networks in CIDR form, or `none` for an empty list. */
export const networkList: ValueParser<string[]> = (value, name) => {
  if (value.trim() === 'none') return [];
  const networks = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const network of networks) {
    try {
      parseNetwork(network);
    } catch (err) {
      throw new ConfigError(`${name}: ${(err as Error).message}`);
    }
  }
  return networks;
};

/** An ACME directory: an https URL, `none`, or the name of a well-known CA (src/acme/acme-config.ts). */
export const acmeDirectory: ValueParser<string> = (value, name) => {
  if (value === 'none' || value === 'letsencrypt' || value === 'letsencrypt-staging' || /^https?:\/\/[^/]/.test(value)) return value;
  throw new ConfigError(`${name} "${value}" is not an ACME directory URL, letsencrypt, letsencrypt-staging or none`);
};

export const email: ValueParser<string> = (value, name) => {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) throw new ConfigError(`${name} "${value}" is not an e-mail address`);
  return value;
};

/** `LAT,LON` in decimal degrees, e.g. 50.11,8.68. */
export const latLon: ValueParser<{ latitude: number; longitude: number }> = (value, name) => {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(value);
  const latitude = Number(m?.[1]);
  const longitude = Number(m?.[2]);
  if (!m || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) throw new ConfigError(`${name} "${value}" is not LATITUDE,LONGITUDE in degrees (e.g. 50.11,8.68)`);
  return { latitude, longitude };
};
