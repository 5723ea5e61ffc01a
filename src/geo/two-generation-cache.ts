// A bounded cache for the per-query geo path, where a flood of client networks never seen before is a normal load:
// an LRU pays for its bookkeeping on every insert, this one only for a Map.set. Eviction is by generation, roughly
// least recently used; a cache here only ever saves recomputing.

/**
 * Entries go to a young Map; a full young Map becomes the old one and the previous old one is dropped whole. A hit
 * in the old Map copies the entry back, so what is asked again stays. At most `max` entries.
 */
export class TwoGenerationCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly half: number;

  constructor(max: number) {
    this.half = Math.max(1, max >> 1);
  }

  get(key: K): V | undefined {
    const value = this.young.get(key);
    if (value !== undefined) return value;
    const older = this.old.get(key);
    if (older !== undefined) this.set(key, older);
    return older;
  }

  set(key: K, value: V): void {
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  /** Entries held, about: one copied back from the old generation counts twice until that generation goes. */
  get size(): number {
    return this.young.size + this.old.size;
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
  }
}

/**
 * The same for keys made of a tag and a number, each tag its own Map: a key below 2^30 is then a small integer,
 * which a Map hashes and compares in place, where a larger number is a heap object to hash and load.
 */
export class TaggedTwoGenerationCache<V> {
  private young = new Map<number, Map<number, V>>();
  private old = new Map<number, Map<number, V>>();
  private youngSize = 0;
  private readonly half: number;

  constructor(max: number) {
    this.half = Math.max(1, max >> 1);
  }

  get(tag: number, key: number): V | undefined {
    const value = this.young.get(tag)?.get(key);
    if (value !== undefined) return value;
    const older = this.old.get(tag)?.get(key);
    if (older !== undefined) this.set(tag, key, older);
    return older;
  }

  set(tag: number, key: number, value: V): void {
    if (this.youngSize >= this.half) {
      this.old = this.young;
      this.young = new Map();
      this.youngSize = 0;
    }
    let map = this.young.get(tag);
    if (!map) this.young.set(tag, (map = new Map()));
    const before = map.size;
    map.set(key, value);
    this.youngSize += map.size - before;
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
    this.youngSize = 0;
  }
}
