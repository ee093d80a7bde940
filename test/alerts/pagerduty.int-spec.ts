import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { startHttpServer, type RecordedRequest } from '../../src/alerts/channels/alert-testing.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * PagerDuty Events API v2 against a local receiver that checks every field of every event (and answers 400 naming
 * the first problem) and otherwise answers 429, then 503, then 202, in turn: every event needs three attempts.
 */

const ROUTING_KEY = 'R0UTINGKEY0123456789abcdef012345';
const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

type Accepted = { action: string; dedupKey: string; body: Record<string, any> };

let a: TestApp;
let api: Api;
let db: pg.Client;
let receiver: Awaited<ReturnType<typeof startHttpServer>>;
const accepted: Accepted[] = [];
const invalid: string[] = [];
const answers = [429, 503, 202];
let answered = 0;

/** Every field of an Events API v2 event, as PagerDuty documents it; null when the event is valid. */
function problem(req: RecordedRequest): string | null {
  if (req.method !== 'POST' || req.path !== '/v2/enqueue') return `unexpected ${req.method} ${req.path}`;
  if (!String(req.headers['content-type']).startsWith('application/json')) return 'content-type is not application/json';
  let e: Record<string, any>;
  try {
    e = JSON.parse(req.body);
  } catch {
    return 'body is not JSON';
  }
  if (e.routing_key !== ROUTING_KEY) return `routing_key ${e.routing_key}`;
  if (typeof e.dedup_key !== 'string' || e.dedup_key.length === 0 || e.dedup_key.length > 255) return 'dedup_key';
  if (e.event_action === 'resolve') {
    const extra = Object.keys(e).filter((k) => !['routing_key', 'event_action', 'dedup_key'].includes(k));
    return extra.length ? `resolve carries ${extra.join(', ')}` : null;
  }
  if (e.event_action !== 'trigger') return `event_action ${e.event_action}`;
  const extra = Object.keys(e).filter((k) => !['routing_key', 'event_action', 'dedup_key', 'payload', 'client', 'client_url', 'links', 'images'].includes(k));
  if (extra.length) return `unknown fields ${extra.join(', ')}`;
  const p = e.payload;
  if (!p || typeof p !== 'object') return 'payload';
  if (typeof p.summary !== 'string' || p.summary.length === 0 || p.summary.length > 1024) return 'payload.summary';
  if (typeof p.source !== 'string' || p.source.length === 0) return 'payload.source';
  if (!SEVERITIES.includes(p.severity)) return `payload.severity ${p.severity}`;
  if (p.timestamp !== undefined && !ISO.test(p.timestamp)) return `payload.timestamp ${p.timestamp}`;
  for (const k of ['component', 'group', 'class']) if (p[k] !== undefined && typeof p[k] !== 'string') return `payload.${k}`;
  if (p.custom_details !== undefined && (typeof p.custom_details !== 'object' || Array.isArray(p.custom_details))) return 'payload.custom_details';
  const unknown = Object.keys(p).filter((k) => !['summary', 'source', 'severity', 'timestamp', 'component', 'group', 'class', 'custom_details'].includes(k));
  return unknown.length ? `unknown payload fields ${unknown.join(', ')}` : null;
}

beforeAll(async () => {
  receiver = await startHttpServer((req, res) => {
    const wrong = problem(req);
    if (wrong) {
      invalid.push(wrong);
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: [wrong] }));
      return;
    }
    const status = answers[answered++ % answers.length]!;
    if (status === 202) {
      const body = JSON.parse(req.body);
      accepted.push({ action: body.event_action, dedupKey: body.dedup_key, body });
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: body.dedup_key }));
    } else {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'throttled' }));
    }
  });
  process.env.WEFT_SECRET_PD_KEY = ROUTING_KEY;
  a = await startTestApp();
  api = new Api(a.app);
  db = new pg.Client({ connectionString: a.db.url });
  await db.connect();
});

afterAll(async () => {
  delete process.env.WEFT_SECRET_PD_KEY;
  await db.end();
  await a.close();
  await receiver.close();
});

