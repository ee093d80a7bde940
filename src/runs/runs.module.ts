import { Module } from '@nestjs/common';
import { RunEngine } from './run-engine.service.js';
import { RunControlService } from './run-control.service.js';
import { RunControlController, RunsController } from './runs.controller.js';
import { DagSchedulingRepository, RunsRepository } from './runs.repository.js';
import { RunsService } from './runs.service.js';

@Module({
  controllers: [RunsController, RunControlController],
  providers: [RunsRepository, DagSchedulingRepository, RunEngine, RunsService, RunControlService],
  exports: [RunsRepository, DagSchedulingRepository, RunEngine, RunsService],
})
export class RunsModule {}
