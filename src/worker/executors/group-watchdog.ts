import { spawn, type ChildProcess } from 'node:child_process';

/**
 * The watchdog's script: a line on stdin means the worker let go of the group itself (the command ended, or the
 * worker stopped it); end of file without one means the worker is gone (killed, crashed, exited without stopping its
 * tasks), and the group is stopped as the worker would have: SIGTERM, SIGKILL after the grace. `kill -TERM -<pgid>`
 * is the form dash, bash and busybox all take.
 */
const SCRIPT = 'if read -r _; then exit 0; fi; kill -TERM "-$1" 2>/dev/null || exit 0; sleep "$2"; kill -KILL "-$1" 2>/dev/null; exit 0';

/**
 * Stops a command's process group when the worker that started it dies without stopping it (SIGKILL, an OOM kill, a
 * crash, a forced exit after the shutdown grace). The group runs in a session of its own (`detached`), so nothing else
 * ends it: left alone, an orphaned attempt would run on, and once its lease expired and the task was leased again it
 * would run at the same time as its retry. The watchdog is a small `/bin/sh` in its own session, reading a pipe
 * whose only writer is the worker: the kernel closes it when the worker dies, however it dies.
 */
export class GroupWatchdog {
  private released = false;

  private constructor(private readonly child: ChildProcess) {}

  /** Watches group `pgid` for as long as this process lives; `graceMs` between SIGTERM and SIGKILL when it must act. */
  static watch(pgid: number, graceMs: number, path: string): GroupWatchdog {
    const child = spawn('/bin/sh', ['-c', SCRIPT, 'weft-group-watchdog', String(pgid), (Math.max(0, graceMs) / 1000).toFixed(3)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { PATH: path },
    });
    // Best effort: a watchdog that could not start (or died) leaves the worker's own stopping of the group as before.
    child.on('error', () => undefined);
    child.stdin!.on('error', () => undefined);
    // Neither the watchdog nor its pipe keeps the worker's event loop alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    return new GroupWatchdog(child);
  }

  /** The worker has stopped the group itself (or it ended): the watchdog exits without touching it. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.child.stdin && !this.child.stdin.destroyed) this.child.stdin.end('\n');
  }
}
