import { DynamicModule, Module } from '@nestjs/common';
import { RetentionModule } from '../retention/retention.module.js';
import { AlertsModule } from '../alerts/alerts.module.js';
import { BackfillsModule } from '../backfills/backfills.module.js';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { EngineModule } from '../engine/engine.module.js';
import { CreateDueRunsJob } from './create-due-runs.job.js';
import { PokeSensorsJob } from './poke-sensors.job.js';
import { SensorsRepository } from './sensors.repository.js';
import { RequeueRetriesJob } from './requeue-retries.job.js';
import { SCHEDULER_ENABLED, SchedulerService } from './scheduler.service.js';
import { StartQueuedRunsJob } from './start-queued-runs.job.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { WEBHOOK_LOOP_ENABLED, WebhookDeliveryLoop } from '../webhooks/webhook-delivery.loop.js';

@Module({})
export class SchedulerModule {
  /** The jobs are always available (tests and benchmarks call tick()); the loop runs only when enabled. */
  static forRoot(opts: { enabled: boolean }): DynamicModule {
    return {
      module: SchedulerModule,
      imports: [EngineModule, AlertsModule, BackfillsModule, DatasetsModule, RetentionModule, WebhooksModule],
      providers: [
        { provide: SCHEDULER_ENABLED, useValue: opts.enabled },
        { provide: WEBHOOK_LOOP_ENABLED, useValue: opts.enabled },
        WebhookDeliveryLoop,
        CreateDueRunsJob,
        PokeSensorsJob,
        SensorsRepository,
        RequeueRetriesJob,
        StartQueuedRunsJob,
        SchedulerService,
      ],
      exports: [SchedulerService],
    };
  }
}
