import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startHttpServer } from '../../src/alerts/channels/alert-testing.js';
import { verifyWebhookSignature } from '../../src/alerts/channels/webhook.channel.js';
import { DagsService } from '../../src/dags/dags.service.js';
import { createSecretBox, generateSecretsKey, parseSecretsKey } from '../../src/secrets/domain/secret-box.js';
import { Api, dag } from '../support/api.js';
import { useTestApp } from '../support/app.js';
import { graphqlOk } from '../support/graphql.js';

/** Webhook signing secrets: encrypted at rest, `***` in answers, decrypted (or read from the environment) to sign. */
const h = useTestApp();
const api = new Api(() => h.t.app);
let receiver: Awaited<ReturnType<typeof startHttpServer>>;

beforeAll(async () => {
  receiver = await startHttpServer((_req, res) => res.writeHead(204).end());
});
afterAll(async () => {
  await receiver.close();
});
afterEach(() => {
  delete process.env.WEFT_SECRET_WEFT_TEST_HOOK;
});

const storedText = async (dagId: string) =>
  (await h.db.query<{ version: number; text: string }>('SELECT version, document::text AS text FROM dag_versions WHERE dag_id = $1 ORDER BY version', [dagId])).rows;

/** Fails the DAG's only task, which enqueues its onFailureCallbacks; a tick delivers them. Returns what `path` received. */
async function failAndDeliver(dagId: string, path: string) {
  await api.trigger(dagId);
  const [lease] = await api.lease('w', { queues: [dagId] });
  expect((await api.complete(lease.leaseId, { status: 'failed', error: 'boom' })).status).toBe(200);
  await api.tick(new Date());
  return receiver.requests.filter((r) => r.path === path);
}

const signedWith = (secret: string, req: { headers: Record<string, unknown>; body: string }) =>
  verifyWebhookSignature(secret, req.headers['x-weft-timestamp'] as string, req.body, req.headers['x-weft-signature'] as string);

