import type { EffectType, TransactionEffect, UnitOfWork } from './unit-of-work.js';

/**
 * An event raised inside a transaction whose listeners write in that same transaction (awaited in turn), so what
 * they write commits or rolls back with the change that raised it.
 */
export class InTransactionEvent<T> {
  private readonly listeners: Array<(tx: UnitOfWork, event: T) => Promise<void>> = [];

  on(listener: (tx: UnitOfWork, event: T) => Promise<void>): void {
    this.listeners.push(listener);
  }

  async raise(tx: UnitOfWork, event: T): Promise<void> {
    for (const listener of this.listeners) await listener(tx, event);
  }
}

/**
 * An event a transaction raises for after its COMMIT (an after-commit effect): once the transaction committed, each
 * listener gets each event, the same key once per transaction (the first raised); nothing when it rolls back.
 * Listeners are awaited in turn, before the transaction's caller gets its result; a listener's error reaches it.
 */
export class AfterCommitEvent<T> implements EffectType<RaisedEvents<T>> {
  readonly commitOrder = 0;
  private readonly listeners: Array<(event: T) => Promise<unknown>> = [];

  constructor(
    readonly effectName: string,
    private readonly key: (event: T) => string,
  ) {}

  on(listener: (event: T) => Promise<unknown>): void {
    this.listeners.push(listener);
  }

  raise(tx: UnitOfWork, event: T): void {
    tx.effect(this).add(this.key(event), event);
  }

  create(): RaisedEvents<T> {
    return new RaisedEvents(this.listeners);
  }
}

class RaisedEvents<T> implements TransactionEffect {
  private readonly events = new Map<string, T>();

  constructor(private readonly listeners: ReadonlyArray<(event: T) => Promise<unknown>>) {}

  add(key: string, event: T): void {
    if (!this.events.has(key)) this.events.set(key, event);
  }

  async afterCommit(): Promise<void> {
    for (const event of this.events.values()) {
      for (const listener of this.listeners) await listener(event);
    }
  }
}
