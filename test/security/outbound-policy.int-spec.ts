import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { startHttpServer } from '../../src/alerts/channels/alert-testing.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { graphql } from '../support/graphql.js';

// Two replicas on one database: `open` has the default policy (loopback allowed), `strict` denies loopback.
let open: TestApp;
let strict: TestApp;
let db: pg.Client;
let receiver: Awaited<ReturnType<typeof startHttpServer>>;
let port: number;

beforeAll(async () => {
  receiver = await startHttpServer((_req, res) => res.writeHead(200).end('ok'));
  port = Number(new URL(receiver.url).port);
  open = await startTestApp();
  strict = await startTestApp({ WEFT_OUTBOUND_DENY: 'loopback', WEFT_HTTP_TASK_DENY: 'loopback' }, { databaseUrl: open.db.url });
  db = new pg.Client({ connectionString: open.db.url });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await strict.app.close();
  await open.close();
  await receiver.close();
});

const metadataTargets = dag('to_metadata', [{ taskId: 'get', type: 'http', request: { method: 'GET', url: 'http://169.254.169.254/latest/meta-data/' } }], {
  slaCallbacks: [{ type: 'email', to: ['oncall@example.com'] }, { type: 'webhook', url: 'http://169.254.169.254/hook' }],
  onFailureCallbacks: [{ type: 'slack', webhookUrl: 'http://[::ffff:169.254.169.254]/services/x' }],
});

const expectedIssues = [
  { path: 'slaCallbacks[1].url', message: 'refused by the outbound-address policy: 169.254.169.254 is in 169.254.169.254/32, metadata (denied by default)' },
  {
    path: 'onFailureCallbacks[0].webhookUrl',
    message: 'refused by the outbound-address policy: ::ffff:a9fe:a9fe (IPv4 169.254.169.254) is in 169.254.169.254/32, metadata (denied by default)',
  },
  { path: 'tasks[0].request.url', message: 'refused by the outbound-address policy: 169.254.169.254 is in 169.254.169.254/32, metadata (denied by default)' },
];

async function dagRows(): Promise<number> {
  return (await db.query(`SELECT count(*)::int AS n FROM dags`)).rows[0].n;
}

describe('registration', () => {
  it('REST: a target in a denied range is a 400 naming each field and the reason; nothing is written', async () => {
    const before = await dagRows();
    for (const url of ['/api/v1/dags', '/api/v1/dags/validate']) {
      const res = await new Api(open.app).call('POST', url, metadataTargets);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', details: expectedIssues });
    }
    expect(await dagRows()).toBe(before);
  });

  it('GraphQL: the same refusal as BAD_USER_INPUT with the same details', async () => {
    const res = await graphql(open.app, `mutation($d: JSON!) { upsertDag(document: $d) { created } }`, { d: metadataTargets });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', statusCode: 400, details: expectedIssues });
    expect(await dagRows()).toBe(0);
  });

  it('a name that resolves into a denied range is refused; one that does not resolve is accepted', async () => {
    const doc = dag('to_localhost', [{ taskId: 'a' }], { onFailureCallbacks: [{ type: 'webhook', url: `http://localhost:${port}/hook` }] });
    const res = await new Api(strict.app).call('POST', '/api/v1/dags', doc);
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([
      { path: 'onFailureCallbacks[0].url', message: expect.stringMatching(/^refused by the outbound-address policy: localhost resolves to (127\.0\.0\.1|::1) is in .*loopback \(denied by WEFT_OUTBOUND_DENY\)$/) },
    ]);
    const gql = await graphql(strict.app, `mutation($d: JSON!) { upsertDag(document: $d) { created } }`, { d: doc });
    expect(gql.errors?.[0]?.extensions?.details).toEqual(res.body.details);

    const unresolvable = dag('to_nowhere', [{ taskId: 'a' }], { onFailureCallbacks: [{ type: 'webhook', url: 'https://hooks.invalid/x' }] });
    await new Api(strict.app).ok('POST', '/api/v1/dags', unresolvable);
  });
});

describe('delivery', () => {
  it('a target refused at delivery time is recorded as a failed delivery with the reason, and nothing is sent', async () => {
    // Registered where loopback is allowed; delivered by the replica that denies it (a policy tightened later).
    const api = new Api(open.app);
    await api.registerDag(dag('alerts_local', [{ taskId: 'boom' }], { onFailureCallbacks: [{ type: 'webhook', url: `http://localhost:${port}/hook` }] }));
    await api.trigger('alerts_local');
    const [lease] = await api.lease('w', { queues: ['alerts_local'] });
    await api.complete(lease.leaseId, { status: 'failed', error: 'boom' });

    await new Api(strict.app).tick();
    const deliveries = await new Api(strict.app).ok('GET', '/api/v1/alertDeliveries?dagId=alerts_local');
    expect(deliveries.items.length).toBeGreaterThan(0);
    for (const d of deliveries.items) {
      expect(d).toMatchObject({
        state: 'failed',
        attempts: 1,
        lastError: expect.stringMatching(/^POST http:\/\/localhost:\d+\/… refused by the outbound-address policy: localhost resolves to .*loopback \(denied by WEFT_OUTBOUND_DENY\)$/),
      });
    }
    expect(receiver.requests).toHaveLength(0);
  });
});
