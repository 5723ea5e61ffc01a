// Node configuration: every address and path from a flag, else an EDGEDNS_* variable, else a default that runs
// one node on a bare machine (loopback, unprivileged ports, ./data).

import os from 'node:os';
import { isIP } from 'node:net';

export interface Address {
  host: string;
  port: number;
}

export interface NodeConfig {
  dns: Address;
  api: Address;
  dataDir: string;
  zonesDir?: string;
  nodeId: string;
  /** Answer to CHAOS version.bind; REFUSED when unset. */
  chaosVersion?: string;
  logLevel: string;
  /** TCP connections idle this long are closed (RFC 7766 §6.2.3 suggests seconds, not minutes). */
  tcpIdleTimeoutMs: number;
}

export type Flags = Record<string, string | boolean | undefined>;

export class ConfigError extends Error {}

export const DEFAULTS = {
  dns: '127.0.0.1:5300',
  api: '127.0.0.1:8053',
  data: './data',
  logLevel: 'info',
};

export function parseAddress(text: string, what: string): Address {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new ConfigError(`${what} "${text}" is not HOST:PORT (use [::1]:5300 for IPv6)`);
  const host = m[1];
  const port = Number(m[2]);
  if (!isIP(host) && host !== 'localhost') throw new ConfigError(`${what} host "${host}" is not an IP address`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${what} port "${m[2]}" is not 0-65535`);
  return { host: host === 'localhost' ? '127.0.0.1' : host, port };
}

function seconds(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 3600) throw new ConfigError(`${what} "${text}" is not a number of seconds between 0 and 3600`);
  return value;
}

function pick(flags: Flags, flag: string, env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const value = flags[flag];
  if (typeof value === 'string') return value;
  if (value === true) throw new ConfigError(`--${flag} needs a value`);
  const fromEnv = env[variable];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
}

export function resolveConfig(flags: Flags, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const nodeId = pick(flags, 'node-id', env, 'EDGEDNS_NODE_ID') ?? os.hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(nodeId)) {
    throw new ConfigError(`node id "${nodeId}" must be 1-63 letters, digits, ".", "_" or "-"`);
  }
  return {
    dns: parseAddress(pick(flags, 'dns', env, 'EDGEDNS_DNS') ?? DEFAULTS.dns, '--dns'),
    api: parseAddress(pick(flags, 'api', env, 'EDGEDNS_API') ?? DEFAULTS.api, '--api'),
    dataDir: pick(flags, 'data', env, 'EDGEDNS_DATA') ?? DEFAULTS.data,
    zonesDir: pick(flags, 'zones', env, 'EDGEDNS_ZONES'),
    nodeId,
    chaosVersion: pick(flags, 'chaos-version', env, 'EDGEDNS_CHAOS_VERSION'),
    logLevel: pick(flags, 'log-level', env, 'EDGEDNS_LOG_LEVEL') ?? DEFAULTS.logLevel,
    tcpIdleTimeoutMs: seconds(pick(flags, 'tcp-idle-timeout', env, 'EDGEDNS_TCP_IDLE_TIMEOUT') ?? '10', '--tcp-idle-timeout') * 1000,
  };
}