describe('webhook secrets at rest', () => {
  const document = () =>
    dag('sealed', [{ taskId: 'boom' }], {
      slaCallbacks: [{ type: 'webhook', url: `${receiver.url}/sla`, secret: 'sla-plaintext-1f3e' }],
      onFailureCallbacks: [{ type: 'webhook', url: `${receiver.url}/sealed`, secret: 'fail-plaintext-8c2d' }],
    });

  it('are stored encrypted, answered as ***, and do not make a re-registration a new version', async () => {
    expect((await api.call('POST', '/api/v1/dags', document())).status).toBe(201);
    const [stored] = await storedText('sealed');
    expect(stored!.text).not.toMatch(/sla-plaintext|fail-plaintext/);
    const secrets = (await h.db.query(`SELECT document->'slaCallbacks'->0->>'secret' AS sla, document->'onFailureCallbacks'->0->>'secret' AS fail FROM dag_versions WHERE dag_id = 'sealed'`)).rows[0];
    expect(secrets.sla).toMatch(/^enc:v1:[0-9a-f]{8}:[A-Za-z0-9+/]+=*$/);
    expect(secrets.fail).toMatch(/^enc:v1:/);

    // The same document again (a fresh encryption would differ; the content hash does not): no new version.
    const again = await api.call('POST', '/api/v1/dags', document());
    expect(again).toMatchObject({ status: 200, body: { version: 1, created: false, changed: false } });
    expect(await storedText('sealed')).toEqual([stored]);

    const got = await api.ok('GET', '/api/v1/dags/sealed');
    expect(got.document.slaCallbacks[0]).toEqual({ type: 'webhook', url: `${receiver.url}/sla`, secret: '***' });
    expect(got.document.onFailureCallbacks[0].secret).toBe('***');
    for (const url of ['/api/v1/dags/sealed/versions', '/api/v1/dags/sealed/versions/1']) {
      expect(JSON.stringify(await api.ok('GET', url))).not.toMatch(/plaintext|enc:v1/);
    }
    const gql = await graphqlOk(
      h.t.app,
      `{ dag(dagId: "sealed") { document versions { items { contentHash document } } }
         dags { items { dagId document } }
         dagVersion(dagId: "sealed", version: 1) { document } }`,
    );
    expect(gql.dag.document.onFailureCallbacks[0].secret).toBe('***');
    expect(gql.dagVersion.document.slaCallbacks[0].secret).toBe('***');
    expect(JSON.stringify(gql)).not.toMatch(/plaintext|enc:v1/);
  });

  it('are decrypted at delivery time: the webhook carries a valid signature', async () => {
    const [hook] = await failAndDeliver('sealed', '/sealed');
    expect(hook).toBeDefined();
    expect(signedWith('fail-plaintext-8c2d', hook!)).toBe(true);
    expect(signedWith('***', hook!)).toBe(false);
    const { items } = await api.ok('GET', '/api/v1/alertDeliveries?dagId=sealed');
    expect(items.map((d: any) => d.state)).toEqual(['delivered', 'delivered']);
  });

  it('a changed secret is a new version', async () => {
    const changed = dag('sealed', [{ taskId: 'boom' }], {
      slaCallbacks: [{ type: 'webhook', url: `${receiver.url}/sla`, secret: 'sla-plaintext-1f3e' }],
      onFailureCallbacks: [{ type: 'webhook', url: `${receiver.url}/sealed`, secret: 'rotated-plaintext' }],
    });
    expect(await api.ok('POST', '/api/v1/dags', changed)).toMatchObject({ version: 2, changed: true });
    const hashes = (await api.ok('GET', '/api/v1/dags/sealed/versions')).items.map((v: any) => v.contentHash);
    expect(new Set(hashes).size).toBe(2);
    expect((await storedText('sealed')).map((r) => r.text).join()).not.toContain('rotated-plaintext');
  });

  it('refuses the *** placeholder and secret with secretRef, writing nothing', async () => {
    const placeholder = await api.call('POST', '/api/v1/dags', dag('redacted_back', [{ taskId: 'a' }], { onFailureCallbacks: [{ type: 'webhook', url: 'http://127.0.0.1:9/x', secret: '***' }] }));
    expect(placeholder.status).toBe(400);
    expect(placeholder.body.message).toContain('onFailureCallbacks[0].secret: "***" is the placeholder answers show for a secret');
    const both = await api.call('POST', '/api/v1/dags', dag('both', [{ taskId: 'a' }], { slaCallbacks: [{ type: 'webhook', url: 'http://127.0.0.1:9/x', secret: 's', secretRef: 'S' }] }));
    expect(both.status).toBe(400);
    expect(both.body.message).toContain('slaCallbacks[0].secretRef: give either secret or secretRef, not both');
    expect((await h.db.query(`SELECT count(*)::int AS n FROM dags WHERE dag_id IN ('redacted_back', 'both')`)).rows[0].n).toBe(0);
  });
});

describe('secretRef', () => {
  it('keeps the secret out of the database and signs with WEFT_SECRET_<NAME> read at delivery time', async () => {
    const doc = dag('by_ref', [{ taskId: 'boom' }], { onFailureCallbacks: [{ type: 'webhook', url: `${receiver.url}/by_ref`, secretRef: 'WEFT_TEST_HOOK' }] });
    await api.registerDag(doc);
    expect(await api.ok('POST', '/api/v1/dags', doc)).toMatchObject({ version: 1, changed: false });
    expect((await api.ok('GET', '/api/v1/dags/by_ref')).document.onFailureCallbacks[0]).toEqual({ type: 'webhook', url: `${receiver.url}/by_ref`, secretRef: 'WEFT_TEST_HOOK' });

    // Set after registration: the value is read when delivering.
    process.env.WEFT_SECRET_WEFT_TEST_HOOK = 'ref-plaintext-77aa';
    const [hook] = await failAndDeliver('by_ref', '/by_ref');
    expect(hook).toBeDefined();
    expect(signedWith('ref-plaintext-77aa', hook!)).toBe(true);
    expect((await storedText('by_ref'))[0]!.text).not.toContain('ref-plaintext');
  });

  it('fails the delivery with a clear error when the variable is missing', async () => {
    await api.registerDag(dag('ref_missing', [{ taskId: 'boom' }], { onFailureCallbacks: [{ type: 'webhook', url: `${receiver.url}/ref_missing`, secretRef: 'WEFT_TEST_HOOK' }] }));
    expect(await failAndDeliver('ref_missing', '/ref_missing')).toEqual([]);
    const { items } = await api.ok('GET', '/api/v1/alertDeliveries?dagId=ref_missing');
    expect(items).toHaveLength(2);
    for (const d of items) {
      expect(d).toMatchObject({
        state: 'failed',
        attempts: 1,
        lastError: 'secretRef WEFT_TEST_HOOK: the environment variable WEFT_SECRET_WEFT_TEST_HOOK is not set in this process',
      });
    }
    expect((await api.call('GET', '/api/v1/dags/ref_missing')).status).toBe(200);
  });
});

