import { describe, expect, it } from '@jest/globals';
import { ApiKeysService } from '../../src/auth/api-keys.service.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, useTestApp } from '../support/app.js';
import { sample } from '../support/metrics.js';

const h = useTestApp();
const api = new Api(() => h.t.app);

async function scrape(): Promise<string> {
  const res = await h.t.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body;
}

describe('/metrics', () => {
  it('shows the counts of a run change as it is queued, leased and completed', async () => {
    await api.registerDag(dag('metered', [{ taskId: 'a' }, { taskId: 'b' }, { taskId: 'c', dependsOn: ['a', 'b'] }]));
    const before = await scrape();
    expect(sample(before, 'weft_database_up')).toBe(1);
    expect(sample(before, 'weft_dag_runs', { state: 'running' })).toBe(0);
    expect(sample(before, 'weft_leases_granted_total', { queue: 'metered' })).toBeUndefined();

    const run = await api.trigger('metered');
    const queued = await scrape();
    expect(sample(queued, 'weft_dag_runs', { state: 'running' })).toBe(1);
    expect(sample(queued, 'weft_task_instances', { state: 'queued' })).toBe(2);
    expect(sample(queued, 'weft_queue_depth', { queue: 'metered' })).toBe(2);
    expect(sample(queued, 'weft_queue_oldest_age_seconds', { queue: 'metered' })).toBeGreaterThanOrEqual(0);

    const leases = await api.lease('w1', { queues: ['metered'] });
    expect(leases).toHaveLength(2);
    const leased = await scrape();
    expect(sample(leased, 'weft_task_instances', { state: 'running' })).toBe(2);
    expect(sample(leased, 'weft_queue_depth', { queue: 'metered' })).toBeUndefined();
    expect(sample(leased, 'weft_leases_granted_total', { queue: 'metered' })).toBe(2);
    expect(sample(leased, 'weft_task_dispatch_latency_seconds_count', { queue: 'metered' })).toBe(2);
    expect(sample(leased, 'weft_pool_slots_used', { pool: 'default_pool' })).toBe(2);
    expect(sample(leased, 'weft_pool_slots', { pool: 'default_pool' })).toBeGreaterThanOrEqual(2);

    for (const l of leases) expect((await api.complete(l.leaseId, { status: 'success' })).status).toBe(200);
    await api.drain('metered');
    expect((await api.run('metered', run.runId)).state).toBe('success');
    const done = await scrape();
    expect(sample(done, 'weft_dag_runs', { state: 'running' })).toBe(0);
    expect(sample(done, 'weft_dag_runs', { state: 'success' })).toBe(1);
    expect(sample(done, 'weft_task_instances', { state: 'success' })).toBe(3);
    expect(sample(done, 'weft_leases_granted_total', { queue: 'metered' })).toBe(3);
    expect(sample(done, 'weft_task_duration_seconds_count', { dag_id: 'metered', task_id: 'a', state: 'success' })).toBe(1);
    expect(sample(done, 'weft_task_duration_seconds_count', { dag_id: 'metered', task_id: 'c', state: 'success' })).toBe(1);
    expect(sample(done, 'weft_pool_slots_used', { pool: 'default_pool' })).toBe(0);
    // HTTP durations by route template, not by raw URL.
    expect(sample(done, 'weft_http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/leases/:leaseId/complete', status_code: '200' })).toBe(3);
  });

  it('times scheduler ticks and reports the process: event-loop lag, database pool, requests in flight', async () => {
    await api.tick();
    await api.tick();
    const text = await scrape();
    expect(sample(text, 'weft_scheduler_tick_duration_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'weft_leases_expired_total')).toBe(0);
    expect(sample(text, 'weft_sla_misses_total')).toBe(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'weft_db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'weft_db_pool_connections', { state: 'waiting' })).toBe(0);
    // Only the scrape itself: every earlier request was counted out when it ended.
    expect(sample(text, 'weft_http_requests_in_flight')).toBe(1);
    expect(sample(text, 'weft_draining')).toBe(0);
  });

  it('echoes a request id, or makes one', async () => {
    const given = await h.t.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers['x-request-id']).toBe('trace-123');
    const made = await h.t.app.inject({ method: 'GET', url: '/health' });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('needs a key of role viewer or above when WEFT_METRICS_PUBLIC=false', async () => {
    const t = await startTestApp({ WEFT_AUTH: 'on', WEFT_METRICS_PUBLIC: 'false' }, { databaseUrl: h.t.db.url });
    try {
      const keys = t.app.get(ApiKeysService);
      const viewer = await keys.create({ name: 'prometheus', role: 'viewer' });
      const worker = await keys.create({ name: 'w', role: 'worker' });
      const get = (key?: string) => t.app.inject({ method: 'GET', url: '/metrics', headers: key ? { authorization: `Bearer ${key}` } : {} });
      expect((await get()).statusCode).toBe(401);
      expect((await get(worker.key)).statusCode).toBe(403);
      expect((await get(viewer.key)).statusCode).toBe(200);
    } finally {
      await t.app.close();
    }
    // The default (public) needs no key even with authentication on.
    const open = await startTestApp({ WEFT_AUTH: 'on' }, { databaseUrl: h.t.db.url });
    try {
      expect((await open.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    } finally {
      await open.app.close();
    }
  });
});
