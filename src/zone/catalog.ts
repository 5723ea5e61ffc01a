// Which zone answers a name: the longest served apex that is a suffix of it (RFC 1034 §4.3.2 step 2).
// Zones are swapped in whole; a reader holds either the old index or the new one, never a mix.

import { parentKey } from '../proto/names.js';
import type { ZoneIndex } from './zone-index.js';

export class Catalog {
  private readonly zones = new Map<string, ZoneIndex>();

  find(qname: string): ZoneIndex | undefined {
    // Without escapes every "." ends a label, so suffixes are plain slices; escaped names take the careful walk.
    if (qname.indexOf('\\') < 0) {
      for (let i = 0; i < qname.length; i = qname.indexOf('.', i) + 1) {
        const zone = this.zones.get(i === 0 ? qname : qname.slice(i));
        if (zone) return zone;
        if (qname.length - i <= 1) break;
      }
      return this.zones.get('.');
    }
    for (let key: string | undefined = qname; key !== undefined; key = parentKey(key)) {
      const zone = this.zones.get(key);
      if (zone) return zone;
    }
    return undefined;
  }

  get(name: string): ZoneIndex | undefined {
    return this.zones.get(name);
  }

  set(name: string, index: ZoneIndex): void {
    this.zones.set(name, index);
  }

  delete(name: string): void {
    this.zones.delete(name);
  }

  names(): string[] {
    return [...this.zones.keys()].sort();
  }

  get size(): number {
    return this.zones.size;
  }
}
