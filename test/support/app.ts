import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging/logger.js';
import { createTestDatabase, type TestDatabase } from './pg-admin.js';

export type TestApp = { app: NestFastifyApplication; db: TestDatabase; close(): Promise<void> };

/** Boots the real application on a fresh database (no listening socket: requests go through inject()). */
export async function startTestApp(env: Record<string, string> = {}, opts: { watchDagsFolder?: boolean } = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const config = loadConfig({ WEFT_LOG_LEVEL: process.env.WEFT_TEST_LOG_LEVEL ?? 'silent', WEFT_LOG_PRETTY: 'false', ...env });
  const app = await createApp({
    config,
    databaseUrl: db.url,
    logger: createLogger(config.logLevel, false),
    watchDagsFolder: opts.watchDagsFolder ?? Boolean(env.WEFT_DAGS_FOLDER),
  });
  return {
    app,
    db,
    close: async () => {
      await app.close();
      await db.drop();
    },
  };
}
