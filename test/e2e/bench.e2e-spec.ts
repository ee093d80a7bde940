// The benchmark's quick mode as a smoke run (issue 10: "a --quick mode for a few seconds' smoke run that CI may
// call"): every workload runs end to end against the built service on the suite's PostgreSQL, with the HTTP and raw
// SQL floors beside it when ../shared/peer-bench is there. It checks that each measurement happened and is whole
// (every task done, every run started), never how fast: figures are measurements, not assertions (docs/performance.md).
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { adminUrl } from '../support/pg-urls.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PEERS = path.resolve(ROOT, '..', 'shared', 'peer-bench');
const results = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-bench-smoke-'));
afterAll(() => fs.rmSync(results, { recursive: true, force: true }));

/** The suite's server (global-setup: TEST_DATABASE_URL or the embedded one) as the PG* variables the bench reads. */
function pgEnv(): Record<string, string> {
  const u = new URL(process.env.WEFT_TEST_SERVER_URL!);
  const env: Record<string, string> = { PGHOST: u.hostname, PGPORT: u.port || '5432', PGUSER: decodeURIComponent(u.username) || 'postgres' };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  return env;
}

function runBench(args: string[]): Promise<{ code: number | null; out: string; err: string; pid: number }> {
  return new Promise((resolve) => {
    // A small environment of its own: the service the bench boots must not inherit the test runner's settings.
    const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? os.tmpdir(), ...pgEnv(), WEFT_BENCH_RESULTS: results };
    const child = spawn(process.execPath, [path.join(ROOT, 'bench/run.mjs'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err, pid: child.pid! }));
  });
}

type Line = Record<string, any>;

describe('npm run bench -- --quick', () => {
  it('runs every workload to completion, beside the floors, and prints the table', async () => {
    const tag = `smoke-${process.pid}`;
    const { code, out, err, pid } = await runBench(['--quick', '--no-build', `--tag=${tag}`]);
    expect({ code, stderr: code === 0 ? '' : err.slice(-3000) }).toEqual({ code: 0, stderr: '' });

    const lines: Line[] = fs.readFileSync(path.join(results, 'results.jsonl'), 'utf8').trim().split('\n')
      .map((l) => JSON.parse(l) as Line).filter((l) => l.tag === tag);
    const weft = (workload: string, variant: string) => lines.find((l) => l.bench === 'weft' && l.workload === workload && l.variant === variant);
    expect(lines.filter((l) => l.workload === 'error')).toEqual([]);

    for (const variant of ['single', 'batch10_next']) {
      const t = weft('throughput', variant);
      expect(t).toMatchObject({ tasks: 1000, done: 1000, left: 0 });
      expect(t!.tasks_per_s).toBeGreaterThan(0);
      expect(t!.server_cpu_ms_per_task).toBeGreaterThan(0);
    }
    expect(weft('scheduler', 'due_runs_200')).toMatchObject({ created: 200, runs_started: 200, first_tasks_queued: 200 });
    expect(weft('scheduler', 'backfill_200')).toMatchObject({ planned: 200, runs_created: 200, first_tasks_queued: 200 });
    expect(weft('dispatch', 'longpoll')?.ms).toMatchObject({ n: 50 });
    expect(weft('hops', 'longpoll')?.hop_ms).toMatchObject({ n: 40 }); // 10 chains × 4 hops
    expect(weft('chain40', 'longpoll')?.trigger_to_last_start_ms).toMatchObject({ n: 1 });
    expect(weft('footprint', 'idle')!.service_rss_idle_mb).toBeGreaterThan(0);
    // The console's grid in headless Chromium, wherever there is one (CI installs it).
    if (fs.existsSync(process.env.WEFT_CHROMIUM ?? '/usr/bin/chromium')) expect(weft('console', 'grid_100x50')).toMatchObject({ cells: 5000, runs: 100, tasks: 50 });

    const summary = lines.find((l) => l.bench === 'weft-summary');
    const figure = (name: string) => summary!.figures.find((f: Line) => f.figure === name);
    expect(figure('single-task leases')?.weft).toMatch(/^\d/);
    expect(out).toContain(`Weft bench ${tag}`);
    if (fs.existsSync(path.join(PEERS, 'lib.mjs'))) {
      // The floors ran in the same run: the ratio to the HTTP floor is there.
      expect(figure('single-task leases')?.peers).toMatch(/× HTTP floor/);
    }

    // It leaves no database behind: neither its own (weft_bench_<pid>_*) nor the floors' (bench_lease, bench_raw).
    const admin = new pg.Client({ connectionString: adminUrl(process.env.WEFT_TEST_SERVER_URL!) });
    await admin.connect();
    try {
      const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname IN ('bench_lease', 'bench_raw')`, [
        `weft\\_bench\\_${pid}\\_%`,
      ]);
      expect(rows).toEqual([]);
    } finally {
      await admin.end();
    }
  }, 300_000);
});
