import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm start` compiles only when the sources changed (issue 19.1: every start rebuilt, 15-20 s per restart). The
 * build script runs on a small copy of the layout (its own src/ and dist/, the repository's node_modules) so the
 * real dist/ that other tests use is never touched.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'weft-build-if-changed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function build(): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [join(dir, 'scripts/build.mjs'), '--if-changed'], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

describe('scripts/build.mjs --if-changed', () => {
  it('compiles the first time and after a change, and does nothing when nothing changed', () => {
    mkdirSync(join(dir, 'scripts'));
    mkdirSync(join(dir, 'src'));
    copyFileSync(join(ROOT, 'scripts/build.mjs'), join(dir, 'scripts/build.mjs'));
    copyFileSync(join(ROOT, '.swcrc'), join(dir, '.swcrc'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, 'src/main.ts'), 'export const answer: number = 41;\n');

    expect(build()).toEqual({ code: 0, stderr: expect.stringMatching(/compiled src\/ into dist\/.*sources changed/) });
    expect(readFileSync(join(dir, 'dist/main.js'), 'utf8')).toContain('41');
    // Unchanged: no compile, nothing printed, the output left as it was (a marker survives).
    writeFileSync(join(dir, 'dist/marker'), '');
    expect(build()).toEqual({ code: 0, stderr: '' });
    expect(existsSync(join(dir, 'dist/marker'))).toBe(true);
    // A changed source compiles afresh.
    writeFileSync(join(dir, 'src/main.ts'), 'export const answer: number = 42;\n');
    expect(build()).toEqual({ code: 0, stderr: expect.stringMatching(/sources changed/) });
    expect(readFileSync(join(dir, 'dist/main.js'), 'utf8')).toContain('42');
    expect(existsSync(join(dir, 'dist/marker'))).toBe(false);
  });
});
