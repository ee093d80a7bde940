import { describe, expect, it } from '@jest/globals';
import { parseQueuedPayload, shareToPassOn, Waiter, WaiterRegistry } from './waiters.js';

function waiter(reg: WaiterRegistry, queues: string[], capacity = 1, slotWaiter = false): { w: Waiter; woken: () => number } {
  let calls = 0;
  const w = new Waiter(queues, capacity, slotWaiter, () => calls++);
  reg.add(w);
  return { w, woken: () => calls };
}

describe('WaiterRegistry', () => {
  it('wakes the longest-waiting requests of the queue until their capacities cover the queued tasks', () => {
    const reg = new WaiterRegistry();
    const a = waiter(reg, ['q'], 1);
    const b = waiter(reg, ['q'], 10);
    const c = waiter(reg, ['q'], 1);
    const other = waiter(reg, ['r'], 1);
    expect(reg.queued('q', 1)).toBe(1);
    expect([a.woken(), b.woken(), c.woken(), other.woken()]).toEqual([1, 0, 0, 0]);
    expect(a.w).toMatchObject({ share: 1, wokenBy: 'q' });
    // 5 tasks: b (capacity 10) covers them all.
    expect(reg.queued('q', 5)).toBe(1);
    expect(b.w.share).toBe(5);
    expect(c.woken()).toBe(0);
    expect(reg.size).toBe(2);
  });

  it('wakes every waiter of the queue when the count is unknown', () => {
    const reg = new WaiterRegistry();
    const all = [waiter(reg, ['q']), waiter(reg, ['q', 'r']), waiter(reg, ['q'])];
    expect(reg.queued('q', Infinity)).toBe(3);
    expect(all.map((x) => x.woken())).toEqual([1, 1, 1]);
    expect(reg.size).toBe(0);
  });

  it('a waiter on several queues is woken once and leaves all of them', () => {
    const reg = new WaiterRegistry();
    const both = waiter(reg, ['q', 'r']);
    const onlyR = waiter(reg, ['r']);
    reg.queued('q', 1);
    reg.queued('r', 1);
    expect([both.woken(), onlyR.woken()]).toEqual([1, 1]);
  });

  it('a freed slot wakes only the requests a limit held back; a lost connection wakes everyone', () => {
    const reg = new WaiterRegistry();
    const held = waiter(reg, ['q'], 3, true);
    const idle = waiter(reg, ['q']);
    expect(reg.slotFreed()).toBe(1);
    expect([held.woken(), idle.woken()]).toEqual([1, 0]);
    expect(held.w).toMatchObject({ share: 3, wokenBy: null });
    expect(reg.all()).toBe(1);
    expect(idle.woken()).toBe(1);
    expect(reg.size).toBe(0);
  });

  it('a waiter whose claim a limit held back after it subscribed is woken by the next freed slot (holdForSlots)', () => {
    const reg = new WaiterRegistry();
    const first = waiter(reg, ['q']);
    const other = waiter(reg, ['q']);
    reg.holdForSlots(first.w);
    expect([first.w.slotWaiter, first.woken()]).toEqual([true, 0]);
    expect(reg.slotFreed()).toBe(1);
    expect([first.woken(), other.woken()]).toEqual([1, 0]);
    expect(reg.size).toBe(1);
  });

  it('a slot freed while the waiter was claiming wakes it as soon as it is held back, not a look later', () => {
    const reg = new WaiterRegistry();
    const w = waiter(reg, ['q']);
    reg.slotFreed(); // while its claim ran: it was not yet waiting for slots
    reg.holdForSlots(w.w);
    expect(w.woken()).toBe(1);
    expect(w.w).toMatchObject({ share: 1, wokenBy: null });
    expect(reg.size).toBe(0);
    // Already woken (or taken for a hand-off): nothing changes.
    reg.holdForSlots(w.w);
    expect(w.woken()).toBe(1);
  });

  it('a removed waiter is not woken', () => {
    const reg = new WaiterRegistry();
    const gone = waiter(reg, ['q']);
    const next = waiter(reg, ['q']);
    reg.remove(gone.w);
    reg.queued('q', 1);
    expect([gone.woken(), next.woken()]).toEqual([0, 1]);
  });
});

