import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { startHttpServer } from '../../src/alerts/channels/alert-testing.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { DeliverWebhooksJob } from '../../src/webhooks/deliver-webhooks.job.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { graphql } from '../support/graphql.js';

/**
 * SLA early warning: a running attempt past p95Fraction of the p95 duration of its task's last successful attempts.
 * The history is made by running attempts and then setting their durations (1 s … 10 s); time is driven by tick(now).
 */

let a: TestApp;
let b: TestApp;
let api: Api;
let db: pg.Client;
let receiver: Awaited<ReturnType<typeof startHttpServer>>;

beforeAll(async () => {
  receiver = await startHttpServer((_req, res) => res.writeHead(200).end('ok'));
  a = await startTestApp();
  b = await startTestApp({}, { databaseUrl: a.db.url });
  api = new Api(a.app);
  db = new pg.Client({ connectionString: a.db.url });
  await db.connect();
});

afterAll(async () => {
  await db.end();
  await b.app.close();
  await a.close();
  await receiver.close();
});

/** `count` successful attempts of dagId.work whose durations are 1 s, 2 s, … */
async function history(dagId: string, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    await api.trigger(dagId, { runId: `h${i}`, logicalDate: new Date(Date.UTC(2023, 0, i)).toISOString() });
    await api.drain(dagId);
  }
  await db.query(
    `UPDATE task_instance_tries t SET start_date = t.end_date - make_interval(secs => substr(ti.run_id, 2)::int)
       FROM task_instances ti WHERE ti.id = t.task_instance_id AND ti.dag_id = $1`,
    [dagId],
  );
}

/** Starts one more attempt; returns when it started (its try's start_date). */
async function startAttempt(dagId: string): Promise<Date> {
  await api.trigger(dagId, { runId: 'now', logicalDate: '2024-06-01T00:00:00Z' });
  const [lease] = await api.lease('w', { queues: [dagId] });
  expect(lease).toBeDefined();
  const { rows } = await db.query(
    `SELECT t.start_date FROM task_instance_tries t JOIN task_instances ti ON ti.id = t.task_instance_id WHERE ti.dag_id = $1 AND ti.run_id = 'now'`,
    [dagId],
  );
  return rows[0].start_date;
}

const at = (start: Date, sec: number) => new Date(start.getTime() + sec * 1000);

describe('SLA early warning', () => {
  it('fires once, when the attempt passes 0.8 × p95 of the last successful attempts, with two schedulers', async () => {
    await api.registerDag(
      dag('warned', [{ taskId: 'work' }], {
        defaultArgs: { queue: 'warned', slaWarning: { p95Fraction: 0.8, minSamples: 10, window: 30 } },
        slaCallbacks: [{ type: 'webhook', url: `${receiver.url}/warn` }],
      }),
    );
    const hook = await api.ok('POST', '/api/v1/webhooks', { url: `${receiver.url}/events`, eventKinds: ['sla_warning'] });
    await history('warned', 10);
    // p95 of 1 … 10 s (linear interpolation, as percentile_cont): 9.55 s; 0.8 of it: 7.64 s.
    const start = await startAttempt('warned');

    await api.tick(at(start, 7.5));
    expect((await api.ok('GET', '/api/v1/slaWarnings?dagId=warned')).totalEntries).toBe(0);

    const before = (await a.app.get(MetricsService).slaWarnings.get()).values[0]?.value ?? 0;
    const late = at(start, 7.7);
    const ticks = await Promise.all([new Api(a.app).tick(late), new Api(b.app).tick(late), new Api(a.app).tick(late)]);
    expect(ticks.reduce((n, t) => n + t.slaWarnings, 0)).toBe(1);
    await api.tick(at(start, 30));

    const warnings = await api.ok('GET', '/api/v1/slaWarnings?dagId=warned');
    expect(warnings.totalEntries).toBe(1);
    const w = warnings.items[0];
    expect(w).toMatchObject({ dagId: 'warned', runId: 'now', taskId: 'work', tryNumber: 1, samples: 10, p95Fraction: 0.8 });
    expect(w.p95Sec).toBeCloseTo(9.55, 2);
    expect(w.elapsedSec).toBeCloseTo(7.7, 2);
    expect(w.deliveries).toEqual([expect.objectContaining({ channel: 'webhook', state: 'delivered' })]);

    const gql = await graphql(a.app, `{ slaWarnings(filter: { dagId: "warned" }) { totalEntries items { taskId p95Sec samples } } }`);
    expect(gql.data.slaWarnings).toMatchObject({ totalEntries: 1, items: [{ taskId: 'work', samples: 10 }] });

    // Counted by the process that recorded it (a or b).
    const counted = ((await a.app.get(MetricsService).slaWarnings.get()).values[0]?.value ?? 0) - before + ((await b.app.get(MetricsService).slaWarnings.get()).values[0]?.value ?? 0);
    expect(counted).toBe(1);

    // Delivered to the DAG's slaCallbacks as its own kind …
    const sent = receiver.requests.filter((r) => r.path === '/warn').map((r) => JSON.parse(r.body));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ kind: 'sla_warning', dagId: 'warned', runId: 'now', taskId: 'work', details: { samples: 10, p95Fraction: 0.8 } });
    expect(receiver.requests.find((r) => r.path === '/warn')!.headers['x-weft-event']).toBe('sla_warning');
    // … and to webhooks for state changes.
    await a.app.get(DeliverWebhooksJob).run(new Date(Date.now() + 1000));
    const event = JSON.parse(receiver.requests.find((r) => r.path === '/events')!.body);
    expect(event).toMatchObject({ kind: 'sla_warning', stream: 'sla:warned', data: { taskId: 'work', samples: 10 } });
    await api.ok('DELETE', `/api/v1/webhooks/${hook.id}`);
  });

  it('does not fire without enough samples', async () => {
    await api.registerDag(dag('few', [{ taskId: 'work', slaWarning: { p95Fraction: 0.5, minSamples: 10 } }]));
    await history('few', 9);
    const start = await startAttempt('few');
    await api.tick(at(start, 50));
    expect((await api.ok('GET', '/api/v1/slaWarnings?dagId=few')).totalEntries).toBe(0);
  });

  it('refuses settings that cannot work', async () => {
    const res = await api.call('POST', '/api/v1/dags/validate', dag('bad_warn', [{ taskId: 'work', slaWarning: { p95Fraction: 0.8, minSamples: 40, window: 30 } }]));
    expect(JSON.stringify(res.body)).toMatch(/minSamples cannot exceed window/);
  });
});
