import { DEFAULT_ADDRESS_POLICY } from '../../outbound/domain/address-policy.js';
import { OutboundGuard } from '../../outbound/outbound-guard.js';
import { deliveryFailed, type DeliveryResult } from './alert.js';
import type { AlertCallback, AlertMessage } from '../domain/alert.js';
import { EmailChannel, type SmtpConfig } from './email.channel.js';
import { PagerDutyChannel } from './pagerduty.channel.js';
import { SlackChannel } from './slack.channel.js';
import { WebhookChannel } from './webhook.channel.js';
import { errorMessage } from '../../common/error-text.js';

export type AlertDeliveryOptions = {
  /** Without it, email callbacks fail (not retryable) and webhook and Slack callbacks still work. */
  smtp?: SmtpConfig;
  /** Limit for one webhook or Slack request. Default 10 s. */
  httpTimeoutMs?: number;
  /** Source of the webhook signature timestamp. */
  now?: () => Date;
  /** The outbound-address policy for webhook and Slack callbacks; default: the built-in defaults. */
  guard?: OutboundGuard;
};

export type AlertDelivery = {
  /** One attempt; never throws. The caller records the result and schedules a retry (backoff.ts). */
  deliver(callback: AlertCallback, message: AlertMessage): Promise<DeliveryResult>;
  close(): Promise<void>;
};

export const SMTP_NOT_CONFIGURED = 'SMTP is not configured (WEFT_SMTP_HOST)';

/** Every channel behind one call that picks the channel by `callback.type`; holds one SMTP transport. */
export function createAlertDelivery(opts: AlertDeliveryOptions = {}): AlertDelivery {
  const ownGuard = opts.guard ? undefined : new OutboundGuard(DEFAULT_ADDRESS_POLICY);
  const guard = opts.guard ?? ownGuard!;
  const webhook = new WebhookChannel({ timeoutMs: opts.httpTimeoutMs, now: opts.now, guard });
  const slack = new SlackChannel({ timeoutMs: opts.httpTimeoutMs, guard });
  const pagerduty = new PagerDutyChannel({ timeoutMs: opts.httpTimeoutMs, guard });
  const email = opts.smtp ? new EmailChannel(opts.smtp) : undefined;
  let closed = false;

  const dispatch = async (callback: AlertCallback, message: AlertMessage): Promise<DeliveryResult> => {
    switch (callback.type) {
      case 'webhook':
        return webhook.send(callback, message);
      case 'slack':
        return slack.send(callback, message);
      case 'pagerduty':
        return pagerduty.send(callback, message);
      case 'email':
        return email ? email.send(callback, message) : deliveryFailed(SMTP_NOT_CONFIGURED, false);
    }
  };

  return {
    async deliver(callback, message) {
      if (closed) return deliveryFailed('alert delivery is shutting down', true);
      try {
        return await dispatch(callback, message);
      } catch (err) {
        return deliveryFailed(`unexpected ${callback.type} delivery error: ${errorMessage(err)}`, true);
      }
    },
    async close() {
      closed = true;
      email?.close();
      await ownGuard?.close();
    },
  };
}
