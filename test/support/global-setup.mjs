// Runs once per test run, outside Jest's module system (which cannot load ESM TypeScript here), so it uses the
// compiled code in dist/ (`pretest` builds it). Finds PostgreSQL (TEST_DATABASE_URL, else an embedded one in a
// temp dir), builds a template database with every migration applied, and hands its name to the test files;
// each file clones it (CREATE DATABASE … TEMPLATE), which takes milliseconds instead of re-running migrations.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../dist/database/embedded.js';
import { migrate } from '../../dist/database/migrator.js';
import { adminUrl, dropStaleTestDatabases, withDatabase } from './pg-urls.mjs';

export default async function globalSetup() {
  let serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    const home = await mkdtemp(join(tmpdir(), 'weft-test-pg-'));
    const port = 55000 + (process.pid % 5000);
    const embedded = await startEmbeddedPostgres(home, port, () => undefined);
    globalThis.__weftEmbedded = embedded;
    // Removed by the teardown: nothing of a test run stays in the temp folder (~60 MB a run otherwise).
    globalThis.__weftEmbeddedHome = home;
    serverUrl = embedded.url;
  }
  await dropStaleTestDatabases(serverUrl);
  const template = `weft_test_${process.pid}_template`;
  const admin = new pg.Client({ connectionString: adminUrl(serverUrl) });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${template}`);
    await admin.query(`CREATE DATABASE ${template}`);
  } finally {
    await admin.end();
  }
  await migrate(withDatabase(serverUrl, template));
  process.env.WEFT_TEST_SERVER_URL = serverUrl;
  process.env.WEFT_TEST_TEMPLATE = template;
}
