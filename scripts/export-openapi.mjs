#!/usr/bin/env node
// Writes clients/openapi.json from the code. `npm run clients:generate` runs it before generating the clients;
// `npm run clients:check` (CI) compares it with the committed file. Needs dist/ (the npm scripts build first);
// no database or server is started. `--out <file>` writes elsewhere.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
const i = process.argv.indexOf('--out');
const target = i > 0 ? process.argv[i + 1] : fileURLToPath(new URL('clients/openapi.json', root));
const { exportOpenApiJson } = await import(new URL('dist/cli/export-openapi.js', root).href);
writeFileSync(target, await exportOpenApiJson());
console.log(`wrote ${target}`);
