#!/usr/bin/env node
// Prints the import graph between the features of src/, its strongly connected components, and every import of
// another feature's *.repository.ts. Specs are left out: the graph is the one the service runs with.
//
// The model (docs/layout.md, "Which way dependencies go"): a feature is a folder directly under src/ (files directly
// in src/ are "(root)"), and its pure base layer, every file with a path segment `domain` below the feature folder
// (`engine/runs/domain/…`, `alerts/domain/…`), is a node of its own, `<feature>/domain`. Domain files import no
// framework or database (ESLint weft/feature-boundaries), so other layers (the REST contract in openapi/, for one) may
// build on them without depending on the feature's services and controllers. The folder-level figure (domain counted
// with its feature) is printed too.
//   node scripts/import-graph.mjs            human-readable summary
//   node scripts/import-graph.mjs --json     the same as JSON
//   node scripts/import-graph.mjs --edges    also every node → node edge with its file count
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

const folderOf = (file) => {
  const parts = relative(src, file).split(sep);
  return parts.length === 1 ? '(root)' : parts[0];
};

// The node of a file: its feature folder, or `<feature>/domain` for a file under a `domain` folder of that feature.
const nodeOf = (file) => {
  const parts = relative(src, file).split(sep);
  if (parts.length === 1) return '(root)';
  return parts.slice(1, -1).includes('domain') ? `${parts[0]}/domain` : parts[0];
};

// import … from '…', export … from '…', import('…'); relative specifiers only (packages are not features).
const specifierPattern = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

const files = walk(src);
const imports = []; // { file, target } for every relative import of a file under src/
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(specifierPattern)) {
    const specifier = match[1] ?? match[2];
    const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
    if (target.startsWith(src + sep)) imports.push({ file, target });
  }
}

function graph(nodeOfFile) {
  const edges = new Map(); // node → Map(node → Set(file))
  for (const { file, target } of imports) {
    const from = nodeOfFile(file);
    const to = nodeOfFile(target);
    if (to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    const targets = edges.get(from);
    if (!targets.has(to)) targets.set(to, new Set());
    targets.get(to).add(relative(root, file));
  }
  const nodes = [...new Set(files.map(nodeOfFile))].sort();
  const edgeList = [...edges]
    .flatMap(([from, targets]) => [...targets].map(([to, importing]) => ({ from, to, files: importing.size })))
    .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  return { nodes, edges: edgeList, stronglyConnected: components(nodes, edges).filter((c) => c.length > 1) };
}

// Tarjan's strongly connected components.
function components(nodes, edges) {
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
  for (const node of nodes) if (!state.has(node)) visit(node);
  return result.sort((a, b) => b.length - a.length || a[0].localeCompare(b[0]));
}

const layered = graph(nodeOf);
const folders = graph(folderOf);
const repositoryImports = imports
  .filter(({ file, target }) => target.endsWith('.repository.ts') && folderOf(file) !== folderOf(target))
  .map(({ file, target }) => ({ from: relative(root, file), to: relative(root, target) }));

if (process.argv.includes('--json')) {
  console.log(
    JSON.stringify(
      {
        nodes: layered.nodes,
        edges: layered.edges,
        stronglyConnected: layered.stronglyConnected,
        folders: { nodes: folders.nodes, edges: folders.edges, stronglyConnected: folders.stronglyConnected },
        repositoryImports,
      },
      null,
      2,
    ),
  );
} else {
  const domains = layered.nodes.filter((n) => n.endsWith('/domain')).length;
  console.log(
    `${layered.nodes.length} nodes (${folders.nodes.length} feature folders, ${domains} of them with a domain/ node), ` +
      `${layered.edges.length} edges between them`,
  );
  console.log(`strongly connected components with more than one node: ${layered.stronglyConnected.length}`);
  for (const c of layered.stronglyConnected) console.log(`  (${c.length}) ${c.join(' ')}`);
  console.log(
    `folder level (domain/ counted with its feature): ${folders.edges.length} edges, ` +
      `strongly connected components with more than one folder: ${folders.stronglyConnected.length}`,
  );
  for (const c of folders.stronglyConnected) console.log(`  (${c.length}) ${c.join(' ')}`);
  console.log(`imports of another feature's repository: ${repositoryImports.length}`);
  for (const r of repositoryImports) console.log(`  ${r.from} → ${r.to}`);
  if (process.argv.includes('--edges')) {
    console.log('edges (from → to: importing files)');
    for (const e of layered.edges) console.log(`  ${e.from} → ${e.to}: ${e.files}`);
  }
}
