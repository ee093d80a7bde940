import { Injectable } from '@nestjs/common';
import { PgListener } from '../database/pg-listener.service.js';
import { EVENTS_PENDING_CHANNEL, WEBHOOKS_CHANNEL } from './domain/streams.js';
import { EventsRepository } from './events.repository.js';

/** The outbox for features that consume it outside subscriptions (webhooks): numbering what waits, and hearing of it. */
@Injectable()
export class EventsOutbox {
  constructor(
    private readonly repo: EventsRepository,
    private readonly listener: PgListener,
  ) {}

  /**
   * Numbers up to `limit` waiting events (weft_events_number: one numberer at a time, across processes; it also
   * fans them out to webhooks); the streams that moved, or null when nothing waited.
   */
  number(limit: number): Promise<string | null> {
    return this.repo.number(limit);
  }

  /**
   * Calls `wake` when events may be waiting: a transaction committed some (`weft_events_pending`, sent only while a
   * process is registered with keepWritersNotifying), the numberer fanned some out to webhooks (`weft_webhooks`), or
   * notifications may have been lost (the LISTEN connection dropped). Resolves once it listens.
   */
  async onWaiting(wake: () => void): Promise<void> {
    const handler = { onNotify: wake, onLost: wake };
    await Promise.all([this.listener.listen(EVENTS_PENDING_CHANNEL, handler), this.listener.listen(WEBHOOKS_CHANNEL, handler)]);
  }

  /**
   * Makes committing writers NOTIFY `weft_events_pending` for `ttlSec` more (the event_listeners registry: a NOTIFY
   * serialises commits, so writers send it only while someone listens); refresh before it runs out.
   */
  keepWritersNotifying(id: string, ttlSec: number): Promise<void> {
    return this.repo.registerListener(id, ttlSec);
  }

  stopWritersNotifying(id: string): Promise<void> {
    return this.repo.removeListener(id);
  }
}
