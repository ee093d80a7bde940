import { spawn, type ChildProcess } from 'node:child_process';

/**
 * The watchdog's script (`$1` the group, `$2` the kill grace, `$3` the lease's life in seconds or `none`). It stops
 * the group as the worker would (SIGTERM, SIGKILL after the grace) when the worker is gone (end of file on stdin:
 * killed, crashed, exited without stopping its tasks) or silent past the lease's life (no `beat` line: frozen,
 * SIGSTOP, a stalled VM); a `beat <seconds>` line, written when a heartbeat is accepted, re-arms the timer; `done`
 * means the worker let go of the group itself. The timer is a subshell whose `sleep` it ends itself when disarmed.
 * `kill -TERM -<pgid>` is the form dash, bash and busybox all take; `read` never reads past a line on a pipe.
 */
const SCRIPT = `pg=$1; grace=$2; timer=
stop_group() { kill -TERM "-$pg" 2>/dev/null || return 0; sleep "$grace"; kill -KILL "-$pg" 2>/dev/null; return 0; }
arm() {
  [ "$1" = none ] && return 0
  ( s=; trap 'kill $s 2>/dev/null; exit 0' TERM; sleep "$1" & s=$!; wait $s; stop_group ) &
  timer=$!
}
disarm() { if [ -n "$timer" ]; then kill "$timer" 2>/dev/null; timer=; fi; }
arm "$3"
while read -r cmd arg; do
  case $cmd in
    beat) disarm; arm "$arg" ;;
    done) disarm; exit 0 ;;
  esac
done
disarm
stop_group
exit 0`;

const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

/**
 * Stops a command's process group when the worker that started it can no longer do so: it died (SIGKILL, an OOM
 * kill, a crash, a forced exit after the shutdown grace) or it stopped extending the attempt's lease (frozen: SIGSTOP,
 * a stalled VM). The group runs in a session of its own (`detached`), so nothing else ends it: left alone, an
 * orphaned or forgotten attempt would run on, and once its lease expired and the task was leased again it would run at
 * the same time as its retry. The watchdog is a small `/bin/sh` in its own session, reading a pipe whose only writer
 * is the worker: the kernel closes it when the worker dies, however it dies.
 */
export class GroupWatchdog {
  private released = false;

  private constructor(private readonly child: ChildProcess) {}

  /**
   * Watches group `pgid`; `graceMs` between SIGTERM and SIGKILL when it must act; `lifeMs`, when known, how long the
   * lease lives unless `extended` (the group is stopped then, should no extension come: at the latest when the server
   * may reap the lease, so before a retry can start; the worker's own fence, armed a moment earlier, usually acts first
   * and reports it better).
   */
  static watch(pgid: number, graceMs: number, path: string, lifeMs?: number): GroupWatchdog {
    const life = lifeMs === undefined ? 'none' : seconds(lifeMs);
    const child = spawn('/bin/sh', ['-c', SCRIPT, 'weft-group-watchdog', String(pgid), seconds(graceMs), life], {
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

  /** A heartbeat was accepted: the lease lives `lifeMs` more. */
  extended(lifeMs: number): void {
    this.write(`beat ${seconds(lifeMs)}\n`);
  }

  /** The worker has stopped the group itself (or it ended): the watchdog exits without touching it. */
  release(): void {
    if (this.released) return;
    this.write('done\n');
    this.released = true;
    this.child.stdin?.end();
  }

  private write(line: string): void {
    if (this.released || !this.child.stdin || this.child.stdin.destroyed) return;
    this.child.stdin.write(line);
  }
}
