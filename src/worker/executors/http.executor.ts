import { Headers, type RequestInit, type Response } from 'undici';
import { DEFAULT_ADDRESS_POLICY } from '../../outbound/domain/address-policy.js';
import { OutboundGuard, outboundRefusal } from '../../outbound/outbound-guard.js';
import { cancelledResult, failed, withinXcomLimit, type ExecutionContext, type ExecutionResult, type TaskExecutor } from './executor.js';
import { errorMessage, networkError } from '../../common/error-text.js';

export type HttpTaskPayload = {
  request: { method: string; url: string; headers?: Record<string, string>; body?: unknown; expectStatus?: number[] };
};

export type HttpExecutorOptions = {
  /** Limit for one request, from sending it to the last byte of the response body. */
  timeoutMs?: number;
  /** The outbound-address policy (WEFT_HTTP_TASK_ALLOW/DENY); default: the built-in defaults. */
  guard?: OutboundGuard;
};

export const DEFAULT_HTTP_TIMEOUT_MS = 300_000;
/** How much of an unexpected response's body is read and quoted in the error. */
const ERROR_BODY_PREVIEW_BYTES = 500;
/**
 * Statuses outside 5xx that are worth another attempt: the server asked the client to come back later. Other 4xx
 * responses repeat identically (bad URL, auth, payload), so retrying them only delays the failure.
 */
const RETRYABLE_CLIENT_STATUSES = new Set([408, 425, 429]);

/**
 * One HTTP request per attempt with the global fetch. A body that is not a string is sent as JSON. The response is
 * success when its status is in `expectStatus` (default any 2xx); its body becomes XCom `return_value`, parsed when the
 * response says it is JSON (`application/json` or `+json`), otherwise text; an empty body pushes no XCom. Every
 * connection, redirects included, goes through the outbound-address policy; a refused one fails the attempt for good.
 */
export class HttpExecutor implements TaskExecutor<HttpTaskPayload> {
  readonly type = 'http';
  private readonly timeoutMs: number;
  private readonly guard: OutboundGuard;

  constructor(options: HttpExecutorOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
    this.guard = options.guard ?? new OutboundGuard(DEFAULT_ADDRESS_POLICY);
  }

  async execute(task: HttpTaskPayload, ctx: ExecutionContext): Promise<ExecutionResult> {
    const prepared = prepare(task);
    if ('invalid' in prepared) return failed(`invalid http task: ${prepared.invalid}`, false);
    if (ctx.signal.aborted) return cancelledResult(ctx.signal);
    try {
      return await this.send(prepared, ctx);
    } catch (err) {
      return failed(`http task failed unexpectedly: ${errorMessage(err)}`, true);
    }
  }

  private async send({ method, url, init, expectStatus }: PreparedRequest, ctx: ExecutionContext): Promise<ExecutionResult> {

    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = AbortSignal.any([ctx.signal, timeout]);
    const target = `${method} ${redactUrl(url)}`;
    const interrupted = (): ExecutionResult | undefined => {
      if (ctx.signal.aborted) return cancelledResult(ctx.signal);
      if (timeout.aborted) return failed(`${target} timed out after ${this.timeoutMs} ms`, true);
      return undefined;
    };
    const started = Date.now();
    ctx.log(`→ ${target}`);

    let response: Response;
    try {
      response = await this.guard.fetch(url, { ...init, method, signal });
    } catch (err) {
      const refused = outboundRefusal(err);
      if (refused) return failed(`${target} ${refused}`, false);
      return interrupted() ?? failed(`${target} failed: ${networkError(err).replaceAll(url.href, redactUrl(url))}`, true);
    }

    const ok = expectStatus ? expectStatus.includes(response.status) : response.status >= 200 && response.status < 300;
    // Read at most what could still fit (JSON may shrink when re-serialised, hence the slack), or a preview on failure.
    const readLimit = ok ? 2 * ctx.limits.maxXcomBytes + 1024 : ERROR_BODY_PREVIEW_BYTES;
    let body: { bytes: Buffer; complete: boolean };
    try {
      body = await readBody(response, readLimit);
    } catch (err) {
      return interrupted() ?? failed(`${target}: reading the response body failed: ${networkError(err)}`, true);
    }
    ctx.log(`← ${response.status} ${response.statusText} (${Date.now() - started} ms${body.complete ? `, ${body.bytes.length} bytes` : ''})`);

    if (!ok) {
      const preview = previewOf(body);
      const expected = expectStatus ? `expected ${expectStatus.join(', ')}` : 'expected 2xx';
      return failed(
        `${target} answered ${response.status} ${response.statusText} (${expected})${preview ? `: ${preview}` : ''}`,
        response.status >= 500 || RETRYABLE_CLIENT_STATUSES.has(response.status),
      );
    }
    if (!body.complete) {
      return failed(`${target}: response body is larger than ${readLimit} bytes, over the XCom limit of ${ctx.limits.maxXcomBytes} bytes`, false);
    }
    if (body.bytes.length === 0) return { status: 'success' };
    return withinXcomLimit({ return_value: decode(body.bytes, response.headers.get('content-type'), ctx) }, ctx.limits, 'the response body');
  }
}

