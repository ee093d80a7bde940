import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { registerListener, removeListener } from '../database/listener-registry.js';
import { PG_POOL } from '../database/pg.js';
import type { StoredEvent, StreamName } from './domain/streams.js';

type EventDbRow = { stream: string; seq: string; kind: string; dag_id: string; run_id: string | null; payload: Record<string, unknown> };

/** Reads and numbers the event outbox (written by the triggers of migration `events_outbox`, never by application code). */
@Injectable()
export class EventsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** The last sequence number handed out in `stream` (0 when it has none yet). */
  async lastSeq(stream: StreamName): Promise<number> {
    const { rows } = await this.pool.query<{ seq: string }>('SELECT seq FROM event_streams WHERE stream = $1', [stream]);
    return rows[0] ? Number(rows[0].seq) : 0;
  }

  /** The last sequence number of each of `streams` (0 for a stream with no event yet). */
  async lastSeqs(streams: StreamName[]): Promise<Map<StreamName, number>> {
    const { rows } = await this.pool.query<{ stream: string; seq: string }>('SELECT stream, seq FROM event_streams WHERE stream = ANY($1::text[])', [streams]);
    const out = new Map<StreamName, number>(streams.map((s) => [s, 0]));
    for (const r of rows) out.set(r.stream, Number(r.seq));
    return out;
  }

  /**
   * Numbers up to `limit` waiting events (weft_events_number: one numberer at a time across all processes) and
   * NOTIFYs the streams that moved; returns that list ("<stream> <last seq>" lines), or null when nothing waited.
   */
  async number(limit: number): Promise<string | null> {
    const { rows } = await this.pool.query<{ moved: string | null }>('SELECT weft_events_number($1) AS moved', [limit]);
    return rows[0]?.moved ?? null;
  }

  /** Registers (or refreshes) a process with live subscriptions for `ttlSec`: committing transactions NOTIFY meanwhile. */
  registerListener(id: string, ttlSec: number): Promise<void> {
    return registerListener(this.pool, id, ttlSec);
  }

  removeListener(id: string): Promise<void> {
    return removeListener(this.pool, id);
  }

  /** For each (stream, after): up to `limit` events with seq > after, in one round trip, ordered by stream then seq. */
  async after(cursors: Array<[StreamName, number]>, limit: number): Promise<StoredEvent[]> {
    if (cursors.length === 0) return [];
    const { rows } = await this.pool.query<EventDbRow>(
      `SELECT e.stream, e.seq, e.kind, e.dag_id, e.run_id, e.payload
         FROM unnest($1::text[], $2::bigint[]) AS c(stream, after)
         CROSS JOIN LATERAL (
           SELECT stream, seq, kind, dag_id, run_id, payload FROM events
            WHERE stream = c.stream AND seq > c.after ORDER BY seq LIMIT $3
         ) e
        ORDER BY e.stream, e.seq`,
      [cursors.map((c) => c[0]), cursors.map((c) => c[1]), limit],
    );
    return rows.map((r) => ({ stream: r.stream, seq: Number(r.seq), kind: r.kind, dagId: r.dag_id, runId: r.run_id, payload: r.payload }));
  }
}
