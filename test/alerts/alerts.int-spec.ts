import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { startHttpServer, startSmtpServer } from '../../src/alerts/channels/alert-testing.js';
import { verifyWebhookSignature } from '../../src/alerts/channels/webhook.channel.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';

let a: TestApp;
let b: TestApp;
let api: Api;
let db: pg.Client;
let receiver: Awaited<ReturnType<typeof startHttpServer>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let flakyCalls = 0;

beforeAll(async () => {
  receiver = await startHttpServer((req, res) => {
    // The flaky receiver fails twice, then accepts.
    if (req.path === '/flaky' && ++flakyCalls <= 2) {
      res.writeHead(503).end('busy');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  smtp = await startSmtpServer();
  const env = { WEFT_SMTP_HOST: '127.0.0.1', WEFT_SMTP_PORT: String(smtp.port), WEFT_SMTP_FROM: 'Weft <weft@test.local>' };
  a = await startTestApp(env);
  b = await startTestApp(env, { databaseUrl: a.db.url });
  api = new Api(a.app);
  db = new pg.Client({ connectionString: a.db.url });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await b.app.close();
  await a.close();
  await receiver.close();
  await smtp.close();
});

describe('SLA misses', () => {
  it('are recorded once with two schedulers and delivered to a webhook (signed), Slack and email', async () => {
    await api.registerDag(
      dag('sla_dag', [{ taskId: 'extract' }, { taskId: 'load', dependsOn: ['extract'], sla: 'PT1H' }], {
        schedule: '@daily',
        startDate: '2024-01-01T00:00:00Z',
        catchup: false,
        slaCallbacks: [
          { type: 'webhook', url: `${receiver.url}/hook`, secret: 's3cret' },
          { type: 'slack', webhookUrl: `${receiver.url}/slack` },
          { type: 'email', to: ['oncall@example.com'] },
        ],
      }),
    );
    // The run for 2024-01-01 covers [01-01, 01-02); load's deadline is 2024-01-02T01:00Z.
    await api.tick(new Date('2024-01-02T00:00:30Z'));
    const [extract] = await api.lease('w', { queues: ['sla_dag'] });
    await api.complete(extract.leaseId, { status: 'success' });

    const late = new Date('2024-01-02T01:00:01Z');
    await Promise.all([new Api(a.app).tick(late), new Api(b.app).tick(late), new Api(a.app).tick(late)]);
    const misses = await api.ok('GET', '/api/v1/slaMisses?dagId=sla_dag');
    expect(misses.totalEntries).toBe(1);
    expect(misses.items[0]).toMatchObject({ taskId: 'load', deadline: '2024-01-02T01:00:00.000Z' });
    expect((await db.query(`SELECT count(*)::int AS n FROM alert_deliveries WHERE kind = 'sla_miss'`)).rows[0].n).toBe(3);

    // The ticks above already attempted delivery; make sure every channel has been tried.
    await api.tick(late);
    const hook = receiver.requests.find((r) => r.path === '/hook')!;
    expect(hook.headers['x-weft-event']).toBe('sla_miss');
    const body = JSON.parse(hook.body);
    expect(body).toMatchObject({ kind: 'sla_miss', dagId: 'sla_dag', taskId: 'load', logicalDate: '2024-01-01T00:00:00.000Z' });
    expect(verifyWebhookSignature('s3cret', hook.headers['x-weft-timestamp'] as string, hook.body, hook.headers['x-weft-signature'] as string)).toBe(true);
    expect(verifyWebhookSignature('wrong', hook.headers['x-weft-timestamp'] as string, hook.body, hook.headers['x-weft-signature'] as string)).toBe(false);

    const slack = JSON.parse(receiver.requests.find((r) => r.path === '/slack')!.body);
    expect(slack.text).toMatch(/sla_dag/);
    expect(Array.isArray(slack.blocks)).toBe(true);

    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.envelope.to).toEqual(['oncall@example.com']);
    expect(mail.headers.subject).toMatch(/SLA.*sla_dag.*load/);
    expect(mail.text).toMatch(/2024-01-01/);

    const delivered = await api.ok('GET', '/api/v1/slaMisses?dagId=sla_dag');
    expect(delivered.items[0].deliveries.map((d: any) => [d.channel, d.state])).toEqual([
      ['webhook', 'delivered'],
      ['slack', 'delivered'],
      ['email', 'delivered'],
    ]);
    // Each channel got exactly one message despite three concurrent ticks.
    expect(receiver.requests.filter((r) => r.path === '/hook')).toHaveLength(1);
    await api.ok('PATCH', '/api/v1/dags/sla_dag', { isPaused: true });
  });

  it('a task that succeeds in time is no miss', async () => {
    await api.registerDag(dag('sla_ok', [{ taskId: 'quick', sla: 'PT1H' }]));
    // A manual run's interval ends at its logical date: the deadline is an hour after it.
    const logicalDate = new Date(Date.now() - 10 * 60_000);
    await api.trigger('sla_ok', { logicalDate: logicalDate.toISOString() });
    await api.drain('sla_ok');
    await api.tick(new Date(logicalDate.getTime() + 2 * 3_600_000));
    expect((await api.ok('GET', '/api/v1/slaMisses?dagId=sla_ok')).totalEntries).toBe(0);
  });
});

describe('failure alerts', () => {
  it('notify onFailureCallbacks and retry a failing receiver until it accepts', async () => {
    await api.registerDag(
      dag('fails', [{ taskId: 'boom' }], { onFailureCallbacks: [{ type: 'webhook', url: `${receiver.url}/flaky` }] }),
    );
    const run = await api.trigger('fails');
    const [lease] = await api.lease('w', { queues: ['fails'] });
    await api.complete(lease.leaseId, { status: 'failed', error: 'disk full' });
    const kinds = (await db.query(`SELECT kind FROM alert_deliveries WHERE dag_id = 'fails' ORDER BY id`)).rows.map((r) => r.kind);
    expect(kinds).toEqual(['task_failed', 'run_failed']);

    for (let i = 0; i < 6; i++) await api.tick(new Date(Date.now() + i * 3_600_000));
    const deliveries = await api.ok('GET', '/api/v1/alertDeliveries?dagId=fails');
    expect(deliveries.items.map((d: any) => d.state)).toEqual(['delivered', 'delivered']);
    const attempts = deliveries.items.map((d: any) => d.attempts).reduce((x: number, y: number) => x + y, 0);
    expect(attempts).toBe(4); // two refused attempts, then one success each
    const taskFailed = receiver.requests.filter((r) => r.path === '/flaky').map((r) => JSON.parse(r.body)).find((m) => m.kind === 'task_failed');
    expect(taskFailed).toMatchObject({ dagId: 'fails', runId: run.runId, taskId: 'boom', summary: expect.stringContaining('disk full') });
  });
});
