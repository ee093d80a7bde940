import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { startHttpServer, type RecordedRequest } from '../../src/alerts/channels/alert-testing.js';
import { verifyWebhookSignature } from '../../src/alerts/channels/webhook.channel.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { DeliverWebhooksJob } from '../../src/webhooks/deliver-webhooks.job.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { graphql } from '../support/graphql.js';

/**
 * Outbound webhooks for state changes, against real local HTTP receivers. Delivery passes are driven with an
 * explicit "now" (DeliverWebhooksJob.run(now)), so a 30-second receiver outage is 30 s of the deliverer's clock,
 * with every retry it would make in that time, and no wall-clock wait.
 */

type Receipt = { stream: string; seq: number; delivery: string; body: string; accepted: boolean; signed: boolean };

let a: TestApp;
let b: TestApp;
let api: Api;
let db: pg.Client;
/** What the receiver answers next: 'up' (202), 'down' (503), 'lose' (the event is taken, but the answer is a 500). */
let mode: 'up' | 'down' | 'lose' = 'up';
const receipts: Receipt[] = [];
let receiver: Awaited<ReturnType<typeof startHttpServer>>;

function record(req: RecordedRequest, accepted: boolean): void {
  const h = req.headers;
  receipts.push({
    stream: String(h['x-weft-stream']),
    seq: Number(h['x-weft-sequence']),
    delivery: String(h['x-weft-delivery']),
    body: req.body,
    accepted,
    signed: verifyWebhookSignature('hook-secret', h['x-weft-timestamp'] as string, req.body, h['x-weft-signature'] as string),
  });
}

