import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { registerListener, removeListener } from '../../database/listener-registry.js';
import { type ChannelHandler, PgListener } from '../../database/pg-listener.service.js';
import { PG_POOL } from '../../database/pg.js';
import { LogTail, TASK_LOGS_CHANNEL } from './domain/log-tail.js';
import { TaskLogsRepository } from './task-logs.repository.js';

/** Lines per chunk handed to a tail. */
const PAGE = 500;
/** Belt and braces, as for events: tails are re-read this often even without a NOTIFY, and the registration refreshed. */
const RECHECK_MS = 5_000;
const LISTENER_TTL_SEC = 30;

/**
 * Live log tails (the `taskLogLines` subscription). Appending lines NOTIFYs TASK_LOGS_CHANNEL with the task
 * instance's id while some process is registered in event_listeners; this process registers while it has tails, so
 * a tail wakes within a round trip of the append on whichever replica it landed. A lost NOTIFY costs latency only:
 * tails read from the table, after their own cursor.
 */
@Injectable()
export class TaskLogTails implements OnApplicationShutdown {
  private readonly logger = new Logger('log-tails');
  private readonly tails = new Map<number, Set<LogTail>>();
  private readonly listenerId = randomUUID();
  private ready: Promise<void> | null = null;
  private recheck: NodeJS.Timeout | null = null;
  private readonly handler: ChannelHandler = {
    onNotify: (payload) => this.tails.get(Number(payload))?.forEach((t) => t.poke()),
    onLost: () => this.pokeAll(),
  };

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly listener: PgListener,
    private readonly repo: TaskLogsRepository,
  ) {}

  /** Lines of task instance `taskInstanceId` (one try, or all with null) after line `afterId`, then as they come. */
  tail(taskInstanceId: number, tryNumber: number | null, afterId: string): LogTail {
    const ready = this.start();
    const tail = new LogTail(
      async (after, limit) => {
        // Listening and registered before the first read: an append committed after it is always heard.
        await ready;
        return this.repo.linesAfter(taskInstanceId, tryNumber, after, limit);
      },
      afterId,
      PAGE,
      (t) => this.remove(taskInstanceId, t),
    );
    let set = this.tails.get(taskInstanceId);
    if (!set) this.tails.set(taskInstanceId, (set = new Set()));
    set.add(tail);
    return tail;
  }

  onApplicationShutdown(): void {
    for (const set of this.tails.values()) for (const t of set) void t.return();
  }

  private start(): Promise<void> {
    this.ready ??= (async () => {
      await this.listener.listen(TASK_LOGS_CHANNEL, this.handler);
      await registerListener(this.pool, this.listenerId, LISTENER_TTL_SEC);
    })().catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    this.recheck ??= setInterval(() => {
      registerListener(this.pool, this.listenerId, LISTENER_TTL_SEC).catch((err: unknown) =>
        this.logger.warn(`refreshing the log-tail registration failed: ${(err as Error).message}`),
      );
      this.pokeAll();
    }, RECHECK_MS).unref();
    return this.ready;
  }

  private pokeAll(): void {
    for (const set of this.tails.values()) for (const t of set) t.poke();
  }

  private remove(taskInstanceId: number, tail: LogTail): void {
    const set = this.tails.get(taskInstanceId);
    set?.delete(tail);
    if (set?.size === 0) this.tails.delete(taskInstanceId);
    if (this.tails.size > 0) return;
    if (this.recheck) clearInterval(this.recheck);
    this.recheck = null;
    this.ready = null;
    void removeListener(this.pool, this.listenerId).catch(() => undefined);
  }
}
