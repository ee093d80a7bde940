import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { leaseRefusalMessage } from './domain/lease-refusal.js';
import { isAuthRefusal, type LeaseClient, type LeasedTask } from './lease-client.js';
import { errorMessage } from '../common/error-text.js';

export type LeaseLoopOptions = {
  client: LeaseClient;
  workerId: string;
  queues: string[];
  waitSeconds?: number;
  taskTypes: string[];
  apiUrl: string;
  apiKey?: string;
  logger: Logger;
  /** Aborted by stop(): ends the loop, also cuts a long poll or a backoff short. */
  signal: AbortSignal;
  /** How many more tasks there is room for now. */
  free(): number;
  /** Resolves when room may have freed (a task ended, or stop()). */
  untilFree(): Promise<void>;
  /** Takes one leased task (the built-in worker starts it; the launcher creates its pod). */
  take(lease: LeasedTask): unknown;
};

/**
 * The long-poll loop of a worker (the built-in worker and the Kubernetes launcher): asks for as many tasks as there
 * is room for, hands each over, and on a failed request backs off (doubling from 250 ms to 10 s) and asks again. A
 * refused key (401/403) is not retried: the loop ends and returns the reason, which the caller reports.
 */
export async function leaseLoop(o: LeaseLoopOptions): Promise<string | undefined> {
  let backoffMs = 0;
  while (!o.signal.aborted) {
    const free = o.free();
    if (free <= 0) {
      await o.untilFree();
      continue;
    }
    try {
      const leases = await o.client.lease(
        o.workerId,
        { queues: o.queues, capacity: free, waitSeconds: o.waitSeconds ?? 20, taskTypes: o.taskTypes, hostname: hostname() },
        o.signal,
      );
      backoffMs = 0;
      for (const lease of leases) await o.take(lease);
    } catch (err) {
      if (o.signal.aborted) break;
      if (isAuthRefusal(err)) {
        const reason = leaseRefusalMessage({ status: err.status, apiUrl: o.apiUrl, apiKey: o.apiKey, queues: o.queues, serverMessage: err.serverMessage, keySetting: 'WEFT_API_KEY' });
        o.logger.error(reason);
        return reason;
      }
      backoffMs = Math.min(Math.max(backoffMs * 2, 250), 10_000);
      o.logger.warn(`lease request failed (${errorMessage(err)}); retrying in ${backoffMs} ms`);
      // Cut short by stop(): a shutdown does not wait out the backoff.
      await sleep(backoffMs, undefined, { signal: o.signal }).catch(() => undefined);
    }
  }
  return undefined;
}
