import { beforeAll, describe, expect, it } from '@jest/globals';
import { compareSqlObjects, migrationFor, readSqlObjects, readSqlSources } from '../../scripts/sql-sources.mjs';
import { useTestDatabase } from '../support/pg-admin.js';

/**
 * prisma/sql/ is the current source of every function, trigger and index (docs/database.md): a database with every
 * migration applied holds exactly those. A migration that changes one without its file (or the reverse) fails here;
 * `npm run db:sql:write` rewrites the files from the migrations.
 */
describe('SQL sources', () => {
  const h = useTestDatabase();

  it('a migrated database holds exactly the functions, triggers and indexes of prisma/sql/', async () => {
    const database: Map<string, string> = await readSqlObjects(h.client);
    expect(compareSqlObjects(database, readSqlSources())).toEqual([]);
    expect([...database.keys()]).toEqual(
      expect.arrayContaining(['functions/weft_claim_tasks.sql', 'functions/weft_end_attempt.sql', 'indexes.sql', 'constraints.sql', 'tables.sql']),
    );
  });

  // `npm run db:sql:migration -- <name>`: the migration is generated from edited files and tried before it is written.
  describe('a migration generated from edited files', () => {
    let database: Map<string, string>;
    beforeAll(async () => {
      database = await readSqlObjects(h.client);
    });
    const edited = (changes: Record<string, string | null>) => {
      const sources = new Map(database);
      for (const [path, text] of Object.entries(changes)) {
        if (text === null) sources.delete(path);
        else sources.set(path, text);
      }
      return sources;
    };

    it('writes nothing when the files and the database agree', async () => {
      expect(await migrationFor(h.client, database, database)).toMatchObject({ sql: '', problems: [] });
    });

    it('replaces a changed function, adds a new one written by hand, an index and a CHECK constraint, drops an index, and leaves the database as it was', async () => {
      const fn = database.get('functions/weft_pool_slots_used.sql')!;
      const indexes = database.get('indexes.sql')!;
      const dropped = 'CREATE INDEX task_logs_task_instance_id_try_number_id_idx ON public.task_logs USING btree (task_instance_id, try_number, id);\n';
      expect(indexes).toContain(dropped);
      const sources = edited({
        'functions/weft_pool_slots_used.sql': fn.replace('coalesce(sum(l.pool_slots), 0)::int', 'coalesce(sum(l.pool_slots), 0)::int + 0'),
        'functions/weft_test_twice.sql': 'CREATE OR REPLACE FUNCTION weft_test_twice(n int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT n * 2 $$;\n',
        'indexes.sql': indexes.replace(dropped, '') + 'CREATE INDEX pools_slots_idx ON pools (slots);\n',
        'constraints.sql': database.get('constraints.sql')! + 'ALTER TABLE ONLY public.pools ADD CONSTRAINT pools_slots_nonnegative CHECK (slots >= 0);\n',
      });
      const { sql, problems, after } = await migrationFor(h.client, database, sources);
      expect(problems).toEqual([]);
      expect(sql).toContain('DROP INDEX IF EXISTS public.task_logs_task_instance_id_try_number_id_idx;');
      expect(sql).toContain('+ 0');
      expect(sql).toContain('CREATE OR REPLACE FUNCTION weft_test_twice');
      expect(sql).toContain('CREATE INDEX pools_slots_idx ON pools (slots);');
      expect(sql).toContain('ADD CONSTRAINT pools_slots_nonnegative CHECK (slots >= 0);');
      // What the files become: PostgreSQL's printing of the same objects.
      expect(after.get('functions/weft_test_twice.sql')).toMatch(/^CREATE OR REPLACE FUNCTION public\.weft_test_twice\(n integer\)/);
      expect(after.get('indexes.sql')).toContain('CREATE INDEX pools_slots_idx ON public.pools USING btree (slots);');
      expect(after.get('indexes.sql')).not.toContain('task_logs_task_instance_id_try_number_id_idx');
      // Tried in a transaction that was rolled back.
      expect(compareSqlObjects(await readSqlObjects(h.client), database)).toEqual([]);
    });

    it('drops the old overload when a function file changes its signature, and a function whose file is gone', async () => {
      await h.client.query(`CREATE FUNCTION weft_test_old(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$`);
      await h.client.query(`CREATE FUNCTION weft_test_gone() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$`);
      try {
        const withThem = await readSqlObjects(h.client);
        const sources = new Map(withThem);
        sources.set('functions/weft_test_old.sql', 'CREATE OR REPLACE FUNCTION public.weft_test_old(a integer, b integer) RETURNS integer LANGUAGE sql AS $$ SELECT a + b $$;\n');
        sources.delete('functions/weft_test_gone.sql');
        const { sql, problems, after } = await migrationFor(h.client, withThem, sources);
        expect(problems).toEqual([]);
        expect(sql).toContain('DROP FUNCTION IF EXISTS weft_test_old(integer);');
        expect(sql).toContain('DROP FUNCTION IF EXISTS weft_test_gone();');
        expect(after.has('functions/weft_test_gone.sql')).toBe(false);
        expect(after.get('functions/weft_test_old.sql')).toContain('weft_test_old(a integer, b integer)');
      } finally {
        await h.client.query('DROP FUNCTION weft_test_old(int); DROP FUNCTION weft_test_gone()');
      }
    });

    it('refuses what it cannot write: a table change (Prisma writes those), a missing dump, a statement that fails', async () => {
      const tables = await migrationFor(h.client, database, edited({ 'tables.sql': database.get('tables.sql')!.replace('slots integer', 'slots bigint') }));
      expect(tables.problems).toEqual([expect.stringContaining('tables and columns change through prisma/schema.prisma')]);
      const missing = await migrationFor(h.client, database, edited({ 'constraints.sql': null }));
      expect(missing).toMatchObject({ sql: '', problems: [expect.stringContaining('prisma/sql/constraints.sql is missing')] });
      const failing = await migrationFor(h.client, database, edited({ 'indexes.sql': database.get('indexes.sql')! + 'CREATE INDEX nope_idx ON no_such_table (x);\n' }));
      expect(failing.problems).toEqual([expect.stringContaining('relation "no_such_table" does not exist')]);
      expect(compareSqlObjects(await readSqlObjects(h.client), database)).toEqual([]);
    });
  });
});
