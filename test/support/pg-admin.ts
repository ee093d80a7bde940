import { afterAll, beforeAll } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { adminUrl, withDatabase } from './pg-urls.mjs';

export type TestDatabase = { url: string; name: string; drop(): Promise<void> };

/** A fresh, fully migrated database for one test file, cloned from the run's template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.WEFT_TEST_SERVER_URL;
  const template = process.env.WEFT_TEST_TEMPLATE;
  if (!serverUrl || !template) throw new Error('test database not prepared: run the suite through `npm test`');
  const ppid = template.split('_')[2];
  const name = `weft_test_${ppid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl(serverUrl) });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(serverUrl, name),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl(serverUrl) });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => c.end());
    },
  };
}

export type TestDatabaseHandle = {
  /** The file's database (available inside tests and later hooks, after this handle's beforeAll). */
  readonly db: TestDatabase;
  /** One connection to it. */
  readonly client: pg.Client;
};

/**
 * The usual setup of a test file that needs a database but no app: a fresh database and one pg client on it for the
 * file (or the describe block it is called in), both closed after it. useTestApp is the same with an app.
 */
export function useTestDatabase(): TestDatabaseHandle {
  let db: TestDatabase | undefined;
  let client: pg.Client | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });
  return {
    get db() {
      if (!db) throw new Error('useTestDatabase: the database is available inside tests only');
      return db;
    },
    get client() {
      if (!client) throw new Error('useTestDatabase: the client is available inside tests only');
      return client;
    },
  };
}
