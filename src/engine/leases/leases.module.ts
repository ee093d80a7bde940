import { Module } from '@nestjs/common';
import { RunsModule } from '../runs/runs.module.js';
import { LeasesController } from './leases.controller.js';
import { LeasesRepository } from './leases.repository.js';
import { LeasesService } from './leases.service.js';
import { QueueWakeups } from './queue-wakeups.service.js';
import { QueuedTooLongJob } from './queued-too-long.job.js';
import { ReapExpiredLeasesJob } from './reap-expired-leases.job.js';
import { TaskDataRepository } from './task-data.repository.js';
import { TaskDataService } from './task-data.service.js';
import { TaskLogsRepository } from './task-logs.repository.js';
import { TaskLogsService } from './task-logs.service.js';
import { TaskLogTails } from './task-log-tails.service.js';

@Module({
  imports: [RunsModule],
  controllers: [LeasesController],
  providers: [LeasesRepository, LeasesService, QueueWakeups, ReapExpiredLeasesJob, QueuedTooLongJob, TaskDataRepository, TaskDataService, TaskLogsRepository, TaskLogsService, TaskLogTails],
  exports: [LeasesService, ReapExpiredLeasesJob, QueuedTooLongJob, TaskDataService, TaskLogTails],
})
export class LeasesModule {}
