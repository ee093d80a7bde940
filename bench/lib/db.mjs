// Databases of one bench run: a migrated template, then a fresh clone per measurement, all named
// weft_bench_<pid>_<n> and dropped at the end (and on Ctrl-C). Stale ones left by a dead bench process go too.
import fs from 'node:fs';
import pg from 'pg';
import { fromBuild } from './weft.mjs';

const { migrate } = await fromBuild('dist/database/migrator.js');

export const PGHOST = process.env.PGHOST || '127.0.0.1';
export const PGPORT = Number(process.env.PGPORT || 5432);
export const PGUSER = process.env.PGUSER || 'postgres';
export const conn = (db) => `postgres://${PGUSER}@${PGHOST}:${PGPORT}/${db}`;

const PREFIX = `weft_bench_${process.pid}_`;
let seq = 0;
let template = null;

async function admin(fn) {
  const c = new pg.Client({ connectionString: conn('postgres') });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

/** PostgreSQL version and the settings that matter for these figures. */
export async function serverInfo() {
  return admin(async (c) => {
    const { rows } = await c.query(`SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)`,
      [['server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'wal_level', 'full_page_writes', 'max_connections', 'work_mem', 'max_wal_size', 'wal_buffers', 'commit_delay']]);
    const out = {};
    for (const r of rows) {
      const unitKb = { '8kB': 8, kB: 1 }[r.unit];
      out[r.name] = unitKb ? `${Math.round((Number(r.setting) * unitKb) / 1024)}MB` : r.setting;
    }
    return out;
  });
}

/** Drops weft_bench_<pid>_* databases whose bench process is gone (a crashed or killed earlier run). */
export async function dropStale() {
  await admin(async (c) => {
    const { rows } = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE 'weft\\_bench\\_%'`);
    for (const { datname } of rows) {
      const pid = Number(datname.split('_')[2]);
      if (pid && pid !== process.pid && !fs.existsSync(`/proc/${pid}`)) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
  });
}

/** A migrated database every measurement clones (CREATE DATABASE … TEMPLATE is far cheaper than migrating). */
async function ensureTemplate() {
  if (template) return template;
  const name = `${PREFIX}tpl`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  await migrate(conn(name));
  // Diagnostic (run.mjs --drop-event-triggers): without the events-outbox triggers, to tell their cost apart.
  if (process.env.WEFT_BENCH_DROP_EVENT_TRIGGERS) {
    const c = await client(conn(name));
    try {
      await c.query(`DO $$ DECLARE t record; BEGIN
        FOR t IN SELECT tgname, tgrelid::regclass AS rel FROM pg_trigger
                 WHERE NOT tgisinternal AND (tgname LIKE '%\\_events\\_%' OR tgname = 'event_flushes_number_at_commit') LOOP
          EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
        END LOOP; END $$`);
    } finally {
      await c.end();
    }
  }
  template = name;
  return name;
}

/** A fresh, migrated database; a CHECKPOINT first so a measurement does not pay for the previous one's writes. */
export async function freshDb() {
  const tpl = await ensureTemplate();
  const name = `${PREFIX}${++seq}`;
  await admin(async (c) => {
    await c.query(`CREATE DATABASE ${name} TEMPLATE ${tpl}`);
    await c.query('CHECKPOINT');
  });
  return { name, url: conn(name), drop: () => dropDb(name) };
}

export async function checkpoint() {
  await admin((c) => c.query('CHECKPOINT'));
}

export async function dropDb(name) {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** Drops every database of this run (the template last). */
export async function dropAll() {
  await admin(async (c) => {
    const { rows } = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname DESC`, [`${PREFIX.replaceAll('_', '\\_')}%`]);
    for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  });
  template = null;
}

/** Drops the named databases (the peer scripts' fixed ones, once they have run). */
export async function dropDatabases(names) {
  await admin(async (c) => {
    for (const name of names) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

/** A plain client on a bench database (setup and checks, never on a measured path). */
export async function client(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}
