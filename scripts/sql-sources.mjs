#!/usr/bin/env node
// The current source of every PL/pgSQL function, trigger and index of Weft's schema, one file each under prisma/sql/
// (functions/<name>.sql, triggers/<table>.<trigger>.sql, indexes.sql), and a dump of its tables and constraints
// (tables.sql, constraints.sql), as PostgreSQL prints them for a database with every migration applied
// (pg_get_functiondef, pg_get_triggerdef, pg_indexes, pg_get_constraintdef, the catalog's columns). Migrations keep
// the history; these files are where to read, and change, what the database runs.
//   node scripts/sql-sources.mjs --check            exit 1 and name each object when a migrated database differs (CI:
//                                                   also test/database/sql-sources.int-spec.ts)
//   node scripts/sql-sources.mjs --migration NAME   write the migration that turns a migrated database into what
//                                                   prisma/sql/ says (after editing a function, trigger, index or
//                                                   constraint file there); it is tried on a scratch database first
//   node scripts/sql-sources.mjs --write            rewrite prisma/sql/ from a migrated database (after a migration
//                                                   written another way, e.g. Prisma's for a table change)
// Needs the built service (dist/, for its migrator) and a PostgreSQL server: TEST_DATABASE_URL or DATABASE_URL; a
// scratch database is created, migrated, read and dropped.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SQL_DIR = join(ROOT, 'prisma', 'sql');

/** What a migrated database holds, as file path (relative to prisma/sql/) → content. */
export async function readSqlObjects(client) {
  const files = new Map();
  const functions = await client.query(
    `SELECT p.proname AS name, pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND p.prokind = 'f' ORDER BY p.proname, pg_get_function_identity_arguments(p.oid)`,
  );
  for (const { name, def } of functions.rows) {
    const path = `functions/${name}.sql`;
    files.set(path, (files.get(path) ?? '') + `${def.trimEnd()};\n`);
  }
  const triggers = await client.query(
    `SELECT c.relname AS table, t.tgname AS name, pg_get_triggerdef(t.oid, true) AS def
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY c.relname, t.tgname`,
  );
  for (const { table, name, def } of triggers.rows) files.set(`triggers/${table}.${name}.sql`, `${def};\n`);
  const indexes = await client.query(
    `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY tablename, indexname`,
  );
  files.set(
    'indexes.sql',
    '-- Every index of the schema (Prisma declares most; the partial ones only migrations can: docs/database.md).\n' +
      indexes.rows.map((r) => `${r.indexdef};\n`).join(''),
  );
  const constraints = await client.query(
    `SELECT c.relname AS table, con.conname AS name, pg_get_constraintdef(con.oid, true) AS def
       FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relname <> '_prisma_migrations'
        -- NOT NULL (PostgreSQL 18 lists it as a constraint too) is a column's nullability, which tables.sql holds.
        AND con.contype <> 'n'
      ORDER BY c.relname, con.conname`,
  );
  files.set(
    'constraints.sql',
    '-- Every constraint of the schema (Prisma declares keys and foreign keys; CHECK constraints only migrations can).\n' +
      constraints.rows.map((r) => `ALTER TABLE ONLY public.${r.table} ADD CONSTRAINT ${r.name} ${r.def};\n`).join(''),
  );
  files.set('tables.sql', await tablesDump(client));
  return files;
}

/** An identifier as PostgreSQL prints it: quoted unless plain lower case. */
const ident = (name) => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`);

/** The tables as CREATE TABLE statements without their constraints (constraints.sql), columns in the database's order. */
async function tablesDump(client) {
  const enums = await client.query(
    `SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' GROUP BY t.typname ORDER BY t.typname`,
  );
  const columns = await client.query(
    `SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
            pg_get_expr(d.adbin, d.adrelid) AS "default", a.attidentity AS identity, a.attgenerated AS generated
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> '_prisma_migrations' AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attnum`,
  );
  const views = await client.query(
    `SELECT c.relname AS name, c.relkind AS kind, pg_get_viewdef(c.oid, true) AS def FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm') ORDER BY c.relname`,
  );
  let out = '-- Every table of the schema as the migrations leave it (its constraints: constraints.sql; indexes: indexes.sql).\n';
  for (const e of enums.rows) out += `CREATE TYPE public.${ident(e.name)} AS ENUM (${e.labels.map((l) => `'${l.replaceAll("'", "''")}'`).join(', ')});\n`;
  const byTable = new Map();
  for (const col of columns.rows) {
    const parts = [col.name, col.type];
    if (col.generated === 's') parts.push(`GENERATED ALWAYS AS (${col.default}) STORED`);
    else if (col.default !== null) parts.push(`DEFAULT ${col.default}`);
    if (col.identity) parts.push(`GENERATED ${col.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`);
    if (col.not_null) parts.push('NOT NULL');
    byTable.set(col.table, [...(byTable.get(col.table) ?? []), parts.join(' ')]);
  }
  for (const [table, cols] of byTable) out += `CREATE TABLE public.${table} (\n${cols.map((c) => `    ${c}`).join(',\n')}\n);\n`;
  for (const v of views.rows) out += `CREATE ${v.kind === 'm' ? 'MATERIALIZED VIEW' : 'VIEW'} public.${v.name} AS\n${v.def.trimEnd()}\n`;
  return out;
}

