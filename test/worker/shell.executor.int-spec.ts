import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../support/wait.js';
import { processGone, testContext } from '../../src/worker/executors/executor-testing.js';
import { ShellExecutor } from '../../src/worker/executors/shell.executor.js';

const baseEnv = { PATH: process.env.PATH, HOME: '/home/weft', LANG: 'C.UTF-8', DATABASE_URL: 'postgresql://svc:secret@db/weft', API_KEY: 'k' };

describe(ShellExecutor.name, () => {
  const sut = new ShellExecutor({ killGraceMs: 500, baseEnv });
  const spawned: number[] = [];

  afterEach(() => {
    for (const pid of spawned.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it('succeeds on exit 0 and pushes the last non-empty stdout line, as a string, as return_value', async () => {
    const { ctx, stdout } = testContext();
    const result = await sut.execute({ command: `echo first; echo '{"a": 1}'; printf 'last  \\n\\n  \\n'` }, ctx);
    expect(result).toEqual({ status: 'success', xcom: { return_value: 'last' } });
    expect(stdout()).toEqual(['first', '{"a": 1}', 'last  ', '', '  ']);
  });

  it('keeps a JSON-looking last line as text', async () => {
    const { ctx } = testContext();
    expect(await sut.execute({ command: `echo '{"rows": 3}'` }, ctx)).toEqual({ status: 'success', xcom: { return_value: '{"rows": 3}' } });
  });

  it('pushes no XCom when the command prints nothing on stdout', async () => {
    const { ctx, stderr } = testContext();
    expect(await sut.execute({ command: 'echo to-stderr >&2' }, ctx)).toEqual({ status: 'success' });
    expect(stderr()).toEqual(['to-stderr']);
  });

  it('exposes a minimal base, the context variables and the task env, and none of the worker secrets', async () => {
    const { ctx, stdout } = testContext({ env: { WEFT_DAG_ID: 'etl', WEFT_TRY_NUMBER: '2', SHARED: 'from-context' } });
    const result = await sut.execute({ command: 'env | sort', env: { SHARED: 'from-task', EXTRA: 'x' } }, ctx);
    expect(result.status).toBe('success');
    const vars = Object.fromEntries(stdout().map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    expect(vars).toMatchObject({ HOME: '/home/weft', LANG: 'C.UTF-8', PATH: process.env.PATH, WEFT_DAG_ID: 'etl', WEFT_TRY_NUMBER: '2', SHARED: 'from-task', EXTRA: 'x' });
    expect(vars).not.toHaveProperty('DATABASE_URL');
    expect(vars).not.toHaveProperty('API_KEY');
  });

  it("does not pass on the worker's own environment by default", async () => {
    process.env.WEFT_TEST_SECRET = 'do-not-leak';
    try {
      const { ctx } = testContext();
      const result = await new ShellExecutor().execute({ command: 'echo "${WEFT_TEST_SECRET:-unset} $PATH"' }, ctx);
      expect(result.xcom).toEqual({ return_value: `unset ${process.env.PATH}` });
    } finally {
      delete process.env.WEFT_TEST_SECRET;
    }
  });

  it('runs in the given working directory', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'weft-shell-')));
    try {
      const { ctx } = testContext();
      expect(await sut.execute({ command: 'pwd', cwd: dir }, ctx)).toEqual({ status: 'success', xcom: { return_value: dir } });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('fails without throwing when the working directory is missing or not a directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-shell-'));
    const file = join(dir, 'file');
    writeFileSync(file, '');
    try {
      const { ctx } = testContext();
      expect(await sut.execute({ command: 'true', cwd: join(dir, 'nope') }, ctx)).toEqual({
        status: 'failed',
        error: `working directory ${join(dir, 'nope')} does not exist`,
        retryable: false,
      });
      expect(await sut.execute({ command: 'true', cwd: file }, ctx)).toEqual({
        status: 'failed',
        error: `working directory ${file} is not a directory`,
        retryable: false,
      });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('fails, retryable, on a non-zero exit, with stderr logged as stderr', async () => {
    const { ctx, logged } = testContext();
    const result = await sut.execute({ command: 'echo working; echo "it broke" >&2; exit 3' }, ctx);
    expect(result).toEqual({ status: 'failed', error: 'command exited with code 3', retryable: true });
    expect(logged).toEqual([
      { line: 'working', stream: 'stdout' },
      { line: 'it broke', stream: 'stderr' },
    ]);
  });

  it('names the signal that killed the command', async () => {
    const { ctx } = testContext();
    expect(await sut.execute({ command: 'kill -KILL $$' }, ctx)).toEqual({
      status: 'failed',
      error: 'command was killed by signal SIGKILL',
      retryable: true,
    });
  });

  it('cuts a very long line at maxLogLineBytes with a marker, and keeps partial last lines', async () => {
    const { ctx, stdout } = testContext({ limits: { maxLogLineBytes: 100 } });
    const result = await sut.execute({ command: `head -c 100000 /dev/zero | tr '\\0' a; echo; printf 'no newline'` }, ctx);
    expect(result).toEqual({ status: 'success', xcom: { return_value: 'no newline' } });
    const [long, last] = stdout();
    expect(Buffer.byteLength(long!)).toBeLessThanOrEqual(100);
    expect(long).toMatch(/^a+ …\[truncated: line was 100000 bytes\]$/);
    expect(last).toBe('no newline');
  });

  it('pushes a last line longer than the log limit in full when it fits the XCom limit', async () => {
    const { ctx } = testContext({ limits: { maxLogLineBytes: 100, maxXcomBytes: 1000 } });
    const result = await sut.execute({ command: `printf '%0500d\\n' 7` }, ctx);
    expect(result.xcom).toEqual({ return_value: `${'0'.repeat(499)}7` });
  });

  it('fails, not retryable, when the last stdout line is over the XCom limit', async () => {
    const { ctx } = testContext({ limits: { maxXcomBytes: 100 } });
    const result = await sut.execute({ command: `printf '%0200d\\n' 7` }, ctx);
    expect(result).toEqual({
      status: 'failed',
      error: 'the last stdout line (the XCom return_value) is 200 bytes, over the limit of 100 bytes',
      retryable: false,
    });
  });

  it('on abort stops the whole process group and reports the cancel reason', async () => {
    const { ctx, controller, stdout } = testContext();
    // A grace and sleeps far beyond the test's timeout: the answer comes only if SIGTERM reached every process of
    // the group at once (no clock: a slow machine cannot fail it).
    const patient = new ShellExecutor({ killGraceMs: 3_600_000, baseEnv });
    const running = patient.execute({ command: 'sleep 3600 & echo $!; sleep 3600 & echo $!; echo $$; wait' }, ctx);
    const pids = await waitFor(async () => (stdout().length === 3 ? stdout().map(Number) : undefined), 'three pids');
    spawned.push(...pids);
    controller.abort('cancel_requested');
    expect(await running).toEqual({ status: 'failed', error: 'cancelled: cancel_requested', retryable: false });
    for (const pid of pids) expect(processGone(pid)).toBe(true);
  });

  it('kills a command that ignores SIGTERM once the grace period is over', async () => {
    const { ctx, controller, stdout } = testContext();
    const running = new ShellExecutor({ killGraceMs: 300, baseEnv }).execute({ command: "trap '' TERM; echo $$; while :; do sleep 0.05; done" }, ctx);
    const [pid] = await waitFor(async () => (stdout().length ? stdout().map(Number) : undefined), 'the shell pid');
    spawned.push(pid!);
    const started = Date.now();
    controller.abort('shutdown');
    expect(await running).toEqual({ status: 'failed', error: 'cancelled: shutdown', retryable: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(processGone(pid!)).toBe(true);
  });

  it('stops what the command left running when the shell exits, without waiting for it', async () => {
    const { ctx, stdout, stderr } = testContext();
    // Left-overs that would run for an hour, and a grace as long: the answer comes only if they were not waited for.
    const patient = new ShellExecutor({ killGraceMs: 3_600_000, baseEnv });
    const result = await patient.execute({ command: 'sleep 3600 & echo $!; sleep 3600 >/dev/null 2>&1 & echo $!' }, ctx);
    const pids = stdout().map(Number);
    spawned.push(...pids);
    expect(result).toEqual({ status: 'success', xcom: { return_value: String(pids[1]) } });
    expect(stderr()).toEqual(['[weft] stopping processes the command left running']);
    for (const pid of pids) expect(processGone(pid)).toBe(true);
  });

  it('does not start when the signal is already aborted', async () => {
    const { ctx, controller, logged } = testContext();
    controller.abort('lease_lost');
    expect(await sut.execute({ command: 'echo never' }, ctx)).toEqual({ status: 'failed', error: 'cancelled: lease_lost', retryable: true });
    expect(logged).toEqual([]);
  });

  it('refuses a payload without a command', async () => {
    const { ctx } = testContext();
    expect(await sut.execute({ command: '  ' }, ctx)).toEqual({
      status: 'failed',
      error: 'invalid shell task: command must be a non-empty string',
      retryable: false,
    });
  });
});
