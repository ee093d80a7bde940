#!/usr/bin/env node
// Prints the import graph between the feature folders of src/ (a feature is a folder directly under src/; files
// directly in src/ are "(root)"), its strongly connected components, and every import of another feature's
// *.repository.ts. Specs are left out: the graph is the one the service runs with.
//   node scripts/import-graph.mjs            human-readable summary
//   node scripts/import-graph.mjs --json     the same as JSON
//   node scripts/import-graph.mjs --edges    also every feature → feature edge with its file count
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const skip = new Set([join(src, 'generated')]);

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (skip.has(path)) continue;
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const featureOf = (file) => {
  const parts = relative(src, file).split(sep);
  return parts.length === 1 ? '(root)' : parts[0];
};

// import … from '…', export … from '…', import('…'); relative specifiers only (packages are not features).
const specifierPattern = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

const files = walk(src);
const edges = new Map(); // feature → Map(feature → Set(file))
const repositoryImports = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const from = featureOf(file);
  for (const match of text.matchAll(specifierPattern)) {
    const specifier = match[1] ?? match[2];
    const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
    if (!target.startsWith(src + sep)) continue;
    const to = featureOf(target);
    if (to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    const targets = edges.get(from);
    if (!targets.has(to)) targets.set(to, new Set());
    targets.get(to).add(relative(root, file));
    if (target.endsWith('.repository.ts')) {
      repositoryImports.push({ from: relative(root, file), to: relative(root, target) });
    }
  }
}

const features = [...new Set(files.map(featureOf))].sort();

// Tarjan's strongly connected components.
function components() {
  let index = 0;
  const stack = [];
  const state = new Map();
  const result = [];
  const visit = (node) => {
    state.set(node, { index, low: index, onStack: true });
    index += 1;
    stack.push(node);
    for (const next of edges.get(node)?.keys() ?? []) {
      if (!state.has(next)) {
        visit(next);
        state.get(node).low = Math.min(state.get(node).low, state.get(next).low);
      } else if (state.get(next).onStack) {
        state.get(node).low = Math.min(state.get(node).low, state.get(next).index);
      }
    }
    if (state.get(node).low === state.get(node).index) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        state.get(member).onStack = false;
        component.push(member);
      } while (member !== node);
      result.push(component.sort());
    }
  };
  for (const feature of features) if (!state.has(feature)) visit(feature);
  return result.sort((a, b) => b.length - a.length || a[0].localeCompare(b[0]));
}

const sccs = components();
const cycles = sccs.filter((c) => c.length > 1);
const edgeList = [...edges].flatMap(([from, targets]) =>
  [...targets].map(([to, files]) => ({ from, to, files: files.size })),
).sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ features, edges: edgeList, stronglyConnected: cycles, repositoryImports }, null, 2));
} else {
  console.log(`${features.length} feature folders, ${edgeList.length} edges between them`);
  console.log(`strongly connected components with more than one folder: ${cycles.length}`);
  for (const c of cycles) console.log(`  (${c.length}) ${c.join(' ')}`);
  console.log(`imports of another feature's repository: ${repositoryImports.length}`);
  for (const r of repositoryImports) console.log(`  ${r.from} → ${r.to}`);
  if (process.argv.includes('--edges')) {
    console.log('edges (from → to: importing files)');
    for (const e of edgeList) console.log(`  ${e.from} → ${e.to}: ${e.files}`);
  }
}
