#!/usr/bin/env node
// Builds the operator console (console/, its own package) into console/dist, which the service serves at `/`.
// Part of `npm run build`, so `npm start` and `npm test` always serve a console built from the current sources;
// skipped in milliseconds when nothing it is built from has changed (a hash of the inputs is kept in
// console/dist/.stamp). Its dependencies are installed from console/package-lock.json (npm ci) when missing or when
// the lock file changed. Everything is offline but that install, from the npm registry.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = new URL('../console/', import.meta.url).pathname;
const dist = join(root, 'dist');
const stampFile = join(dist, '.stamp');
const force = process.argv.includes('--force');

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

const inputs = ['package.json', 'package-lock.json', 'index.html', 'vite.config.ts', 'tsconfig.json'].map((f) => join(root, f)).concat(files(join(root, 'src')).sort());
const hash = createHash('sha256');
for (const f of inputs) hash.update(relative(root, f)).update('\0').update(readFileSync(f)).update('\0');
const digest = hash.digest('hex');

if (!force && existsSync(join(dist, 'index.html')) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === digest) {
  process.stdout.write('console: up to date\n');
  process.exit(0);
}

const started = Date.now();
const lockHash = createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex');
const installed = join(root, 'node_modules', '.weft-lock-hash');
if (!existsSync(installed) || readFileSync(installed, 'utf8') !== lockHash) {
  process.stdout.write('console: installing its dependencies (npm ci in console/)\n');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  writeFileSync(installed, lockHash);
}
execFileSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });

// Precompressed copies, sent by @fastify/static to browsers that accept them.
let gzipped = 0;
for (const f of files(dist)) {
  if (!/\.(js|css|html|svg|json)$/.test(f)) continue;
  const body = readFileSync(f);
  const gz = gzipSync(body, { level: 9 });
  writeFileSync(`${f}.gz`, gz);
  writeFileSync(`${f}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  if (!f.endsWith('.map')) gzipped += gz.length;
}
writeFileSync(stampFile, digest);
const size = files(dist).filter((f) => !/\.(gz|br)$/.test(f) && !f.endsWith('.stamp')).reduce((n, f) => n + statSync(f).size, 0);
process.stdout.write(`console: built in ${((Date.now() - started) / 1000).toFixed(1)} s (${(size / 1024).toFixed(0)} KB, ${(gzipped / 1024).toFixed(0)} KB gzipped)\n`);
