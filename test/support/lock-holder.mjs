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
await client.query('BEGIN');
const row =
  what === 'backfill' ? await new BackfillsRepository(pool).tryLockActive(client, Number(id)) : await new RunsRepository(pool).lockRun(client, Number(id));
if (!row) {
  console.error(`no ${what} ${id} to lock`);
  process.exit(2);
}
const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
process.stdout.write(`locked ${what} ${id} backend ${rows[0].pid}\n`);
setInterval(() => undefined, 1 << 30);
