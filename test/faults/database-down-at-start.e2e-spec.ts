import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/own-postgres.js';

/**
 * A process started while its PostgreSQL is down (or DATABASE_URL names the wrong port) stops at once, exit 1, with one
 * line naming the database and the setting, not the driver's bare "connect ECONNREFUSED …" or a stack trace; its
 * supervisor's restart is the retry.
 */
const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

async function weft(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
  return { code, output };
}

describe('a database that cannot be reached at start', () => {
  it('stops weft api and weft db migrate with one line naming the database and DATABASE_URL', async () => {
    const home = await mkdtemp(join(tmpdir(), 'weft-db-down-'));
    try {
      // A port nothing listens on.
      const closed = await freePort();
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        WEFT_HOME: home,
        PORT: String(await freePort()),
        DATABASE_URL: `postgresql://weft:secret@127.0.0.1:${closed}/weft`,
        DATABASE_CONNECT_TIMEOUT_SEC: '2',
        WEFT_SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
        WEFT_LOG_PRETTY: 'false',
      };
      const line = `cannot reach the database at postgresql://weft:***@127.0.0.1:${closed}/weft (DATABASE_URL): connect ECONNREFUSED 127.0.0.1:${closed}; start PostgreSQL there, or set DATABASE_URL to one that runs`;
      const migrate = await weft(['db', 'migrate'], env);
      expect(migrate.code).toBe(1);
      expect(migrate.output).toContain(`weft: ${line}\n`);
      expect(migrate.output).not.toMatch(/\n\s+at /);
      const api = await weft(['api'], env);
      expect(api.code).toBe(1);
      expect(api.output).toContain(`"msg":"${line}"`);
      expect(api.output).not.toContain('secret');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
