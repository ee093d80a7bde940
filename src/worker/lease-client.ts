/** The lease protocol over HTTP, as any remote worker speaks it (DESIGN §5). */
export type LeasedTask = {
  leaseId: string;
  dagId: string;
  runId: string;
  taskId: string;
  taskType: string;
  tryNumber: number;
  heartbeatIntervalSec: number;
  executionDeadline: string | null;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  task: Record<string, unknown>;
};

/** The server no longer counts the attempt (409: reaped, completed otherwise, cancelled and reported; 404). */
export class LeaseLostError extends Error {}

/** Any other answer than 2xx, 404 and 409. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Whether a failed call may succeed when sent again: a network error or timeout, a 5xx (the database unavailable,
 * a replica shutting down), 408, 425 or 429. Everything else is the server's answer (refused, or the lease gone).
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof LeaseLostError) return false;
  if (err instanceof HttpError) return err.status >= 500 || err.status === 408 || err.status === 425 || err.status === 429;
  return true;
}

export class LeaseClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey?: string,
  ) {}

  async lease(workerId: string, body: { queues: string[]; capacity: number; waitSeconds: number; taskTypes: string[]; hostname: string }, signal: AbortSignal): Promise<LeasedTask[]> {
    const res = await this.post(`/api/v1/workers/${encodeURIComponent(workerId)}/lease`, body, signal, (body.waitSeconds + 10) * 1000);
    return ((await res.json()) as { leases: LeasedTask[] }).leases;
  }

  /** Resolves cancelRequested; throws LeaseLostError when the server no longer recognises the attempt. */
  async heartbeat(leaseId: string, timeoutMs?: number): Promise<{ cancelRequested: boolean }> {
    return (await this.post(`/api/v1/leases/${leaseId}/heartbeat`, undefined, undefined, timeoutMs)).json() as Promise<{ cancelRequested: boolean }>;
  }

  async logs(leaseId: string, lines: { line: string; stream: string }[]): Promise<void> {
    await this.post(`/api/v1/leases/${leaseId}/logs`, { lines });
  }

  async complete(leaseId: string, body: Record<string, unknown>): Promise<void> {
    await this.post(`/api/v1/leases/${leaseId}/complete`, body);
  }

  private async post(path: string, body: unknown, signal?: AbortSignal, timeoutMs = 30_000): Promise<Response> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const res = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (res.status === 409 || res.status === 404) throw new LeaseLostError(`${path}: ${res.status} ${await res.text()}`);
    if (!res.ok) throw new HttpError(res.status, `${path}: ${res.status} ${await res.text()}`);
    return res;
  }
}
