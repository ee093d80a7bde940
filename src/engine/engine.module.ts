import { Module } from '@nestjs/common';
import { EngineEvents } from './engine-events.js';
import { LeaseHandOff } from './leases/lease-hand-off.js';
import { LeasesController } from './leases/leases.controller.js';
import { LeasesRepository } from './leases/leases.repository.js';
import { LeasesService } from './leases/leases.service.js';
import { QueueWakeups } from './leases/queue-wakeups.service.js';
import { QueuedTooLongJob } from './leases/queued-too-long.job.js';
import { ReapExpiredLeasesJob } from './leases/reap-expired-leases.job.js';
import { TaskDataRepository } from './leases/task-data.repository.js';
import { TaskDataService } from './leases/task-data.service.js';
import { TaskRenderer } from './leases/task-renderer.service.js';
import { TaskLogsRepository } from './leases/task-logs.repository.js';
import { TaskLogsService } from './leases/task-logs.service.js';
import { TaskLogTails } from './leases/task-log-tails.service.js';
import { RunControlService } from './runs/run-control.service.js';
import { RunEngine } from './runs/run-engine.service.js';
import { RunScheduling } from './runs/run-scheduling.service.js';
import { RunStarter } from './runs/run-starter.service.js';
import { RunControlController, RunsController } from './runs/runs.controller.js';
import { DagSchedulingRepository, RunsRepository } from './runs/runs.repository.js';
import { RunsService } from './runs/runs.service.js';
import { TaskContexts } from './runs/task-contexts.service.js';

/**
 * The kernel: runs, task instances, tries, leases and the state engine (RunEngine). Other features use its services
 * and its events (EngineEvents); its repositories are its own.
 */
@Module({
  controllers: [RunsController, RunControlController, LeasesController],
  providers: [
    EngineEvents,
    RunsRepository,
    DagSchedulingRepository,
    TaskContexts,
    RunEngine,
    RunStarter,
    RunScheduling,
    RunsService,
    RunControlService,
    LeasesRepository,
    QueueWakeups,
    LeaseHandOff,
    LeasesService,
    ReapExpiredLeasesJob,
    QueuedTooLongJob,
    TaskDataRepository,
    TaskDataService,
    TaskRenderer,
    TaskLogsRepository,
    TaskLogsService,
    TaskLogTails,
  ],
  exports: [
    EngineEvents,
    RunEngine,
    RunStarter,
    RunsService,
    RunControlService,
    LeasesService,
    TaskDataService,
    TaskRenderer,
    TaskLogTails,
    ReapExpiredLeasesJob,
    QueuedTooLongJob,
    RunScheduling,
  ],
})
export class EngineModule {}
