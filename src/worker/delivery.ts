import { backoffMs } from './domain/backoff.js';
import { isRetryable } from './lease-client.js';

export type Delivery<T> =
  | { outcome: 'accepted'; value: T }
  /** The server said no (409 lease lost, 404, another 4xx): sending it again would not help. */
  | { outcome: 'refused'; error: unknown }
  /** `stop` aborted first (the lease is gone, or the worker gave up at shutdown); its reason is kept. */
  | { outcome: 'stopped'; reason: unknown };

/**
 * Sends `send` until the server accepts or refuses it, retrying with backoff (domain/backoff.ts) on a network error
 * or a retryable status (a 503 while the database is down, a lock timeout, a failover), however long that lasts, or
 * until `stop` aborts. The calls it retries are idempotent: a completion repeated with the same payload is answered
 * as the first; log lines are appended once per accepted call.
 */
export async function deliver<T>(
  send: () => Promise<T>,
  stop: AbortSignal,
  onRetry: (err: unknown, attempt: number, delayMs: number) => void = () => undefined,
): Promise<Delivery<T>> {
  for (let attempt = 1; ; attempt++) {
    if (stop.aborted) return { outcome: 'stopped', reason: stop.reason };
    try {
      return { outcome: 'accepted', value: await send() };
    } catch (err) {
      if (!isRetryable(err)) return { outcome: 'refused', error: err };
      if (stop.aborted) return { outcome: 'stopped', reason: stop.reason };
      const delay = backoffMs(attempt, Math.random());
      onRetry(err, attempt, delay);
      await sleep(delay, stop);
    }
  }
}

function sleep(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    }
    stop.addEventListener('abort', done, { once: true });
  });
}

type Line = { line: string; stream: string };

/** Lines per request, and their size: well under the API's body limit (WEFT_BODY_LIMIT_BYTES, 2 MiB by default). */
const BATCH_LINES = 1000;
const BATCH_BYTES = 512 * 1024;

/**
 * An attempt's log lines on their way to the API, in order. A batch that fails for a retryable reason stays at the
 * front and goes with the next flush, so nothing is lost to an outage; while the API cannot be reached the worker
 * keeps at most `maxPendingBytes` of lines, dropping the oldest, and says how many in a line of its own.
 */
export class LogShipper {
  private pending: Line[] = [];
  private pendingBytes = 0;
  private dropped = 0;
  /** Lines at the front that a request under way carries: never dropped. */
  private inFlight = 0;
  private sending: Promise<void> | null = null;

  constructor(
    private readonly send: (lines: Line[]) => Promise<void>,
    private readonly maxPendingBytes = 8 * 1024 * 1024,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  add(line: string, stream: string): void {
    this.pending.push({ line, stream });
    this.pendingBytes += line.length;
    while (this.pendingBytes > this.maxPendingBytes && this.pending.length > this.inFlight + 1) {
      this.pendingBytes -= this.pending.splice(this.inFlight, 1)[0]!.line.length;
      this.dropped++;
    }
  }

  /** One pass: sends what is pending, batch by batch; stops at the first failure (thrown), keeping that batch. */
  flush(): Promise<void> {
    this.sending ??= this.sendAll().finally(() => (this.sending = null));
    return this.sending;
  }

  /** Everything pending, retried until accepted or refused (or `stop`): before the attempt's completion. */
  async drain(stop: AbortSignal, onRetry?: (err: unknown, attempt: number, delayMs: number) => void): Promise<Delivery<void>> {
    return deliver(
      async () => {
        // A flush under way (a timer's) is waited for, and whatever it left is sent again.
        await this.sending?.catch(() => undefined);
        await this.flush();
      },
      stop,
      onRetry,
    );
  }

  private async sendAll(): Promise<void> {
    while (this.pending.length || this.dropped) {
      const batch = this.nextBatch();
      this.inFlight = batch.taken;
      try {
        await this.send(batch.lines);
      } finally {
        this.inFlight = 0;
      }
      this.pending.splice(0, batch.taken);
      this.pendingBytes -= batch.bytes;
      this.dropped -= batch.dropped;
    }
  }

  private nextBatch(): { lines: Line[]; taken: number; bytes: number; dropped: number } {
    const lines: Line[] = [];
    const dropped = this.dropped;
    if (dropped) lines.push({ line: `[weft] ${dropped} earlier log line(s) dropped: the API could not be reached for a while`, stream: 'stderr' });
    let bytes = 0;
    let taken = 0;
    for (const l of this.pending) {
      if (taken && (lines.length >= BATCH_LINES || bytes + l.line.length > BATCH_BYTES)) break;
      lines.push(l);
      bytes += l.line.length;
      taken++;
    }
    return { lines, taken, bytes, dropped };
  }
}
