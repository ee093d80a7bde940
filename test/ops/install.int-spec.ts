import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What a new user meets before the service runs (issue 19.2 and 19.13), held by checks that fail if it comes back:
 * the Node version the README names satisfies `engines` and every installed package's own `engines.node` (npm ci
 * printed five EBADENGINE warnings on Node 20 while the README said 20.19+ sufficed); and no test or script ends
 * processes by name (`pkill -f 'sleep 60'` ended other sessions' processes on a shared machine).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// semver is what npm itself judges `engines` with (a dependency of the toolchain, not a direct one of Weft).
const semver = createRequire(import.meta.url)('semver') as { satisfies(v: string, range: string, o?: object): boolean; minVersion(r: string): { version: string } | null };

describe('install', () => {
  it('the README’s Node version satisfies engines and every locked package’s engines.node (no EBADENGINE)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const named = /Node\.js (\d+\.\d+)\+/.exec(readme)?.[1];
    expect(named).toBeDefined();
    const version = `${named}.0`;
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(semver.minVersion(pkg.engines.node)?.version).toBe(version);
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    const refusing = Object.entries<{ engines?: { node?: string }; version?: string }>(lock.packages)
      .filter(([path, p]) => path && typeof p.engines?.node === 'string' && !semver.satisfies(version, p.engines.node, { includePrerelease: true }))
      .map(([path, p]) => `${path}@${p.version}: engines.node ${p.engines!.node}`);
    expect(refusing).toEqual([]);
  });
});

describe('the suite on a shared machine', () => {
  it('no test, script or source file ends processes by name (pkill, killall)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        if (name === 'node_modules' || name === 'dist' || name === 'generated' || name.startsWith('.')) continue;
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.(ts|mjs|js|sh)$/.test(name) && path !== fileURLToPath(import.meta.url)) {
          const text = readFileSync(path, 'utf8');
          if (/\b(pkill|killall)\b/.test(text)) offenders.push(path.slice(ROOT.length));
        }
      }
    };
    for (const dir of ['test', 'scripts', 'src', 'bench']) walk(join(ROOT, dir));
    expect(offenders).toEqual([]);
  });
});
