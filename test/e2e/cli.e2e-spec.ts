import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeysService } from '../../src/auth/api-keys.service.js';
import { createLogger } from '../../src/logging/logger.js';
import { createDefaultExecutors } from '../../src/worker/executors/default-executors.js';
import { LocalWorker } from '../../src/worker/local-worker.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { buildTsClient, missingClientToolchains, ROOT, runProcess, type Ran } from '../support/clients.js';
import { waitFor } from '../support/wait.js';

/**
 * weft-cli (docs/cli.md) as a real process against the real service: every command, text and JSON output, exit
 * codes, the profile file, and the promises that matter to CI scripts — `deploy --dry-run` writes nothing, an
 * invalid file deploys nothing, `runs trigger --wait` exits 1 for a failed run.
 */
const MISSING = missingClientToolchains();
const SKIP = MISSING.length > 0 && !process.env.CI;
if (SKIP) console.warn(`skipping the weft-cli e2e test: missing ${MISSING.join('; ')}`);

const ADMIN = 'cli-e2e-admin-key-0123456789abcdef';
let t: TestApp;
let baseUrl: string;
let build: { dir: string; remove(): void };
let home: string;
let worker: LocalWorker;

const cliIn = (env: Record<string, string>, ...args: string[]) => runProcess(process.execPath, [join(build.dir, 'src/cli/main.js'), ...args], { XDG_CONFIG_HOME: home, ...env });
const cli = (...args: string[]) => cliIn({ WEFT_API_URL: baseUrl, WEFT_API_KEY: ADMIN }, ...args);
const json = async (...args: string[]) => {
  const r = await cli('--output', 'json', ...args);
  if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout);
};
const text = (r: Ran) => {
  if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const raw = await res.text();
  return { status: res.status, body: raw ? JSON.parse(raw) : undefined };
}

