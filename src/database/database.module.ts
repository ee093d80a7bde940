import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { CONFIG, type Config } from '../config/config.js';
import { DATABASE_URL } from './database.tokens.js';
import { PgListener } from './pg-listener.service.js';
import { PG_POOL } from './pg.js';
import { PrismaService } from './prisma.service.js';

@Global()
@Module({
  providers: [
    {
      provide: PG_POOL,
      inject: [DATABASE_URL, CONFIG],
      useFactory: (url: string, config: Config) => {
        // A connect timeout: with the database unreachable, requests fail fast (503) instead of hanging.
        const pool = new pg.Pool({ connectionString: url, max: config.databasePoolSize, connectionTimeoutMillis: config.databaseConnectTimeoutSec * 1000 });
        // An idle connection dropped by the server must not crash the process; the pool replaces it.
        pool.on('error', () => undefined);
        // Neither may one dropped while checked out between two statements (pg-pool listens only while a client is
        // idle): the error is kept off the event, the client's next query fails (503) and the pool discards it.
        pool.on('connect', (client) => client.on('error', () => undefined));
        return pool;
      },
    },
    PrismaService,
    PgListener,
  ],
  exports: [PG_POOL, PrismaService, PgListener],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