describe('versions stored before encryption at rest', () => {
  it('keep working in plaintext, and are encrypted and rehashed at start without a new version', async () => {
    const doc = dag('legacy', [{ taskId: 'boom' }], { onFailureCallbacks: [{ type: 'webhook', url: `${receiver.url}/legacy`, secret: 'legacy-plaintext-5b' }] });
    await api.registerDag(doc);
    // What an earlier Weft stored: the secret in plaintext, under a hash of the plaintext document.
    await h.db.query(
      `UPDATE dag_versions SET document = jsonb_set(document, '{onFailureCallbacks,0,secret}', '"legacy-plaintext-5b"'), content_hash = 'hash-of-an-earlier-weft'
       WHERE dag_id = 'legacy'`,
    );
    const [hook] = await failAndDeliver('legacy', '/legacy');
    expect(signedWith('legacy-plaintext-5b', hook!)).toBe(true);

    const dags = h.t.app.get(DagsService);
    expect(await dags.encryptPlaintextSecrets()).toBe(1);
    expect(await dags.encryptPlaintextSecrets()).toBe(0);
    const [stored] = await storedText('legacy');
    expect(stored!.text).not.toContain('legacy-plaintext');
    expect(stored!.text).toMatch(/"secret": "enc:v1:/);
    expect(await api.ok('POST', '/api/v1/dags', doc)).toMatchObject({ version: 1, changed: false });

    receiver.requests.length = 0;
    const [again] = await failAndDeliver('legacy', '/legacy');
    expect(signedWith('legacy-plaintext-5b', again!)).toBe(true);
  });
});

describe('a secret encrypted with another key', () => {
  it('is reported at start and fails its delivery with a clear error, not a crash', async () => {
    const dags = h.t.app.get(DagsService);
    expect(await dags.foreignSecretKeyIds()).toEqual([]);
    await api.registerDag(dag('other_key', [{ taskId: 'boom' }], { onFailureCallbacks: [{ type: 'webhook', url: `${receiver.url}/other_key`, secret: 'mine' }] }));
    // As if another replica with its own key had registered it.
    const other = createSecretBox(parseSecretsKey(generateSecretsKey(), 'test'));
    await h.db.query(`UPDATE dag_versions SET document = jsonb_set(document, '{onFailureCallbacks,0,secret}', to_jsonb($1::text)) WHERE dag_id = 'other_key'`, [other.encrypt('theirs')]);
    expect(await dags.foreignSecretKeyIds()).toEqual([other.keyId]);
    // A plaintext secret beside it cannot be rehashed without the other key: start-up leaves the version alone.
    await h.db.query(`UPDATE dag_versions SET document = jsonb_set(document, '{slaCallbacks}', '[{"type": "webhook", "url": "http://127.0.0.1:9/x", "secret": "plain"}]') WHERE dag_id = 'other_key'`);
    expect(await dags.encryptPlaintextSecrets()).toBe(0);

    expect(await failAndDeliver('other_key', '/other_key')).toEqual([]);
    const { items } = await api.ok('GET', '/api/v1/alertDeliveries?dagId=other_key');
    expect(items.map((d: any) => d.state)).toEqual(['failed', 'failed']);
    expect(items[0].lastError).toMatch(new RegExp(`^cannot decrypt the webhook secret: .*another secrets key \\(key id ${other.keyId}; .*WEFT_SECRETS_KEY`));
    expect(items[0].lastError).not.toContain('theirs');
  });
});

