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
