// Each contract test opens its own fresh database (or store), and every one opened must be closed
// after the test, also when the test failed: that bookkeeping, once for every contract suite.

import { afterEach } from 'node:test';

export interface Closable {
  close(): Promise<void>;
}

export interface FreshPerTest<T extends Closable> {
  /** Opens a fresh one with the suite's `open`; it is closed after the test. */
  fresh(): Promise<T>;
  /** Closes these after the test too (for those opened some other way). */
  closeAfterTest(...opened: T[]): void;
}

/** Call inside a describe: registers the afterEach that closes what that describe's tests opened. */
export function freshPerTest<T extends Closable>(open: () => Promise<T>): FreshPerTest<T> {
  const opened: T[] = [];
  afterEach(async () => {
    for (const each of opened.splice(0)) await each.close();
  });
  return {
    async fresh() {
      const each = await open();
      opened.push(each);
      return each;
    },
    closeAfterTest(...more) {
      opened.push(...more);
    },
  };
}
