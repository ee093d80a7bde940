import { Injectable } from '@nestjs/common';

/**
 * The process's drain state. `beginDrain()` is the first thing a shutdown does: readiness turns red, waiting long
 * polls answer with nothing, new long polls are refused, and loops (scheduler, retention) stop between rounds.
 * It also counts HTTP requests in flight, so a shutdown can wait for them before the server closes.
 */
@Injectable()
export class Lifecycle {
  private readonly drain = new AbortController();
  private inFlight = 0;
  private idle: (() => void)[] = [];

  get draining(): boolean {
    return this.drain.signal.aborted;
  }

  /** Aborted when the drain begins. */
  get drainSignal(): AbortSignal {
    return this.drain.signal;
  }

  beginDrain(): void {
    if (!this.draining) this.drain.abort();
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Counts one request; the returned function ends it (calling it again does nothing). */
  requestStarted(): () => void {
    this.inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight--;
      if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
    };
  }

  /** Resolves once no request is in flight. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}
