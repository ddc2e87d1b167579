/**
 * Exact-duplicate memory for readings: remembers the last `capacity` (stream, ts) pairs across
 * all streams, forgetting the oldest first. Each stream keeps its own Set of numeric
 * timestamps, so a check is one number lookup: no key string is built, hashed or retained.
 */
export interface StampOwner {
  stamps?: Set<number>;
}

export class RecentStamps {
  /** Insertion order as parallel arrays (stamps stays an unboxed double array); grows to capacity, then `next` is the oldest. */
  private owners: StampOwner[] = [];
  private order: number[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError('capacity must be positive');
  }

  /** Records `ts` for `owner`; returns false when that pair is already remembered. */
  addIfNew(owner: StampOwner, ts: number): boolean {
    let stamps = owner.stamps;
    if (stamps === undefined) stamps = owner.stamps = new Set<number>();
    else if (stamps.has(ts)) return false;
    stamps.add(ts);
    if (this.owners.length < this.capacity) {
      this.owners.push(owner);
      this.order.push(ts);
    } else {
      this.owners[this.next].stamps?.delete(this.order[this.next]);
      this.owners[this.next] = owner;
      this.order[this.next] = ts;
      this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    }
    return true;
  }

  get size(): number {
    return this.owners.length;
  }

  clear(): void {
    for (const owner of this.owners) owner.stamps = undefined;
    this.owners = [];
    this.order = [];
    this.next = 0;
  }
}