type PreparedRequest = { method: string; url: URL; init: RequestInit; expectStatus?: number[] };
type Prepared = PreparedRequest | { invalid: string };

function prepare(task: HttpTaskPayload): Prepared {
  const request = task?.request;
  if (typeof request !== 'object' || request === null) return { invalid: 'request must be an object' };
  if (typeof request.method !== 'string' || !/^[A-Za-z]+$/.test(request.method)) return { invalid: 'request.method must be an HTTP method' };
  const method = request.method.toUpperCase();
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return { invalid: 'request.url must be an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { invalid: 'request.url must be an http or https URL' };
  const { expectStatus } = request;
  if (expectStatus !== undefined && (!Array.isArray(expectStatus) || !expectStatus.every(Number.isInteger))) {
    return { invalid: 'request.expectStatus must be a list of status codes' };
  }

  const headers = new Headers();
  try {
    for (const [name, value] of Object.entries(request.headers ?? {})) headers.set(name, String(value));
  } catch (err) {
    return { invalid: `request.headers: ${errorMessage(err)}` };
  }
  // fetch refuses URLs with credentials; send them the way curl does, as Basic authentication.
  if (url.username || url.password) {
    if (!headers.has('authorization')) {
      const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      headers.set('authorization', `Basic ${Buffer.from(credentials).toString('base64')}`);
    }
    url.username = '';
    url.password = '';
  }
  let body: string | undefined;
  if (request.body !== undefined) {
    if (method === 'GET' || method === 'HEAD') return { invalid: `a ${method} request cannot have a body` };
    if (typeof request.body === 'string') body = request.body;
    else {
      body = JSON.stringify(request.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
  }
  return { method, url, init: { headers, body }, expectStatus };
}

/** Reads the body up to `limit` bytes and stops there, so that an endless or huge response cannot exhaust memory. */
async function readBody(response: Response, limit: number): Promise<{ bytes: Buffer; complete: boolean }> {
  if (!response.body) return { bytes: Buffer.alloc(0), complete: true };
  const chunks: Buffer[] = [];
  let length = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks, length), complete: true };
    chunks.push(Buffer.from(value));
    length += value.length;
    if (length > limit) {
      await reader.cancel().catch(() => undefined);
      return { bytes: Buffer.concat(chunks, length), complete: false };
    }
  }
}

/** The start of a body for an error message: whitespace collapsed, '…' when there was more. */
function previewOf(body: { bytes: Buffer; complete: boolean }): string {
  const text = body.bytes.subarray(0, ERROR_BODY_PREVIEW_BYTES).toString('utf8').replace(/\uFFFD+$/, '').replace(/\s+/g, ' ').trim();
  return text && (body.complete && body.bytes.length <= ERROR_BODY_PREVIEW_BYTES ? text : `${text}…`);
}

function decode(bytes: Buffer, contentType: string | null, ctx: ExecutionContext): unknown {
  const text = bytes.toString('utf8');
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json' && !mediaType.endsWith('+json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    ctx.log(`response says ${mediaType} but its body is not valid JSON; keeping it as text`, 'stderr');
    return text;
  }
}


/** The URL as it may be logged: no credentials, and no query string, where API keys often travel. */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
}
