// Bounds the database lookups of tokens that are not in memory. A token that passes the checksum
// but is not cached needs one lookup to tell a valid token from a guess, and an attacker can
// compute checksums, so a flood of such tokens could otherwise hold every database connection.
// Lookups run at most `perKey` at a time for one client address and at most `total` at a time in
// all; the rest wait (never refused: a waiting request may carry a valid token), and waiting
// addresses take turns, so a flood from one address delays the other addresses' lookups by at most
// a turn each, and costs the database at most `total` lookups at once, whatever its size.

interface Lane {
  running: number;
  waiting: (() => void)[];
  /** Whether the lane is in the turn queue. */
  queued: boolean;
}

/** A first-in first-out queue with O(1) take (arrays' shift is O(n)). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export class LookupGate {
  private running = 0;
  private readonly lanes = new Map<string, Lane>();
  /** Lanes with a waiting lookup that may start, in turn order. */
  private readonly turns = new Fifo<string>();

  constructor(
    private readonly perKey: number,
    private readonly total: number,
  ) {}

  /** Runs `lookup` when `key` (a client address) and the whole gate have room. */
  run<T>(key: string, lookup: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        // The place is free again before the caller goes on.
        Promise.resolve()
          .then(lookup)
          .then(
            (value) => {
              this.finished(key);
              resolve(value);
            },
            (error: unknown) => {
              this.finished(key);
              reject(error);
            },
          );
      };
      const lane = this.lane(key);
      if (lane.waiting.length === 0 && lane.running < this.perKey && this.running < this.total) {
        this.begin(lane);
        start();
        return;
      }
      lane.waiting.push(start);
      this.enqueue(key, lane);
    });
  }

  /** Lookups running and waiting, for tests and metrics. */
  get load(): { running: number; waiting: number } {
    let waiting = 0;
    for (const lane of this.lanes.values()) waiting += lane.waiting.length;
    return { running: this.running, waiting };
  }

  private lane(key: string): Lane {
    let lane = this.lanes.get(key);
    if (lane === undefined) this.lanes.set(key, (lane = { running: 0, waiting: [], queued: false }));
    return lane;
  }

  private begin(lane: Lane): void {
    lane.running++;
    this.running++;
  }

  private enqueue(key: string, lane: Lane): void {
    if (lane.queued || lane.waiting.length === 0 || lane.running >= this.perKey) return;
    lane.queued = true;
    this.turns.push(key);
  }

  private finished(key: string): void {
    const lane = this.lanes.get(key)!;
    lane.running--;
    this.running--;
    this.enqueue(key, lane);
    this.dispatch();
    if (lane.running === 0 && lane.waiting.length === 0) this.lanes.delete(key);
  }

  private dispatch(): void {
    while (this.running < this.total) {
      const key = this.turns.shift();
      if (key === undefined) return;
      const lane = this.lanes.get(key)!;
      lane.queued = false;
      const next = lane.waiting.shift();
      if (next === undefined) continue;
      this.begin(lane);
      this.enqueue(key, lane); // one lookup a turn: back to the end of the queue
      next();
    }
  }
}
