import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module.js';
import { CreateDatasetRunsJob } from './create-dataset-runs.job.js';
import { DatasetsController } from './datasets.controller.js';
import { DatasetsRepository } from './datasets.repository.js';
import { DatasetsService } from './datasets.service.js';

@Module({
  imports: [EngineModule],
  controllers: [DatasetsController],
  providers: [DatasetsRepository, DatasetsService, CreateDatasetRunsJob],
  exports: [DatasetsService, CreateDatasetRunsJob],
})
export class DatasetsModule {}
