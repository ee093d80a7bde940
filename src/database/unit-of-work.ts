import type pg from 'pg';
import type { Queryable } from './pg.js';

/**
 * Work a transaction does at its end, beyond its own statements: one instance per transaction and kind, created
 * the first time the transaction asks for it (UnitOfWork.effect). Every hook is optional.
 */
export interface TransactionEffect {
  /** Inside the transaction, just before COMMIT: its statements commit or roll back with everything else. */
  beforeCommit?(): Promise<void>;
  /**
   * As soon as the outcome is known, before the connection goes back to the pool: `committed` false when the
   * transaction, a before-commit effect or the COMMIT itself failed. Synchronous: it only hands results on.
   */
  settle?(committed: boolean): void;
  /** After COMMIT, once the connection is back in the pool; awaited before the transaction's caller gets its result. */
  afterCommit?(): Promise<void>;
}

/** A kind of transaction effect: what it is called and how one is made for a transaction. */
export interface EffectType<E extends TransactionEffect> {
  readonly effectName: string;
  /**
   * Before-commit effects run in ascending order. The lease hand-off runs last (LAST_BEFORE_COMMIT): its claim
   * must be the transaction's last statement, so the claim's limit locks are never held while waiting for another.
   */
  readonly commitOrder: number;
  create(tx: UnitOfWork): E;
}

export const LAST_BEFORE_COMMIT = Number.MAX_SAFE_INTEGER;

/**
 * One transaction on one pooled connection (Transactions.run opens it), with the effects it must apply at its end.
 * It is a Queryable, so repositories take it wherever they take a connection; code that needs an effect asks the
 * transaction for it by its type, so what happens at commit is named in the code that causes it.
 */
export class UnitOfWork implements Queryable {
  readonly query: Queryable['query'];
  private readonly effects = new Map<EffectType<TransactionEffect>, TransactionEffect>();
  private ending = false;

  constructor(client: pg.PoolClient) {
    this.query = client.query.bind(client) as Queryable['query'];
  }

  /** This transaction's effect of `type`, made on first use. */
  effect<E extends TransactionEffect>(type: EffectType<E>): E {
    let effect = this.effects.get(type);
    if (!effect) {
      if (this.ending) throw new Error(`effect '${type.effectName}' requested after the transaction began to commit`);
      effect = type.create(this);
      this.effects.set(type, effect);
    }
    return effect as E;
  }

  /** @internal (Transactions) The before-commit effects, in commitOrder. */
  async beforeCommit(): Promise<void> {
    this.ending = true;
    if (!this.effects.size) return;
    const ordered = [...this.effects].sort(([a], [b]) => a.commitOrder - b.commitOrder);
    for (const [, effect] of ordered) await effect.beforeCommit?.();
  }

  /** @internal (Transactions) Tells every effect how the transaction ended. */
  settle(committed: boolean): void {
    this.ending = true;
    for (const effect of this.effects.values()) effect.settle?.(committed);
  }

  /** @internal (Transactions) The after-commit effects, in the order the transaction first used them. */
  async afterCommit(): Promise<void> {
    for (const effect of this.effects.values()) await effect.afterCommit?.();
  }
}
