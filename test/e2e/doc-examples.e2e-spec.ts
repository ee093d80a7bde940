import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../support/pg-admin.js';
import { waitFor } from '../support/wait.js';

/**
 * The shell examples of the README and docs/ that talk to a running service, run as written (issue 19.8: the lease
 * `curl` of docs/workers.md had no key and got 401) against a real `weft start`: the only change is the port, as the
 * examples say 8080 and the test takes a free one. `curl` on the PATH adds `--fail-with-body`, so an example that
 * gets an HTTP error fails here. Every such block is either run here, run by another test, or listed with the reason
 * it cannot run on this machine: a new example is caught until it is placed.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/weft.js');

type Block = { file: string; line: number; body: string; key: string };

/** Runnable here, in this order (later ones use what earlier ones created, as a reader following along would). */
const RUN_HERE = [
  'README.md: export WEFT_KEY=$(cat ~/.weft/admin-api-key 2>/dev/null || cat /var/lib/weft/admin-api-key)',
  'docs/runs.md: H="authorization: Bearer $WEFT_KEY"     # as the README sets it',
  'docs/workers.md: curl -s -X POST localhost:8080/api/v1/workers/me/lease -H "authorization: Bearer $WEFT_KEY" \\',
  "docs/operations.md: curl -s localhost:8080/metrics | grep '^weft_'",
  'docs/alerts.md: curl -s -X POST localhost:8080/api/v1/webhooks -H "authorization: Bearer $WEFT_KEY" -H \'content-type: application/json\' -d \'{',
];
/** Run by another test, or not runnable on a development machine (reviewed). */
const ELSEWHERE: Record<string, string> = {
  'docs/cli.md: export WEFT_API_URL=http://127.0.0.1:8080 WEFT_API_KEY=$(cat ~/.weft/admin-api-key 2>/dev/null || cat /var/lib/weft/admin-api-key)': 'run line by line by test/e2e/cli.e2e-spec.ts',
  'docs/sdk.md: export WEFT_API_URL=http://127.0.0.1:8080 WEFT_API_KEY=$(cat ~/.weft/admin-api-key 2>/dev/null || cat /var/lib/weft/admin-api-key)': 'run by test/e2e/sdk.e2e-spec.ts',
  'docs/graphql.md: WEFT_URL=http://127.0.0.1:8080 WEFT_API_KEY=$WEFT_KEY node docs/examples/watch-run.mjs docs_etl docs_run_1':
    'run by test/graphql/subscriptions.e2e-spec.ts',
  'docs/sdk.md: node node_modules/typescript/bin/tsc -p clients/typescript': 'the same commands run by test/e2e/sdk.e2e-spec.ts (on a build of the client)',
  'docs/deploy.md: cd deploy': 'Docker Compose: builds the image and runs the stack (minutes, a Docker daemon; outside the test suite)',
  'docs/kubernetes.md: # a worker-role key for the launcher (admin key in $WEFT_ADMIN_API_KEY)': 'needs a Kubernetes cluster (test/kubernetes runs the launcher)',
  'docs/deploy.md: curl -s -X POST "$WEFT/api/v1/apiKeys" -H "authorization: Bearer $ADMIN_KEY" -H \'content-type: application/json\' \\':
    'a deployment behind a load balancer ($WEFT, https://weft.example.com)',
};

