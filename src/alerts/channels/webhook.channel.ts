import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AlertChannel, DeliveryResult } from './alert.js';
import type { AlertCallback, AlertMessage } from '../domain/alert.js';
import { DEFAULT_ADDRESS_POLICY } from '../../outbound/domain/address-policy.js';
import { OutboundGuard } from '../../outbound/outbound-guard.js';
import { DEFAULT_HTTP_TIMEOUT_MS, postOnce } from './http-post.js';

export type WebhookCallback = Extract<AlertCallback, { type: 'webhook' }>;

export type WebhookChannelOptions = {
  /** Limit for one request, from connecting to the response headers. Default 10 s. */
  timeoutMs?: number;
  /** Outbound-address policy; default: the built-in defaults (link-local and metadata denied). */
  guard?: OutboundGuard;
  /** Source of the signed timestamp; tests pin it. */
  now?: () => Date;
};

/** How far a receiver lets the signed timestamp be from its own clock by default (replay window). */
export const DEFAULT_SIGNATURE_TOLERANCE_SEC = 300;
const SIGNATURE_PATTERN = /^sha256=[0-9a-f]{64}$/;

/**
 * POSTs the alert as JSON. With a secret, the request is signed the way Stripe and GitHub sign theirs:
 * `x-weft-signature: sha256=<hex HMAC-SHA256(secret, "<x-weft-timestamp>.<raw body>")>`. Signing the timestamp with the
 * body lets receivers reject replays outside a tolerance window. The body is the same on every retry; the timestamp
 * and signature are fresh per attempt.
 */
export class WebhookChannel implements AlertChannel<WebhookCallback> {
  private readonly timeoutMs: number;
  private readonly guard: OutboundGuard;
  private readonly now: () => Date;

  constructor(options: WebhookChannelOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
    this.guard = options.guard ?? new OutboundGuard(DEFAULT_ADDRESS_POLICY);
    this.now = options.now ?? (() => new Date());
  }

  async send(callback: WebhookCallback, message: AlertMessage): Promise<DeliveryResult> {
    const body = JSON.stringify(message);
    const timestamp = String(Math.floor(this.now().getTime() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'weft',
      'x-weft-event': message.kind,
      'x-weft-delivery': message.deliveryId,
      'x-weft-timestamp': timestamp,
    };
    if (callback.secret) headers['x-weft-signature'] = signWebhookPayload(callback.secret, timestamp, body);
    return postOnce({ url: callback.url, body, headers, timeoutMs: this.timeoutMs, guard: this.guard });
  }
}

/** The `x-weft-signature` header value for a body sent at `timestamp` (unix seconds). */
export function signWebhookPayload(secret: string, timestamp: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

/**
 * For receivers: true when `header` (x-weft-signature) signs `rawBody` (the bytes exactly as received, before any JSON
 * parsing) at `timestamp` (x-weft-timestamp) with `secret`, and the timestamp is within `toleranceSec` of `now`.
 * Compares in constant time.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | undefined,
  rawBody: string | Buffer,
  header: string | undefined,
  toleranceSec: number = DEFAULT_SIGNATURE_TOLERANCE_SEC,
  now: Date = new Date(),
): boolean {
  if (!timestamp || !/^\d{1,15}$/.test(timestamp) || !header || !SIGNATURE_PATTERN.test(header)) return false;
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > toleranceSec) return false;
  const expected = Buffer.from(signWebhookPayload(secret, timestamp, rawBody));
  const actual = Buffer.from(header);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
