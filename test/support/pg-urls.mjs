import pg from 'pg';

/** The same server, connected to its `postgres` maintenance database. */
export function adminUrl(serverUrl) {
  return withDatabase(serverUrl, 'postgres');
}

export function withDatabase(serverUrl, database) {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Drops test databases left by runs whose process is gone (a crashed or killed run). */
export async function dropStaleTestDatabases(serverUrl) {
  const admin = new pg.Client({ connectionString: adminUrl(serverUrl) });
  await admin.connect();
  try {
    const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE 'weft\\_test\\_%'`);
    for (const { datname } of rows) {
      const pid = Number(datname.split('_')[2]);
      if (Number.isInteger(pid) && !isAlive(pid)) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
