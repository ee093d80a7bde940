import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLogger } from '../../src/logging/logger.js';
import { createDefaultExecutors } from '../../src/worker/executors/default-executors.js';
import { LocalWorker } from '../../src/worker/local-worker.js';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { missingClientToolchains } from '../support/clients.js';
import { waitFor } from '../support/wait.js';

// Dynamic pipelines with real workers (docs/dynamic-pipelines.md): the built-in worker's shell tasks fan out over a
// JSON list one of them printed, and the Python worker helper leases mapped instances.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MISSING_PYTHON = missingClientToolchains({ python: true }).filter((m) => m.includes('python'));
const MISSING_GO = missingClientToolchains({ go: true }).filter((m) => m.startsWith('go'));

let t: TestApp;
let api: Api;
let baseUrl: string;

beforeAll(async () => {
  t = await startTestApp({ WEFT_SCHEDULER_TICK_MS: '200' }, { runScheduler: true });
  api = new Api(t.app);
  baseUrl = await t.listen();
});
afterAll(async () => {
  await t.close();
});

const base = (dagId: string, runId: string) => `/api/v1/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}`;

describe('dynamic pipelines with real workers', () => {
  it('the built-in worker fans a shell task out over 50 files listed by another, and the report pulls the 50 results', async () => {
    const files = Array.from({ length: 50 }, (_, i) => `f${String(i).padStart(2, '0')}.csv`);
    await api.registerDag(
      dag('e2e_fanout', [
        { taskId: 'list_files', type: 'shell', command: `echo '${JSON.stringify(files)}'`, xcomFormat: 'json' },
        {
          taskId: 'load',
          type: 'shell',
          command: 'echo loaded-{{ expand.file }}-{{ map_index }}',
          dependsOn: ['list_files'],
          expand: { file: { xcomPull: { taskId: 'list_files', key: 'return_value' } } },
        },
        { taskId: 'report', type: 'shell', command: 'echo {{ xcom.load.return_value }}', xcomFormat: 'json', dependsOn: ['load'], xcomPull: ['load'] },
      ], { maxActiveTasks: 64 }),
    );
    const run = await api.trigger('e2e_fanout');
    const worker = new LocalWorker({
      apiUrl: baseUrl,
      workerId: 'e2e-builtin',
      queues: ['e2e_fanout'],
      concurrency: 8,
      executors: createDefaultExecutors({ connEnv: {} }),
      limits: { maxXcomBytes: 65536, maxLogLineBytes: 4096 },
      logger: createLogger('silent', false),
      waitSeconds: 1,
    });
    worker.start();
    try {
      await waitFor(async () => (await api.run('e2e_fanout', run.runId)).state !== 'running', 'the fan-out run to finish', 60_000);
    } finally {
      await worker.stop(1000);
    }
    expect((await api.run('e2e_fanout', run.runId)).state).toBe('success');
    const { items } = await api.ok('GET', `${base('e2e_fanout', run.runId)}/taskInstances`);
    expect(items.filter((x: any) => x.taskId === 'load').map((x: any) => x.mapIndex).sort((a: number, b: number) => a - b)).toEqual(files.map((_, i) => i));
    const report = await api.ok('GET', `${base('e2e_fanout', run.runId)}/taskInstances/report/xcomEntries/return_value`);
    expect(report.value).toEqual(files.map((f, i) => `loaded-${f}-${i}`));
  }, 120_000);

  (MISSING_PYTHON.length ? it.skip : it)('the Python worker helper leases mapped instances and sees mapIndex and expand', async () => {
    await api.registerDag(dag('e2e_py', [{ taskId: 'regions', type: 'py_map', expand: { region: ['eu', 'us', 'ap'] } }]));
    const run = await api.trigger('e2e_py');
    const script = [
      'import os, threading',
      'from weft_worker import Worker',
      'w = Worker(os.environ["WEFT_API_URL"], worker_id="e2e-py", queues=["e2e_py"], concurrency=3, wait_seconds=1)',
      'done = []',
      'def handle(ctx):',
      '    done.append(ctx.map_index)',
      '    if len(done) == 3: threading.Timer(0.5, w.stop).start()',
      '    return {"mapIndex": ctx.map_index, "expand": ctx.expand, "leaseMapIndex": ctx.lease.map_index}',
      'w.handle("py_map", handle)',
      'w.run(install_signal_handlers=False)',
      'print(sorted(done))',
    ].join('\n');
    const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script], {
      env: { PATH: process.env.PATH, PYTHONPATH: join(ROOT, 'clients/python'), PYTHONDONTWRITEBYTECODE: '1', WEFT_API_URL: baseUrl },
      timeout: 60_000,
    });
    expect(stdout.trim()).toBe('[0, 1, 2]');
    await waitFor(async () => (await api.run('e2e_py', run.runId)).state === 'success', 'the mapped run to succeed', 30_000);
    for (const [i, region] of ['eu', 'us', 'ap'].entries()) {
      const x = await api.ok('GET', `${base('e2e_py', run.runId)}/taskInstances/regions/${i}/xcomEntries/return_value`);
      expect(x.value).toEqual({ mapIndex: i, expand: { region }, leaseMapIndex: i });
    }
  }, 120_000);

  (MISSING_GO.length ? it.skip : it)('the Go worker helper sees MapIndex and Expand of mapped instances, and a branch follows its Follow', async () => {
    await api.registerDag(
      dag('e2e_go', [
        { taskId: 'regions', type: 'go_map', expand: { region: ['eu', 'us'] } },
        { taskId: 'pick', type: 'go_branch', branch: true, dependsOn: ['regions'] },
        { taskId: 'left', type: 'go_leaf', dependsOn: ['pick'] },
        { taskId: 'right', type: 'go_leaf', dependsOn: ['pick'] },
      ]),
    );
    const run = await api.trigger('e2e_go');
    // A program of its own, built offline against clients/go (a replace directive; the module has no dependencies).
    const dir = mkdtempSync(join(tmpdir(), 'weft-e2e-go-'));
    try {
      writeFileSync(join(dir, 'go.mod'), `module e2ego\n\ngo 1.19\n\nrequire weft.dev/client v0.0.0\n\nreplace weft.dev/client => ${join(ROOT, 'clients/go')}\n`);
      writeFileSync(
        join(dir, 'main.go'),
        [
          'package main',
          'import (',
          '\t"context"',
          '\t"os"',
          '\t"sync"',
          '\t"time"',
          '\t"weft.dev/client/worker"',
          ')',
          'func main() {',
          '\tw := worker.New(os.Getenv("WEFT_API_URL"), "")',
          '\tw.WorkerID, w.Queues, w.Concurrency, w.WaitSeconds = "e2e-go", []string{"e2e_go"}, 2, 1',
          '\tctx, stop := context.WithCancel(context.Background())',
          '\tvar mu sync.Mutex',
          '\tdone := 0',
          '\tcount := func() { mu.Lock(); done++; if done == 4 { time.AfterFunc(500*time.Millisecond, stop) }; mu.Unlock() }',
          '\tw.Handle("go_map", func(_ context.Context, t *worker.Task) (interface{}, error) {',
          '\t\tcount()',
          '\t\treturn map[string]interface{}{"mapIndex": t.MapIndex(), "expand": t.Expand()}, nil',
          '\t})',
          '\tw.Handle("go_branch", func(_ context.Context, t *worker.Task) (interface{}, error) {',
          '\t\tcount()',
          '\t\tt.Follow("left")',
          '\t\treturn map[string]interface{}{"mapIndex": t.MapIndex(), "expand": t.Expand()}, nil',
          '\t})',
          '\tw.Handle("go_leaf", func(_ context.Context, t *worker.Task) (interface{}, error) { count(); return nil, nil })',
          '\t_ = w.Run(ctx)',
          '}',
          '',
        ].join('\n'),
      );
      const goEnv = { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' };
      await promisify(execFile)('go', ['build', '-o', join(dir, 'e2e-go'), '.'], { cwd: dir, env: goEnv, timeout: 180_000 });
      await promisify(execFile)(join(dir, 'e2e-go'), [], { env: { PATH: process.env.PATH, WEFT_API_URL: baseUrl }, timeout: 60_000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await waitFor(async () => (await api.run('e2e_go', run.runId)).state === 'success', 'the Go run to succeed', 30_000);
    for (const [i, region] of ['eu', 'us'].entries()) {
      const x = await api.ok('GET', `${base('e2e_go', run.runId)}/taskInstances/regions/${i}/xcomEntries/return_value`);
      expect(x.value).toEqual({ mapIndex: i, expand: { region } });
    }
    const pick = await api.ok('GET', `${base('e2e_go', run.runId)}/taskInstances/pick/xcomEntries/return_value`);
    expect(pick.value).toEqual({ mapIndex: -1, expand: {} });
    expect(await api.taskStates('e2e_go', run.runId)).toMatchObject({ pick: 'success', left: 'success', right: 'skipped' });
  }, 240_000);
});
