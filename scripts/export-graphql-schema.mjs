#!/usr/bin/env node
// Writes clients/schema.graphql from the code (`npm run graphql:schema`). With --check (`npm run graphql:check`, CI)
// it regenerates into a temporary file instead and fails when that differs from the committed one.
// Needs dist/ (both npm scripts build first); no database or server is started.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
const target = fileURLToPath(new URL('clients/schema.graphql', root));
const { buildGraphqlSchemaSdl } = await import(new URL('dist/graphql/schema.js', root).href);
const sdl = await buildGraphqlSchemaSdl();

if (!process.argv.includes('--check')) {
  writeFileSync(target, sdl);
  console.log(`wrote ${target}`);
  process.exit(0);
}

// Not process.exit() inside the try: it would skip the finally and leave the folder in the temp directory.
const dir = mkdtempSync(join(tmpdir(), 'weft-graphql-schema-'));
let code = 0;
try {
  const fresh = join(dir, 'schema.graphql');
  writeFileSync(fresh, sdl);
  if (existsSync(target) && readFileSync(target, 'utf8') === sdl) {
    console.log('clients/schema.graphql is up to date');
  } else {
    if (existsSync(target)) spawnSync('diff', ['-u', '--label', 'clients/schema.graphql (committed)', '--label', 'generated', target, fresh], { stdio: 'inherit' });
    console.error('clients/schema.graphql is stale or missing: run `npm run graphql:schema` and commit the result');
    code = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
