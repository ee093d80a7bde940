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
  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
  ) {
    super(body?.message ? `${status} ${body.error}: ${body.message}` : `HTTP ${status}`);
  }

  /** Validation problems `{path, message}` of a 400 answer (empty for other errors). */
  get issues(): { path: string; message: string }[] {
    const details = this.body?.details;
    return Array.isArray(details) ? (details as { path: string; message: string }[]) : [];
  }
}

/** The data of a generated call's result; throws WeftApiError for an error answer. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response?: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response && response.ok) return data as T;
  throw new WeftApiError(response?.status ?? 0, error as ErrorBody | undefined);
}
