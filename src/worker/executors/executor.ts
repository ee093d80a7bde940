/**
 * The contract between the built-in worker loop and the code that runs one task attempt. An executor never throws:
 * every outcome, including bad payloads, spawn errors and cancellation, is an ExecutionResult the loop reports
 * through `POST /leases/{id}/complete` (DESIGN §5).
 */
export type ExecutionResult = { status: 'success' | 'failed'; xcom?: Record<string, unknown>; error?: string; retryable?: boolean };

export type ExecutionContext = {
  /** Aborted when the lease is lost, cancelled, or the worker shuts down; the reason should be a CancelReason. */
  signal: AbortSignal;
  /** One log line (no trailing newline). */
  log(line: string, stream?: 'stdout' | 'stderr'): void;
  /** Context variables to expose (WEFT_DAG_ID, WEFT_RUN_ID, WEFT_TASK_ID, WEFT_TRY_NUMBER, WEFT_LOGICAL_DATE, WEFT_DS …). */
  env: Record<string, string>;
  limits: { maxXcomBytes: number; maxLogLineBytes: number };
  /**
   * The lease's life as the worker last heard it, when the server told (see LeaseLife): an executor that runs work
   * outside this process (a shell command's process group) stops it by itself should the worker stop extending the
   * lease (frozen, cut off), so that it cannot run on beside its retry.
   */
  lease?: {
    /** In how long to stop the work unless `onExtended` says otherwise first (fenceDelayMs). */
    fenceMs: number;
    onExtended(listener: (fenceMs: number) => void): () => void;
  };
};

export interface TaskExecutor<T> {
  readonly type: string;
  execute(task: T, ctx: ExecutionContext): Promise<ExecutionResult>;
}

/**
 * Why the worker aborted an attempt; pass one to `AbortController.abort(reason)`. Whether the failed attempt may be
 * retried follows from the reason, not from the executor (see CANCEL_RETRYABLE).
 */
export type CancelReason = 'cancel_requested' | 'lease_lost' | 'lease_expired' | 'shutdown' | 'execution_timeout';

const CANCEL_RETRYABLE: Record<CancelReason, boolean> = {
  // An operator asked for this attempt to stop: running it again would undo their decision.
  cancel_requested: false,
  // The server already moved on (reaped, cleared, marked); it will answer 409 and decide itself. Not the task's fault.
  lease_lost: true,
  // No heartbeat was accepted for as long as the lease lives (a partition, an outage, a frozen worker): the server may
  // have leased the task again, so the attempt stopped rather than run beside its retry. Not the task's fault.
  lease_expired: true,
  // The worker is going away; the task did nothing wrong and another worker can run it.
  shutdown: true,
  // Like Airflow's execution_timeout: a timed-out attempt counts as a failure and the retry policy applies.
  execution_timeout: true,
};

export function isCancelReason(value: unknown): value is CancelReason {
  return typeof value === 'string' && Object.hasOwn(CANCEL_RETRYABLE, value);
}

/**
 * The failed result of an aborted attempt: `cancelled: <reason>`. Reasons other than a CancelReason (a DOMException
 * from `AbortSignal.timeout`, an Error, a free string) are named as well and stay retryable.
 */
export function cancelledResult(signal: AbortSignal): ExecutionResult {
  const reason: unknown = signal.reason;
  if (isCancelReason(reason)) return { status: 'failed', error: `cancelled: ${reason}`, retryable: CANCEL_RETRYABLE[reason] };
  // Duck-typed: a DOMException is not an Error in every realm (Jest's vm contexts among them).
  const { name, message } = (typeof reason === 'object' && reason !== null ? reason : {}) as { name?: unknown; message?: unknown };
  if (name === 'TimeoutError') {
    return { status: 'failed', error: 'cancelled: execution_timeout', retryable: CANCEL_RETRYABLE.execution_timeout };
  }
  const text = typeof message === 'string' && message ? message : typeof reason === 'string' && reason ? reason : 'aborted';
  return { status: 'failed', error: `cancelled: ${text}`, retryable: true };
}

export function failed(error: string, retryable: boolean): ExecutionResult {
  return { status: 'failed', error, retryable };
}

/**
 * Checks the XCom map as it will travel (JSON, UTF-8) against the limit. Over the limit the attempt fails rather than
 * pushing a truncated value that downstream tasks would misread; a deterministic outcome, so not retryable.
 */
export function withinXcomLimit(xcom: Record<string, unknown>, limits: ExecutionContext['limits'], what: string): ExecutionResult {
  const bytes = Buffer.byteLength(JSON.stringify(xcom));
  if (bytes > limits.maxXcomBytes) {
    return failed(`${what} is ${bytes} bytes as XCom, over the limit of ${limits.maxXcomBytes} bytes`, false);
  }
  return { status: 'success', xcom };
}

/** Duck-typed, as errors from Node's internals are not `instanceof Error` in every realm (Jest's vm contexts among them). */
