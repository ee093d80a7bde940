import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { DeliverWebhooksJob } from './deliver-webhooks.job.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksRepository } from './webhooks.repository.js';
import { WebhooksService } from './webhooks.service.js';

/** Outbound webhooks for state changes: the API, and the delivery job (a periodic job, run where the scheduler runs). */
@Module({
  imports: [EventsModule],
  controllers: [WebhooksController],
  providers: [WebhooksRepository, WebhooksService, DeliverWebhooksJob],
  exports: [WebhooksService, DeliverWebhooksJob],
})
export class WebhooksModule {}
