/** A generated client from a base URL and key, and the errors of its answers as exceptions. */
import { createClient, createConfig, type Client } from './generated/client/index.js';
import type { Error as ErrorBody } from './generated/types.gen.js';

export type Connection = { client?: Client; baseUrl?: string; apiKey?: string };

/** The connection's client, or one for its baseUrl/apiKey (default: WEFT_API_URL, WEFT_API_KEY). */
export function clientFor(connection: Connection = {}): Client {
  if (connection.client) return connection.client;
  const baseUrl = connection.baseUrl ?? process.env.WEFT_API_URL;
  if (!baseUrl) throw new Error('no Weft API URL: pass baseUrl or set WEFT_API_URL');
  const apiKey = connection.apiKey ?? process.env.WEFT_API_KEY;
  return createClient(createConfig({ baseUrl: baseUrl.replace(/\/+$/, ''), ...(apiKey ? { auth: apiKey } : {}) }));
}

/** An answer other than 2xx: `status` and the service's error body `{statusCode, error, message, details?}`. */
export class WeftApiError extends Error {
  /** `status` 0: no answer at all (the API could not be reached; the message says where and why). */
  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
    message?: string,
  ) {
    super(message ?? (body?.message ? `${status} ${body.error}: ${body.message}` : `HTTP ${status}`));
  }

  /** Validation problems `{path, message}` of a 400 answer (empty for other errors). */
  get issues(): { path: string; message: string }[] {
    const details = this.body?.details;
    return Array.isArray(details) ? (details as { path: string; message: string }[]) : [];
  }
}

/** The data of a generated call's result; throws WeftApiError for an error answer. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; request?: Request; response?: Response }>): Promise<T> {
  const { data, error, request, response } = await call;
  if (response && response.ok) return data as T;
  if (!response) throw new WeftApiError(0, undefined, unreachable(request, error));
  throw new WeftApiError(response.status, error as ErrorBody | undefined);
}

/** `cannot reach the API at http://127.0.0.1:8080: connect ECONNREFUSED 127.0.0.1:8080`, not fetch's bare `fetch failed`. */
function unreachable(request: Request | undefined, error: unknown): string {
  let where = 'the API';
  try {
    if (request) where = `the API at ${new URL(request.url).origin}`;
  } catch {
    // keep 'the API'
  }
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  const why = cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
  return `cannot reach ${where}: ${why}`;
}
