import { spawn, type ChildProcess } from 'node:child_process';

/**
 * The watchdog's script (`$1`: the kill grace in seconds). It reads lines from the worker: `watch <pgid> <life|none>`
 * when a command starts, `beat <pgid> <life>` when a heartbeat of its attempt is accepted, `done <pgid>` when the
 * worker has let go of the group itself. It stops a group as the worker would (SIGTERM, SIGKILL after the grace)
 * when no `beat` came for its life (the worker frozen: SIGSTOP, a stalled VM; or cut off from the API), and every
 * group it watches at end of file (the worker is gone: killed, crashed, exited without stopping its tasks). A timer is
 * a subshell whose `sleep` it ends itself when disarmed; one that already fired is not signalled (its PID, once
 * reaped, may be another process's: on Linux the PID must still be this shell's child). `kill -TERM -<pgid>` is the
 * form dash, bash and busybox all take; `read` never reads past a line on a pipe; pgids are checked to be numbers
 * before they reach `eval`.
 */
const SCRIPT = `grace=$1; groups=' '
stop_group() { kill -TERM "-$1" 2>/dev/null || return 0; sleep "$grace"; kill -KILL "-$1" 2>/dev/null; return 0; }
arm() {
  [ "$2" = none ] && return 0
  ( s=; trap 'kill $s 2>/dev/null; exit 0' TERM; sleep "$2" & s=$!; wait $s; stop_group "$1" ) &
  eval "t_$1=\\$!"
}
disarm() {
  eval "t=\\\${t_$1:-}"; eval "t_$1="
  [ -n "$t" ] || return 0
  if [ -d /proc/self ]; then
    line=; { read -r line < "/proc/$t/stat"; } 2>/dev/null || return 0
    set -- $line
    [ "$4" = "$$" ] || return 0
  fi
  kill "$t" 2>/dev/null; return 0
}
while read -r cmd pg arg; do
  case $pg in ''|*[!0-9]*) continue ;; esac
  case $cmd in
    watch) disarm "$pg"; case $groups in *" $pg "*) ;; *) groups="$groups$pg " ;; esac; arm "$pg" "$arg" ;;
    beat) disarm "$pg"; arm "$pg" "$arg" ;;
    done) disarm "$pg"; case $groups in *" $pg "*) groups="\${groups%% $pg *} \${groups#* $pg }" ;; esac ;;
  esac
done
for pg in $groups; do disarm "$pg"; kill -TERM "-$pg" 2>/dev/null; done
[ -n "\${groups# }" ] && sleep "$grace"
for pg in $groups; do kill -KILL "-$pg" 2>/dev/null; done
exit 0`;

const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

/** What the shell executor holds for one running command. */
export type WatchedGroup = {
  /** A heartbeat was accepted: stop the group in `fenceMs` unless extended again. */
  extended(fenceMs: number): void;
  /** The worker has stopped the group itself (or it ended): the watchdog forgets it. */
  release(): void;
};

/**
 * Stops the process groups of a worker's commands when the worker can no longer do so: it died (SIGKILL, an OOM
 * kill, a crash, a forced exit after the shutdown grace) or it stopped extending an attempt's lease (frozen). A group
 * runs in a session of its own (`detached`), so nothing else ends it: left alone, an orphaned or forgotten attempt
 * would run on, and once its lease expired and the task was leased again it would run at the same time as its retry.
 *
 * One small `/bin/sh` per worker (started with its first command, again should it ever die) in its own session,
 * reading a pipe whose only writer is the worker: the kernel closes it when the worker dies, however it dies. Each
 * command costs a line on that pipe and, while its lease's life is known, a `sleep` forked by that shell.
 */
export class GroupWatchdog {
  private child: ChildProcess | undefined;

  constructor(
    private readonly graceMs: number,
    private readonly path: string,
  ) {}

  /**
   * Watches group `pgid`. `fenceMs`, when the lease's life is known, is when to stop the group unless extended
   * (fenceDelayMs: shortly before the server may reap the lease, so before a retry can start; the worker's own fence,
   * armed a moment earlier, usually acts first and reports it better).
   */
  watch(pgid: number, fenceMs?: number): WatchedGroup {
    const child = this.running();
    let released = false;
    const write = (line: string) => {
      if (!released && child.stdin && !child.stdin.destroyed) child.stdin.write(line);
    };
    write(`watch ${pgid} ${fenceMs === undefined ? 'none' : seconds(fenceMs)}\n`);
    return {
      extended: (ms) => write(`beat ${pgid} ${seconds(ms)}\n`),
      release: () => {
        write(`done ${pgid}\n`);
        released = true;
      },
    };
  }

  private running(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const child = spawn('/bin/sh', ['-c', SCRIPT, 'weft-group-watchdog', seconds(this.graceMs)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { PATH: this.path },
    });
    // Best effort: a watchdog that could not start (or died) leaves the worker's own stopping of its groups as before.
    child.on('error', () => undefined);
    child.stdin!.on('error', () => undefined);
    // Neither the watchdog nor its pipe keeps the worker's event loop alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    this.child = child;
    return child;
  }
}
