// Waits until every process answering DNS on this node serves a given SOA serial, so "written" means "answering
// here": the node's own zone index, and with --workers each DNS worker's as well.

import type { Catalog } from '../zone/catalog.js';
import type { ZoneSync } from '../zone/zone-sync.js';
import { serialGreater } from '../zone/zone-writer.js';
import { waitApplied, type OnApplied } from '../store/wait-applied.js';

export const APPLY_WAIT_MS = 2000;

/** How long a write of `rrsets` RRsets may take to be served here: a 100,000-record import takes seconds to index. */
export function servedWaitMs(rrsets: number): number {
  return APPLY_WAIT_MS + Math.ceil(rrsets / 5);
}

/** Which serial of a zone the answering processes serve (undefined: they do not serve the zone). */
export interface ServedZones {
  onApplied: OnApplied;
  /** True when `accept` holds for the serial every answering process serves. */
  everywhere(zone: string, accept: (serial: number | undefined) => boolean): boolean;
}

/** A node answering from this process's own catalog. */
export function servedByCatalog(sync: ZoneSync, catalog: Catalog): ServedZones {
  return {
    onApplied: (listener) => sync.onApplied(listener),
    everywhere: (zone, accept) => accept(catalog.get(zone)?.soaSerial),
  };
}

export function waitServed(served: ServedZones, zone: string, serial: number, timeoutMs = APPLY_WAIT_MS): Promise<boolean> {
  return waitApplied(
    served.onApplied,
    () => served.everywhere(zone, (current) => current !== undefined && (current === serial || serialGreater(current, serial))),
    timeoutMs,
  );
}

/** Waits until this node no longer serves `zone` (after a delete). */
export function waitGone(served: ServedZones, zone: string, timeoutMs = APPLY_WAIT_MS): Promise<boolean> {
  return waitApplied(served.onApplied, () => served.everywhere(zone, (current) => current === undefined), timeoutMs);
}
