import type { StoredEvent, StreamName } from './domain/streams.js';

/**
 * Where subscriptions get their events (the injected PubSub of the GraphQL layer). The PostgreSQL implementation
 * (PgEventBus) reads the outbox, so every replica sees every committed event, in order, whichever replica wrote it.
 */
export interface EventBus {
  /**
   * Events of `stream` in sequence order, without gaps: those after `afterSeq`, or, when it is undefined, those
   * committed from now on. The iterator ends when its consumer calls `return()`.
   */
  subscribe(stream: StreamName, afterSeq?: number): AsyncIterableIterator<StoredEvent>;
}

export const EVENT_BUS = Symbol('EVENT_BUS');
