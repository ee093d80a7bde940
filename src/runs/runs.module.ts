import { Module } from '@nestjs/common';
import { RunEngine } from './run-engine.service.js';
import { RunsController } from './runs.controller.js';
import { DagSchedulingRepository, RunsRepository } from './runs.repository.js';
import { RunsService } from './runs.service.js';

@Module({
  controllers: [RunsController],
  providers: [RunsRepository, DagSchedulingRepository, RunEngine, RunsService],
  exports: [RunsRepository, DagSchedulingRepository, RunEngine, RunsService],
})
export class RunsModule {}
