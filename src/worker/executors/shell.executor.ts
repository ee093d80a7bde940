import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { cancelledResult, failed, withinXcomLimit, type ExecutionContext, type ExecutionResult, type TaskExecutor } from './executor.js';
import { cutLine, LineSplitter } from './line-splitter.js';
import { GroupWatchdog } from './group-watchdog.js';
import { ProcessGroup } from './process-group.js';
import { errorMessage } from '../../common/error-text.js';

/** `command` runs through /bin/sh -c; `argv` runs the program directly, without a shell. */
export type ShellTaskPayload = {
  command?: string;
  argv?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** 'json': the last stdout line is parsed as JSON (a list to map over, an object…); default 'string'. */
  xcomFormat?: 'string' | 'json';
};

export type ShellExecutorOptions = {
  /** Time between SIGTERM and SIGKILL of the process group (on cancellation, and for leftovers after the shell exits). */
  killGraceMs?: number;
  /** Where PATH, HOME, LANG and TZ come from; default the worker's own environment. Nothing else is taken from it. */
  baseEnv?: Record<string, string | undefined>;
};

/**
 * The only variables a command inherits from the worker. The worker's environment holds the service's secrets
 * (DATABASE_URL, API keys), so it is never passed on wholesale.
 */
export const INHERITED_ENV_KEYS = ['PATH', 'HOME', 'LANG', 'TZ'] as const;
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';
export const DEFAULT_KILL_GRACE_MS = 5000;
/** Once the group is gone, how long output pipes may stay open (held by a process that left the group via setsid). */
const PIPE_CLOSE_WAIT_MS = 1000;

type LastLine = { text: string } | { tooLongBytes: number };
type Ending =
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'cancelled'; result: ExecutionResult }
  | { kind: 'spawn-error'; message: string };

/**
 * Runs `/bin/sh -c command` in its own process group, like Airflow's BashOperator. Exit 0 is success, and the last
 * non-empty stdout line, right-trimmed, becomes XCom `return_value` as a string: Airflow keeps the string too, a
 * downstream template can parse it, and a value never changes type because some output happened to look like JSON.
 * With `xcomFormat: 'json'` the line is parsed as JSON instead (a list a mapped task expands over; a line that is not
 * JSON fails the attempt, not retryable). No non-empty stdout line means no XCom. Whatever the command leaves running in its group is stopped when the shell
 * exits, so an attempt leaves no orphans (short of a process that moved itself into a new session), and a watchdog
 * stops the group should the worker itself die first, or stop extending the attempt's lease (GroupWatchdog).
 */
export class ShellExecutor implements TaskExecutor<ShellTaskPayload> {
  readonly type = 'shell';
  private readonly killGraceMs: number;
  private readonly inheritedEnv: Record<string, string>;
  /** One for all the commands this executor runs (GroupWatchdog). */
  private readonly watchdog: GroupWatchdog;

  constructor(options: ShellExecutorOptions = {}) {
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    const base = options.baseEnv ?? process.env;
    this.inheritedEnv = { PATH: DEFAULT_PATH };
    for (const key of INHERITED_ENV_KEYS) {
      const value = base[key];
      if (value !== undefined) this.inheritedEnv[key] = value;
    }
    this.watchdog = new GroupWatchdog(this.killGraceMs, this.inheritedEnv.PATH!);
  }

  async execute(task: ShellTaskPayload, ctx: ExecutionContext): Promise<ExecutionResult> {
    const invalid = invalidPayload(task);
    if (invalid) return failed(`invalid shell task: ${invalid}`, false);
    if (task.cwd !== undefined) {
      const problem = await cwdProblem(task.cwd);
      if (problem) return failed(problem, false);
    }
    if (ctx.signal.aborted) return cancelledResult(ctx.signal);
    try {
      return await this.run(task, ctx);
    } catch (err) {
      return failed(`could not run the command: ${errorMessage(err)}`, true);
    }
  }

  /** Later sources win: the inherited base, then the context variables, then the task's own env. */
  private environment(task: ShellTaskPayload, ctx: ExecutionContext): Record<string, string> {
    return { ...this.inheritedEnv, ...ctx.env, ...task.env };
  }

