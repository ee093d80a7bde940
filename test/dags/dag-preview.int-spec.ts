import { describe, expect, it } from '@jest/globals';
import { DagsService } from '../../src/dags/dags.service.js';
import { useTestApp } from '../support/app.js';
import { dagDoc } from '../support/fixtures.js';
import { graphql } from '../support/graphql.js';

/** POST /api/v1/dags/validate: registration's validation and version comparison, writing nothing (weft-cli's dry runs). */
const h = useTestApp();
const req = (method: 'GET' | 'POST', url: string, payload?: unknown) => h.t.app.inject({ method, url, payload: payload as object });
const validate = (doc: unknown) => req('POST', '/api/v1/dags/validate', doc);

async function counts(): Promise<Record<string, number>> {
  const { rows } = await h.db.query(`SELECT (SELECT count(*) FROM dags)::int AS dags, (SELECT count(*) FROM dag_versions)::int AS versions, (SELECT count(*) FROM audit_log)::int AS audit`);
  return rows[0];
}

describe('DAG preview (POST /api/v1/dags/validate)', () => {
  it('tells create, unchanged and update as registering would, with the normalised document, writing nothing', async () => {
    const before = await counts();
    const created = await validate(dagDoc({ dagId: 'previewed' }));
    expect(created.statusCode).toBe(200);
    expect(created.json()).toMatchObject({ dagId: 'previewed', action: 'create', currentVersion: null, version: 1 });
    expect(created.json().document).toMatchObject({ maxActiveTasks: 16, defaultArgs: { queue: 'default', retries: 3 } });
    expect(await counts()).toEqual(before);

    expect((await req('POST', '/api/v1/dags', dagDoc({ dagId: 'previewed' }))).statusCode).toBe(201);
    const after = await counts();
    // Same content with keys reordered: unchanged, as registration would say.
    const same = await validate(Object.fromEntries(Object.entries(dagDoc({ dagId: 'previewed' })).reverse()));
    expect(same.json()).toMatchObject({ action: 'unchanged', currentVersion: 1, version: 1 });
    const changed = await validate(dagDoc({ dagId: 'previewed', description: 'new' }));
    expect(changed.json()).toMatchObject({ action: 'update', currentVersion: 1, version: 2, document: { description: 'new' } });
    expect(await counts()).toEqual(after);
  });

  it('refuses what registration refuses, with the same details', async () => {
    const bad = dagDoc({ dagId: 'bad_preview', timezone: 'Mars/Olympus', tasks: [{ taskId: 'a', type: 'noop', dependsOn: ['a'] }] });
    const previewed = await validate(bad);
    const registered = await req('POST', '/api/v1/dags', bad);
    expect(previewed.statusCode).toBe(400);
    expect(previewed.json()).toEqual(registered.json());
    expect(previewed.json().details.length).toBeGreaterThanOrEqual(2);
  });

  it('shows webhook secrets as "***" and matches an unchanged secret by its fingerprint', async () => {
    const doc = dagDoc({ dagId: 'secret_preview', slaCallbacks: [{ type: 'webhook', url: 'https://example.com/hook', secret: 's3cret' }] });
    expect((await req('POST', '/api/v1/dags', doc)).statusCode).toBe(201);
    const same = await validate(doc);
    expect(same.json()).toMatchObject({ action: 'unchanged', document: { slaCallbacks: [{ secret: '***' }] } });
    expect(JSON.stringify(same.json())).not.toContain('s3cret');
    const rotated = await validate(dagDoc({ dagId: 'secret_preview', slaCallbacks: [{ type: 'webhook', url: 'https://example.com/hook', secret: 'other' }] }));
    expect(rotated.json().action).toBe('update');
  });

  it('answers 409 for a DAG the DAG folder owns, as registration would', async () => {
    await h.t.app.get(DagsService).register(dagDoc({ dagId: 'from_folder' }), { kind: 'folder', fileloc: '/dags/from_folder.yaml' });
    const res = await validate(dagDoc({ dagId: 'from_folder', description: 'edited' }));
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toContain('/dags/from_folder.yaml');
  });

  it('GraphQL validateDag: the same answer and the same refusals as REST, writing nothing', async () => {
    const query = `query($d: JSON!) { validateDag(document: $d) { dagId action currentVersion version document warnings { path message } } }`;
    await req('POST', '/api/v1/dags', dagDoc({ dagId: 'gql_preview' }));
    await h.t.app.get(DagsService).register(dagDoc({ dagId: 'gql_folder' }), { kind: 'folder', fileloc: '/dags/gql_folder.yaml' });
    for (const doc of [dagDoc({ dagId: 'gql_preview', description: 'new' }), dagDoc({ dagId: 'gql_preview' }), dagDoc({ dagId: 'gql_new' })]) {
      const rest = (await validate(doc)).json();
      const gql = await graphql(h.t.app, query, { d: doc });
      expect(gql.errors).toBeUndefined();
      expect(gql.data.validateDag).toEqual(rest);
    }
    const before = await counts();
    const bad = dagDoc({ dagId: 'gql_bad', timezone: 'Mars/Olympus' });
    const refused = await graphql(h.t.app, query, { d: bad });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', statusCode: 400, details: (await validate(bad)).json().details });
    const owned = await graphql(h.t.app, query, { d: dagDoc({ dagId: 'gql_folder', description: 'edited via GraphQL' }) });
    expect(owned.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await counts()).toEqual(before);
  });
});
