import { Injectable } from '@nestjs/common';
import { EventsRepository } from './events.repository.js';

/** The outbox for features that consume it outside subscriptions (webhooks): numbering what waits. */
@Injectable()
export class EventsOutbox {
  constructor(private readonly repo: EventsRepository) {}

  /**
   * Numbers up to `limit` waiting events (weft_events_number: one numberer at a time, across processes; it also
   * fans them out to webhooks); the streams that moved, or null when nothing waited.
   */
  number(limit: number): Promise<string | null> {
    return this.repo.number(limit);
  }
}
