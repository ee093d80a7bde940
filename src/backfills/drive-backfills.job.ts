import { Injectable } from '@nestjs/common';
import { EVERY_TICK, Periodic, type PeriodicJob } from '../common/periodic-job.js';
import { BackfillDriver } from './backfill-driver.service.js';

/** Drives every active backfill once per tick (BackfillDriver: starts its next dates while it has room). */
@Periodic()
@Injectable()
export class DriveBackfillsJob implements PeriodicJob<number> {
  readonly name = 'drive-backfills';
  readonly interval = EVERY_TICK;

  constructor(private readonly driver: BackfillDriver) {}

  run(now: Date): Promise<number> {
    return this.driver.driveAll(now);
  }
}
