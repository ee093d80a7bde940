import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';

/**
 * The `weft` command keeps V8's young generation small while it boots and gives the boot's memory back before it
 * listens (src/common/heap.ts, docs/operations.md#memory). Both work through V8 flags set at run time, which a Node
 * upgrade could turn into no-ops without an error: this runs the compiled functions in a Node process of their own
 * (the flags are process-wide) against the allocation pattern of a boot (much garbage, some of it kept) and checks
 * what V8 reports of its heap spaces, not timings or RSS.
 */
const HEAP = new URL('../../dist/common/heap.js', import.meta.url).href;

const CHILD = `
import v8 from 'node:v8';
const heap = await import(${JSON.stringify(HEAP)});
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const churn = (n) => { let kept = []; for (let i = 0; i < n; i++) { kept.push({ i, s: 'x'.repeat(20) }); if (kept.length > 20000) kept = []; } return kept.length; };
heap.holdYoungGeneration();
const live = []; for (let i = 0; i < 200000; i++) live.push({ i, a: [i] });
churn(2e6);
const held = newSpace();
const before = v8.getHeapStatistics().total_heap_size;
heap.releaseBootMemory();
const given = before - v8.getHeapStatistics().total_heap_size;
const gcGlobal = typeof globalThis.gc;
churn(4e6);
console.log(JSON.stringify({ held, given, gcGlobal, grown: newSpace(), live: live.length }));
`;

describe('boot memory (src/common/heap.ts)', () => {
  it('holds the young generation while booting, gives the boot garbage back, then lets it grow again', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the child process failed (${r.status}): ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { held: number; given: number; gcGlobal: string; grown: number; live: number };
    // Held: at most twice V8's initial 1 MB semi-space while 2 million short-lived objects go by (unheld: 32 MB).
    expect(out.held).toBeLessThanOrEqual(4 * 1024 * 1024);
    // The two compacting collections gave heap back, and left no `gc` on the process's global.
    expect(out.given).toBeGreaterThan(0);
    expect(out.gcGlobal).toBe('undefined');
    // Released: the same churn grows the young generation again, as V8 does by itself.
    expect(out.grown).toBeGreaterThanOrEqual(4 * out.held);
    expect(out.live).toBe(200000);
  });
});
