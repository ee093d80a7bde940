import type { ExecutionResult, TaskExecutor } from './executor.js';

/** Does nothing and succeeds: a join point or placeholder in a DAG. */
export class NoopExecutor implements TaskExecutor<unknown> {
  readonly type = 'noop';

  execute(): Promise<ExecutionResult> {
    return Promise.resolve({ status: 'success' });
  }
}
