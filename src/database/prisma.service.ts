import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { DATABASE_URL } from './database.tokens.js';
import { CONFIG, type Config } from '../config/config.js';

/** The Prisma client over node-postgres (driver adapter: no native query engine). */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(DATABASE_URL) url: string, @Inject(CONFIG) config: Config) {
    super({ adapter: new PrismaPg({ connectionString: url, max: config.databasePoolSize }) });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
