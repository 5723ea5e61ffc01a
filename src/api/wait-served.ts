// Waits until this node's own zone index serves a given SOA serial, so "written" means "answering here".

import type { Catalog } from '../zone/catalog.js';
import type { ZoneSync } from '../zone/zone-sync.js';
import { serialGreater } from '../zone/zone-writer.js';
import { waitApplied } from '../store/wait-applied.js';

export const APPLY_WAIT_MS = 2000;

export function waitServed(sync: ZoneSync, catalog: Catalog, zone: string, serial: number, timeoutMs = APPLY_WAIT_MS): Promise<boolean> {
  return waitApplied(
    (listener) => sync.onApplied(listener),
    () => {
      const current = catalog.get(zone)?.soaSerial;
      return current !== undefined && (current === serial || serialGreater(current, serial));
    },
    timeoutMs,
  );
}

/** Waits until this node no longer serves `zone` (after a delete). */
export function waitGone(sync: ZoneSync, catalog: Catalog, zone: string, timeoutMs = APPLY_WAIT_MS): Promise<boolean> {
  return waitApplied((listener) => sync.onApplied(listener), () => !catalog.get(zone), timeoutMs);
}
