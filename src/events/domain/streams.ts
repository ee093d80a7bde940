/**
 * Event streams of the outbox (migrations `events_outbox`, `events_numbered_after_commit`): every state change is
 * appended to one stream and numbered there after commit, gaplessly, in the order the changes became visible. Pure
 * helpers: stream names, the NOTIFY payload, and rows → typed events.
 */

/** Streams that moved (sent by the numberer): "<stream> <last seq>" lines, or '*'. */
export const EVENTS_CHANNEL = 'weft_events';
/** Events wait to be numbered (sent by writing transactions while some process has subscribers); no payload. */
export const EVENTS_PENDING_CHANNEL = 'weft_events_pending';
/** NOTIFYed by the numberer (weft_events_number) when it fanned events out to webhook deliveries. */
export const WEBHOOKS_CHANNEL = 'weft_webhooks';

export type StreamName = string;

/** Task-instance transitions of one run (keyed by the run's row id, so a deleted and re-created run is a new stream). */
export const taskInstanceStream = (dagRunRowId: number): StreamName => `ti:${dagRunRowId}`;
/** Run transitions of one DAG. */
export const dagRunStream = (dagId: string): StreamName => `run:${dagId}`;
/** Progress snapshots of one backfill. */
export const backfillStream = (backfillId: number): StreamName => `backfill:${backfillId}`;

/** What a NOTIFY on EVENTS_CHANNEL says: the streams that moved and their last sequence number, or everything. */
export type StreamsMoved = { all: true } | { all: false; streams: Map<StreamName, number> };

/** Parses "<stream> <last seq>" lines; '*' (the list would not fit a NOTIFY) or anything unreadable means "check all". */
export function parseStreamsMoved(payload: string | undefined): StreamsMoved {
  if (!payload || payload === '*') return { all: true };
  const streams = new Map<StreamName, number>();
  for (const line of payload.split('\n')) {
    const at = line.lastIndexOf(' ');
    const seq = Number(line.slice(at + 1));
    if (at <= 0 || !Number.isSafeInteger(seq)) return { all: true };
    streams.set(line.slice(0, at), seq);
  }
  return { all: false, streams };
}

/** One numbered event as read from the outbox. */
export type StoredEvent = {
  stream: StreamName;
  seq: number;
  kind: string;
  dagId: string;
  runId: string | null;
  payload: Record<string, unknown>;
};

type Json = Record<string, unknown>;

const str = (p: Json, k: string): string | null => (typeof p[k] === 'string' ? (p[k] as string) : null);
const num = (p: Json, k: string): number | null => (typeof p[k] === 'number' ? (p[k] as number) : null);
const date = (p: Json, k: string): Date | null => {
  const v = str(p, k);
  return v === null ? null : new Date(v);
};
const must = <T>(v: T | null, what: string): T => {
  if (v === null) throw new Error(`malformed event: ${what} missing`);
  return v;
};

export type TaskInstanceStateEvent = {
  sequence: number;
  dagId: string;
  runId: string;
  taskId: string;
  /** −1 when unmapped; null on events written before map indexes existed. */
  mapIndex: number | null;
  state: string;
  previousState: string | null;
  tryNumber: number;
  maxTries: number;
  startDate: Date | null;
  endDate: Date | null;
  at: Date;
};

export type DagRunStateEvent = {
  sequence: number;
  dagId: string;
  runId: string;
  state: string;
  previousState: string | null;
  runType: string;
  logicalDate: Date;
  startDate: Date | null;
  endDate: Date | null;
  backfillId: number | null;
  clearNumber: number;
  at: Date;
};

export type BackfillProgressEvent = {
  sequence: number;
  backfillId: number;
  dagId: string;
  total: number;
  pending: number;
  skipped: number;
  queued: number;
  running: number;
  success: number;
  failed: number;
  isPaused: boolean;
  completedAt: Date | null;
  canceledAt: Date | null;
  at: Date;
};

export function toTaskInstanceEvent(e: StoredEvent): TaskInstanceStateEvent {
  const p = e.payload;
  return {
    sequence: e.seq,
    dagId: e.dagId,
    runId: must(e.runId, 'runId'),
    taskId: must(str(p, 'taskId'), 'taskId'),
    mapIndex: num(p, 'mapIndex'),
    state: must(str(p, 'state'), 'state'),
    previousState: str(p, 'previousState'),
    tryNumber: num(p, 'tryNumber') ?? 0,
    maxTries: num(p, 'maxTries') ?? 1,
    startDate: date(p, 'startDate'),
    endDate: date(p, 'endDate'),
    at: must(date(p, 'at'), 'at'),
  };
}

export function toDagRunEvent(e: StoredEvent): DagRunStateEvent {
  const p = e.payload;
  return {
    sequence: e.seq,
    dagId: e.dagId,
    runId: must(str(p, 'runId') ?? e.runId, 'runId'),
    state: must(str(p, 'state'), 'state'),
    previousState: str(p, 'previousState'),
    runType: must(str(p, 'runType'), 'runType'),
    logicalDate: must(date(p, 'logicalDate'), 'logicalDate'),
    startDate: date(p, 'startDate'),
    endDate: date(p, 'endDate'),
    backfillId: num(p, 'backfillId'),
    clearNumber: num(p, 'clearNumber') ?? 0,
    at: must(date(p, 'at'), 'at'),
  };
}

export function toBackfillProgressEvent(e: StoredEvent): BackfillProgressEvent {
  const p = e.payload;
  const count = (k: string) => num(p, k) ?? 0;
  return {
    sequence: e.seq,
    backfillId: must(num(p, 'backfillId'), 'backfillId'),
    dagId: e.dagId,
    total: count('total'),
    pending: count('pending'),
    skipped: count('skipped'),
    queued: count('queued'),
    running: count('running'),
    success: count('success'),
    failed: count('failed'),
    isPaused: p.isPaused === true,
    completedAt: date(p, 'completedAt'),
    canceledAt: date(p, 'canceledAt'),
    at: must(date(p, 'at'), 'at'),
  };
}
