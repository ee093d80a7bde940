import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../support/wait.js';

const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

let proc: ChildProcess | undefined;
let home: string | undefined;
afterAll(async () => {
  proc?.kill('SIGKILL');
  if (home) await rm(home, { recursive: true, force: true });
});

describe('weft start', () => {
  it('runs a templated shell DAG to success on its embedded database, then shuts down cleanly', async () => {
    home = await mkdtemp(join(tmpdir(), 'weft-e2e-home-'));
    const port = await freePort();
    const adminKey = 'weft_e2e_admin_key_0123456789';
    const env: NodeJS.ProcessEnv = { ...process.env, WEFT_ADMIN_API_KEY: adminKey, WEFT_HOME: home, PORT: String(port), WEFT_EMBEDDED_PG_PORT: String(await freePort()), WEFT_LOG_PRETTY: 'false' };
    delete env.DATABASE_URL;
    proc = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => null))?.ok, `/health/ready (output: ${output})`, 60_000, 100);
    expect(output).toMatch(/embedded PostgreSQL/);

    const auth = { authorization: `Bearer ${adminKey}` };
    const authed = (url: string, init: RequestInit = {}) => fetch(url, { ...init, headers: { ...auth, ...init.headers } });
    expect((await fetch(`${base}/api/v1/dags`)).status).toBe(401);
    const post = (path: string, body: unknown) =>
      authed(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const reg = await post('/api/v1/dags', {
      dagId: 'etl',
      tasks: [
        { taskId: 'extract', type: 'shell', command: 'echo "extracting {{ ds }}"; echo 42' },
        { taskId: 'transform', type: 'shell', command: 'echo "rows={{ xcom.extract.return_value }}"', dependsOn: ['extract'], xcomPull: ['extract'] },
        { taskId: 'load', type: 'shell', command: 'echo "loading $WEFT_DS" >&2', dependsOn: ['transform'] },
      ],
    });
    expect(reg.status).toBe(201);
    expect((await post('/api/v1/dags/etl/dagRuns', { runId: 'r1', logicalDate: '2024-01-15T06:00:00Z' })).status).toBe(201);
    await waitFor(async () => ((await (await authed(`${base}/api/v1/dags/etl/dagRuns/r1`)).json()) as { state: string }).state === 'success', 'the run to succeed', 30_000, 100);

    const logs = async (task: string) =>
      ((await (await authed(`${base}/api/v1/dags/etl/dagRuns/r1/taskInstances/${task}/tries/1/logs`)).json()) as { items: { line: string; stream: string }[] }).items;
    expect((await logs('extract')).map((l) => l.line)).toEqual(['extracting 2024-01-15', '42']);
    expect((await logs('transform')).map((l) => l.line)).toEqual(['rows=42']);
    expect(await logs('load')).toEqual([expect.objectContaining({ line: 'loading 2024-01-15', stream: 'stderr' })]);

    proc.kill('SIGTERM');
    const code = await new Promise((r) => proc!.once('exit', r));
    expect(code).toBe(0);
    proc = undefined;
  });
});