/** The committed files, path → content. */
export function readSqlSources(dir = SQL_DIR) {
  const files = new Map();
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.sql')) files.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  try {
    walk(dir);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  return files;
}

/** Differences as sentences, empty when the database and the sources agree. */
export function compareSqlObjects(database, sources) {
  const problems = [];
  for (const [path, text] of database) {
    if (!sources.has(path)) problems.push(`prisma/sql/${path} is missing (the database has it)`);
    else if (sources.get(path) !== text) problems.push(`prisma/sql/${path} differs from what the migrations create`);
  }
  for (const path of sources.keys()) if (!database.has(path)) problems.push(`prisma/sql/${path}: the migrations create no such object`);
  return problems;
}

/** The statements of a one-statement-per-line file (indexes.sql, constraints.sql), its comment lines left out. */
const lines = (text) => (text ?? '').split('\n').filter((l) => l && !l.startsWith('--'));
const indexName = (line) => /^CREATE (?:UNIQUE )?INDEX (\S+) ON /.exec(line)?.[1];
const constraintOf = (line) => /^ALTER TABLE ONLY public\.(\S+) ADD CONSTRAINT (\S+) /.exec(line)?.slice(1, 3);

async function overloads(client, name) {
  const { rows } = await client.query(
    `SELECT p.oid::regprocedure::text AS sig, p.xmin = pg_current_xact_id()::xid AS written FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND p.prokind = 'f' AND p.proname = $1`,
    [name],
  );
  return rows;
}

/**
 * The SQL that turns the migrated database `client` (read as `database`) into what `sources` (prisma/sql/) say: each
 * changed or new function as its file, a function file's overloads the file no longer has dropped, each changed
 * trigger dropped and created, indexes and constraints by line. Tried in a transaction that is rolled back; `problems`
 * names what the result still lacks (a table change is Prisma's: `npm run db:migration:new`).
 */
export async function migrationFor(client, database, sources) {
  const changed = (path) => database.get(path) !== sources.get(path);
  const paths = [...new Set([...database.keys(), ...sources.keys()])].filter(changed).sort();
  const problems = [];
  if (paths.includes('tables.sql')) {
    problems.push('prisma/sql/tables.sql differs: tables and columns change through prisma/schema.prisma (npm run db:migration:new <name>), then npm run db:sql:write');
  }
  for (const dump of ['tables.sql', 'constraints.sql', 'indexes.sql']) {
    if (database.has(dump) && !sources.has(dump)) {
      // A missing dump is a checkout problem, not "drop everything it listed".
      return { sql: '', problems: [`prisma/sql/${dump} is missing: restore it (git checkout) or rewrite prisma/sql/ with npm run db:sql:write`] };
    }
  }
  const drops = [];
  const creates = [];
  // Constraints and indexes by line: gone or changed ones dropped first, new ones added last.
  const dbCons = lines(database.get('constraints.sql'));
  const srcCons = lines(sources.get('constraints.sql'));
  const srcConNames = new Set(srcCons.map((l) => constraintOf(l)?.[1]));
  const dbConNames = new Set(dbCons.map((l) => constraintOf(l)?.[1]));
  for (const l of dbCons.filter((l) => !srcCons.includes(l))) {
    const [table, name] = constraintOf(l);
    drops.push(`ALTER TABLE ONLY public.${table} DROP CONSTRAINT IF EXISTS ${name};`);
  }
  const dbIdx = lines(database.get('indexes.sql'));
  const srcIdx = lines(sources.get('indexes.sql'));
  // An index that backs a constraint (a key) comes and goes with its constraint.
  for (const l of dbIdx.filter((l) => !srcIdx.includes(l))) if (!dbConNames.has(indexName(l))) drops.push(`DROP INDEX IF EXISTS public.${indexName(l)};`);
  for (const p of paths.filter((p) => p.startsWith('triggers/') && database.has(p))) {
    const [table, name] = basename(p, '.sql').split('.');
    drops.push(`DROP TRIGGER IF EXISTS ${name} ON public.${table};`);
  }
  const fnPaths = paths.filter((p) => p.startsWith('functions/'));
  for (const p of fnPaths) if (sources.has(p)) creates.push(sources.get(p).trimEnd());
  for (const p of paths.filter((p) => p.startsWith('triggers/') && sources.has(p))) creates.push(sources.get(p).trimEnd());
  for (const l of srcCons.filter((l) => !dbCons.includes(l))) creates.push(l);
  for (const l of srcIdx.filter((l) => !dbIdx.includes(l))) if (!srcConNames.has(indexName(l))) creates.push(l);

  const tryOn = async (sql) => {
    await client.query('BEGIN');
    try {
      await client.query(sql);
      const after = await readSqlObjects(client);
      // Overloads of a changed function that its file did not (re)create in this transaction: its signature
      // changed, or the file is gone.
      const stale = [];
      for (const p of fnPaths) {
        for (const o of await overloads(client, basename(p, '.sql'))) if (!o.written) stale.push(`DROP FUNCTION IF EXISTS ${o.sig};`);
      }
      return { after, stale };
    } finally {
      await client.query('ROLLBACK');
    }
  };
  let sql = [...drops, ...creates].join('\n') + '\n';
  let after = database;
  try {
    const first = await tryOn(sql);
    if (first.stale.length) sql += first.stale.join('\n') + '\n';
    const tried = first.stale.length ? await tryOn(sql) : first;
    if (tried.stale.length) problems.push(`functions still have overloads their files lack: ${tried.stale.join(' ')}`);
    // The files the change touched come back as PostgreSQL prints them (a header laid out its way, "public." added);
    // every other object must be exactly as before (nothing dropped along the way).
    const touched = new Set(paths);
    for (const file of new Set([...tried.after.keys(), ...database.keys()])) {
      if (!touched.has(file) && tried.after.get(file) !== database.get(file)) problems.push(`the migration also changes prisma/sql/${file}, which was not edited`);
    }
    after = tried.after;
  } catch (err) {
    problems.push(`the migration fails on a migrated database: ${err.message}`);
  }
  return { sql: paths.length ? sql : '', problems, after };
}

