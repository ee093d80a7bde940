#!/usr/bin/env node
// Compiles src/ into dist/ with swc. `--if-changed` (npm start, npm test) skips the compile when dist/ was built
// from the same sources: a fingerprint of every file under src/ (path and content), .swcrc and the installed swc
// version is kept in dist/.build-stamp. A restart of an unchanged tree is then ready in the time the process itself
// needs (docs/operations.md#start-up-time), instead of ~10-20 s of compiling on a 2-core machine.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stampFile = join(root, 'dist', '.build-stamp');

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

function fingerprint() {
  const hash = createHash('sha256');
  const swcVersion = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('@swc/core/package.json'), 'utf8')).version;
  hash.update(`swc ${swcVersion}\0`);
  for (const path of [join(root, '.swcrc'), ...files(join(root, 'src'))]) {
    hash.update(relative(root, path)).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex');
}

const ifChanged = process.argv.includes('--if-changed');
const stamp = fingerprint();
if (ifChanged && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp) {
  process.exit(0);
}
const t0 = performance.now();
rmSync(join(root, 'dist'), { recursive: true, force: true });
// src/generated (the Prisma client, ~2 MB of TypeScript) is not compiled: nothing loads it at run time; it serves
// the type checker and the specs that compare with its enums (docs/database.md).
const swc = spawnSync(process.execPath, [join(root, 'node_modules/@swc/cli/bin/swc.js'), 'src', '-d', 'dist', '--strip-leading-paths', '--quiet', '--ignore', 'src/generated/**'], {
  cwd: root,
  stdio: 'inherit',
});
if (swc.status !== 0) process.exit(swc.status ?? 1);
writeFileSync(stampFile, `${stamp}\n`);
if (ifChanged) console.error(`weft: compiled src/ into dist/ in ${((performance.now() - t0) / 1000).toFixed(1)} s (sources changed)`);
