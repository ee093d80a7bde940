import { afterAll, beforeAll } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { createApp } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging/logger.js';
import { createTestDatabase, type TestDatabase } from './pg-admin.js';

/** WEFT_SECRETS_KEY of test apps (32 bytes, base64). */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');

export type TestApp = { app: NestFastifyApplication; db: TestDatabase; close(): Promise<void>; listen(): Promise<string> };

/** Boots the real application on a fresh database (no listening socket: requests go through inject()). */
/**
 * The scheduler loop is off unless asked for: tests drive time through `tick(now)` so they are deterministic.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  opts: { watchDagsFolder?: boolean; runScheduler?: boolean; databaseUrl?: string } = {},
): Promise<TestApp> {
  const db: TestDatabase = opts.databaseUrl
    ? { url: opts.databaseUrl, name: new URL(opts.databaseUrl).pathname.slice(1), drop: async () => undefined }
    : await createTestDatabase();
  // Authentication is off unless a test turns it on (test/security covers it). A fixed secrets key: apps sharing a
  // database share it, as replicas must, and no key file is written under the user's home.
  const config = loadConfig({
    WEFT_LOG_LEVEL: process.env.WEFT_TEST_LOG_LEVEL ?? 'silent',
    WEFT_LOG_PRETTY: 'false',
    WEFT_AUTH: 'off',
    WEFT_SECRETS_KEY: TEST_SECRETS_KEY,
    // Settings for every app of a run, under the test's own (e.g. WEFT_TEST_ENV='{"WEFT_GROUP_COMMIT_MAX_ITEMS":"64"}').
    ...(process.env.WEFT_TEST_ENV ? (JSON.parse(process.env.WEFT_TEST_ENV) as Record<string, string>) : {}),
    ...env,
  });
  const app = await createApp({
    config,
    databaseUrl: db.url,
    logger: createLogger(config.logLevel, false),
    watchDagsFolder: opts.watchDagsFolder ?? Boolean(env.WEFT_DAGS_FOLDER),
    runScheduler: opts.runScheduler ?? false,
  });
  return {
    app,
    db,
    /** Serves real HTTP on a free loopback port; returns the base URL. */
    listen: async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.getHttpServer().address() as { port: number };
      return `http://127.0.0.1:${port}`;
    },
    close: async () => {
      await app.close();
      await db.drop();
    },
  };
}

export type TestAppHandle = {
  /** The running app (available inside tests, after beforeAll). */
  readonly t: TestApp;
  /** A connection to the app's database for assertions. */
  readonly db: pg.Client;
};

/**
 * The usual test-file setup: one app on a fresh database for the whole file and a pg client on that database,
 * both closed after the file.
 */
export function useTestApp(env: Record<string, string> = {}, opts: Parameters<typeof startTestApp>[1] = {}): TestAppHandle {
  let app: TestApp | undefined;
  let client: pg.Client | undefined;
  beforeAll(async () => {
    app = await startTestApp(env, opts);
    client = new pg.Client({ connectionString: app.db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await app?.close();
  });
  return {
    get t() {
      if (!app) throw new Error('the test app is available inside tests only');
      return app;
    },
    get db() {
      if (!client) throw new Error('the test database is available inside tests only');
      return client;
    },
  };
}
