import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type Config } from '../config/config.js';
import { ValidationError } from '../common/errors.js';
import { OutboundGuard } from './outbound-guard.js';

/** A URL Weft will call, and where it was given (`slaCallbacks[0].url`), for the registration check. */
export type OutboundTarget = { path: string; url: string; guard: OutboundGuard };

/**
 * The outbound-address policies of this process (docs/security.md "Outbound addresses"): `callbacks` for every
 * callout Weft makes on its own behalf (alert webhooks, Slack, and any later kind: use it for new callouts),
 * `httpTasks` for registration checks of http tasks (the built-in worker enforces its own, from the same variables).
 */
@Injectable()
export class OutboundService implements OnApplicationShutdown {
  readonly callbacks: OutboundGuard;
  readonly httpTasks: OutboundGuard;

  constructor(@Inject(CONFIG) config: Config) {
    this.callbacks = new OutboundGuard(config.outbound.callbacks);
    this.httpTasks = new OutboundGuard(config.outbound.httpTasks);
  }

  /**
   * Refuses targets the policy denies, all reasons at once, as a 400 naming each field: literal addresses, and names
   * that resolve into a denied range. Names that do not resolve pass (checked again at delivery).
   */
  async assertAllowed(targets: OutboundTarget[]): Promise<void> {
    const checks = await Promise.all(targets.map(async (t) => ({ path: t.path, check: await t.guard.checkUrl(t.url) })));
    const issues = checks.flatMap(({ path, check }) => (check.ok ? [] : [{ path, message: `refused by the outbound-address policy: ${check.reason}` }]));
    if (issues.length > 0) throw new ValidationError(issues);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.callbacks.close(), this.httpTasks.close()]);
  }
}
