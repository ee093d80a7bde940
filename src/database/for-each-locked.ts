import type { Transactions } from './transactions.js';
import type { UnitOfWork } from './unit-of-work.js';

/**
 * The skeleton of a periodic job that shares its work with other schedulers: for each candidate (read without
 * locks), one transaction in which `work` locks it, SKIP LOCKED or NOWAIT where it can (another scheduler holding it
 * has it), re-checks it under the lock and does its part. Returns how many `work` counted (true: one; a number: that
 * many). An error of one item ends the pass (the next run retries) unless `skip(err)` says to go on with the next.
 */
export async function forEachLocked<T>(
  transactions: Transactions,
  candidates: Iterable<T>,
  work: (tx: UnitOfWork, item: T) => Promise<boolean | number>,
  skip?: (err: unknown) => boolean,
): Promise<number> {
  let done = 0;
  for (const item of candidates) {
    try {
      done += Number(await transactions.run((tx) => work(tx, item)));
    } catch (err) {
      if (!skip?.(err)) throw err;
    }
  }
  return done;
}

/**
 * Runs `batch` (one statement or transaction over at most `size` rows, locked SKIP LOCKED) until it handles fewer
 * than `size`, or `signal` aborts; returns the total.
 */
export async function whileFull(size: number, batch: () => Promise<number>, signal?: AbortSignal): Promise<number> {
  let total = 0;
  while (!signal?.aborted) {
    const n = await batch();
    total += n;
    if (n < size) break;
  }
  return total;
}
