// Summarises a V8 .cpuprofile (node --cpu-prof): where the service's CPU time went, by function (self time) and
// by module group (Weft's own code, each package, Node internals, idle/GC).
//   node bench/profile-summary.mjs bench/results/profiles/<tag>/<file>.cpuprofile [--top=30]
import fs from 'node:fs';

export function summarizeProfile(file, top = 30) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = p.timeDeltas;
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (dt[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);

  const group = (url, name) => {
    if (!url) return name.startsWith('(') ? name : '(native)';
    const nm = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
    if (nm) return nm[1];
    if (url.includes('/dist/')) return `weft ${url.split('/dist/')[1].split('/')[0]}/`;
    if (url.startsWith('node:')) return 'node internals';
    return url.replace(/^file:\/\//, '');
  };
  const byFn = new Map(), byGroup = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    const { functionName, url, lineNumber } = n.callFrame;
    const fn = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim();
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    const g = group(url, functionName);
    byGroup.set(g, (byGroup.get(g) ?? 0) + us);
  }
  // Inclusive time of Weft's own functions (dist/), each counted once per stack however deep it recurses.
  const inclusive = new Map();
  const visit = (id, active) => {
    const n = byId.get(id);
    const { functionName, url, lineNumber } = n.callFrame;
    const key = url.includes('/dist/') ? `${functionName || '(anonymous)'} ${url.split('/dist/')[1]}:${lineNumber + 1}` : null;
    const fresh = key && !active.has(key);
    if (fresh) active.add(key);
    let sum = self.get(id) ?? 0;
    for (const c of n.children ?? []) sum += visit(c, active);
    if (fresh) { active.delete(key); inclusive.set(key, (inclusive.get(key) ?? 0) + sum); }
    return sum;
  };
  visit(p.nodes[0].id, new Set());
  const pctOf = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const lines = [`profile ${file}: ${(total / 1e6).toFixed(2)} s sampled`, '', 'by module group (self time):'];
  for (const [g, us] of [...byGroup].sort((a, b) => b[1] - a[1]).slice(0, 25)) lines.push(`  ${pctOf(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${g}`);
  lines.push('', `top ${top} functions (self time):`);
  for (const [f, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pctOf(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${f}`);
  lines.push('', `top ${top} Weft functions (inclusive time):`);
  for (const [f, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pctOf(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${f}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) { console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile [--top=N]'); process.exit(2); }
  const top = Number((process.argv.find((a) => a.startsWith('--top=')) ?? '--top=30').split('=')[1]);
  console.log(summarizeProfile(file, top));
}
