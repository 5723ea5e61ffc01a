// Waits until this node's own zone index serves a given SOA serial, so "written" means "answering here".

import type { Catalog } from '../zone/catalog.js';
import type { ZoneSync } from '../zone/zone-sync.js';
import { serialGreater } from '../zone/zone-writer.js';

export const APPLY_WAIT_MS = 2000;

export function waitServed(sync: ZoneSync, catalog: Catalog, zone: string, serial: number, timeoutMs = APPLY_WAIT_MS): Promise<boolean> {
  const served = (): boolean => {
    const current = catalog.get(zone)?.soaSerial;
    return current !== undefined && (current === serial || serialGreater(current, serial));
  };
  if (served()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(served());
    }, timeoutMs);
    const stop = sync.onApplied(() => {
      if (!served()) return;
      clearTimeout(timer);
      stop();
      resolve(true);
    });
  });
}

/** Waits until this node no longer serves `zone` (after a delete). */
export function waitGone(sync: ZoneSync, catalog: Catalog, zone: string, timeoutMs = APPLY_WAIT_MS): Promise<boolean> {
  if (!catalog.get(zone)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(!catalog.get(zone));
    }, timeoutMs);
    const stop = sync.onApplied(() => {
      if (catalog.get(zone)) return;
      clearTimeout(timer);
      stop();
      resolve(true);
    });
  });
}
