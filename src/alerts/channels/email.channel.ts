import nodemailer, { type NodemailerError, type SMTPSentMessageInfo, type Transporter } from 'nodemailer';
import { alertFields, alertTitle, deliveryFailed, type AlertChannel, type DeliveryResult } from './alert.js';
import type { AlertCallback, AlertMessage } from '../domain/alert.js';
import { errorMessage } from '../../common/error-text.js';

export type EmailCallback = Extract<AlertCallback, { type: 'email' }>;

/** Where alert mail is sent from; the caller reads it from WEFT_SMTP_* (docs/alerts.md). */
export type SmtpConfig = {
  host: string;
  /** 587 (submission, STARTTLS) unless `secure`, then usually 465. */
  port: number;
  /** Implicit TLS from the first byte (port 465). When false, the connection is upgraded with STARTTLS if offered. */
  secure: boolean;
  user?: string;
  password?: string;
  /** The From address, e.g. `Weft <weft@example.com>`. */
  from: string;
  /** Never upgrade with STARTTLS, even when the server offers it. */
  ignoreTLS?: boolean;
  /** Fail rather than send in clear text when the server does not offer STARTTLS. */
  requireTLS?: boolean;
  /** Limit for connecting, for the greeting and for each wait on the server. Default 30 s. */
  timeoutMs?: number;
};

export const DEFAULT_SMTP_TIMEOUT_MS = 30_000;

/**
 * Error codes that nodemailer sets without an SMTP reply and that repeat identically: configuration (TLS, credentials
 * missing, an address it cannot parse). Every other error without a reply is the connection's (refused, reset, timed
 * out, DNS) and worth another attempt.
 */
const PERMANENT_LOCAL_CODES = new Set(['EAUTH', 'ENOAUTH', 'ETLS', 'EREQUIRETLS', 'EENVELOPE', 'EMESSAGE', 'ECONFIG']);

/** Sends each alert as one message to every address of the callback, over one SMTP transport (no pool). */
export class EmailChannel implements AlertChannel<EmailCallback> {
  private readonly transport: Transporter<SMTPSentMessageInfo>;
  private readonly from: string;
  private readonly server: string;
  private readonly secrets: string[];
  private readonly timeoutMs: number;

  constructor(config: SmtpConfig) {
    const timeout = config.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS;
    this.timeoutMs = timeout;
    this.from = config.from;
    this.server = `${config.host}:${config.port}`;
    this.secrets = secretForms(config);
    this.transport = nodemailer.createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      ignoreTLS: config.ignoreTLS,
      requireTLS: config.requireTLS,
      auth: config.user ? { user: config.user, pass: config.password } : undefined,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      // The message is built from our own strings: nothing may make nodemailer read a file or fetch a URL.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    });
  }

  async send(callback: EmailCallback, message: AlertMessage): Promise<DeliveryResult> {
    const { subject, text, html } = renderAlertEmail(message);
    let info: SMTPSentMessageInfo;
    try {
      info = await this.transport.sendMail({
        from: this.from,
        to: callback.to,
        subject,
        text,
        html,
        // The same Message-ID on every retry lets mail clients fold a duplicate from a retried, half-confirmed send.
        messageId: `<${message.deliveryId.replace(/[^A-Za-z0-9._-]/g, '-')}@weft>`,
        headers: { 'X-Weft-Event': message.kind, 'X-Weft-Delivery': message.deliveryId },
      });
    } catch (err) {
      const { error, retryable } = classifySmtpError(err as NodemailerError);
      const timedOut = (err as NodemailerError).code === 'ETIMEDOUT' ? ` (timed out after ${this.timeoutMs} ms)` : '';
      return deliveryFailed(this.redact(`SMTP ${this.server}: ${error}${timedOut}`), retryable);
    }
    // Some recipients accepted: retrying would send them a second copy, so this counts as delivered.
    if (info.rejected.length > 0) {
      const reasons = (info.rejectedErrors ?? []).map((e) => e.response).filter(Boolean);
      return { ok: true, warning: this.redact(`rejected recipients: ${info.rejected.join(', ')}${reasons.length ? ` (${reasons.join('; ')})` : ''}`) };
    }
    return { ok: true };
  }

  close(): void {
    this.transport.close();
  }

  /** Servers may echo what they were sent; the password must not reach a delivery record. */
  private redact(text: string): string {
    return this.secrets.reduce((out, secret) => out.replaceAll(secret, '***'), text);
  }
}

/**
 * 4xx replies are transient and 5xx permanent (RFC 5321), except 503, which nodemailer also counts as transient:
 * a session in the wrong state, not a refusal. Errors without a reply follow PERMANENT_LOCAL_CODES.
 */
export function classifySmtpError(err: NodemailerError): { error: string; retryable: boolean } {
  const error = errorMessage(err).replace(/\s+/g, ' ').trim();
  if (typeof err.responseCode === 'number') {
    const permanent = err.permanent ?? (err.responseCode >= 500 && err.responseCode !== 503);
    return { error, retryable: !permanent };
  }
  return { error, retryable: !PERMANENT_LOCAL_CODES.has(err.code ?? '') };
}

/** The subject, a plain-text body and an HTML body (every value escaped) with the same facts. */
export function renderAlertEmail(message: AlertMessage): { subject: string; text: string; html: string } {
  const title = alertTitle(message);
  const fields = alertFields(message);
  const details = Object.keys(message.details).length > 0 ? JSON.stringify(message.details, null, 2) : undefined;
  const width = Math.max(...fields.map((f) => f.label.length)) + 2;
  const footer = `Delivery ${message.deliveryId} (${message.kind}), sent by Weft.`;

  const text = [
    title,
    '',
    message.summary,
    '',
    ...fields.map(({ label, value }) => `${`${label}:`.padEnd(width)}${value}`),
    ...(details ? ['', 'Details:', details] : []),
    '',
    footer,
    '',
  ].join('\n');

  const html = [
    '<!doctype html>',
    '<html><body style="font-family: sans-serif; color: #222">',
    `<h2 style="margin: 0 0 12px">${escapeHtml(title)}</h2>`,
    `<p>${escapeHtml(message.summary)}</p>`,
    '<table cellpadding="4" style="border-collapse: collapse">',
    ...fields.map(({ label, value }) => `<tr><th align="left" style="padding-right: 16px">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`),
    '</table>',
    ...(details ? [`<pre style="background: #f4f4f4; padding: 8px">${escapeHtml(details)}</pre>`] : []),
    `<p style="color: #777; font-size: 12px">${escapeHtml(footer)}</p>`,
    '</body></html>',
    '',
  ].join('\n');

  return { subject: `[Weft] ${title}`.replace(/\s+/g, ' '), text, html };
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/** The password as it may appear on the wire: itself, base64 (AUTH LOGIN) and inside the AUTH PLAIN token. */
function secretForms(config: SmtpConfig): string[] {
  if (!config.password) return [];
  const base64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return [config.password, base64(config.password), base64(`\u0000${config.user ?? ''}\u0000${config.password}`)];
}
