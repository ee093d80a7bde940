#!/usr/bin/env node
// Entry point of the `weft` command; the compiled CLI lives in dist/ (npm run build).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('weft: dist/ is missing; run `npm run build` first (npm start does it for you)');
  process.exit(1);
}
await import(entry.href);
