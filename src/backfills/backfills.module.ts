import { Module } from '@nestjs/common';
import { RunsModule } from '../engine/runs/runs.module.js';
import { BackfillsController } from './backfills.controller.js';
import { BackfillsService } from './backfills.service.js';

@Module({ imports: [RunsModule], controllers: [BackfillsController], providers: [BackfillsService], exports: [BackfillsService] })
export class BackfillsModule {}