/** prisma/migrations/<UTC timestamp>_<name>/migration.sql, newer than every migration there. */
function writeMigration(rawName, sql) {
  const name = String(rawName ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (!name) throw new Error('a migration name is needed (letters, digits, "_")');
  const dir = join(ROOT, 'prisma', 'migrations');
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const latest = readdirSync(dir).filter((d) => /^\d{14}_/.test(d)).sort().at(-1);
  if (latest && latest.slice(0, 14) >= stamp) throw new Error(`the newest migration ${latest} is not older than ${stamp} (UTC)`);
  const folder = join(dir, `${stamp}_${name}`);
  if (existsSync(folder)) throw new Error(`${relative(ROOT, folder)} exists`);
  mkdirSync(folder);
  const header = '-- Written by `npm run db:sql:migration` from prisma/sql/ (the files it changes are the source).\n';
  writeFileSync(join(folder, 'migration.sql'), header + sql);
  return relative(ROOT, join(folder, 'migration.sql'));
}

async function withMigratedDatabase(fn) {
  const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('set TEST_DATABASE_URL or DATABASE_URL to a PostgreSQL server');
  const { migrate } = await import('../dist/database/migrator.js');
  const name = `weft_sql_sources_${process.pid}`;
  const at = (db) => Object.assign(new URL(serverUrl), { pathname: `/${db}` }).toString();
  const admin = new pg.Client({ connectionString: at('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      await migrate(at(name));
      const client = new pg.Client({ connectionString: at(name) });
      await client.connect();
      try {
        return await fn(client);
      } finally {
        await client.end();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, name] = process.argv.slice(2);
  if (!['--check', '--write', '--migration'].includes(mode) || (mode === '--migration') !== Boolean(name)) {
    console.error('usage: node scripts/sql-sources.mjs --check | --write | --migration NAME');
    process.exit(2);
  }
  if (mode === '--migration') {
    const sources = readSqlSources();
    const { sql, problems, after } = await withMigratedDatabase(async (client) => migrationFor(client, await readSqlObjects(client), sources));
    if (problems.length) {
      for (const p of problems) console.error(p);
      console.error(sql ? `the migration was not written; it would be:\n${sql}` : 'no migration written');
      process.exit(1);
    }
    if (!sql) {
      console.log('nothing changed: prisma/sql/ and the migrations agree, no migration written');
    } else {
      console.log(writeMigration(name, sql));
      // The edited files as the database prints them, so that --check agrees.
      const normalised = [...after].filter(([path, text]) => sources.get(path) !== text);
      for (const [path, text] of normalised) writeFileSync(join(SQL_DIR, path), text);
      if (normalised.length) console.log(`rewrote as PostgreSQL prints them: ${normalised.map(([p]) => `prisma/sql/${p}`).join(', ')}`);
    }
    process.exit(0);
  }
  const database = await withMigratedDatabase(readSqlObjects);
  if (mode === '--write') {
    rmSync(SQL_DIR, { recursive: true, force: true });
    for (const [path, text] of database) {
      mkdirSync(dirname(join(SQL_DIR, path)), { recursive: true });
      writeFileSync(join(SQL_DIR, path), text);
    }
    console.log(`wrote ${database.size} files under prisma/sql/`);
  } else {
    const problems = compareSqlObjects(database, readSqlSources());
    for (const p of problems) console.error(p);
    if (problems.length) {
      console.error('write the migration from prisma/sql/ with: npm run db:sql:migration -- <name> (or, after a migration written another way: npm run db:sql:write)');
      process.exit(1);
    }
    console.log(`prisma/sql/ agrees with the migrations (${database.size} files)`);
  }
}
