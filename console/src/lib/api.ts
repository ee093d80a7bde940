/**
 * The console's only door to the service: the public GraphQL API (and REST for what GraphQL does not carry), with
 * the signed-in key. The key lives in sessionStorage: it is gone when the browser tab closes.
 */

const KEY_STORAGE = 'weft.apiKey';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function storeKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** Called when the service says the key is unknown or revoked (the app then asks to sign in again). */
let onUnauthenticated: (message: string) => void = () => undefined;
export function setUnauthenticatedHandler(handler: (message: string) => void): void {
  onUnauthenticated = handler;
}

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = { accept: 'application/json' };
  if (json) h['content-type'] = 'application/json';
  const key = storedKey();
  if (key) h.authorization = `Bearer ${key}`;
  return h;
}

type GraphqlError = { message: string; extensions?: { code?: string; statusCode?: number; details?: unknown } };

/** One GraphQL operation; any error in the answer becomes an ApiError carrying the service's own message. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch('/graphql', { method: 'POST', headers: headers(true), body: JSON.stringify({ query, variables }) });
  let body: { data?: T; errors?: GraphqlError[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new ApiError(`the service answered ${res.status} without JSON`, res.status);
  }
  const first = body.errors?.[0];
  if (first) {
    const status = first.extensions?.statusCode ?? res.status;
    if (first.extensions?.code === 'UNAUTHENTICATED') onUnauthenticated(first.message);
    throw new ApiError(first.message, status, first.extensions?.code, first.extensions?.details);
  }
  if (!body.data) throw new ApiError('the service answered without data', res.status);
  return body.data;
}

/** A REST call under /api/v1 (for what GraphQL does not carry: the audit log and alert deliveries). */
export async function rest<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const err = (json ?? {}) as { message?: string; error?: string; details?: unknown };
    if (res.status === 401) onUnauthenticated(err.message ?? 'unauthenticated');
    throw new ApiError(err.message ?? err.error ?? `HTTP ${res.status}`, res.status, err.error, err.details);
  }
  return json as T;
}

/** The message to show for anything thrown by an API call (with the field details of a 400). */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const details = Array.isArray(err.details)
      ? (err.details as { path?: string; message?: string }[]).map((d) => `${d.path ? `${d.path}: ` : ''}${d.message ?? ''}`)
      : [];
    return details.length && !details.every((d) => err.message.includes(d)) ? `${err.message} (${details.join('; ')})` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
