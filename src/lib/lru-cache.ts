// A cache bounded by a total cost (bytes, or 1 an entry), evicting in "second chance" order, a
// cheap approximation of least-recently-used: a hit only sets a flag (no reordering on the hot
// path); eviction walks from the oldest entry and gives flagged entries one more round.

interface Slot<V> {
  value: V;
  cost: number;
  used: boolean;
}

export class LruCache<K, V> {
  private readonly entries = new Map<K, Slot<V>>();
  private total = 0;

  constructor(
    private readonly maxCost: number,
    private readonly costOf: (value: V) => number = () => 1,
  ) {}

  get(key: K): V | undefined {
    const slot = this.entries.get(key);
    if (!slot) return undefined;
    slot.used = true;
    return slot.value;
  }

  set(key: K, value: V): void {
    this.delete(key);
    const cost = this.costOf(value);
    if (cost > this.maxCost) return;
    this.entries.set(key, { value, cost, used: false });
    this.total += cost;
    this.evict();
  }

  private evict(): void {
    while (this.total > this.maxCost) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [K, Slot<V>];
      this.entries.delete(oldestKey);
      if (oldest.used) {
        oldest.used = false;
        this.entries.set(oldestKey, oldest);
      } else {
        this.total -= oldest.cost;
      }
    }
  }

  delete(key: K): void {
    const slot = this.entries.get(key);
    if (!slot) return;
    this.entries.delete(key);
    this.total -= slot.cost;
  }

  /** Removes every entry whose value matches. */
  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, slot] of this.entries) if (predicate(slot.value)) this.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  get size(): number {
    return this.entries.size;
  }
}