beforeAll(async () => {
  receiver = await startHttpServer((req, res) => {
    if (mode === 'down') {
      record(req, false);
      res.writeHead(503).end('down for maintenance');
      return;
    }
    record(req, true);
    if (mode === 'lose') {
      mode = 'up';
      res.writeHead(500).end('stored it, then crashed');
      return;
    }
    res.writeHead(202).end();
  });
  a = await startTestApp({ WEFT_WEBHOOK_DISABLE_AFTER_SEC: '600' });
  b = await startTestApp({ WEFT_WEBHOOK_DISABLE_AFTER_SEC: '600' }, { databaseUrl: a.db.url });
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

const job = (app: TestApp = a) => app.app.get(DeliverWebhooksJob);

/** Delivery passes at `now` until nothing is due; returns the passes made. */
async function deliverAll(now: Date, app: TestApp = a): Promise<number> {
  let passes = 0;
  while ((await job(app).run(now)) > 0) passes++;
  return passes;
}

/** The events of the outbox for `streams`, numbered, in order. */
async function outbox(streams: string[]): Promise<Array<{ stream: string; seq: number; kind: string }>> {
  const { rows } = await db.query(`SELECT stream, seq::int AS seq, kind FROM events WHERE stream = ANY($1) AND seq IS NOT NULL ORDER BY stream, seq`, [streams]);
  return rows;
}

/** Per stream, the sequence numbers the receiver accepted, in the order it accepted them (duplicates included). */
function acceptedByStream(rs: Receipt[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of rs.filter((x) => x.accepted)) out.set(r.stream, [...(out.get(r.stream) ?? []), r.seq]);
  return out;
}

describe('webhook API', () => {
  it('creates, lists, changes and deletes webhooks, REST and GraphQL alike, with the secret never shown', async () => {
    const created = await api.ok('POST', '/api/v1/webhooks', {
      url: `${receiver.url}/crud`,
      eventKinds: ['dag_run_state'],
      dagIds: ['nothing_here'],
      secret: 'never-logged-secret',
      description: 'crud',
    });
    expect(created).toMatchObject({ url: `${receiver.url}/crud`, eventKinds: ['dag_run_state'], secret: '***', secretRef: null, enabled: true, pendingDeliveries: 0 });
    const stored = (await db.query('SELECT secret FROM webhooks WHERE id = $1', [created.id])).rows[0].secret;
    expect(stored).toMatch(/^enc:v1:/);

    const patched = await api.ok('PATCH', `/api/v1/webhooks/${created.id}`, { secretRef: 'HOOK', eventKinds: ['dag_run_state', 'sla_miss'] });
    expect(patched).toMatchObject({ secret: null, secretRef: 'HOOK', eventKinds: ['dag_run_state', 'sla_miss'] });
    expect((await api.ok('GET', `/api/v1/webhooks/${created.id}`)).description).toBe('crud');

    const viaGraphql = await graphql(a.app, `{ webhooks { items { id url secretRef eventKinds } totalEntries } }`);
    expect(viaGraphql.data.webhooks.items).toContainEqual({ id: created.id, url: `${receiver.url}/crud`, secretRef: 'HOOK', eventKinds: ['dag_run_state', 'sla_miss'] });
    const gqlCreated = await graphql(a.app, `mutation { createWebhook(input: { url: "${receiver.url}/g", eventKinds: [sla_miss], secret: "s" }) { id secret enabled } }`);
    expect(gqlCreated.data.createWebhook).toMatchObject({ secret: '***', enabled: true });
    expect((await graphql(a.app, `mutation { deleteWebhook(id: ${gqlCreated.data.createWebhook.id}) }`)).data.deleteWebhook).toBe(true);

    const actions = (await db.query(`SELECT action, details FROM audit_log WHERE action LIKE '%webhook%' ORDER BY id`)).rows;
    expect(actions.map((r) => r.action)).toEqual(['create_webhook', 'update_webhook', 'create_webhook', 'delete_webhook']);
    expect(JSON.stringify(actions)).not.toContain('never-logged-secret');

    expect((await api.call('DELETE', `/api/v1/webhooks/${created.id}`)).status).toBe(204);
    expect((await api.call('GET', `/api/v1/webhooks/${created.id}`)).status).toBe(404);
  });

  it('refuses what the outbound-address policy denies, unknown kinds, and secret with secretRef', async () => {
    const metadata = await api.call('POST', '/api/v1/webhooks', { url: 'http://169.254.169.254/latest', eventKinds: ['dag_run_state'] });
    expect(metadata.status).toBe(400);
    expect(JSON.stringify(metadata.body)).toMatch(/outbound-address policy/);
    expect((await api.call('POST', '/api/v1/webhooks', { url: `${receiver.url}/x`, eventKinds: ['everything'] })).status).toBe(400);
    expect((await api.call('POST', '/api/v1/webhooks', { url: `${receiver.url}/x`, eventKinds: ['sla_miss'], secret: 'a', secretRef: 'B' })).status).toBe(400);
    expect((await api.call('PATCH', '/api/v1/webhooks/99999', { enabled: true })).status).toBe(404);
    expect((await api.call('GET', '/api/v1/webhooks/0')).status).toBe(400);
  });
});

describe('webhook delivery', () => {
  it('delivers every state change of a run with a failure and a retry, in order, through a 30 s receiver outage', async () => {
    await api.registerDag(dag('wh_run', [{ taskId: 'extract' }, { taskId: 'load', dependsOn: ['extract'], retries: 1, retryDelaySec: 0 }]));
    const hook = await api.ok('POST', '/api/v1/webhooks', {
      url: `${receiver.url}/events`,
      eventKinds: ['task_instance_state', 'dag_run_state'],
      dagIds: ['wh_run'],
      secret: 'hook-secret',
    });
    receipts.length = 0;
    // The deliverer's clock: real time plus `skew`, which the test moves on (never behind the events' own times).
    let skew = 0;
    const clock = () => new Date(Date.now() + skew);
    const run = await api.trigger('wh_run');
    await deliverAll(clock());

    const [extract] = await api.lease('w', { queues: ['wh_run'] });
    await api.complete(extract.leaseId, { status: 'success' });
    await deliverAll(clock());

    // The receiver goes down; the run goes on: load fails once, is retried, and succeeds.
    mode = 'down';
    const [load1] = await api.lease('w', { queues: ['wh_run'] });
    expect((await api.complete(load1.leaseId, { status: 'failed', error: 'flaky' })).body.taskState).toBe('up_for_retry');
    await api.tick(new Date(Date.now() + 1000));
    const [load2] = await api.lease('w', { queues: ['wh_run'] });
    expect(load2.tryNumber).toBe(2);
    // One answer gets lost meanwhile: the receiver took an event but answered 500 (the deliverer must send it again).
    await deliverAll(clock());
    for (let down = 5; down <= 30; down += 5) {
      skew += 5_000;
      await deliverAll(clock());
    }
    expect(receipts.filter((r) => !r.accepted).length).toBeGreaterThanOrEqual(3);
    expect((await api.ok('GET', `/api/v1/webhooks/${hook.id}`)).failingSince).not.toBeNull();

    mode = 'lose';
    await api.complete(load2.leaseId, { status: 'success' });
    expect((await api.run('wh_run', run.runId)).state).toBe('success');
    // Back up: every retry due within the backoff gets through.
    for (let i = 0; i < 20 && Number((await db.query(`SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'`)).rows[0].count) > 0; i++) {
      skew += 60_000;
      await deliverAll(clock());
    }

    const runRowId = (await db.query(`SELECT id FROM dag_runs WHERE dag_id = 'wh_run'`)).rows[0].id;
    const streams = [`ti:${runRowId}`, 'run:wh_run'];
    const events = await outbox(streams);
    expect(events.filter((e) => e.stream === `ti:${runRowId}`).length).toBeGreaterThanOrEqual(8);

    const accepted = acceptedByStream(receipts);
    for (const stream of streams) {
      const expected = events.filter((e) => e.stream === stream).map((e) => e.seq);
      const got = accepted.get(stream) ?? [];
      // Nothing lost, nothing out of order: the accepted numbers, duplicates collapsed, are the stream's events in order.
      expect(got.filter((s, i) => i === 0 || s !== got[i - 1])).toEqual(expected);
      // Never backwards.
      expect(got.every((s, i) => i === 0 || s >= got[i - 1]!)).toBe(true);
    }
    // The one duplicate is the lost answer, sent again with the same sequence number, delivery id and body.
    const seen = new Map<string, Receipt>();
    let duplicates = 0;
    for (const r of receipts.filter((x) => x.accepted)) {
      const key = `${r.stream}#${r.seq}`;
      const first = seen.get(key);
      if (first) {
        duplicates++;
        expect(r.delivery).toBe(first.delivery);
        expect(r.body).toBe(first.body);
      } else seen.set(key, r);
    }
    expect(duplicates).toBe(1);
    expect(receipts.every((r) => r.signed)).toBe(true);

    const body = JSON.parse(receipts.find((r) => r.accepted && r.stream === 'run:wh_run' && r.body.includes('"success"'))!.body);
    expect(body).toMatchObject({ webhookId: hook.id, stream: 'run:wh_run', kind: 'dag_run_state', dagId: 'wh_run', runId: run.runId, data: { state: 'success', previousState: 'running' } });

    const log = await api.ok('GET', `/api/v1/webhooks/${hook.id}/deliveries?limit=100`);
    expect(log.totalEntries).toBe(events.length);
    expect(log.items.every((d: { state: string }) => d.state === 'delivered')).toBe(true);
    expect(Math.max(...log.items.map((d: { attempts: number }) => d.attempts))).toBeGreaterThan(2);
    expect((await api.ok('GET', `/api/v1/webhooks/${hook.id}`)).failingSince).toBeNull();

    // Redelivery: the same event again, same stream, sequence number and delivery id, marked as a redelivery.
    const first = log.items[log.items.length - 1];
    const again = await api.ok('POST', `/api/v1/webhooks/${hook.id}/deliveries/${first.id}/redeliver`);
    expect(again).toMatchObject({ redeliveryOf: first.id, stream: first.stream, sequence: first.sequence, state: 'pending' });
    receipts.length = 0;
    await deliverAll(clock());
    expect(receipts).toHaveLength(1);
    expect(receipts[0]).toMatchObject({ stream: first.stream, seq: first.sequence, delivery: first.id });
    expect(JSON.parse(receipts[0]!.body).redelivery).toBe(true);
    await api.ok('DELETE', `/api/v1/webhooks/${hook.id}`);
  });

  it('two replicas deliver each event once, in order per stream', async () => {
    await api.registerDag(dag('wh_two', Array.from({ length: 6 }, (_, i) => ({ taskId: `t${i}` }))));
    const hook = await api.ok('POST', '/api/v1/webhooks', { url: `${receiver.url}/two`, eventKinds: ['task_instance_state', 'dag_run_state'], dagIds: ['wh_two'] });
    receipts.length = 0;
    mode = 'up';
    for (let i = 1; i <= 4; i++) await api.trigger('wh_two', { runId: `r${i}`, logicalDate: `2024-02-0${i}T00:00:00Z` });
    await api.drain('wh_two');
    const now = new Date(Date.now() + 1000);
    await Promise.all([deliverAll(now, a), deliverAll(now, b), deliverAll(now, a), deliverAll(now, b)]);
    await deliverAll(now, a);

    const streams = (await db.query(`SELECT DISTINCT stream FROM webhook_deliveries WHERE webhook_id = $1`, [hook.id])).rows.map((r) => r.stream);
    expect(streams.length).toBe(5);
    const events = await outbox(streams);
    expect(events.length).toBeGreaterThanOrEqual(4 * 6 * 3);
    const accepted = acceptedByStream(receipts);
    for (const stream of streams) expect(accepted.get(stream)).toEqual(events.filter((e) => e.stream === stream).map((e) => e.seq));
    expect(receipts.filter((r) => r.accepted)).toHaveLength(events.length);
    await api.ok('DELETE', `/api/v1/webhooks/${hook.id}`);
  });

  it('a 4xx refusal fails that delivery for good and the stream goes on; 429 and 5xx are retried', async () => {
    // The receiver refuses the first event it gets (400: "not for me"), asks the second to come back later (429),
    // and then has a 503 once; everything else is taken.
    const answers = [400, 429, 503];
    const got: Array<{ stream: string; seq: number; status: number }> = [];
    const picky = await startHttpServer((req, res) => {
      const status = answers.shift() ?? 202;
      got.push({ stream: String(req.headers['x-weft-stream']), seq: Number(req.headers['x-weft-sequence']), status });
      res.writeHead(status).end(status === 400 ? 'unknown event shape' : '');
    });
    try {
      await api.registerDag(dag('wh_reject', [{ taskId: 'a' }, { taskId: 'b', dependsOn: ['a'] }]));
      const hook = await api.ok('POST', '/api/v1/webhooks', { url: `${picky.url}/picky`, eventKinds: ['task_instance_state'], dagIds: ['wh_reject'] });
      await api.trigger('wh_reject');
      await api.drain('wh_reject');
      const start = Date.now() + 1000;
      // Passes a minute apart for an hour of the deliverer's clock: every retry the backoff would make.
      for (let t = start; t <= start + 3_600_000; t += 60_000) await deliverAll(new Date(t));

      const runRowId = (await db.query(`SELECT id FROM dag_runs WHERE dag_id = 'wh_reject'`)).rows[0].id;
      const stream = `ti:${runRowId}`;
      const events = (await outbox([stream])).map((e) => e.seq);
      expect(events.length).toBeGreaterThanOrEqual(4);
      // The refused event was sent once; the next one (429, then 503) was sent again until taken.
      expect(got[0]).toEqual({ stream, seq: 1, status: 400 });
      expect(got.filter((g) => g.seq === 1)).toHaveLength(1);
      // Every other event got through, in order, the refused one not holding them back.
      expect(got.filter((g) => g.status === 202).map((g) => g.seq)).toEqual(events.slice(1));
      const log = await api.ok('GET', `/api/v1/webhooks/${hook.id}/deliveries?limit=100`);
      const bySeq = new Map(log.items.map((d: { sequence: number }) => [d.sequence, d]));
      expect(bySeq.get(1)).toMatchObject({ state: 'failed', attempts: 1, lastError: expect.stringContaining('answered 400') });
      expect(bySeq.get(2)).toMatchObject({ state: 'delivered', attempts: 3 }); // 429, 503, then taken
      expect(log.items.filter((d: { state: string }) => d.state === 'delivered')).toHaveLength(events.length - 1);
      expect((await api.ok('GET', `/api/v1/webhooks/${hook.id}/deliveries?state=failed`)).items.map((d: { sequence: number }) => d.sequence)).toEqual([1]);
      // A success since: the webhook is not failing; the refused event can still be sent again by hand.
      expect(await api.ok('GET', `/api/v1/webhooks/${hook.id}`)).toMatchObject({ enabled: true, failingSince: null, pendingDeliveries: 0 });
      const again = await api.ok('POST', `/api/v1/webhooks/${hook.id}/deliveries/${(bySeq.get(1) as { id: string }).id}/redeliver`);
      await deliverAll(new Date(start + 3_700_000));
      expect(got[got.length - 1]).toEqual({ stream, seq: 1, status: 202 });
      expect((await api.ok('GET', `/api/v1/webhooks/${hook.id}/deliveries?limit=1`)).items[0]).toMatchObject({ id: again.id, state: 'delivered' });
      await api.ok('DELETE', `/api/v1/webhooks/${hook.id}`);
    } finally {
      await picky.close();
    }
  });

  it('carries SLA misses, and disables a webhook that keeps failing (audited, counted, and re-enabled by PATCH)', async () => {
    await api.registerDag(dag('wh_sla', [{ taskId: 'late', sla: 'PT1H' }], { schedule: '@daily', startDate: '2024-01-01T00:00:00Z', catchup: false }));
    const hook = await api.ok('POST', '/api/v1/webhooks', { url: `${receiver.url}/sla`, eventKinds: ['sla_miss'] });
    receipts.length = 0;
    mode = 'down';
    await api.tick(new Date('2024-01-02T00:00:30Z'));
    await api.tick(new Date('2024-01-02T01:00:01Z'));
    const start = Date.now();
    await deliverAll(new Date(start));
    expect(receipts).toHaveLength(1);
    const disabledBefore = (await a.app.get(MetricsService).webhooksDisabled.get()).values[0]?.value ?? 0;
    // WEFT_WEBHOOK_DISABLE_AFTER_SEC is 600: the deliverer's clock moves a minute at a time until it gives up.
    let t = start;
    while ((await api.ok('GET', `/api/v1/webhooks/${hook.id}`)).enabled && t < start + 3_600_000) await deliverAll(new Date((t += 60_000)));
    expect(t).toBeGreaterThanOrEqual(start + 600_000);
    const disabled = await api.ok('GET', `/api/v1/webhooks/${hook.id}`);
    expect(disabled).toMatchObject({ enabled: false, pendingDeliveries: 1 });
    expect(disabled.disabledReason).toMatch(/every delivery failed since .*503/);
    expect((await a.app.get(MetricsService).webhooksDisabled.get()).values[0]?.value).toBe(disabledBefore + 1);
    expect((await db.query(`SELECT actor FROM audit_log WHERE action = 'disable_webhook' AND target = $1`, [String(hook.id)])).rows).toEqual([{ actor: 'weft' }]);

    mode = 'up';
    const count = receipts.length;
    await deliverAll(new Date(t + 3_600_000));
    expect(receipts).toHaveLength(count);
    await api.ok('PATCH', `/api/v1/webhooks/${hook.id}`, { enabled: true });
    await deliverAll(new Date(Date.now()));
    const last = receipts[receipts.length - 1]!;
    expect(last.accepted).toBe(true);
    expect(JSON.parse(last.body)).toMatchObject({ kind: 'sla_miss', stream: 'sla:wh_sla', sequence: 1, data: { taskId: 'late', deadline: '2024-01-02T01:00:00.000Z' } });
    expect(await api.ok('GET', `/api/v1/webhooks/${hook.id}`)).toMatchObject({ enabled: true, failingSince: null, disabledReason: null, pendingDeliveries: 0 });
  });
});
