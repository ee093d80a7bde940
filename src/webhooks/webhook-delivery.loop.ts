import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { CONFIG, type Config } from '../config/config.js';
import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { DeliverWebhooksJob } from './deliver-webhooks.job.js';

export const WEBHOOK_LOOP_ENABLED = Symbol('WEBHOOK_LOOP_ENABLED');

/**
 * Runs DeliverWebhooksJob in processes that run the scheduler, apart from the scheduler tick (a slow receiver
 * must not hold up scheduling): again at once after a pass that delivered something, else after WEFT_WEBHOOK_POLL_MS.
 */
@Injectable()
export class WebhookDeliveryLoop implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('webhooks');
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private current: Promise<void> | null = null;
  private failing = false;

  constructor(
    @Inject(WEBHOOK_LOOP_ENABLED) private readonly enabled: boolean,
    @Inject(CONFIG) private readonly config: Config,
    private readonly job: DeliverWebhooksJob,
    private readonly clock: Clock,
    lifecycle: Lifecycle,
  ) {
    lifecycle.drainSignal.addEventListener('abort', () => this.stop(), { once: true });
  }

  onApplicationBootstrap(): void {
    if (this.enabled) this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stop();
    await this.current;
  }

  private stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = this.job
        .run(this.clock.now())
        .then((attempted) => {
          this.failing = false;
          return attempted > 0 ? 0 : this.config.webhooks.pollMs;
        })
        .catch((err: unknown) => {
          if (!this.failing || !isDatabaseUnavailable(err)) this.logger.error(`webhook delivery pass failed: ${(err as Error).message}`);
          this.failing = true;
          return this.config.webhooks.pollMs;
        })
        .then((next) => {
          this.current = null;
          this.schedule(next);
        });
    }, delayMs);
  }
}