  private run(task: ShellTaskPayload, ctx: ExecutionContext): Promise<ExecutionResult> {
    const { maxLogLineBytes, maxXcomBytes } = ctx.limits;
    let lastLine: LastLine | undefined;
    // stdout keeps enough of each line to serve as the XCom even when the logged copy is cut.
    const stdout = new LineSplitter(Math.max(maxLogLineBytes, maxXcomBytes + 1), (head, total) => {
      ctx.log(cutLine(head, total, maxLogLineBytes), 'stdout');
      if (total > maxXcomBytes) lastLine = { tooLongBytes: total };
      else {
        const text = head.toString('utf8').trimEnd();
        if (text) lastLine = { text };
      }
    });
    const stderr = new LineSplitter(maxLogLineBytes, (head, total) => ctx.log(cutLine(head, total, maxLogLineBytes), 'stderr'));

    return new Promise<ExecutionResult>((resolve) => {
      const [file, args] = task.argv ? [task.argv[0]!, task.argv.slice(1)] : ['/bin/sh', ['-c', task.command!]];
      const child = spawn(file, args, {
        cwd: task.cwd,
        env: this.environment(task, ctx),
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const group = new ProcessGroup(child.pid, this.killGraceMs);
      // Stops the group should this process die before it does (kill -9, a crash), or stop extending the lease (frozen):
      // the attempt must not run on beside its retry once the lease expires.
      const watchdog = child.pid === undefined ? undefined : this.watchdog.watch(child.pid, ctx.lease?.fenceMs);
      const unwatch = watchdog && ctx.lease ? ctx.lease.onExtended((fenceMs) => watchdog.extended(fenceMs)) : undefined;
      let ending: Ending | undefined;
      let groupStopped = false;
      let pipesClosed = false;
      let pipeTimer: NodeJS.Timeout | undefined;
      let settled = false;

      const settle = (): void => {
        if (settled || !ending || !groupStopped) return;
        if (!pipesClosed) {
          pipeTimer ??= setTimeout(() => {
            pipesClosed = true;
            settle();
          }, PIPE_CLOSE_WAIT_MS);
          return;
        }
        settled = true;
        clearTimeout(pipeTimer);
        ctx.signal.removeEventListener('abort', onAbort);
        child.stdout?.destroy();
        child.stderr?.destroy();
        stdout.end();
        stderr.end();
        resolve(resultOf(ending, lastLine, ctx, task.xcomFormat === 'json'));
      };
      // The first ending decides the result; the group is stopped in every case, leftovers included.
      const end = (first: Ending): void => {
        if (ending) return;
        ending = first;
        void (async () => {
          if (first.kind === 'exit' && (await group.alive())) ctx.log('[weft] stopping processes the command left running', 'stderr');
          await group.stop();
          unwatch?.();
          watchdog?.release();
          groupStopped = true;
          settle();
        })();
      };
      const onAbort = (): void => end({ kind: 'cancelled', result: cancelledResult(ctx.signal) });

      child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (err) => end({ kind: 'spawn-error', message: err.message }));
      child.on('exit', (code, signal) => end({ kind: 'exit', code, signal }));
      child.on('close', () => {
        pipesClosed = true;
        settle();
      });
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function resultOf(ending: Ending, lastLine: LastLine | undefined, ctx: ExecutionContext, json = false): ExecutionResult {
  switch (ending.kind) {
    case 'cancelled':
      return ending.result;
    case 'spawn-error':
      return failed(`could not start the command: ${ending.message}`, true);
    case 'exit':
      if (ending.signal) return failed(`command was killed by signal ${ending.signal}`, true);
      if (ending.code !== 0) return failed(`command exited with code ${ending.code}`, true);
      if (lastLine === undefined) return { status: 'success' };
      if ('tooLongBytes' in lastLine) {
        return failed(
          `the last stdout line (the XCom return_value) is ${lastLine.tooLongBytes} bytes, over the limit of ${ctx.limits.maxXcomBytes} bytes`,
          false,
        );
      }
      if (json) {
        let value: unknown;
        try {
          value = JSON.parse(lastLine.text);
        } catch (err) {
          return failed(`xcomFormat is json, but the last stdout line is not JSON (${errorMessage(err)}): ${lastLine.text.slice(0, 200)}`, false);
        }
        return withinXcomLimit({ return_value: value }, ctx.limits, 'the last stdout line');
      }
      return withinXcomLimit({ return_value: lastLine.text }, ctx.limits, 'the last stdout line');
  }
}

function invalidPayload(task: ShellTaskPayload): string | undefined {
  if (task?.argv !== undefined) {
    if (task.command !== undefined) return 'give command or argv, not both';
    if (!Array.isArray(task.argv) || !task.argv.length || task.argv.some((a) => typeof a !== 'string') || !task.argv[0]) {
      return 'argv must be a non-empty array of strings, starting with the program';
    }
  } else if (typeof task?.command !== 'string' || task.command.trim() === '') return 'command must be a non-empty string';
  if (task.cwd !== undefined && typeof task.cwd !== 'string') return 'cwd must be a string';
  if (task.env !== undefined) {
    if (typeof task.env !== 'object' || task.env === null) return 'env must be an object of strings';
    for (const [key, value] of Object.entries(task.env)) {
      if (typeof value !== 'string') return `env.${key} must be a string`;
    }
  }
  return undefined;
}

async function cwdProblem(cwd: string): Promise<string | undefined> {
  try {
    const info = await stat(cwd);
    return info.isDirectory() ? undefined : `working directory ${cwd} is not a directory`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `working directory ${cwd} does not exist`;
    return `working directory ${cwd} is not usable: ${errorMessage(err)}`;
  }
}
