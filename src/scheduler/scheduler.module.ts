import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { RetentionModule } from '../retention/retention.module.js';
import { AlertsModule } from '../alerts/alerts.module.js';
import { BackfillsModule } from '../backfills/backfills.module.js';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { EngineModule } from '../engine/engine.module.js';
import { CreateDueRunsJob } from './create-due-runs.job.js';
import { PeriodicJobsHost, SCHEDULER_ENABLED } from './periodic-jobs.host.js';
import { PokeSensorsJob } from './poke-sensors.job.js';
import { SensorsRepository } from './sensors.repository.js';
import { RequeueRetriesJob } from './requeue-retries.job.js';
import { SchedulerService } from './scheduler.service.js';
import { StartQueuedRunsJob } from './start-queued-runs.job.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';

@Module({})
export class SchedulerModule {
  /**
   * The periodic jobs (`@Periodic()` providers of these modules and their own) are always available (tests and
   * benchmarks call tick()); their timers run only when enabled.
   */
  static forRoot(opts: { enabled: boolean }): DynamicModule {
    return {
      module: SchedulerModule,
      imports: [ScheduleModule.forRoot(), DiscoveryModule, EngineModule, AlertsModule, BackfillsModule, DatasetsModule, RetentionModule, WebhooksModule],
      providers: [
        { provide: SCHEDULER_ENABLED, useValue: opts.enabled },
        PeriodicJobsHost,
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
