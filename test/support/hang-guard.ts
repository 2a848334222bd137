// Fails a promise that has not settled in time: the fuzz campaign's hang detector. The limit is
// generous (a hang, not slowness, is what it detects). The timer keeps the process alive on purpose:
// a promise that never settles and holds nothing else open would otherwise just end the process.

export class HangError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${ms} ms (a hang)`);
    this.name = 'HangError';
  }
}

export async function withinOrHang<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HangError(what, ms)), ms);
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HangDetector {
  run<T>(promise: Promise<T>, what: string): Promise<T>;
}

/** Gives every promise the full limit (the long run reports each hang; it does not shrink them). */
export function fixedHangLimit(ms: number): HangDetector {
  return { run: (promise, what) => withinOrHang(promise, ms, what) };
}

/**
 * A hang detector for one property: once an input has hung, fast-check shrinks it by running
 * similar inputs that hang too, so later hangs are called after a tenth of the limit (the run has
 * failed already; this only keeps the shrinking from taking many times the full limit).
 */
export class HangGuard implements HangDetector {
  private limitMs: number;

  constructor(private readonly ms: number) {
    this.limitMs = ms;
  }

  async run<T>(promise: Promise<T>, what: string): Promise<T> {
    try {
      return await withinOrHang(promise, this.limitMs, what);
    } catch (error) {
      if (error instanceof HangError) this.limitMs = Math.max(1000, Math.floor(this.ms / 10));
      throw error;
    }
  }
}