/** Scheduler ticks an hour apart (each delivers what is due) until nothing is pending. */
async function deliverAll(): Promise<void> {
  for (let i = 1; i <= 12; i++) {
    await api.tick(new Date(Date.now() + i * 3_600_000));
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM alert_deliveries WHERE state = 'pending'`);
    if (rows[0].n === 0) return;
  }
  throw new Error('alert deliveries still pending');
}

describe('PagerDuty', () => {
  it('triggers on failure with a stable dedup_key, folds a second failure into it, and resolves when the task instance succeeds', async () => {
    const pd = { type: 'pagerduty', routingKeyRef: 'PD_KEY', severity: 'critical', url: `${receiver.url}/v2/enqueue` };
    await api.registerDag(dag('paged', [{ taskId: 'load' }], { onFailureCallbacks: [pd] }));
    const run = await api.trigger('paged');
    const [first] = await api.lease('w', { queues: ['paged'] });
    await api.complete(first.leaseId, { status: 'failed', error: 'disk full' });
    await deliverAll();

    const tiId = (await db.query(`SELECT id FROM task_instances WHERE dag_id = 'paged'`)).rows[0].id;
    const runRowId = (await db.query(`SELECT id FROM dag_runs WHERE dag_id = 'paged'`)).rows[0].id;
    const taskKey = `weft:task_failed:ti:${tiId}`;
    const runKey = `weft:run_failed:run:${runRowId}`;
    expect(accepted.map((e) => [e.action, e.dedupKey]).sort()).toEqual([
      ['trigger', runKey],
      ['trigger', taskKey],
    ]);
    const taskTrigger = accepted.find((e) => e.dedupKey === taskKey)!;
    expect(taskTrigger.body).toMatchObject({
      client: 'Weft',
      payload: { severity: 'critical', source: 'weft', component: 'load', group: 'paged', class: 'task_failed', custom_details: { dagId: 'paged', runId: run.runId, taskId: 'load', error: 'disk full' } },
    });
    expect(taskTrigger.body.payload.summary).toMatch(/Task failed: paged\.load .*disk full/);
    // The receiver answers 429, 503, 202 in turn (across both deliveries): each was retried until accepted, six
    // attempts for two events.
    const attempts = (await db.query(`SELECT attempts, state::text FROM alert_deliveries WHERE dag_id = 'paged' ORDER BY id`)).rows;
    expect(attempts.map((r) => r.state)).toEqual(['delivered', 'delivered']);
    expect(attempts.reduce((n, r) => n + r.attempts, 0)).toBe(6);
    expect(answered).toBe(6);

    // Cleared, it fails again: the same incident (same dedup_key).
    await api.ok('POST', '/api/v1/dags/paged/clearTaskInstances', { taskIds: ['load'], dryRun: false });
    const [second] = await api.lease('w', { queues: ['paged'] });
    await api.complete(second.leaseId, { status: 'failed', error: 'disk still full' });
    await deliverAll();
    expect(accepted.slice(2).map((e) => [e.action, e.dedupKey]).sort()).toEqual([
      ['trigger', runKey],
      ['trigger', taskKey],
    ]);

    // Cleared again, it succeeds: both incidents are resolved, once, whatever number of ticks see it.
    await api.ok('POST', '/api/v1/dags/paged/clearTaskInstances', { taskIds: ['load'], dryRun: false });
    const [third] = await api.lease('w', { queues: ['paged'] });
    await api.complete(third.leaseId, { status: 'success' });
    expect((await api.run('paged', run.runId)).state).toBe('success');
    await deliverAll();
    await deliverAll();
    expect(accepted.slice(4).map((e) => [e.action, e.dedupKey]).sort()).toEqual([
      ['resolve', runKey],
      ['resolve', taskKey],
    ]);
    expect(invalid).toEqual([]);
  });

  it('resolves an SLA miss when the task instance succeeds after a mark', async () => {
    const pd = { type: 'pagerduty', routingKeyRef: 'PD_KEY', url: `${receiver.url}/v2/enqueue` };
    await api.registerDag(dag('paged_sla', [{ taskId: 'late', sla: 'PT1H' }], { schedule: '@daily', startDate: '2024-01-01T00:00:00Z', catchup: false, slaCallbacks: [pd] }));
    accepted.length = 0;
    await api.tick(new Date('2024-01-02T00:00:30Z'));
    await api.tick(new Date('2024-01-02T01:00:01Z'));
    // Paused, so that the ticks below (in the present) create no runs of their own.
    await api.ok('PATCH', '/api/v1/dags/paged_sla', { isPaused: true });
    await deliverAll();
    const tiId = (await db.query(`SELECT id FROM task_instances WHERE dag_id = 'paged_sla'`)).rows[0].id;
    expect(accepted.map((e) => [e.action, e.dedupKey, e.body.payload?.severity])).toEqual([['trigger', `weft:sla_miss:ti:${tiId}`, 'error']]);
    const runId = (await db.query(`SELECT run_id FROM task_instances WHERE id = $1`, [tiId])).rows[0].run_id;
    await api.ok('PATCH', `/api/v1/dags/paged_sla/dagRuns/${encodeURIComponent(runId)}/taskInstances/late`, { newState: 'success' });
    await deliverAll();
    expect(accepted.map((e) => [e.action, e.dedupKey])).toEqual([
      ['trigger', `weft:sla_miss:ti:${tiId}`],
      ['resolve', `weft:sla_miss:ti:${tiId}`],
    ]);
    expect(invalid).toEqual([]);
  });

  it('sends a severity by kind: the defaults, or the callback\'s by kind; a bad one is a 400 naming the field', async () => {
    const url = `${receiver.url}/v2/enqueue`;
    const refused = await api.call('POST', '/api/v1/dags', dag('paged_bad', [{ taskId: 't' }], { onFailureCallbacks: [{ type: 'pagerduty', routingKeyRef: 'PD_KEY', severity: { task_failed: 'page' } }] }));
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('onFailureCallbacks[0].severity.task_failed');
    expect((await api.call('GET', '/api/v1/dags/paged_bad')).status).toBe(404);

    await api.registerDag(
      dag('paged_kinds', [{ taskId: 't' }], {
        onFailureCallbacks: [
          { type: 'pagerduty', routingKeyRef: 'PD_KEY', url },
          { type: 'pagerduty', routingKeyRef: 'PD_KEY', url, severity: { task_failed: 'warning' } },
          { type: 'pagerduty', routingKeyRef: 'PD_KEY', url, severity: 'info' },
        ],
      }),
    );
    accepted.length = 0;
    await api.trigger('paged_kinds');
    const [lease] = await api.lease('w', { queues: ['paged_kinds'] });
    await api.complete(lease.leaseId, { status: 'failed', error: 'boom' });
    await deliverAll();
    const severities = accepted
      .filter((e) => e.action === 'trigger' && e.body.payload.group === 'paged_kinds')
      .map((e) => `${e.body.payload.class} ${e.body.payload.severity}`)
      .sort();
    // Per callback: defaults (task error, run critical), by kind (task warning, run's default critical), one level.
    expect(severities).toEqual(['run_failed critical', 'run_failed critical', 'run_failed info', 'task_failed error', 'task_failed info', 'task_failed warning']);
    expect(invalid).toEqual([]);
  });

  it('fails the delivery with the reason when the routing key variable is missing', async () => {
    await api.registerDag(dag('paged_nokey', [{ taskId: 't' }], { onFailureCallbacks: [{ type: 'pagerduty', routingKeyRef: 'NO_SUCH_KEY', url: `${receiver.url}/v2/enqueue` }] }));
    await api.trigger('paged_nokey');
    const [lease] = await api.lease('w', { queues: ['paged_nokey'] });
    await api.complete(lease.leaseId, { status: 'failed' });
    await api.tick(new Date(Date.now() + 1000));
    const { items } = await api.ok('GET', '/api/v1/alertDeliveries?dagId=paged_nokey');
    expect(items[0]).toMatchObject({ channel: 'pagerduty', state: 'failed', lastError: expect.stringContaining('WEFT_SECRET_NO_SUCH_KEY') });
  });
});
