import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * What the client end-to-end tests need beyond the root install (.ci/run installs it all): the TypeScript client's
 * own dependencies (`npm ci --prefix clients/typescript`; weft-cli and the DAG builder use them) and Debian's
 * python3 with the generated Python client's four dependencies. Missing, a suite is skipped with a warning, except
 * in CI (CI=true), where it runs and fails loudly.
 */
export function missingClientToolchains(opts: { python?: boolean; go?: boolean } = {}): string[] {
  return [
    existsSync(join(ROOT, 'clients/typescript/node_modules/commander'))
      ? null
      : 'the TypeScript client’s dependencies (npm ci --prefix clients/typescript)',
    !opts.go || spawnSync('go', ['version']).status === 0 ? null : 'go (Debian: golang-go)',
    !opts.python || spawnSync('/usr/bin/python3', ['-c', 'import urllib3, dateutil, six, certifi']).status === 0
      ? null
      : '/usr/bin/python3 with urllib3, dateutil, six, certifi (Debian: python3-urllib3 python3-dateutil python3-six python3-certifi)',
  ].filter((m): m is string => m !== null);
}

/**
 * Compiles clients/typescript (builder, CLI, examples) with the project's TypeScript into a fresh folder inside
 * clients/typescript, so that the output finds the package's node_modules. Returns the folder; remove() deletes it.
 */
export async function buildTsClient(): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(ROOT, 'clients/typescript/.test-build-'));
  await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'clients/typescript'), '--outDir', dir]);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export type Ran = { code: number | null; stdout: string; stderr: string };

/** Runs a process to its end with only the given environment (plus PATH and HOME); never throws on exit codes. */
export function runProcess(bin: string, args: string[], env: Record<string, string>, cwd = ROOT): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PYTHONDONTWRITEBYTECODE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export type ClientLang = 'ts' | 'py' | 'go';

/** Builds the Go client's example chain worker into `out`, offline (GOPROXY=off: only what the repository holds). */
export async function buildGoChainWorker(out: string): Promise<void> {
  await promisify(execFile)('go', ['build', '-o', out, './examples/chain-worker'], {
    cwd: join(ROOT, 'clients/go'),
    env: { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
  });
}

/** How to start each client's example chain worker: the compiled TypeScript one in `tsBuildDir`, the Go one at `goBinary`. */
export function chainWorkerCommand(lang: ClientLang, tsBuildDir: string, goBinary: string): [string, string[]] {
  if (lang === 'ts') return [process.execPath, [join(tsBuildDir, 'examples/chain-worker.js')]];
  if (lang === 'py') return ['/usr/bin/python3', [join(ROOT, 'clients/python/examples/chain_worker.py')]];
  return [goBinary, []];
}

/** A client worker's environment: only PATH, HOME, the Python client on PYTHONPATH (no __pycache__ in the tree), and `settings`. */
export function clientWorkerEnv(settings: Record<string, string>): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: process.env.HOME, PYTHONPATH: join(ROOT, 'clients/python'), PYTHONDONTWRITEBYTECODE: '1', ...settings };
}
