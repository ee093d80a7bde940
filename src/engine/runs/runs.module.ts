import { Module } from '@nestjs/common';
import { RunEngine } from './run-engine.service.js';
import { BackfillDriver } from '../../backfills/backfill-driver.service.js';
import { BackfillsRepository } from '../../backfills/backfills.repository.js';
import { AlertsRepository } from '../../alerts/alerts.repository.js';
import { AlertsService } from '../../alerts/alerts.service.js';
import { DatasetsRepository } from '../../datasets/datasets.repository.js';
import { RunControlService } from './run-control.service.js';
import { RunControlController, RunsController } from './runs.controller.js';
import { DagSchedulingRepository, RunsRepository } from './runs.repository.js';
import { RunsService } from './runs.service.js';

@Module({
  controllers: [RunsController, RunControlController],
  providers: [AlertsRepository, AlertsService, DatasetsRepository, RunsRepository, DagSchedulingRepository, RunEngine, RunsService, RunControlService, BackfillsRepository, BackfillDriver],
  exports: [AlertsService, DatasetsRepository, RunsRepository, DagSchedulingRepository, RunEngine, RunsService, RunControlService, BackfillsRepository, BackfillDriver],
})
export class RunsModule {}
