import { Module } from '@nestjs/common';
import { RunsModule } from '../engine/runs/runs.module.js';
import { DatasetsController } from './datasets.controller.js';
import { DatasetsService } from './datasets.service.js';

@Module({ imports: [RunsModule], controllers: [DatasetsController], providers: [DatasetsService], exports: [DatasetsService] })
export class DatasetsModule {}
