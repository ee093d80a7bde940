import { leaseLifeMs } from './domain/lease-life.js';

/** The lease protocol over HTTP, as any remote worker speaks it (DESIGN §5). */
export type LeasedTask = {
  leaseId: string;
  dagId: string;
  runId: string;
  taskId: string;
  taskType: string;
  tryNumber: number;
  heartbeatIntervalSec: number;
  leaseExpiresAt: string;
  /** Not the server's: how long the lease lives from when its answer arrived, on the server's clock (leaseLifeMs). */
  lifeMs?: number;
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
    /** The API's own `message` from the error body, when it sent one. */
    readonly serverMessage: string,
  ) {
    super(message);
  }
}

/** No answer at all: the API could not be reached (refused, reset, DNS) or did not answer in time. */
export class ConnectionError extends Error {}

/** "connect ECONNREFUSED 127.0.0.1:8080", "no answer within 30 s": fetch's own message only says "fetch failed". */
function connectionCause(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs / 1000} s`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.message ?? cause?.code ?? (err instanceof Error ? err.message : String(err));
}

/** A 401 or 403: the key is refused or may not do this; asking again will not change that. */
export function isAuthRefusal(err: unknown): err is HttpError & { status: 401 | 403 } {
  return err instanceof HttpError && (err.status === 401 || err.status === 403);
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
    readonly baseUrl: string,
    private readonly apiKey?: string,
  ) {}

  async lease(workerId: string, body: { queues: string[]; capacity: number; waitSeconds: number; taskTypes: string[]; hostname: string }, signal: AbortSignal): Promise<LeasedTask[]> {
    const res = await this.post(`/api/v1/workers/${encodeURIComponent(workerId)}/lease`, body, signal, (body.waitSeconds + 10) * 1000);
    const date = res.headers.get('date');
    return ((await res.json()) as { leases: LeasedTask[] }).leases.map((l) => ({ ...l, lifeMs: leaseLifeMs(l.leaseExpiresAt, date) }));
  }

  /**
   * Resolves cancelRequested and how long the lease now lives (leaseLifeMs); throws LeaseLostError when the server no
   * longer recognises the attempt.
   */
  async heartbeat(leaseId: string, timeoutMs?: number): Promise<{ cancelRequested: boolean; lifeMs?: number }> {
    const res = await this.post(`/api/v1/leases/${leaseId}/heartbeat`, undefined, undefined, timeoutMs);
    const body = (await res.json()) as { cancelRequested: boolean; leaseExpiresAt?: string };
    return { cancelRequested: body.cancelRequested, lifeMs: leaseLifeMs(body.leaseExpiresAt, res.headers.get('date')) };
  }

  async logs(leaseId: string, lines: { line: string; stream: string }[]): Promise<void> {
    await this.post(`/api/v1/leases/${leaseId}/logs`, { lines });
  }

  async complete(leaseId: string, body: Record<string, unknown>): Promise<void> {
    await this.post(`/api/v1/leases/${leaseId}/complete`, body);
  }

  private async post(path: string, body: unknown, signal?: AbortSignal, timeoutMs = 30_000): Promise<Response> {
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method: 'POST',
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      // The caller's own abort (a shutdown) is not a connection problem.
      if (signal?.aborted) throw err;
      throw new ConnectionError(`cannot reach the API at ${this.baseUrl}: ${connectionCause(err, timeoutMs)}`, { cause: err });
    }
    if (res.status === 409 || res.status === 404) throw new LeaseLostError(`${path}: ${res.status} ${await res.text()}`);
    if (!res.ok) {
      const text = await res.text();
      let serverMessage = text;
      try {
        serverMessage = String((JSON.parse(text) as { message?: unknown }).message ?? text);
      } catch {
        // Not JSON (a proxy's page): the text as it came.
      }
      throw new HttpError(res.status, `${path}: ${res.status} ${text}`, serverMessage);
    }
    return res;
  }
}
