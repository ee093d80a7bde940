import { readdir, readFile } from 'node:fs/promises';

const POLL_MS = 25;
/** After SIGKILL, how long to wait for the group to disappear before giving up (a process stuck in the kernel). */
const AFTER_KILL_WAIT_MS = 1000;

/**
 * The process group of a command spawned with `detached: true`, whose group id is the shell's pid. The group outlives
 * the shell while anything the command started is still running, so stopping it is how an attempt leaves no orphans.
 */
export class ProcessGroup {
  private stopped?: Promise<void>;

  constructor(
    private readonly pgid: number | undefined,
    private readonly graceMs: number,
  ) {}

  /** Whether any live (non-zombie) process is still in the group. */
  async alive(): Promise<boolean> {
    if (this.pgid === undefined || !this.signal(0)) return false;
    // The signal reaches zombies too; on Linux, tell them apart through /proc.
    return process.platform === 'linux' ? linuxGroupAlive(this.pgid) : true;
  }

  /** SIGTERM to every member, SIGKILL after the grace period; resolves once the group is gone (or cannot be killed). */
  stop(): Promise<void> {
    this.stopped ??= this.terminate();
    return this.stopped;
  }

  private async terminate(): Promise<void> {
    if (!(await this.alive())) return;
    this.signal('SIGTERM');
    const killAt = Date.now() + this.graceMs;
    let giveUpAt: number | undefined;
    for (;;) {
      await delay(POLL_MS);
      if (!(await this.alive())) return;
      const now = Date.now();
      if (giveUpAt === undefined && now >= killAt) {
        this.signal('SIGKILL');
        giveUpAt = now + AFTER_KILL_WAIT_MS;
      } else if (giveUpAt !== undefined && now >= giveUpAt) {
        return;
      }
    }
  }

  /** Signals the whole group; false when it no longer exists. */
  private signal(signal: NodeJS.Signals | 0): boolean {
    if (this.pgid === undefined) return false;
    try {
      process.kill(-this.pgid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * `kill(-pgid, 0)` also succeeds for zombies, which linger where PID 1 does not reap orphans (common in containers),
 * so on Linux the group is read from /proc instead.
 */
async function linuxGroupAlive(pgid: number): Promise<boolean> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return false;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue;
    const info = parseProcStat(stat);
    if (info && info.pgrp === pgid && info.state !== 'Z' && info.state !== 'X') return true;
  }
  return false;
}

/** State and process group from /proc/<pid>/stat ("pid (comm) state ppid pgrp …"; comm may hold spaces and parens). */
export function parseProcStat(stat: string): { state: string; pgrp: number } | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]);
  return fields[0] && Number.isInteger(pgrp) ? { state: fields[0], pgrp } : undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
