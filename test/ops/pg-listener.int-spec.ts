import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.js';
import { PgListener } from '../../src/database/pg-listener.service.js';
import { useTestDatabase } from '../support/pg-admin.js';
import { waitFor } from '../support/wait.js';

/** The process's one LISTEN connection: shared by channels, deduplicated LISTENs, recovery after a lost connection. */
const h = useTestDatabase();

const until = (what: () => boolean, description: string) => waitFor(async () => what(), description, 5000, 20);

describe('PgListener', () => {
  it('serves several channels on one connection, and comes back by itself after losing it', async () => {
    const listener = new PgListener(h.db.url, loadConfig({}));
    const heard: string[] = [];
    let lost = 0;
    const handler = (name: string) => ({ onNotify: (p: string) => heard.push(`${name}:${p}`), onLost: () => lost++ });
    // Queries in flight per client: a pg client runs one at a time (overlapping calls queue, and pg warns that this
    // will stop working), so the listener must never have two outstanding.
    const original = pg.Client.prototype.query;
    const inFlight = new Map<object, number>();
    let maxInFlight = 0;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const n = (inFlight.get(this) ?? 0) + 1;
      inFlight.set(this, n);
      maxInFlight = Math.max(maxInFlight, n);
      const result = (original as (...a: unknown[]) => unknown).apply(this, args);
      const done = () => inFlight.set(this, (inFlight.get(this) ?? 1) - 1);
      if (result instanceof Promise) result.then(done, done);
      else done();
      return result;
    } as typeof original;
    try {
      // The connection is already open for one channel; then many callers at once ask for three more (as 50 long
      // polls arriving together): one connection, one LISTEN per channel, never two queries at once.
      await listener.listen('weft_test_first', handler('first'));
      const handlers = { a: handler('a'), b: handler('b'), c: handler('c') };
      await Promise.all(Array.from({ length: 30 }, (_, i) => {
        const name = (['a', 'b', 'c'] as const)[i % 3];
        return listener.listen(`weft_test_${name}`, handlers[name]);
      }));
      expect(['a', 'b', 'c'].every((n) => listener.isListening(`weft_test_${n}`))).toBe(true);
      const { rows } = await h.client.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'`, [h.db.name]);
      expect(rows).toHaveLength(1);

      await h.client.query(`SELECT pg_notify('weft_test_a', '1'), pg_notify('weft_test_c', '2')`);
      await until(() => heard.length === 2, 'both notifications');
      expect(heard.sort()).toEqual(['a:1', 'c:2']);

      // The connection is killed: every channel (4) hears it is lost, then again once it is back, and NOTIFYs flow.
      await h.client.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
      await until(() => lost >= 4 && !listener.isListening('weft_test_b'), 'the loss heard by every channel');
      await until(() => listener.isListening('weft_test_b'), 'the reconnection');
      await until(() => lost >= 8, 'every channel told to re-check after reconnecting');
      await h.client.query(`SELECT pg_notify('weft_test_b', '3')`);
      await until(() => heard.includes('b:3'), 'a notification after reconnecting');
      expect(maxInFlight).toBe(1);
    } finally {
      pg.Client.prototype.query = original;
      await listener.onApplicationShutdown();
    }
  });
});
