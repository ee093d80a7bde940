import type { Response } from 'undici';
import { outboundRefusal, type OutboundGuard } from '../../outbound/outbound-guard.js';
import { deliveryFailed, type DeliveryResult } from './alert.js';
import { networkError } from '../../common/error-text.js';

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
/** How much of a failed response's body is quoted in the error (Slack explains itself there: "invalid_payload"). */
const ERROR_BODY_PREVIEW_BYTES = 300;
/** Outside 5xx, the statuses by which a server asks to come back later; other 4xx repeat identically. */
const RETRYABLE_CLIENT_STATUSES = new Set([408, 425, 429]);

export type HttpPost = {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** The outbound-address policy every connection goes through. */
  guard: OutboundGuard;
};

/**
 * POSTs once and classifies the outcome: 2xx is delivered; 5xx, 408, 425, 429, network errors and timeouts are
 * retryable; anything else (other 4xx, and 3xx: redirects are not followed, so a signed body never goes to a host
 * the callback did not name) is not, nor is a connection the outbound-address policy refuses. Errors name the target
 * by its origin only, since webhook paths and query strings often carry tokens (Slack's always does).
 */
export async function postOnce({ url: rawUrl, body, headers, timeoutMs, guard }: HttpPost): Promise<DeliveryResult> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return deliveryFailed('the callback URL is not a valid absolute URL', false);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return deliveryFailed('the callback URL must be http or https', false);
  const target = `POST ${redactUrl(url)}`;
  const sent = { ...headers };
  // fetch refuses URLs with credentials (and would quote them in its error); send them as curl does, as Basic auth.
  if (url.username || url.password) {
    sent.authorization = `Basic ${Buffer.from(`${decodeUserinfo(url.username)}:${decodeUserinfo(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const timeout = AbortSignal.timeout(timeoutMs);

  let response: Response;
  try {
    response = await guard.fetch(url, { method: 'POST', headers: sent, body, redirect: 'manual', signal: timeout });
  } catch (err) {
    const refused = outboundRefusal(err);
    if (refused) return deliveryFailed(`${target} ${refused}`, false);
    if (timeout.aborted) return deliveryFailed(`${target} timed out after ${timeoutMs} ms`, true);
    return deliveryFailed(`${target} failed: ${networkError(err)}`, true);
  }

  if (response.status >= 200 && response.status < 300) {
    await response.body?.cancel().catch(() => undefined);
    return { ok: true };
  }
  const preview = await readPreview(response);
  const retryable = response.status >= 500 || RETRYABLE_CLIENT_STATUSES.has(response.status);
  const redirect = response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : '';
  return deliveryFailed(`${target} answered ${response.status} ${response.statusText}${redirect}${preview ? `: ${preview}` : ''}`, retryable, response.status);
}

function decodeUserinfo(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Origin only: no credentials, path or query. */
function redactUrl(url: URL): string {
  return `${url.origin}${url.pathname === '/' && !url.search ? '/' : '/…'}`;
}

async function readPreview(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    while (length <= ERROR_BODY_PREVIEW_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      length += value.length;
    }
  } catch {
    // A body cut short still leaves the status to report.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const bytes = Buffer.concat(chunks);
  const text = bytes.subarray(0, ERROR_BODY_PREVIEW_BYTES).toString('utf8').replace(/\uFFFD+$/, '').replace(/\s+/g, ' ').trim();
  return text && bytes.length > ERROR_BODY_PREVIEW_BYTES ? `${text}…` : text;
}

