import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ApiKeysService } from '../../src/auth/api-keys.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { buildTsClient, missingClientToolchains, ROOT, runProcess, type Ran } from '../support/clients.js';
import { jsonCaller } from '../support/http-json.js';

/**
 * Pipelines as code (docs/sdk.md): the same DAG from the TypeScript builder, the Python builder and a YAML file is
 * one document and one version; the TypeScript builder's local validation and deploy outcomes; a Python file with
 * @task functions deploys itself and runs end to end through the worker it starts, triggered with weft-cli --wait.
 * Everything runs as real processes against the real service over HTTP and WebSockets.
 */
const MISSING = missingClientToolchains({ python: true });
const SKIP = MISSING.length > 0 && !process.env.CI;
if (SKIP) console.warn(`skipping the DAG builder e2e test: missing ${MISSING.join('; ')}`);

const ADMIN = 'sdk-e2e-admin-key-0123456789abcdef';
const PY = '/usr/bin/python3';
let t: TestApp;
let baseUrl: string;
let build: { dir: string; remove(): void };
let home: string;
let pyWorker: ChildProcess | undefined;
const pyWorkerOutput: string[] = [];

const env = (extra: Record<string, string> = {}) => ({
  WEFT_API_URL: baseUrl,
  WEFT_API_KEY: ADMIN,
  PYTHONPATH: join(ROOT, 'clients/python'),
  XDG_CONFIG_HOME: home,
  ...extra,
});
const cli = (...args: string[]) => runProcess(process.execPath, [join(build.dir, 'src/cli/main.js'), ...args], env());
const python = (file: string, ...args: string[]) => runProcess(PY, [join(ROOT, 'clients/python/examples', file), ...args], env());
const ok = (r: Ran) => {
  if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

const api = jsonCaller(() => baseUrl, ADMIN);

beforeAll(async () => {
  if (SKIP) return;
  home = mkdtempSync(join(tmpdir(), 'weft-sdk-e2e-'));
  build = await buildTsClient();
  t = await startTestApp({ WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN, WEFT_SCHEDULER_TICK_MS: '250' }, { runScheduler: true });
  baseUrl = await t.listen();
  await t.app.get(ApiKeysService).ensureAdminKey(ADMIN, home);
}, 300_000);

afterAll(async () => {
  pyWorker?.kill('SIGKILL');
  await t?.close();
  build?.remove();
  if (home) rmSync(home, { recursive: true, force: true });
});

(SKIP ? describe.skip : describe)('DAG builders (TypeScript, Python) and YAML', () => {
  it('build the same document from TypeScript, Python and YAML, registered once as one version', async () => {
    const fromTs = JSON.parse(ok(await runProcess(process.execPath, [join(build.dir, 'examples/daily-etl.js')], env())));
    const fromPy = JSON.parse(ok(await python('daily_etl.py', 'show')));
    const fromYaml = parse(readFileSync(join(ROOT, 'docs/examples/daily_etl.yaml'), 'utf8'));
    expect(fromTs).toEqual(fromYaml);
    expect(fromPy).toEqual(fromYaml);
    // Not just equal after parsing: the same text once keys are in one order.
    expect(JSON.stringify(fromTs)).toBe(JSON.stringify(fromYaml));

    expect(ok(await runProcess(process.execPath, [join(build.dir, 'examples/daily-etl.js'), 'deploy'], env())).trim()).toBe('daily_etl: created, version 1');
    expect(ok(await python('daily_etl.py', 'deploy')).trim()).toBe('daily_etl: unchanged, version 1');
    const deployed = JSON.parse(ok(await cli('--output', 'json', 'dags', 'deploy', 'docs/examples/daily_etl.yaml')));
    expect(deployed.dags.map((d: any) => [d.dagId, d.status, d.version])).toEqual([['daily_etl', 'unchanged', 1]]);
    expect((await api('GET', '/api/v1/dags/daily_etl/versions')).totalEntries).toBe(1);
  });

  it('TypeScript builder: local JSON Schema validation, preview without writing, deploy created / unchanged / updated', async () => {
    const sdk: any = await import(join(build.dir, 'src/index.js'));
    const connection = { baseUrl, apiKey: ADMIN };

    const bad = new sdk.Dag({ dagId: 'bad id', maxActiveRuns: 0 });
    bad.shell('a', { command: '' });
    bad.custom('b', 'shell', {});
    bad.custom('c', 'shell', { command: 'echo c', argv: ['echo', 'c'] });
    expect(bad.validate()).toEqual(
      expect.arrayContaining([
        { path: 'dagId', message: expect.stringContaining('pattern') },
        { path: 'maxActiveRuns', message: '0 is less than 1' },
        { path: 'tasks[0].command', message: expect.stringContaining('too short') },
        { path: 'tasks[1]', message: 'needs one of "command" or "argv"' },
        { path: 'tasks[2]', message: expect.stringContaining('give only one') },
      ]),
    );

    const dag = new sdk.Dag({ dagId: 'ts_builder', schedule: null, tags: ['sdk'] });
    const a = dag.shell('a', { command: 'echo a' });
    const [b, c] = [dag.noop('b'), dag.custom('c', 'ts.step', { args: { n: 1 } })];
    a.then([b, c]).then(dag.noop('d', { triggerRule: 'all_done' }));
    expect(dag.toJSON().tasks.map((x: any) => [x.taskId, x.dependsOn])).toEqual([
      ['a', undefined],
      ['b', ['a']],
      ['c', ['a']],
      ['d', ['b', 'c']],
    ]);
    expect(dag.validate()).toEqual([]);
    await expect(Promise.resolve().then(async () => await a)).rejects.toThrow('not a promise');

    const preview = await dag.preview(connection);
    expect(preview).toMatchObject({ dagId: 'ts_builder', action: 'create', currentVersion: null, version: 1 });
    expect(preview.document.defaultArgs.queue).toBe('default'); // normalised as it would be stored
    await expect(api('GET', '/api/v1/dags/ts_builder')).rejects.toThrow('404');

    expect(await dag.deploy(connection)).toMatchObject({ dagId: 'ts_builder', status: 'created', version: 1 });
    expect(await dag.deploy(connection)).toMatchObject({ status: 'unchanged', version: 1 });
    dag.noop('e').after(c);
    expect(await dag.preview(connection)).toMatchObject({ action: 'update', currentVersion: 1, version: 2 });
    expect(await dag.deploy(connection)).toMatchObject({ status: 'updated', version: 2 });

    const cyclic = new sdk.Dag({ dagId: 'ts_cycle' });
    const x = cyclic.noop('x');
    x.then(cyclic.noop('y')).then(x);
    expect(cyclic.validate()).toEqual([]); // a cycle is beyond the JSON Schema: the service finds it
    const refused = await cyclic.deploy(connection).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(sdk.WeftApiError);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.issues)).toContain('cycle');
  });

  it('run a Python @task pipeline end to end through the worker its own file starts', async () => {
    expect(ok(await python('taskflow_etl.py', 'deploy')).trim()).toBe('taskflow_etl: created, version 1');
    const doc = (await api('GET', '/api/v1/dags/taskflow_etl')).document;
    expect(doc.tasks.map((x: any) => [x.taskId, x.type, x.dependsOn])).toEqual([
      ['extract', 'taskflow_etl.extract', []],
      ['transform', 'taskflow_etl.transform', ['extract']],
      ['check', 'taskflow_etl.check', ['transform']],
    ]);

    const { key } = await api('POST', '/api/v1/apiKeys', { name: 'taskflow-worker', role: 'worker', queues: ['taskflow'] });
    pyWorker = spawn(PY, [join(ROOT, 'clients/python/examples/taskflow_etl.py'), 'worker'], {
      env: { PATH: process.env.PATH ?? '', PYTHONDONTWRITEBYTECODE: '1', ...env({ WEFT_API_KEY: key, WEFT_WORKER_ID: 'taskflow-py' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pyWorker.stdout!.on('data', (d: Buffer) => pyWorkerOutput.push(d.toString()));
    pyWorker.stderr!.on('data', (d: Buffer) => pyWorkerOutput.push(d.toString()));

    const good = await cli('--output', 'json', 'runs', 'trigger', 'taskflow_etl', '--run-id', 'good', '--logical-date', '2024-03-05T00:00:00Z', '--wait');
    expect({ code: good.code, stderr: good.stderr, worker: good.code === 0 ? '' : pyWorkerOutput.join('') }).toEqual({ code: 0, stderr: '', worker: '' });
    const result = JSON.parse(good.stdout);
    expect(result.run.state).toBe('success');
    expect(result.taskInstances.map((ti: any) => [ti.taskId, ti.state, ti.tries.map((tr: any) => tr.workerId)])).toEqual([
      ['extract', 'success', ['taskflow-py']],
      ['transform', 'success', ['taskflow-py']],
      ['check', 'success', ['taskflow-py']],
    ]);
    const xcom = (taskId: string) => api('GET', `/api/v1/dags/taskflow_etl/dagRuns/good/taskInstances/${taskId}/xcomEntries/return_value`);
    expect((await xcom('extract')).value).toEqual({ day: '2024-03-05', orders: [3, 5, 8] });
    expect((await xcom('transform')).value).toEqual({ day: '2024-03-05', total: 32 });
    expect((await xcom('check')).value).toBe('ok: 32');
    const logs = await api('GET', '/api/v1/dags/taskflow_etl/dagRuns/good/taskInstances/transform/logs');
    expect(logs.items.map((l: any) => l.line)).toEqual(['3 orders on 2024-03-05, total 32']);

    // The same pipeline failing its check: --wait prints the progress and exits 1.
    const bad = await cli('runs', 'trigger', 'taskflow_etl', '--run-id', 'bad', '--conf', '{"minimum": 100}', '--wait');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('weft-cli: run bad ended failed\n');
    expect(bad.stdout).toMatch(/check: running → failed/);
    expect(bad.stdout).toMatch(/run bad: failed/);
    const check = await api('GET', '/api/v1/dags/taskflow_etl/dagRuns/bad/taskInstances/check');
    expect(check.lastError).toContain('total 32 is below 100');

    pyWorker.kill('SIGTERM');
    const code = await new Promise((r) => (pyWorker!.exitCode !== null ? r(pyWorker!.exitCode) : pyWorker!.once('exit', r)));
    expect(code).toBe(0);
  }, 180_000);

  it('a @task worker whose key is refused says so in one line and exits 1, without a traceback', async () => {
    const r = await runProcess(PY, [join(ROOT, 'clients/python/examples/taskflow_etl.py'), 'worker'], env({ WEFT_API_KEY: 'weft_not_a_key' }));
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/weft_worker worker \S+: task types taskflow_etl\.check, taskflow_etl\.extract, taskflow_etl\.transform from queue\(s\) taskflow at http/);
    expect(r.stderr).toContain('refused API key weft_not_a_k… (401: unknown or revoked API key): give the worker a valid key with role worker (api_key, or WEFT_API_KEY');
    expect(r.stderr).not.toContain('Traceback');
  });

  it('serve the committed DAG JSON Schema (the builders were generated from what runs)', async () => {
    const served = await (await fetch(`${baseUrl}/api/v1/schemas/dag.json`)).json();
    expect(served).toEqual(JSON.parse(readFileSync(join(ROOT, 'clients/dag.schema.json'), 'utf8')));
  });
});

describe('docs/sdk.md', () => {
  it('shows the example files as they are (the tests above run those files)', () => {
    const doc = readFileSync(join(ROOT, 'docs/sdk.md'), 'utf8');
    const blocks = [...doc.matchAll(/^```\w+ file=(\S+)\n([\s\S]*?)^```$/gm)].map((m) => ({ file: m[1]!, body: m[2]! }));
    expect(blocks.map((b) => b.file)).toEqual([
      'docs/examples/daily_etl.yaml',
      'clients/typescript/examples/daily-etl.ts',
      'clients/python/examples/daily_etl.py',
      'clients/python/examples/taskflow_etl.py',
    ]);
    for (const { file, body } of blocks) {
      // In the repository the TypeScript example imports the package's source; users import the package.
      const source = readFileSync(join(ROOT, file), 'utf8').replace("from '../src/index.js'", "from '@weft/client'");
      expect({ file, body }).toEqual({ file, body: source });
    }
  });
});
