import { describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { AfterCommitEvent, InTransactionEvent } from './transaction-events.js';
import { Transactions } from './transactions.js';
import { LAST_BEFORE_COMMIT, type EffectType, type TransactionEffect, type UnitOfWork } from './unit-of-work.js';

/** A pool whose one connection records what it is sent (and fails on `failOn`); no database. */
function fakePool(failOn?: string) {
  const log: string[] = [];
  const client = {
    query: async (text: string | { text: string }) => {
      const sql = typeof text === 'string' ? text : text.text;
      log.push(sql);
      if (sql === failOn) throw Object.assign(new Error(`${sql} failed`), { code: '40001' });
      return { rows: [], rowCount: 0 };
    },
    release: () => log.push('release'),
  };
  return { pool: { connect: async () => client } as unknown as pg.Pool, log };
}

/** An effect type whose instances write their hooks to `log`. */
function recording(name: string, commitOrder: number, log: string[]): EffectType<TransactionEffect> {
  return {
    effectName: name,
    commitOrder,
    create: (tx: UnitOfWork) => ({
      beforeCommit: async () => {
        await tx.query(`-- ${name} before commit`);
      },
      settle: (committed: boolean) => log.push(`${name} settled ${committed}`),
      afterCommit: async () => {
        log.push(`${name} after commit`);
      },
    }),
  };
}

describe(Transactions.name, () => {
  it('runs before-commit effects in commitOrder inside the transaction, then settles them, then the after-commit ones once the connection is back', async () => {
    const { pool, log } = fakePool();
    const sut = new Transactions(pool);
    const last = recording('hand-off', LAST_BEFORE_COMMIT, log);
    const first = recording('first', 0, log);
    const result = await sut.run(async (tx) => {
      tx.effect(last);
      await tx.query('UPDATE x');
      tx.effect(first);
      tx.effect(last); // the same instance again
      return 42;
    });
    expect(result).toBe(42);
    expect(log).toEqual([
      'BEGIN',
      'UPDATE x',
      '-- first before commit',
      '-- hand-off before commit',
      'COMMIT',
      'release',
      'hand-off settled true',
      'first settled true',
      'hand-off after commit',
      'first after commit',
    ]);
  });

  it('rolls back, settles with false and skips after-commit effects when the callback, an effect or COMMIT fails', async () => {
    for (const failOn of ['UPDATE x', '-- first before commit', 'COMMIT']) {
      const { pool, log } = fakePool(failOn);
      const sut = new Transactions(pool);
      await expect(
        sut.run(async (tx) => {
          tx.effect(recording('first', 0, log));
          await tx.query('UPDATE x');
        }),
      ).rejects.toThrow(`${failOn} failed`);
      expect(log.filter((l) => !l.startsWith('-- ') && l !== 'UPDATE x')).toEqual(['BEGIN', ...(failOn === 'COMMIT' ? ['COMMIT'] : []), 'ROLLBACK', 'first settled false', 'release']);
    }
  });

  it('refuses an effect asked for once the transaction has begun to commit', async () => {
    const { pool } = fakePool();
    const late = recording('late', 0, []);
    let tx!: UnitOfWork;
    await new Transactions(pool).run(async (t) => {
      tx = t;
    });
    expect(() => tx.effect(late)).toThrow("effect 'late' requested after the transaction began to commit");
  });
});

describe('transaction events', () => {
  it('delivers in-transaction events to every listener, in the transaction', async () => {
    const { pool, log } = fakePool();
    const event = new InTransactionEvent<{ n: number }>();
    event.on(async (tx, e) => {
      await tx.query(`-- first ${e.n}`);
    });
    event.on(async (tx, e) => {
      await tx.query(`-- second ${e.n}`);
    });
    await new Transactions(pool).run((tx) => event.raise(tx, { n: 1 }));
    expect(log).toEqual(['BEGIN', '-- first 1', '-- second 1', 'COMMIT', 'release']);
  });

  it('delivers after-commit events once per key, after COMMIT, and never after a rollback', async () => {
    const seen: string[] = [];
    const event = new AfterCommitEvent<{ dagId: string; n: number }>('test', (e) => e.dagId);
    event.on(async (e) => {
      seen.push(`${e.dagId}:${e.n}`);
    });
    const ok = fakePool();
    await new Transactions(ok.pool).run(async (tx) => {
      event.raise(tx, { dagId: 'a', n: 1 });
      event.raise(tx, { dagId: 'b', n: 2 });
      event.raise(tx, { dagId: 'a', n: 3 });
      expect(seen).toEqual([]);
    });
    expect(seen).toEqual(['a:1', 'b:2']);
    const failing = fakePool('COMMIT');
    await expect(new Transactions(failing.pool).run(async (tx) => event.raise(tx, { dagId: 'c', n: 4 }))).rejects.toThrow();
    expect(seen).toEqual(['a:1', 'b:2']);
  });
});
