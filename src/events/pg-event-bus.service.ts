import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { type ChannelHandler, PgListener } from '../database/pg-listener.service.js';
import { EVENTS_CHANNEL, EVENTS_PENDING_CHANNEL, parseStreamsMoved, type StoredEvent, type StreamName } from './domain/streams.js';
import type { EventBus } from './event-bus.js';
import { EventsRepository } from './events.repository.js';

/** Events read per stream and round trip. */
const PAGE = 500;
/** Events numbered per call of the numberer. */
const NUMBER_BATCH = 5_000;
/** A subscriber that falls this far behind is ended rather than buffered without bound. */
const MAX_BUFFERED = 10_000;
/** Belt and braces: streams are re-read this often even without a NOTIFY (one query for all of them). */
const RECHECK_MS = 5_000;
const RECONNECT_MS = 1_000;
/** How long a registration in event_listeners lasts; refreshed every RECHECK_MS while there are subscribers. */
const LISTENER_TTL_SEC = 30;

/** One subscription's place in its stream, its buffer, and the consumer waiting for the next event. */
class Subscriber implements AsyncIterableIterator<StoredEvent> {
  cursor: number | null;
  private readonly buffer: StoredEvent[] = [];
  private waiting: { resolve: (r: IteratorResult<StoredEvent>) => void; reject: (e: unknown) => void } | null = null;
  private failure: unknown = null;
  done = false;

  constructor(
    after: number | undefined,
    private readonly onEnd: (s: Subscriber) => void,
  ) {
    this.cursor = after ?? null;
  }

