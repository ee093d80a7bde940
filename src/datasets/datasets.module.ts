import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module.js';
import { DatasetsController } from './datasets.controller.js';
import { DatasetsRepository } from './datasets.repository.js';
import { DatasetsService } from './datasets.service.js';

@Module({
  imports: [EngineModule],
  controllers: [DatasetsController],
  providers: [DatasetsRepository, DatasetsService],
  // The repository: still read directly by the scheduler's dataset-triggered runs (next step: a service).
  exports: [DatasetsService, DatasetsRepository],
})
export class DatasetsModule {}
