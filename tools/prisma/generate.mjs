#!/usr/bin/env node
// Regenerates the committed Prisma client (src/generated/prisma) from prisma/schema.prisma with Prisma 7's CLI, kept
// in this folder so that the project's own install does not carry the CLI (~200 MB, ~110 packages: Prisma Studio,
// its dev server, PGlite). `--check` (CI) fails when the committed client differs from what the schema generates.
// Installs this folder's dependencies on first use.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '../..');
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
  return r;
};

if (!existsSync(join(here, 'node_modules/prisma'))) run('npm', ['ci', '--prefix', here, '--no-audit', '--no-fund']);
// bench/lib/build.mjs generates the client of an older commit itself with this CLI.
if (process.argv.includes('--only-install')) process.exit(0);
// PRISMA_SCHEMA_ENGINE_BINARY: any file, so that the CLI skips downloading its native engine, which `generate` does
// not need (DESIGN §9); set for this command only.
run(process.execPath, [join(here, 'node_modules/prisma/build/index.js'), 'generate', '--config', join(here, 'prisma.config.ts')], {
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false' },
});
if (process.argv.includes('--check')) {
  const status = spawnSync('git', ['status', '--porcelain', '--', 'src/generated/prisma'], { cwd: root, encoding: 'utf8' });
  if (status.status !== 0) process.exit(status.status ?? 1);
  if (status.stdout.trim()) {
    console.error(`src/generated/prisma is stale:\n${status.stdout}Run \`npm run prisma:generate\` and commit the result.`);
    process.exit(1);
  }
  console.error('src/generated/prisma matches prisma/schema.prisma');
}