  /** Delivers the events after this subscriber's cursor; older ones (already seen) are skipped. */
  push(events: StoredEvent[]): void {
    for (const e of events) {
      if (this.done || this.cursor === null || e.seq <= this.cursor) continue;
      this.cursor = e.seq;
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w.resolve({ value: e, done: false });
      } else if (this.buffer.length >= MAX_BUFFERED) {
        this.fail(new Error(`subscriber fell more than ${MAX_BUFFERED} events behind; resubscribe with afterSequence`));
        return;
      } else {
        this.buffer.push(e);
      }
    }
  }

  fail(err: unknown): void {
    if (this.done) return;
    this.failure = err;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      this.finish();
      w.reject(err);
    }
  }

  next(): Promise<IteratorResult<StoredEvent>> {
    const value = this.buffer.shift();
    if (value) return Promise.resolve({ value, done: false });
    if (this.failure) {
      const err = this.failure;
      this.failure = null;
      this.finish();
      return Promise.reject(err);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<StoredEvent>> {
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<StoredEvent> {
    return this;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.buffer.length = 0;
    const w = this.waiting;
    this.waiting = null;
    w?.resolve({ value: undefined, done: true });
    this.onEnd(this);
  }
}

/**
 * The EventBus on PostgreSQL. While this process has subscribers it is registered in event_listeners, so writing
 * transactions NOTIFY `weft_events_pending`; it then numbers the waiting events (weft_events_number, which NOTIFYs
 * `weft_events` with the streams that moved, to every replica). The events themselves are read from the outbox
 * table, in one query for all streams that moved, so a subscriber never misses one: a lost NOTIFY (reconnect) costs
 * latency, not events. Both channels come through the process's one LISTEN connection (PgListener).
 */
@Injectable()
export class PgEventBus implements EventBus, OnApplicationShutdown {
  private readonly logger = new Logger('events');
  private readonly subscribers = new Map<StreamName, Set<Subscriber>>();
  private readonly dirty = new Set<StreamName>();
  private draining = false;
  /** The numberer's state here: idle, running, or running with another round asked for. */
  private numbering: 'idle' | 'running' | 'again' = 'idle';
  /** The numbering run in progress (its rounds), which numberNow callers await. */
  private numberRun: Promise<void> | null = null;
  private recheck: NodeJS.Timeout | null = null;
  private closed = false;
  /** This process's row in event_listeners (registered while it has subscribers, so writers NOTIFY). */
  private readonly listenerId = randomUUID();
  private registered: Promise<void> | null = null;
  private readonly moved: ChannelHandler = {
    onNotify: (payload) => this.onMoved(payload),
    onLost: () => this.markDirty(this.subscribers.keys()),
  };
  private readonly pending: ChannelHandler = {
    onNotify: () => this.numberSoon(),
    onLost: () => this.numberSoon(),
  };

  constructor(
    private readonly listener: PgListener,
    private readonly repo: EventsRepository,
  ) {}

  subscribe(stream: StreamName, afterSeq?: number): AsyncIterableIterator<StoredEvent> {
    const sub = new Subscriber(afterSeq, (s) => this.remove(stream, s));
    let set = this.subscribers.get(stream);
    if (!set) this.subscribers.set(stream, (set = new Set()));
    set.add(sub);
    this.startRecheck();
    // Listen and register before numbering and reading the stream's position: a commit after that is always heard.
    void this.listen()
      .then(() => this.register())
      .then(() => this.numberNow())
      .then(async () => {
        if (sub.cursor === null) sub.cursor = await this.repo.lastSeq(stream);
        this.markDirty([stream]);
      })
      .catch((err: unknown) => sub.fail(err));
    return sub;
  }

  private async listen(): Promise<void> {
    if (this.closed) throw new Error('shutting down');
    await Promise.all([this.listener.listen(EVENTS_CHANNEL, this.moved), this.listener.listen(EVENTS_PENDING_CHANNEL, this.pending)]);
  }

  private remove(stream: StreamName, sub: Subscriber): void {
    const set = this.subscribers.get(stream);
    set?.delete(sub);
    if (set?.size === 0) this.subscribers.delete(stream);
    if (this.subscribers.size === 0) {
      this.stopRecheck();
      this.registered = null;
      void this.repo.removeListener(this.listenerId).catch(() => undefined);
    }
  }

  /** Makes sure writers NOTIFY while this process has subscribers (first subscription: awaited; then refreshed). */
  private register(): Promise<void> {
    this.registered ??= this.repo.registerListener(this.listenerId, LISTENER_TTL_SEC).catch((err: unknown) => {
      this.registered = null;
      throw err;
    });
    return this.registered;
  }

  private onMoved(payload: string): void {
    const moved = parseStreamsMoved(payload);
    if (moved.all) return this.markDirty(this.subscribers.keys());
    const streams: StreamName[] = [];
    for (const [stream, seq] of moved.streams) {
      const subs = this.subscribers.get(stream);
      if (subs && [...subs].some((s) => s.cursor === null || s.cursor < seq)) streams.push(stream);
    }
    this.markDirty(streams);
  }

  /** Numbers what waits, in rounds until nothing does; a call while a round runs asks for one more round. */
  private numberSoon(): void {
    if (this.closed || this.subscribers.size === 0) return;
    if (this.numbering !== 'idle') {
      this.numbering = 'again';
      return;
    }
    void this.numberNow().catch((err: unknown) => {
      this.logger.warn(`numbering events failed (${(err as Error).message}); retrying`);
      setTimeout(() => this.numberSoon(), RECONNECT_MS).unref();
    });
  }

  /**
   * Numbers what waits now. While a round runs, the caller asks for another and awaits the whole run, which loops
   * until a round starts after the ask: a new subscriber reads its stream's position only once what was committed
   * before it subscribed is numbered (returning at once let a subscription "from now on" receive the events of
   * changes committed before it, numbered after its position was read).
   */
  private numberNow(): Promise<void> {
    if (this.numberRun) {
      this.numbering = 'again';
      return this.numberRun;
    }
    this.numberRun = this.numberRounds().finally(() => (this.numberRun = null));
    return this.numberRun;
  }

  private async numberRounds(): Promise<void> {
    this.numbering = 'running';
    try {
      for (;;) {
        const moved = await this.repo.number(NUMBER_BATCH);
        if (moved !== null) this.onMoved(moved);
        if (moved === null && this.numbering === 'running') break;
        this.numbering = 'running';
      }
    } finally {
      this.numbering = 'idle';
    }
  }

  private markDirty(streams: Iterable<StreamName>): void {
    for (const s of streams) if (this.subscribers.has(s)) this.dirty.add(s);
    if (this.dirty.size > 0 && !this.draining) void this.drain();
  }

  /** Reads what moved, in one query per round, until nothing is left to read. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.dirty.size > 0 && !this.closed) {
        const cursors: Array<[StreamName, number]> = [];
        for (const stream of this.dirty) {
          const positions = [...(this.subscribers.get(stream) ?? [])].map((s) => s.cursor).filter((c): c is number => c !== null);
          if (positions.length > 0) cursors.push([stream, Math.min(...positions)]);
        }
        this.dirty.clear();
        let events: StoredEvent[];
        try {
          events = await this.repo.after(cursors, PAGE);
        } catch (err) {
          this.logger.warn(`reading events failed (${(err as Error).message}); retrying`);
          setTimeout(() => this.markDirty(cursors.map((c) => c[0])), RECONNECT_MS).unref();
          return;
        }
        const byStream = new Map<StreamName, StoredEvent[]>();
        for (const e of events) {
          let list = byStream.get(e.stream);
          if (!list) byStream.set(e.stream, (list = []));
          list.push(e);
        }
        for (const [stream, list] of byStream) {
          for (const sub of this.subscribers.get(stream) ?? []) sub.push(list);
          if (list.length >= PAGE) this.dirty.add(stream);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private startRecheck(): void {
    this.recheck ??= setInterval(() => {
      if (this.closed) return;
      void this.listen().catch(() => undefined); // PgListener reconnects by itself; this re-adds a channel it lost
      void this.repo.registerListener(this.listenerId, LISTENER_TTL_SEC).catch((err: unknown) => {
        this.logger.warn(`refreshing the event listener registration failed (${(err as Error).message})`);
      });
      this.numberSoon();
      this.markDirty(this.subscribers.keys());
    }, RECHECK_MS).unref();
  }

  private stopRecheck(): void {
    if (this.recheck) clearInterval(this.recheck);
    this.recheck = null;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    this.stopRecheck();
    for (const set of [...this.subscribers.values()]) for (const sub of [...set]) await sub.return();
    await this.repo.removeListener(this.listenerId).catch(() => undefined);
  }
}
