import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';

/**
 * A cap on the pooled connections one request may hold at once. A request that runs under a budget
 * (`withConnectionBudget`) waits for its own free slot before it asks the pool for a connection, so however many
 * fields it resolves in parallel it never holds more than `slots` of the pool: the other requests keep the rest.
 * GraphQL requests run under one (a single operation can fan out into many parallel fields); REST requests use
 * one or two connections each and run without.
 */
export class ConnectionBudget {
  private inUse = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly slots: number) {}

  async acquire(): Promise<void> {
    if (this.inUse < this.slots) {
      this.inUse++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inUse--;
  }
}

const budgets = new AsyncLocalStorage<ConnectionBudget>();

/**
 * Stops the budget's context tracking. An AsyncLocalStorage that has run stays hooked into every promise the process
 * creates until it is disabled: the test suite, which loads this module afresh for each test file in one process,
 * disables it after each file (test/support/release-context-stores.ts). The next `run` enables it again.
 */
export function disableConnectionBudgets(): void {
  budgets.disable();
}

/** Runs `fn` (and everything it starts) under a budget of `slots` connections. */
export function withConnectionBudget<T>(slots: number, fn: () => T): T {
  return budgets.run(new ConnectionBudget(slots), fn);
}

/**
 * Makes the pool honour the budget of the calling request, if any: `connect()` takes a slot until the client is
 * released, `query()` for the statement's duration. Code outside a budget (schedulers, REST) is untouched.
 */
export function applyConnectionBudgets(pool: pg.Pool): void {
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  (pool as { connect: unknown }).connect = async (...args: unknown[]) => {
    if (args.length) return (connect as (...a: unknown[]) => unknown)(...args);
    const budget = budgets.getStore();
    if (!budget) return connect();
    await budget.acquire();
    let client: pg.PoolClient;
    try {
      client = await connect();
    } catch (err) {
      budget.release();
      throw err;
    }
    const release = client.release.bind(client);
    let released = false;
    client.release = (err?: Error | boolean) => {
      if (!released) {
        released = true;
        budget.release();
      }
      return release(err);
    };
    return client;
  };
  (pool as { query: unknown }).query = async (...args: unknown[]) => {
    const budget = budgets.getStore();
    if (!budget || typeof args[args.length - 1] === 'function') return query(...args);
    await budget.acquire();
    try {
      return await query(...args);
    } finally {
      budget.release();
    }
  };
}
