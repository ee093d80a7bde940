#!/usr/bin/env node
// Entry point of the `weft` command; the compiled CLI lives in dist/ (npm run build).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('weft: dist/ is missing; run `npm run build` first (npm start does it for you)');
  process.exit(1);
}
// Before the CLI's modules load: V8's young generation stays small while the process boots (the CLI lets it grow
// again once it is up: releaseBootMemory / releaseYoungGeneration).
const { holdYoungGeneration } = await import(new URL('../dist/common/heap.js', import.meta.url).href);
holdYoungGeneration();
await import(entry.href);
