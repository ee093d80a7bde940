import type { AddressPolicy } from '../../outbound/domain/address-policy.js';
import { OutboundGuard } from '../../outbound/outbound-guard.js';
import type { TaskExecutor } from './executor.js';
import { HttpExecutor } from './http.executor.js';
import { NoopExecutor } from './noop.executor.js';
import { ShellExecutor } from './shell.executor.js';
import { SqlExecutor } from './sql.executor.js';

export type DefaultExecutorOptions = {
  /** The worker's environment, where sql tasks find `WEFT_CONN_<ID>` connections. */
  connEnv: Record<string, string | undefined>;
  /** Time between SIGTERM and SIGKILL when a shell task is stopped. */
  killGraceMs?: number;
  /** Limit for one http task's request, response body included. */
  httpTimeoutMs?: number;
  /** Outbound-address policy of http tasks (WEFT_HTTP_TASK_ALLOW/DENY); default: the built-in defaults. */
  httpPolicy?: AddressPolicy;
  /** Where shell tasks get PATH, HOME, LANG and TZ; default the worker's environment. */
  shellBaseEnv?: Record<string, string | undefined>;
};

/**
 * The executors of the built-in worker's task types (DESIGN §2), by type. Payloads come from the lease as unknown
 * JSON; each executor checks the shape it needs and answers a failed result rather than throwing.
 */
export function createDefaultExecutors(opts: DefaultExecutorOptions): Map<string, TaskExecutor<unknown>> {
  const executors: TaskExecutor<unknown>[] = [
    new ShellExecutor({ killGraceMs: opts.killGraceMs, baseEnv: opts.shellBaseEnv }),
    new HttpExecutor({ timeoutMs: opts.httpTimeoutMs, guard: opts.httpPolicy && new OutboundGuard(opts.httpPolicy) }),
    new SqlExecutor({ connEnv: opts.connEnv }),
    new NoopExecutor(),
  ];
  return new Map(executors.map((executor) => [executor.type, executor]));
}
