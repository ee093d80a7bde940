import { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { DATABASE_URL } from '../database/database.tokens.js';
import { QUEUED_CHANNEL, SLOT_FREED } from '../runs/runs.repository.js';

/**
 * Wakes waiting lease requests when work is queued. Every queueing transaction sends NOTIFY on commit; one
 * LISTEN connection per process turns that into in-process events, so a wait ends within milliseconds on every
 * replica, whichever replica queued the task.
 */
@Injectable()
export class QueueWakeups implements OnApplicationShutdown {
  private readonly logger = new Logger('lease-wakeups');
  private readonly events = new EventEmitter().setMaxListeners(0);
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private closed = false;

  constructor(@Inject(DATABASE_URL) private readonly url: string) {}

  /** Resolves true when any of `queues` receives work (or a slot frees), false when `ms` pass or `signal` aborts. */
  async wait(queueNames: string[], ms: number, signal?: AbortSignal): Promise<boolean> {
    const queues = [...queueNames, SLOT_FREED];
    await this.ensureListening();
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        for (const q of queues) this.events.off(q, onQueued);
        signal?.removeEventListener('abort', onAbort);
        resolve(woken);
      };
      const onQueued = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      for (const q of queues) this.events.on(q, onQueued);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Connects the LISTEN session before a waiter checks for work, so no notification can fall in between. */
  async ensureListening(): Promise<void> {
    if (this.client || this.closed) return;
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    await this.connecting;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (n) => {
      if (n.payload) this.events.emit(n.payload);
    });
    client.on('error', (err) => {
      this.logger.warn(`LISTEN connection lost (${err.message}); reconnecting on next wait`);
      this.client = null;
      // Waiters fall back to their timeout and re-check; wake everyone so none sleeps through lost notifications.
      for (const name of this.events.eventNames()) this.events.emit(name);
    });
    await client.connect();
    await client.query(`LISTEN ${QUEUED_CHANNEL}`);
    this.client = client;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => undefined);
  }
}
