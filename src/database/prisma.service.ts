import { Inject, Injectable } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { PG_POOL } from './pg.js';

/** The Prisma client over the process's pg pool (driver adapter: no native query engine). */
@Injectable()
export class PrismaService extends PrismaClient {
  constructor(@Inject(PG_POOL) pool: pg.Pool) {
    // The pool is owned by DatabaseModule, which ends it on shutdown.
    super({ adapter: new PrismaPg(pool, { disposeExternalPool: false }) });
  }
}
