import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { ApiKeysService } from '../auth/api-keys.service.js';
import type { ApiKeyRow } from '../auth/domain/api-key.js';
import { roleAllows } from '../access/roles.decorator.js';
import { Clock } from '../common/clock.js';
import { DomainError, NotFoundError, ValidationError } from '../common/errors.js';
import { CONFIG, type Config } from '../config/config.js';
import { PG_POOL } from '../database/pg.js';
import { BackfillsService } from '../backfills/backfills.service.js';
import { RunScheduling } from '../engine/runs/run-scheduling.service.js';
import { RunsService } from '../engine/runs/runs.service.js';
import {
  backfillStream,
  dagRunStream,
  taskInstanceStream,
  toBackfillProgressEvent,
  toDagRunEvent,
  toTaskInstanceEvent,
  type BackfillProgressEvent,
  type DagRunStateEvent,
  type StoredEvent,
  type TaskInstanceStateEvent,
} from './domain/streams.js';
import { EVENT_BUS, type EventBus } from './event-bus.js';
import { EventsRepository } from './events.repository.js';
import type { TailChunk } from '../engine/leases/domain/log-tail.js';
import { TaskDataService } from '../engine/leases/task-data.service.js';
import { TaskLogTails } from '../engine/leases/task-log-tails.service.js';

/** How long a subscription trusts its key before checking again that it has not been revoked. */
const KEY_RECHECK_MS = 5_000;

/** Who subscribes: the API key presented at connection_init (null with WEFT_AUTH=off). */
export type Subscriber = { apiKey: ApiKeyRow | null };

/**
 * Live state changes for subscriptions (GraphQL over graphql-ws). The subscription is checked when it starts (the
 * target exists, the key may read it) and every event is authorised again before it leaves: a key revoked meanwhile
 * gets an error and no more events.
 */
@Injectable()
export class SubscriptionsService {
  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly keys: ApiKeysService,
    private readonly runs: RunsService,
    private readonly scheduling: RunScheduling,
    private readonly backfills: BackfillsService,
    private readonly events: EventsRepository,
    private readonly taskData: TaskDataService,
    private readonly logTails: TaskLogTails,
    private readonly clock: Clock,
  ) {}

  async taskInstanceStateChanged(who: Subscriber, dagId: string, runId: string, afterSequence?: number): Promise<AsyncIterableIterator<TaskInstanceStateEvent>> {
    this.checkAfter(afterSequence);
    const run = await this.runs.get(dagId, runId);
    return this.stream(who, taskInstanceStream(run.id), afterSequence, toTaskInstanceEvent);
  }

  async dagRunStateChanged(who: Subscriber, dagId: string, afterSequence?: number): Promise<AsyncIterableIterator<DagRunStateEvent>> {
    this.checkAfter(afterSequence);
    if (!(await this.scheduling.dagExists(this.pool, dagId))) throw new NotFoundError('DAG', dagId);
    return this.stream(who, dagRunStream(dagId), afterSequence, toDagRunEvent);
  }

  async backfillProgress(who: Subscriber, backfillId: number, afterSequence?: number): Promise<AsyncIterableIterator<BackfillProgressEvent>> {
    this.checkAfter(afterSequence);
    if (!(await this.backfills.exists(backfillId))) throw new NotFoundError('backfill', String(backfillId));
    return this.stream(who, backfillStream(backfillId), afterSequence, toBackfillProgressEvent);
  }

  /**
   * Where each stream stands now: a client that reads this first, then the state it shows, and subscribes with
   * `afterSequence` = this number misses no change and needs no replay (an event numbered up to here was committed
   * before the read, so the state read after it includes it; anything later arrives as an event).
   */
  streamPositions(streams: string[]): Promise<Map<string, number>> {
    return this.events.lastSeqs(streams);
  }

  /**
   * The log lines of a task instance (one instance of a mapped task with its map index; one try, or all when `tryNumber` is null) after line `afterId` ('0': from the
   * start), then live as they are appended, in chunks.
   */
  async taskLogLines(
    who: Subscriber,
    target: { dagId: string; runId: string; taskId: string; mapIndex: number },
    tryNumber: number | null,
    afterId: string | null,
  ): Promise<AsyncIterableIterator<TailChunk>> {
    const problems = [];
    if (tryNumber !== null && (!Number.isSafeInteger(tryNumber) || tryNumber < 1)) problems.push({ path: 'tryNumber', message: 'must be a positive integer' });
    if (afterId !== null && !/^\d{1,18}$/.test(afterId)) problems.push({ path: 'afterId', message: 'must be a line id (digits)' });
    if (!Number.isSafeInteger(target.mapIndex) || target.mapIndex < -1) problems.push({ path: 'mapIndex', message: 'must be an integer, −1 or more' });
    if (problems.length) throw new ValidationError(problems);
    const ti = await this.taskData.taskInstanceRowId(target.dagId, target.runId, target.taskId, target.mapIndex);
    return this.authorised(who, this.logTails.tail(ti, tryNumber, afterId ?? '0'), (chunk) => chunk);
  }

  private checkAfter(afterSequence: number | undefined): void {
    if (afterSequence !== undefined && (!Number.isSafeInteger(afterSequence) || afterSequence < 0)) {
      throw new ValidationError([{ path: 'afterSequence', message: 'must be a non-negative integer' }]);
    }
  }

  private stream<T>(who: Subscriber, stream: string, after: number | undefined, map: (e: StoredEvent) => T): AsyncIterableIterator<T> {
    return this.authorised(who, this.bus.subscribe(stream, after), map);
  }

  /** Passes `source` on, checking again (at most every KEY_RECHECK_MS) that the subscriber's key may still read. */
  private authorised<S, T>(who: Subscriber, source: AsyncIterableIterator<S>, map: (e: S) => T): AsyncIterableIterator<T> {
    const now = () => this.clock.now().getTime();
    let checkedAt = now();
    const authorise = async (): Promise<void> => {
      if (!this.config.authEnabled || !who.apiKey || now() - checkedAt < KEY_RECHECK_MS) return;
      const key = await this.keys.stillActive(who.apiKey.id);
      if (!key) throw new DomainError('UNAUTHENTICATED', 'the API key of this subscription was revoked');
      if (!roleAllows(key.role, ['viewer'])) throw new DomainError('FORBIDDEN', `a ${key.role} key may not read events`);
      checkedAt = now();
    };
    const iterator: AsyncIterableIterator<T> = {
      async next() {
        const r = await source.next();
        if (r.done) return { value: undefined, done: true };
        try {
          await authorise();
        } catch (err) {
          await source.return?.();
          throw err;
        }
        return { value: map(r.value), done: false };
      },
      async return() {
        await source.return?.();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}
