import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { CONFIG, type Config } from '../config/config.js';
import { applyConnectionBudgets } from './connection-budget.js';
import { DATABASE_URL } from './database.tokens.js';
import { PgListener } from './pg-listener.service.js';
import { PG_POOL } from './pg.js';
import { createPool } from './pool.js';
import { Transactions } from './transactions.js';

@Global()
@Module({
  providers: [
    {
      provide: PG_POOL,
      inject: [DATABASE_URL, CONFIG],
      useFactory: (url: string, config: Config) => {
        const logger = new Logger('database');
        const pool = createPool(url, config, (err) => logger.warn(`a database session runs without its bounds (DATABASE_*_SEC): ${err.message}`));
        // A GraphQL request holds at most WEFT_GRAPHQL_DB_CONNECTIONS of these at once.
        applyConnectionBudgets(pool);
        return pool;
      },
    },
    PgListener,
    Transactions,
  ],
  exports: [PG_POOL, PgListener, Transactions],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
