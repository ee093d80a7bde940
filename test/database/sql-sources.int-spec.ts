import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { compareSqlObjects, readSqlObjects, readSqlSources } from '../../scripts/sql-sources.mjs';
import { createTestDatabase, type TestDatabase } from '../support/pg-admin.js';

/**
 * prisma/sql/ is the current source of every function, trigger and index (docs/database.md): a database with every
 * migration applied holds exactly those. A migration that changes one without its file (or the reverse) fails here;
 * `npm run db:sql:write` rewrites the files from the migrations.
 */
describe('SQL sources', () => {
  let db: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  it('a migrated database holds exactly the functions, triggers and indexes of prisma/sql/', async () => {
    const database: Map<string, string> = await readSqlObjects(client);
    expect(compareSqlObjects(database, readSqlSources())).toEqual([]);
    expect([...database.keys()]).toEqual(expect.arrayContaining(['functions/weft_claim_tasks.sql', 'functions/weft_end_attempt.sql', 'indexes.sql']));
  });
});
