import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module.js';
import { BackfillDriver } from './backfill-driver.service.js';
import { BackfillsController } from './backfills.controller.js';
import { BackfillsRepository } from './backfills.repository.js';
import { BackfillsService } from './backfills.service.js';
import { DriveBackfillsJob } from './drive-backfills.job.js';

@Module({
  imports: [EngineModule],
  controllers: [BackfillsController],
  providers: [BackfillsRepository, BackfillDriver, BackfillsService, DriveBackfillsJob],
  exports: [BackfillsService],
})
export class BackfillsModule {}