/** A loopback port nothing listens on (taken, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function file(name: string, content: string): string {
  const path = join(home, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
}

beforeAll(async () => {
  if (SKIP) return;
  home = mkdtempSync(join(tmpdir(), 'weft-cli-e2e-'));
  build = await buildTsClient();
  t = await startTestApp({ WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN, WEFT_SCHEDULER_TICK_MS: '250' }, { runScheduler: true });
  baseUrl = await t.listen();
  await t.app.get(ApiKeysService).ensureAdminKey(ADMIN, home);
  // The built-in worker runs the shell tasks.
  worker = new LocalWorker({
    apiUrl: baseUrl,
    apiKey: ADMIN,
    workerId: 'cli-e2e-worker',
    queues: ['default'],
    concurrency: 4,
    executors: createDefaultExecutors({ connEnv: {} }),
    limits: { maxXcomBytes: 65536, maxLogLineBytes: 4096 },
    logger: createLogger('silent', false),
    waitSeconds: 2,
  });
  worker.start();
}, 300_000);

afterAll(async () => {
  await worker?.stop(1000);
  await t?.close();
  build?.remove();
  if (home) rmSync(home, { recursive: true, force: true });
});

const SHELL_DAG = (dagId: string, command: string, extra = '') => `dagId: ${dagId}
schedule: null
${extra}tasks:
  - taskId: first
    type: shell
    command: ${JSON.stringify(command)}
  - taskId: second
    type: shell
    dependsOn: [first]
    command: echo second for {{ ds }}
`;

(SKIP ? describe.skip : describe)('weft-cli', () => {
  it('dags validate: lists every problem of every file (the service’s validation), exit 1; valid files pass', async () => {
    file('v/good.yaml', SHELL_DAG('good_dag', 'echo hi'));
    file('v/nested/also-good.json', JSON.stringify({ dagId: 'also_good', tasks: [{ taskId: 'a', type: 'noop' }] }));
    file('v/bad.yaml', `dagId: bad_dag
schedule: "61 * * * *"
timezone: Mars/Olympus
tasks:
  - { taskId: a, type: shell, command: "echo a", dependsOn: [b] }
  - { taskId: b, type: shell, command: "echo b", dependsOn: [a] }
  - { taskId: c, type: http, request: { method: GET } }
`);
    file('v/broken.yml', 'dagId: [unclosed\n');
    file('v/.hidden/ignored.yaml', 'not: a dag');

    const r = await cli('dags', 'validate', join(home, 'v'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`ok  good_dag  ${join(home, 'v/good.yaml')}  (deploy would create it)`);
    expect(r.stdout).toContain('ok  also_good');
    const problems = r.stderr.split('\n').filter((l) => l.startsWith(join(home, 'v/bad.yaml')));
    expect(problems.length).toBeGreaterThanOrEqual(4);
    expect(r.stderr).toMatch(/bad\.yaml: bad_dag: schedule: .*/);
    expect(r.stderr).toMatch(/bad\.yaml: bad_dag: timezone: .*/);
    expect(r.stderr).toMatch(/bad\.yaml: bad_dag: tasks.*: .*cycle/);
    expect(r.stderr).toMatch(/bad\.yaml: bad_dag: tasks\[2\]\.request.*url/);
    expect(r.stderr).toMatch(/broken\.yml: invalid YAML at line \d+, column \d+: /);
    expect(r.stderr).not.toContain('ignored');
    expect(r.stderr).toMatch(/weft-cli: \d+ problems found\n$/);

    const asJson = await cli('--output', 'json', 'dags', 'validate', join(home, 'v'));
    expect(asJson.code).toBe(1);
    const report = JSON.parse(asJson.stdout);
    expect(report.valid).toBe(false);
    expect(report.files.map((f: any) => [f.dagId, f.valid]).sort()).toEqual([[null, false], ['also_good', true], ['bad_dag', false], ['good_dag', true]]);

    // --offline: the JSON Schema alone, no service (no URL at all); it cannot see the cycle.
    const offline = await cliIn({}, 'dags', 'validate', '--offline', join(home, 'v/bad.yaml'), join(home, 'v/good.yaml'));
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain('tasks[2].request: value does not have required property "url"');
    expect(offline.stderr).not.toContain('cycle');
    expect(text(await cliIn({}, 'dags', 'validate', '--offline', join(home, 'v/good.yaml')))).toContain('ok  good_dag');
    // Validation wrote nothing.
    expect((await api('GET', '/api/v1/dags/good_dag')).status).toBe(404);
  });

  it('dags deploy --dry-run shows the change per DAG and writes nothing; deploy writes it; an invalid file stops the whole deploy', async () => {
    const path = file('d/etl.yaml', SHELL_DAG('cli_etl', 'echo one'));
    const dry = await cli('dags', 'deploy', '--dry-run', path);
    expect(text(dry)).toContain('would create cli_etl');
    expect(dry.stdout).toContain('+  "dagId": "cli_etl"');
    expect((await api('GET', '/api/v1/dags/cli_etl')).status).toBe(404);

    expect(text(await cli('dags', 'deploy', path))).toContain('created: cli_etl version 1');
    expect(text(await cli('dags', 'deploy', path))).toContain('leave unchanged cli_etl');

    file('d/etl.yaml', SHELL_DAG('cli_etl', 'echo two'));
    const change = await json('dags', 'deploy', '--dry-run', path);
    expect(change.dryRun).toBe(true);
    expect(change.dags).toHaveLength(1);
    expect(change.dags[0]).toMatchObject({ dagId: 'cli_etl', action: 'update', currentVersion: 1, version: 2 });
    expect(change.dags[0].diff).toContain('--- cli_etl (version 1)');
    expect(change.dags[0].diff).toContain('-      "command": "echo one"\n+      "command": "echo two"');
    const versions = await api('GET', '/api/v1/dags/cli_etl/versions');
    expect(versions.body.totalEntries).toBe(1);
    expect(versions.body.items[0].document.tasks[0].command).toBe('echo one');

    // A folder with one good and one bad file: nothing is deployed, not even the good one.
    file('d2/new.yaml', SHELL_DAG('cli_new', 'echo new'));
    file('d2/bad.yaml', 'dagId: cli_bad\ntasks: []\n');
    const refused = await cli('dags', 'deploy', path, join(home, 'd2'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('bad.yaml: cli_bad: tasks');
    expect(refused.stderr).toContain('nothing was deployed');
    expect((await api('GET', '/api/v1/dags/cli_new')).status).toBe(404);
    expect((await api('GET', '/api/v1/dags/cli_etl/versions')).body.totalEntries).toBe(1);

    const done = await json('dags', 'deploy', '--no-diff', path);
    expect(done.dags.map((d: any) => [d.dagId, d.status, d.version])).toEqual([['cli_etl', 'updated', 2]]);
  });

  it('dags list, pause and unpause', async () => {
    const listed = await json('dags', 'list', '--prefix', 'cli_');
    expect(listed.map((d: any) => [d.dagId, d.isPaused, d.latestVersion])).toEqual([['cli_etl', false, 2]]);
    expect(text(await cli('dags', 'pause', 'cli_etl'))).toBe('paused cli_etl\n');
    expect((await api('GET', '/api/v1/dags/cli_etl')).body.isPaused).toBe(true);
    const table = text(await cli('dags', 'list', '--paused'));
    expect(table.split('\n')[0]).toMatch(/^DAG\s+PAUSED\s+SCHEDULE\s+VERSION\s+SOURCE\s+TAGS$/);
    expect(table).toMatch(/cli_etl\s+yes\s+manual\s+2\s+api/);
    expect((await json('dags', 'unpause', 'cli_etl'))[0].isPaused).toBe(false);
    const missing = await cli('dags', 'pause', 'no_such_dag');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404');
  });

  it('runs trigger --wait follows the tasks live and exits 0 for a success, 1 for a failure', async () => {
    const good = await cli('runs', 'trigger', 'cli_etl', '--run-id', 'ok1', '--wait');
    expect({ code: good.code, stderr: good.stderr }).toEqual({ code: 0, stderr: '' });
    expect(good.stdout).toContain('triggered cli_etl run ok1');
    expect(good.stdout).toMatch(/first: running → success/);
    expect(good.stdout).toMatch(/second: running → success/);
    expect(good.stdout).toMatch(/run ok1: success\n$/);

    file('f/fail.yaml', SHELL_DAG('cli_fail', 'echo failing; exit 3'));
    text(await cli('dags', 'deploy', join(home, 'f/fail.yaml')));
    const bad = await cli('--output', 'json', 'runs', 'trigger', 'cli_fail', '--run-id', 'bad1', '--conf', '{"why": "test"}', '--wait');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('weft-cli: run bad1 ended failed\n');
    const result = JSON.parse(bad.stdout);
    expect(result.run).toMatchObject({ runId: 'bad1', state: 'failed', conf: { why: 'test' } });
    expect(result.taskInstances.map((ti: any) => [ti.taskId, ti.state])).toEqual([
      ['first', 'failed'],
      ['second', 'upstream_failed'],
    ]);

    // Without --wait: the run is triggered and the command returns at once.
    const quick = await json('runs', 'trigger', 'cli_etl', '--run-id', 'nowait');
    expect(quick).toMatchObject({ dagId: 'cli_etl', runId: 'nowait' });
    const usage = await cli('runs', 'trigger', 'cli_etl', '--conf', '[1]');
    expect({ code: usage.code, stderr: usage.stderr }).toEqual({ code: 2, stderr: 'weft-cli: --conf must be a JSON object\n' });
  });

  it('runs wait on a run that has already ended prints every transition before the summary', async () => {
    // The case trigger --wait meets when a run ends before its subscription starts: each transition is printed,
    // including the last ones, whose events are numbered just after the run reads as ended.
    await json('runs', 'trigger', 'cli_fail', '--run-id', 'ended1');
    await waitFor(async () => (await api('GET', '/api/v1/dags/cli_fail/dagRuns/ended1')).body.state === 'failed', 'run ended1 to fail', 30_000);
    const r = await cli('runs', 'wait', 'cli_fail', 'ended1');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: 'weft-cli: run ended1 ended failed\n' });
    const transitions = r.stdout.split('\n').filter((l) => l.includes('→')).map((l) => l.slice(10));
    expect(transitions).toEqual(['first: none → queued', 'first: queued → running', 'first: running → failed', 'second: none → upstream_failed']);
    // The summary says why: the failed task's error, then the run's state.
    expect(r.stdout).toMatch(/\nfirst failed: command exited with code 3\nrun ended1: failed\n$/);
    expect((await cli('runs', 'wait', 'cli_fail', 'no_such_run')).code).toBe(1);
  });

  it('logs prints a task’s lines, as text or JSON', async () => {
    expect(text(await cli('logs', 'cli_etl', 'ok1', 'second'))).toMatch(/^\[try 1\] second for \d{4}-\d\d-\d\d\n$/);
    const lines = await json('logs', 'cli_etl', 'ok1', 'second');
    expect(lines).toEqual([{ tryNumber: 1, line: expect.stringMatching(/^second for /), stream: 'stdout', at: expect.any(String) }]);
    const missing = await cli('logs', 'cli_etl', 'no_such_run', 'second');
    expect(missing.code).toBe(1);
  });

  it('backfill create: --dry-run writes nothing; otherwise it follows the backfill to its end', async () => {
    file('b/daily.yaml', SHELL_DAG('cli_daily', 'echo {{ ds }}', 'schedule: "@daily"\nstartDate: "2024-01-01T00:00:00Z"\ncatchup: false\n').replace('schedule: null\n', ''));
    text(await cli('dags', 'deploy', join(home, 'b/daily.yaml')));
    text(await cli('dags', 'pause', 'cli_daily'));

    const dry = await cli('backfill', 'create', 'cli_daily', '--from', '2024-02-01T00:00:00Z', '--to', '2024-02-03T00:00:00Z', '--dry-run');
    expect(text(dry)).toContain('dry run: 3 runs to create, 0 to reprocess, 0 skipped; nothing was written');
    expect(dry.stdout).toContain('create     2024-02-02T00:00:00.000Z');
    expect((await api('GET', '/api/v1/backfills?dagId=cli_daily')).body.totalEntries).toBe(0);

    const run = await json('backfill', 'create', 'cli_daily', '--from', '2024-02-01T00:00:00Z', '--to', '2024-02-03T00:00:00Z', '--max-active-runs', '2');
    expect(run.state).toBe('completed');
    expect(run.items.map((i: any) => [i.logicalDate, i.runState])).toEqual([
      ['2024-02-01T00:00:00.000Z', 'success'],
      ['2024-02-02T00:00:00.000Z', 'success'],
      ['2024-02-03T00:00:00.000Z', 'success'],
    ]);
    const again = await cli('backfill', 'create', 'cli_daily', '--from', '2024-02-01T00:00:00Z', '--to', '2024-02-01T00:00:00Z', '--reprocess', 'completed');
    expect(text(again)).toMatch(/backfill \d+ completed: 1 succeeded, 0 failed, 0 skipped of 1\n$/);
    // Not a terminal: the progress is a line per change, ending with everything done.
    expect(again.stdout).toMatch(/backfill \d+: 1\/1 done, 0 running, 0 failed\n/);
  }, 120_000);

  it('reads the connection from a profile file; flags win over it; a refused key exits 1', async () => {
    writeFileSync(join(home, 'profiles.yaml'), `profiles:\n  default:\n    apiUrl: ${baseUrl}\n    apiKey: ${ADMIN}\n  wrong:\n    apiUrl: ${baseUrl}\n    apiKey: not-a-key\n`);
    const env = { WEFT_PROFILES_FILE: join(home, 'profiles.yaml') };
    expect(JSON.parse(text(await cliIn(env, '-o', 'json', 'dags', 'list', '--prefix', 'cli_etl')))).toHaveLength(1);
    const refused = await cliIn(env, '--profile', 'wrong', 'dags', 'list');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('401');
    expect(JSON.parse(text(await cliIn(env, '--profile', 'wrong', '--api-key', ADMIN, '-o', 'json', 'dags', 'list', '--prefix', 'cli_etl')))).toHaveLength(1);
    const unknown = await cliIn(env, '--profile', 'nope', 'dags', 'list');
    expect({ code: unknown.code, stderr: unknown.stderr }).toEqual({ code: 2, stderr: `weft-cli: no profile 'nope' in ${join(home, 'profiles.yaml')}\n` });
    const none = await cliIn({}, 'dags', 'list');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no API URL');
    // A missing key and an API that is not there say where the setting comes from, not fetch's "fetch failed".
    const keyless = await cliIn({ WEFT_API_URL: baseUrl }, 'dags', 'list');
    expect({ code: keyless.code, stderr: keyless.stderr }).toEqual({
      code: 1,
      stderr: `weft-cli: 401 Unauthorized: missing API key: send Authorization: Bearer <key> (the key comes from --api-key, WEFT_API_KEY or ${join(home, 'weft/profiles.yaml')})\n`,
    });
    const closed = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = await cliIn({ WEFT_API_URL: closed, WEFT_API_KEY: ADMIN }, 'dags', 'list');
    expect({ code: unreachable.code, stderr: unreachable.stderr }).toEqual({
      code: 1,
      stderr: `weft-cli: cannot reach the API at ${closed}: connect ECONNREFUSED ${closed.slice(7)} (is the service running there? the URL comes from --api-url, WEFT_API_URL or ${join(home, 'weft/profiles.yaml')})\n`,
    });
    expect((await cliIn({}, 'dags', 'frobnicate')).code).toBe(2);
  });
});

