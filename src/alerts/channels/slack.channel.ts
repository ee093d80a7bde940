import { alertFields, alertTitle, type AlertChannel, type DeliveryResult } from './alert.js';
import type { AlertCallback, AlertMessage } from '../domain/alert.js';
import { DEFAULT_ADDRESS_POLICY } from '../../outbound/domain/address-policy.js';
import { OutboundGuard } from '../../outbound/outbound-guard.js';
import { DEFAULT_HTTP_TIMEOUT_MS, postOnce } from './http-post.js';

export type SlackCallback = Extract<AlertCallback, { type: 'slack' }>;

export type SlackChannelOptions = {
  /** Limit for one request, from connecting to the response headers. Default 10 s. */
  timeoutMs?: number;
  /** Outbound-address policy; default: the built-in defaults (link-local and metadata denied). */
  guard?: OutboundGuard;
};

type SlackText = { type: 'plain_text' | 'mrkdwn'; text: string };
type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text: SlackText }
  | { type: 'section'; fields: SlackText[] }
  | { type: 'context'; elements: SlackText[] };
/** An incoming-webhook message: `text` is the notification and fallback, `blocks` the layout. */
export type SlackMessage = { text: string; blocks: SlackBlock[] };

// Slack's limits (Block Kit reference); longer text makes Slack refuse the whole message with invalid_blocks.
const HEADER_MAX = 150;
const SECTION_TEXT_MAX = 3000;
const FIELD_TEXT_MAX = 2000;

/** Posts to a Slack incoming webhook, which answers 200 "ok" or an error status with a reason in the body. */
export class SlackChannel implements AlertChannel<SlackCallback> {
  private readonly timeoutMs: number;
  private readonly guard: OutboundGuard;

  constructor(options: SlackChannelOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
    this.guard = options.guard ?? new OutboundGuard(DEFAULT_ADDRESS_POLICY);
  }

  async send(callback: SlackCallback, message: AlertMessage): Promise<DeliveryResult> {
    return postOnce({
      url: callback.webhookUrl,
      body: JSON.stringify(slackMessage(message)),
      headers: { 'content-type': 'application/json', 'user-agent': 'weft' },
      timeoutMs: this.timeoutMs,
      guard: this.guard,
    });
  }
}

/** A header with the title, the summary, the facts as fields, and the details as a JSON code block. */
export function slackMessage(message: AlertMessage): SlackMessage {
  const title = alertTitle(message);
  const blocks: SlackBlock[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(title, HEADER_MAX) } }];
  if (message.summary.trim()) blocks.push({ type: 'section', text: mrkdwn(message.summary, SECTION_TEXT_MAX) });
  blocks.push({
    type: 'section',
    fields: alertFields(message).map(({ label, value }) => mrkdwn(`*${label}*\n${escapeMrkdwn(value)}`, FIELD_TEXT_MAX, false)),
  });
  if (Object.keys(message.details).length > 0) {
    const fence = '```';
    const json = clip(escapeMrkdwn(JSON.stringify(message.details, null, 2)), SECTION_TEXT_MAX - 2 * fence.length);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `${fence}${json}${fence}` } });
  }
  blocks.push({ type: 'context', elements: [mrkdwn(`Weft · ${message.kind} · delivery ${message.deliveryId}`, FIELD_TEXT_MAX)] });
  return { text: escapeMrkdwn(message.summary.trim() ? `${title}: ${message.summary}` : title), blocks };
}

function mrkdwn(text: string, max: number, escape = true): SlackText {
  return { type: 'mrkdwn', text: clip(escape ? escapeMrkdwn(text) : text, max) };
}

/** Slack reads &, < and > as control characters (links, mentions) in mrkdwn; these three are all it asks to escape. */
function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Truncates escaped text without cutting an entity in half. */
function clip(escaped: string, max: number): string {
  return escaped.length <= max ? escaped : `${escaped.slice(0, max - 1).replace(/&[a-z]*$/, '')}…`;
}
