import { rm } from 'node:fs/promises';
import pg from 'pg';
import { adminUrl } from './pg-urls.mjs';

export default async function globalTeardown() {
  const serverUrl = process.env.WEFT_TEST_SERVER_URL;
  const template = process.env.WEFT_TEST_TEMPLATE;
  if (serverUrl && template) {
    const admin = new pg.Client({ connectionString: adminUrl(serverUrl) });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).finally(() => admin.end());
  }
  await globalThis.__weftEmbedded?.stop();
  if (globalThis.__weftEmbeddedHome) await rm(globalThis.__weftEmbeddedHome, { recursive: true, force: true });
}
