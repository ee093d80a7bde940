import { Inject, Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Clock } from '../common/clock.js';
import { PG_POOL } from '../database/pg.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { RUN_STATES } from '../engine/runs/domain/run-state.js';
import { TASK_STATES } from '../engine/runs/domain/task-state.js';
import { MetricsRepository } from './metrics.repository.js';

/** Seconds, from 5 ms to an hour: fits HTTP calls, long polls and task attempts alike. */
const DURATION_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * Prometheus metrics of this process (one registry per application instance). Events on hot paths only bump a
 * counter or observe a histogram; everything read from the database is read at scrape time (MetricsRepository).
 */
@Injectable()
export class MetricsService {
  private readonly logger = new Logger('metrics');
  readonly registry = new Registry();
  private readonly registers = [this.registry];

  readonly leasesGranted = new Counter({ name: 'weft_leases_granted_total', help: 'Leases handed to workers by this process', labelNames: ['queue'], registers: this.registers });
  readonly leasesHandedOff = new Counter({
    name: 'weft_leases_handed_off_total',
    help: 'Leases claimed for a waiting request by the transaction of this process that queued the task (of weft_leases_granted_total)',
    registers: this.registers,
  });
  readonly groupCommitItems = new Histogram({
    name: 'weft_group_commit_items',
    help: 'Items (completions, or lease requests of one queue set) served together by one statement of this process (group commit)',
    labelNames: ['kind'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: this.registers,
  });
  readonly groupCommitFallbacks = new Counter({
    name: 'weft_group_commit_fallbacks_total',
    help: 'Batches whose one statement failed as a whole (e.g. a deadlock), so that their items ran one by one',
    labelNames: ['kind'],
    registers: this.registers,
  });
  readonly leasesExpired = new Counter({ name: 'weft_leases_expired_total', help: 'Expired leases reaped by this process (treated as failed attempts)', registers: this.registers });
  readonly dispatchLatency = new Histogram({
    name: 'weft_task_dispatch_latency_seconds',
    help: 'Time from a task instance being queued to a worker leasing it',
    labelNames: ['queue'],
    buckets: DURATION_BUCKETS,
    registers: this.registers,
  });
  readonly taskDuration = new Histogram({
    name: 'weft_task_duration_seconds',
    help: 'Duration of attempts reported by workers, from lease to accepted completion',
    labelNames: ['dag_id', 'task_id', 'state'],
    buckets: DURATION_BUCKETS,
    registers: this.registers,
  });
  readonly schedulerTick = new Histogram({ name: 'weft_scheduler_tick_duration_seconds', help: 'Duration of one scheduler tick (all periodic jobs)', buckets: DURATION_BUCKETS, registers: this.registers });
  readonly schedulerTickFailures = new Counter({ name: 'weft_scheduler_tick_failures_total', help: 'Scheduler ticks that failed (e.g. database unreachable)', registers: this.registers });
  readonly slaMisses = new Counter({ name: 'weft_sla_misses_total', help: 'SLA misses recorded by this process', registers: this.registers });
  readonly slaWarnings = new Counter({
    name: 'weft_sla_warnings_total',
    help: 'SLA early warnings recorded by this process (attempts past their fraction of the p95 runtime)',
    registers: this.registers,
  });
  readonly webhookDeliveries = new Counter({
    name: 'weft_webhook_deliveries_total',
    help: 'State-change webhook delivery attempts by this process, by outcome (delivered, failed: retried, rejected: a 4xx, not retried)',
    labelNames: ['outcome'],
    registers: this.registers,
  });
  readonly webhooksDisabled = new Counter({ name: 'weft_webhooks_disabled_total', help: 'Webhooks this process disabled because their deliveries kept failing', registers: this.registers });
  readonly retentionDeleted = new Counter({ name: 'weft_retention_deleted_total', help: 'Rows deleted by the retention clean-up', labelNames: ['kind'], registers: this.registers });
  readonly taskLogLinesDropped = new Counter({ name: 'weft_task_log_lines_dropped_total', help: 'Task log lines dropped by the per-try size cap', registers: this.registers });
  readonly httpDuration = new Histogram({
    name: 'weft_http_request_duration_seconds',
    help: 'HTTP request durations by route template (long polls included)',
    labelNames: ['method', 'route', 'status_code'],
    buckets: DURATION_BUCKETS,
    registers: this.registers,
  });

  private readonly runs = new Gauge({ name: 'weft_dag_runs', help: 'DAG runs by state (whole database)', labelNames: ['state'], registers: this.registers });
  private readonly taskInstances = new Gauge({ name: 'weft_task_instances', help: 'Task instances by state (whole database)', labelNames: ['state'], registers: this.registers });
  private readonly queueDepth = new Gauge({ name: 'weft_queue_depth', help: 'Queued task instances per queue', labelNames: ['queue'], registers: this.registers });
  private readonly queueOldest = new Gauge({ name: 'weft_queue_oldest_age_seconds', help: 'Age of the oldest queued task instance per queue', labelNames: ['queue'], registers: this.registers });
  private readonly poolSlots = new Gauge({ name: 'weft_pool_slots', help: 'Slots of each pool', labelNames: ['pool'], registers: this.registers });
  private readonly poolUsed = new Gauge({ name: 'weft_pool_slots_used', help: 'Slots of each pool held by running tasks', labelNames: ['pool'], registers: this.registers });
  private readonly databaseUp = new Gauge({ name: 'weft_database_up', help: '1 when the last scrape could read the database, else 0', registers: this.registers });

  constructor(
    @Inject(PG_POOL) pool: pg.Pool,
    private readonly repo: MetricsRepository,
    private readonly clock: Clock,
    lifecycle: Lifecycle,
  ) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'weft_db_pool_connections',
      help: 'Connections of this process\'s PostgreSQL pool (total, idle) and requests waiting for one (waiting)',
      labelNames: ['state'],
      registers: this.registers,
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
    new Gauge({
      name: 'weft_http_requests_in_flight',
      help: 'HTTP requests being served (long polls included)',
      registers: this.registers,
      collect() {
        this.set(lifecycle.requestsInFlight);
      },
    });
    new Gauge({
      name: 'weft_draining',
      help: '1 while the process is shutting down',
      registers: this.registers,
      collect() {
        this.set(lifecycle.draining ? 1 : 0);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; database gauges are refreshed first (and left out, with weft_database_up 0, when it is down). */
  async scrape(): Promise<string> {
    try {
      const g = await this.repo.read(this.clock.now());
      setAll(this.runs, RUN_STATES, g.runs);
      setAll(this.taskInstances, TASK_STATES, g.taskInstances);
      this.queueDepth.reset();
      this.queueOldest.reset();
      for (const q of g.queues) {
        this.queueDepth.set({ queue: q.queue }, q.depth);
        this.queueOldest.set({ queue: q.queue }, q.oldestAgeSec);
      }
      this.poolSlots.reset();
      this.poolUsed.reset();
      for (const p of g.pools) {
        this.poolSlots.set({ pool: p.pool }, p.slots);
        this.poolUsed.set({ pool: p.pool }, p.used);
      }
      this.databaseUp.set(1);
    } catch (err) {
      this.logger.warn(`metrics: reading the database failed: ${(err as Error).message}`);
      for (const g of [this.runs, this.taskInstances, this.queueDepth, this.queueOldest, this.poolSlots, this.poolUsed]) g.reset();
      this.databaseUp.set(0);
    }
    return this.registry.metrics();
  }
}

/** Every known state gets a series (0 when absent), so a state that empties reads 0 rather than vanishing. */
function setAll(gauge: Gauge<'state'>, states: readonly string[], rows: { state: string; n: number }[]): void {
  gauge.reset();
  for (const s of states) gauge.set({ state: s }, 0);
  for (const r of rows) gauge.set({ state: r.state }, r.n);
}
