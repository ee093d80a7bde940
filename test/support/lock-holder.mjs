// A peer that takes a row lock through Weft's own connection pool (so its session runs under the bounds of the
// configuration in its environment, DATABASE_*_SEC) and then does nothing more, its transaction left open: a test
// stops it with SIGSTOP, by PID, to play a scheduler or API process frozen while it holds the lock.
//   node test/support/lock-holder.mjs <database url> backfill|run <id>
// Prints `locked <what> <id> backend <pid>` once the lock is held. Runs on the compiled code (npm run build).
import { BackfillsRepository } from '../../dist/backfills/backfills.repository.js';
import { loadConfig } from '../../dist/config/config.js';
import { createPool } from '../../dist/database/pool.js';
import { RunsRepository } from '../../dist/engine/runs/runs.repository.js';

const [url, what, id] = process.argv.slice(2);
const pool = createPool(url, loadConfig({ ...process.env, WEFT_LOG_LEVEL: 'silent' }));
const client = await pool.connect();
// The service's own scheduler takes the same row for a moment on every tick (SKIP LOCKED on the backfill), so the
// first try can find it taken: try again in a fresh transaction until the lock is ours.
let row = null;
for (let tries = 0; !row; tries++) {
  await client.query('BEGIN');
  row = what === 'backfill' ? await new BackfillsRepository(pool).tryLockActive(client, Number(id)) : await new RunsRepository(pool).lockRun(client, Number(id)).catch(() => null);
  if (row) break;
  await client.query('ROLLBACK');
  if (tries >= 500) {
    console.error(`no ${what} ${id} to lock`);
    process.exit(2);
  }
  await new Promise((r) => setTimeout(r, 10));
}
const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
process.stdout.write(`locked ${what} ${id} backend ${rows[0].pid}\n`);
setInterval(() => undefined, 1 << 30);
