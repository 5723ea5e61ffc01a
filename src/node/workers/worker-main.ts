// A DNS worker (--workers N): answers queries on the node's shared DNS sockets from its own zone index and geo
// state, both fed from the primary's store over IPC. Started by primary.ts with its configuration in the
// environment; exits when the primary goes.

import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startAnswering, tcpOptions, type Answering } from '../answering.js';
import type { NodeConfig } from '../config.js';
import { closeDns, listenDns, type DnsListener } from '../../dns/listen.js';
import type { EdgeObservation } from '../../geo/health-docs.js';
import { LocalState } from '../../store/local-state.js';
import { SnapshotStore } from '../../store/snapshot.js';
import { StoreHealth } from '../../store/store-health.js';
import { IpcStore, processChannel } from './ipc-store.js';
import { collectProcessMetrics } from '../process-metrics.js';

const config = JSON.parse(process.env.EDGEDNS_WORKER_CONFIG ?? 'null') as NodeConfig | null;
if (!config || !process.send) {
  process.stderr.write('worker-main runs only as a DNS worker started by `edgedns serve --workers N`\n');
  process.exit(2);
}
const index = process.env.EDGEDNS_WORKER_INDEX ?? '?';
const logger = pino({ level: config.logLevel, base: { node: config.nodeId, worker: index } });
const channel = processChannel();
const registry = new Registry();
collectProcessMetrics(registry);

let answering: Answering | undefined;
let observations: [string, EdgeObservation][] | undefined;
let primaryHealth: string | undefined;
let listeners: DnsListener[] = [];

channel.onMessage((message) => {
  if (message.kind === 'observations') {
    observations = message.observations;
    answering?.geo.state.setOwnObservations(new Map(observations));
  } else if (message.kind === 'health') {
    primaryHealth = message.text;
  } else if (message.kind === 'metrics-request') {
    void registry.getMetricsAsJSON().then((metrics) => channel.send({ kind: 'metrics', id: message.id, metrics }));
  } else if (message.kind === 'reload') {
    logger.level = message.logLevel;
    const geo = answering?.geo;
    void (geo ? geo.reloadGeoip() : Promise.resolve([])).then((geoip) => channel.send({ kind: 'reloaded', id: message.id, geoip }));
  } else if (message.kind === 'drain') {
    void stop(message.drainMs);
  }
});

// Ctrl-C, a terminal's hangup and systemd's SIGTERM reach the whole process group; the primary decides what the
// workers do (it tells them to reload, to drain, or disconnects them).
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
process.on('SIGTERM', () => undefined);

let stopping = false;
async function stop(drainMs?: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await closeDns(listeners, drainMs).catch(() => undefined);
  await answering?.close().catch(() => undefined);
  process.exit(0);
}
process.on('disconnect', () => void stop());

async function start(node: NodeConfig): Promise<void> {
  const store = new IpcStore(channel, process.env.EDGEDNS_WORKER_STORE ?? 'primary');
  const health = new StoreHealth(registry);
  // With the store down, a worker starts from the primary's snapshot like the primary does (read only).
  const snapshot = new SnapshotStore({ dataDir: node.dataDir, logger, registry, readOnly: true });
  // Likewise the edges and pools the primary keeps in local state.
  const localState = new LocalState({ dataDir: node.dataDir, logger, registry, readOnly: true });
  answering = await startAnswering({ store, registry, logger, config: node, health, snapshot, localState, probes: false, healthText: () => primaryHealth ?? health.text() });
  if (observations) answering.geo.state.setOwnObservations(new Map(observations));
  listeners = await listenDns(node.dns, answering.handler(), logger, tcpOptions(node, registry));
  const { catalog } = answering;
  const reportSerials = (): void =>
    channel.send({ kind: 'zones-applied', serials: catalog.names().flatMap((name): [string, number][] => { const soa = catalog.get(name)?.soaSerial; return soa === undefined ? [] : [[name, soa]]; }) });
  answering.sync.onApplied(reportSerials);
  reportSerials();
  channel.send({ kind: 'ready', ports: listeners.map((l) => l.udp.port) });
}

start(config).catch((err: unknown) => {
  logger.error({ err }, 'DNS worker failed to start');
  channel.send({ kind: 'start-failed', error: (err as Error).message ?? String(err) });
  setTimeout(() => process.exit(1), 100).unref();
});
