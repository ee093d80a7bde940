import { readFileSync } from 'node:fs';
import type { ExecutionContext } from './executor.js';
import { parseProcStat } from './process-group.js';

export type LoggedLine = { line: string; stream: 'stdout' | 'stderr' };

/** An ExecutionContext for executor tests: records log lines, aborts through `controller`. */
export function testContext(overrides: { env?: Record<string, string>; limits?: Partial<ExecutionContext['limits']> } = {}) {
  const controller = new AbortController();
  const logged: LoggedLine[] = [];
  const ctx: ExecutionContext = {
    signal: controller.signal,
    log: (line, stream = 'stdout') => logged.push({ line, stream }),
    env: overrides.env ?? {},
    limits: { maxXcomBytes: 64 * 1024, maxLogLineBytes: 4096, ...overrides.limits },
  };
  const lines = (stream: 'stdout' | 'stderr') => logged.filter((l) => l.stream === stream).map((l) => l.line);
  return { ctx, controller, logged, stdout: () => lines('stdout'), stderr: () => lines('stderr') };
}

/** A process is gone once it no longer exists or is a zombie (where PID 1 does not reap orphans, they linger). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.state === 'Z';
  } catch {
    return true;
  }
}
