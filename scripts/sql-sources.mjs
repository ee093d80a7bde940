#!/usr/bin/env node
// The current source of every PL/pgSQL function, trigger and index of Weft's schema, one file each under prisma/sql/
// (functions/<name>.sql, triggers/<table>.<trigger>.sql, indexes.sql), as PostgreSQL prints them for a database
// with every migration applied (pg_get_functiondef, pg_get_triggerdef, pg_indexes). Migrations keep the history;
// these files are where to read (and, before writing a migration, change) what the database runs.
//   node scripts/sql-sources.mjs --check   exit 1 and name each object when a migrated database differs (CI: also
//                                          test/database/sql-sources.int-spec.ts)
//   node scripts/sql-sources.mjs --write   rewrite prisma/sql/ from a migrated database (after adding a migration)
// Needs the built service (dist/, for its migrator) and a PostgreSQL server: TEST_DATABASE_URL or DATABASE_URL; a
// scratch database is created, migrated, read and dropped.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
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
  return files;
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
  const mode = process.argv[2];
  if (mode !== '--check' && mode !== '--write') {
    console.error('usage: node scripts/sql-sources.mjs --check | --write');
    process.exit(2);
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
      console.error('regenerate with: npm run db:sql:write (after the migration that changes them)');
      process.exit(1);
    }
    console.log(`prisma/sql/ agrees with the migrations (${database.size} files)`);
  }
}