/** The ```sh blocks of the README and docs/ that reach a service (a URL on 8080, or curl). */
function serviceBlocks(): Block[] {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  return files.flatMap((file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    return [...text.matchAll(/^```sh[^\n]*\n([\s\S]*?)^```$/gm)]
      .filter((m) => /(localhost|127\.0\.0\.1):8080|\bcurl\b|\$WEFT\b/.test(m[1]!))
      .map((m) => ({ file, line: text.slice(0, m.index).split('\n').length, body: m[1]!, key: `${file}: ${m[1]!.split('\n')[0]}` }));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('examples in the docs', () => {
  it('every shell example that reaches a service is run here or placed elsewhere with a reason', () => {
    const blocks = serviceBlocks();
    expect(blocks.length).toBeGreaterThanOrEqual(RUN_HERE.length);
    const unplaced = blocks.filter((b) => !RUN_HERE.includes(b.key) && !(b.key in ELSEWHERE)).map((b) => `${b.file}:${b.line}: ${b.key}`);
    expect(unplaced).toEqual([]);
    // A renamed or removed example must leave these lists too.
    const keys = new Set(blocks.map((b) => b.key));
    expect([...RUN_HERE, ...Object.keys(ELSEWHERE)].filter((k) => !keys.has(k))).toEqual([]);
  });

  it('no doc suggests npx weft (it fetches an unrelated npm package)', () => {
    const files = ['README.md', 'clients/README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const suggestions = files.flatMap((file) =>
      readFileSync(join(ROOT, file), 'utf8')
        .split(/\n\s*\n/)
        .filter((paragraph) => /npx weft\b/.test(paragraph) && !/(not|never)\b[^.]*npx weft|npx weft`?, which fetches an unrelated/i.test(paragraph))
        .map((paragraph) => `${file}: ${paragraph.slice(0, 120)}`),
    );
    expect(suggestions).toEqual([]);
  });

  describe('against weft start', () => {
    let proc: ChildProcess | undefined;
    let home: string;
    let db: TestDatabase;
    let port: number;
    let output = '';
    let adminKey = '';

    beforeAll(async () => {
      home = await mkdtemp(join(tmpdir(), 'weft-doc-examples-'));
      db = await createTestDatabase();
      port = await freePort();
      const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, WEFT_HOME: join(home, '.weft'), PORT: String(port), DATABASE_URL: db.url, WEFT_LOG_PRETTY: 'false' };
      delete env.WEFT_ADMIN_API_KEY;
      delete env.WEFT_API_KEY;
      proc = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      proc.stdout!.on('data', (d) => (output += d));
      proc.stderr!.on('data', (d) => (output += d));
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null))?.ok, `weft start to be ready (output: ${output})`, 120_000, 100);
      adminKey = readFileSync(join(home, '.weft/admin-api-key'), 'utf8').trim();
      // curl that fails on an HTTP error, as a reader would notice one.
      const realCurl = execFileSync('/bin/sh', ['-c', 'command -v curl'], { encoding: 'utf8' }).trim();
      mkdirSync(join(home, 'bin'));
      writeFileSync(join(home, 'bin/curl'), `#!/bin/sh\nexec "${realCurl}" --fail-with-body "$@"\n`, { mode: 0o755 });
    }, 180_000);

    afterAll(async () => {
      if (proc && proc.exitCode === null) {
        const exited = new Promise((r) => proc!.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      await db?.drop();
      if (home) await rm(home, { recursive: true, force: true });
    }, 60_000);

    const api = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${adminKey}` } })).json() as Promise<any>;

    it.each(RUN_HERE)('%s', async (key) => {
      const block = serviceBlocks().find((b) => b.key === key);
      expect(block).toBeDefined();
      const script = block!.body.replaceAll('localhost:8080', `localhost:${port}`).replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`);
      // WEFT_KEY as the README's first-DAG example sets it, for the pages that say "as the README sets it".
      const env = { ...process.env, HOME: home, PATH: `${join(home, 'bin')}:${process.env.PATH}`, WEFT_KEY: adminKey };
      const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('exit', (code) => resolve({ code, out }));
      });
      expect({ code: run.code, out: run.code === 0 ? '' : run.out }).toEqual({ code: 0, out: '' });
      if (key.startsWith('README.md')) {
        // The README's comment says the run succeeds (the built-in worker runs it); its `sleep 2` is no deadline here.
        await waitFor(async () => (await api('/api/v1/dags/daily_etl/dagRuns/first')).state === 'success', 'the README run to succeed', 60_000, 100);
        expect((await api('/api/v1/dags/daily_etl')).isPaused).toBe(true);
      }
      if (key.startsWith('docs/runs.md')) expect(await api('/api/v1/pools/warehouse')).toMatchObject({ slots: 8, openSlots: 8 });
      if (key.startsWith('docs/operations.md')) expect(run.out).toMatch(/^weft_/m);
      if (key.startsWith('docs/alerts.md')) expect((await api('/api/v1/webhooks')).items).toEqual([expect.objectContaining({ url: 'https://ops.example.com/weft-events', dagIds: ['daily_etl'] })]);
    }, 120_000);
  });
});