(SKIP ? describe.skip : describe)('weft-cli logs --follow', () => {
  it('streams the lines of a running task and returns when it finishes', async () => {
    // The task prints, then waits for a file the test writes once the first line has been streamed.
    const gate = join(home, 'gate');
    file('l/slow.yaml', SHELL_DAG('cli_slow', `echo before; while [ ! -f ${gate} ]; do sleep 0.1; done; echo after`));
    text(await cli('dags', 'deploy', join(home, 'l/slow.yaml')));
    await json('runs', 'trigger', 'cli_slow', '--run-id', 's1');
    await waitFor(async () => (await api('GET', '/api/v1/dags/cli_slow/dagRuns/s1/taskInstances/first')).body.state === 'running', 'the slow task to run', 30_000);

    const child = spawn(process.execPath, [join(build.dir, 'src/cli/main.js'), 'logs', 'cli_slow', 's1', 'first', '--follow', '--try', '1'], {
      env: { PATH: process.env.PATH, WEFT_API_URL: baseUrl, WEFT_API_KEY: ADMIN, XDG_CONFIG_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    await waitFor(async () => out.includes('before\n'), 'the first line to be followed', 30_000);
    expect(child.exitCode).toBeNull();
    writeFileSync(gate, '');
    expect(await exited).toBe(0);
    expect(out).toBe('before\nafter\n');
  }, 60_000);
});

(SKIP ? describe.skip : describe)('docs/cli.md', () => {
  it('runs the walkthrough line by line, each with the exit code the doc gives', async () => {
    const doc = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8');
    const block = /^```sh walkthrough\n([\s\S]*?)^```$/m.exec(doc)?.[1];
    expect(block).toBeDefined();
    const lines = block!.split('\n').filter((l) => l.startsWith('weft-cli '));
    expect(lines.length).toBeGreaterThanOrEqual(10);
    // `weft-cli` on the PATH is the build under test; the connection comes from the environment, as the doc's
    // first line sets it.
    const bin = join(home, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'weft-cli'), `#!/bin/sh\nexec "${process.execPath}" "${join(build.dir, 'src/cli/main.js')}" "$@"\n`, { mode: 0o755 });
    for (const line of lines) {
      const expected = Number(/# exits (\d)/.exec(line)?.[1] ?? 0);
      const r = await runProcess('/bin/sh', ['-c', line], { PATH: `${bin}:${process.env.PATH}`, WEFT_API_URL: baseUrl, WEFT_API_KEY: ADMIN, XDG_CONFIG_HOME: home });
      expect({ line, code: r.code, stderr: r.code === expected ? '' : r.stderr }).toEqual({ line, code: expected, stderr: '' });
    }
    expect((await api('GET', '/api/v1/dags/hello')).body).toMatchObject({ isPaused: true, latestVersion: 1 });
    expect((await api('GET', '/api/v1/dags/hello/dagRuns/first')).body.state).toBe('success');
  }, 180_000);
});