describe('shareToPassOn', () => {
  it('hands the whole share on when the claim came back full (other work may have answered it)', () => {
    expect(shareToPassOn({ share: 1, claimed: 1, capacity: 1, filtered: false })).toBe(1);
    expect(shareToPassOn({ share: 4, claimed: 10, capacity: 10, filtered: false })).toBe(4);
  });

  it('a filtered claim that took less than its share hands the rest on; an unfiltered one saw the queue drained', () => {
    expect(shareToPassOn({ share: 3, claimed: 1, capacity: 5, filtered: true })).toBe(2);
    expect(shareToPassOn({ share: 3, claimed: 1, capacity: 5, filtered: false })).toBe(0);
    expect(shareToPassOn({ share: 3, claimed: 0, capacity: 5, filtered: false })).toBe(0);
  });

  it('nothing to hand on without a wake-up', () => {
    expect(shareToPassOn({ share: 0, claimed: 1, capacity: 1, filtered: true })).toBe(0);
  });
});

describe('parseQueuedPayload', () => {
  it('reads `<queue>:<count>`; a bare queue name has an unknown count', () => {
    expect(parseQueuedPayload('etl:3')).toEqual({ queue: 'etl', n: 3 });
    expect(parseQueuedPayload('default')).toEqual({ queue: 'default', n: Infinity });
    expect(parseQueuedPayload('a.b-c_1:12')).toEqual({ queue: 'a.b-c_1', n: 12 });
  });
});

describe('WaiterRegistry hand-offs', () => {
  it('takes the longest-waiting request in its wait on any of the queues, out of the registry', () => {
    const reg = new WaiterRegistry();
    const claiming = waiter(reg, ['q']); // subscribed, still claiming: not in its wait
    const r = waiter(reg, ['r']);
    const q = waiter(reg, ['q']);
    r.w.waiting = true;
    q.w.waiting = true;
    expect(reg.take(['q', 's'])).toBe(q.w);
    expect(q.w.reserved).toBe(true);
    // Taken: a notification no longer wakes it.
    expect(reg.queued('q', 5)).toBe(1);
    expect([claiming.woken(), q.woken()]).toEqual([1, 0]);
    expect(reg.take(['q', 'r'])).toBe(r.w);
    expect(reg.take(['q', 'r'])).toBeNull();
  });

  it('lists the queues with an eligible request in its wait', () => {
    const reg = new WaiterRegistry<{ filtered: boolean }>();
    const claiming = new Waiter(['a'], 1, false, () => undefined, { filtered: false });
    const filtered = new Waiter(['b'], 1, false, () => undefined, { filtered: true });
    const both = new Waiter(['c', 'd'], 1, false, () => undefined, { filtered: false });
    for (const w of [claiming, filtered, both]) reg.add(w);
    filtered.waiting = both.waiting = true;
    expect(reg.waitingQueues((w) => !w.request?.filtered).sort()).toEqual(['c', 'd']);
    expect(reg.waitingQueues().sort()).toEqual(['b', 'c', 'd']);
  });

  it('skips requests the caller finds ineligible', () => {
    const reg = new WaiterRegistry<{ filtered: boolean }>();
    const a = new Waiter(['q'], 1, false, () => undefined, { filtered: true });
    const b = new Waiter(['q'], 1, false, () => undefined, { filtered: false });
    reg.add(a);
    reg.add(b);
    a.waiting = b.waiting = true;
    expect(reg.take(['q'], (w) => !w.request?.filtered)).toBe(b);
    expect(reg.size).toBe(1);
  });

  it('settles with the claimed tasks, or with a plain wake-up when there are none', () => {
    const reg = new WaiterRegistry<unknown, string>();
    const calls: string[] = [];
    const a = new Waiter<unknown, string>(['q'], 3, false, () => calls.push('a'));
    const b = new Waiter<unknown, string>(['q'], 3, false, () => calls.push('b'));
    reg.add(a);
    reg.add(b);
    a.waiting = b.waiting = true;
    reg.settle(reg.take(['q'])!, ['t1', 't2']);
    expect(a).toMatchObject({ reserved: false, handed: ['t1', 't2'], share: 2, wokenBy: null });
    reg.settle(reg.take(['q'])!, null);
    expect(b).toMatchObject({ reserved: false, handed: null, share: 3 });
    expect(calls).toEqual(['a', 'b']);
  });
});
