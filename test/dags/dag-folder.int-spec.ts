import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, type TestApp } from '../support/app.js';
import { dagDoc } from '../support/fixtures.js';
import { waitFor } from '../support/wait.js';

let t: TestApp;
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'weft-dags-'));
  await writeFile(join(folder, 'first.json'), JSON.stringify(dagDoc({ dagId: 'from_json' })));
  // A long interval: changes must be picked up by the watcher, not the periodic pass.
  t = await startTestApp({ WEFT_DAGS_FOLDER: folder, WEFT_DAGS_FOLDER_INTERVAL_SEC: '3600' });
});
afterAll(async () => {
  await t.close();
  await rm(folder, { recursive: true, force: true });
});

const get = async (url: string) => (await t.app.inject({ method: 'GET', url })).json();

describe('DAG folder', () => {
  it('registers the files present at start', async () => {
    const dag = await get('/api/v1/dags/from_json');
    expect(dag).toMatchObject({ dagId: 'from_json', source: 'folder', isActive: true, latestVersion: 1 });
    expect(dag.fileloc).toBe(join(folder, 'first.json'));
  });

  it('picks up a new YAML file without restart', async () => {
    await writeFile(
      join(folder, 'second.yaml'),
      [
        'dagId: from_yaml',
        'schedule: "@hourly"',
        'startDate: "2024-01-01T00:00:00Z"',
        'tasks:',
        '  - taskId: hello',
        '    type: shell',
        '    command: echo hello',
      ].join('\n'),
    );
    const dag = await waitFor(async () => {
      const d = await get('/api/v1/dags/from_yaml');
      return d.dagId ? d : null;
    }, 'from_yaml to be registered');
    expect(dag).toMatchObject({ source: 'folder', schedule: '@hourly' });
  });

  it('applies a changed file as a new version', async () => {
    await writeFile(join(folder, 'first.json'), JSON.stringify(dagDoc({ dagId: 'from_json', description: 'changed' })));
    await waitFor(async () => (await get('/api/v1/dags/from_json')).latestVersion === 2, 'version 2 of from_json');
    expect((await get('/api/v1/dags/from_json')).description).toBe('changed');
  });

  it('reports a broken file as an import error and keeps the last good version', async () => {
    await writeFile(join(folder, 'first.json'), JSON.stringify(dagDoc({ dagId: 'from_json', tasks: [{ taskId: 'a', type: 'noop', dependsOn: ['zzz'] }] })));
    await writeFile(join(folder, 'broken.yaml'), 'dagId: [unclosed');
    const errors = await waitFor(async () => {
      const e = await get('/api/v1/importErrors');
      return e.totalEntries === 2 ? e : null;
    }, 'two import errors');
    const byFile = Object.fromEntries(errors.items.map((e: { fileloc: string; message: string }) => [e.fileloc, e.message]));
    expect(byFile[join(folder, 'first.json')]).toMatch(/zzz/);
    expect(byFile[join(folder, 'broken.yaml')]).toMatch(/broken\.yaml/);
    const dag = await get('/api/v1/dags/from_json');
    expect(dag).toMatchObject({ latestVersion: 2, isActive: true });
  });

  it('clears the import error once the file is fixed', async () => {
    await writeFile(join(folder, 'first.json'), JSON.stringify(dagDoc({ dagId: 'from_json', description: 'fixed' })));
    await waitFor(async () => (await get('/api/v1/dags/from_json')).latestVersion === 3, 'version 3 of from_json');
    await waitFor(async () => (await get('/api/v1/importErrors')).totalEntries === 1, 'one import error left');
  });

  it('refuses API changes to a DAG owned by a folder file', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/dags', payload: dagDoc({ dagId: 'from_yaml' }) });
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toMatch(/second\.yaml/);
  });

  it('deactivates the DAG of a removed file and drops import errors of removed files', async () => {
    await rm(join(folder, 'second.yaml'));
    await rm(join(folder, 'broken.yaml'));
    await waitFor(async () => (await get('/api/v1/dags/from_yaml')).isActive === false, 'from_yaml to be deactivated');
    await waitFor(async () => (await get('/api/v1/importErrors')).totalEntries === 0, 'import errors to clear');
    expect((await get('/api/v1/dags?active=true')).items.map((d: { dagId: string }) => d.dagId)).toEqual(['from_json']);
  });
});
