/**
 * A bounded set of recently seen keys: the oldest key is forgotten first.
 * Used to drop exact duplicates without unbounded memory.
 *
 * Eviction order is kept in a ring buffer, not by iterating the Set: V8 leaves deleted Set
 * entries as holes until the table is rehashed, so `keys.values().next()` after many
 * front deletions walks thousands of holes (O(capacity) per add).
 */
export class RecentKeys {
  private readonly keys = new Set<string>();
  /** Keys in insertion order; grows to `capacity`, then `next` marks the oldest. */
  private ring: string[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError('capacity must be positive');
  }

  /** Adds `key`; returns false when it was already present. */
  addIfNew(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.ring.length < this.capacity) {
      this.ring.push(key);
    } else {
      this.keys.delete(this.ring[this.next]);
      this.ring[this.next] = key;
      this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    }
    return true;
  }

  get size(): number {
    return this.keys.size;
  }

  clear(): void {
    this.keys.clear();
    this.ring = [];
    this.next = 0;
  }
}
