import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { WakeTicket } from './wake-ticket.js';
import { WaiterRegistry } from './waiters.js';

type Claim = { workerId: string };
type Task = { leaseId: string };
const claim: Claim = { workerId: 'w' };
const task: Task = { leaseId: 'l1' };
// The wait's timer runs on Jest's fake clock: time passes only when a test moves it, however slow the machine.
const sleep = (ms: number) => jest.advanceTimersByTimeAsync(ms);
beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('WakeTicket', () => {
  it('a wait that times out while a hand-off holds it lasts until that hand-off settles, and gets its tasks', async () => {
    const reg = new WaiterRegistry<Claim, Task>();
    const ticket = new WakeTicket(reg, ['q'], 1, false, claim);
    let done: boolean | undefined;
    const waiting = ticket.wait(30).then((r) => (done = r));
    await sleep(5);
    expect(reg.take(['q'])).toBe(ticket.waiter);
    await sleep(60);
    expect(done).toBeUndefined();
    reg.settle(ticket.waiter, [task]);
    await waiting;
    expect(done).toBe(true);
    expect(ticket.waiter.handed).toEqual([task]);
  });

  it('a wait that ended is not taken for a hand-off', async () => {
    const reg = new WaiterRegistry<Claim, Task>();
    const ticket = new WakeTicket(reg, ['q'], 1, false, claim);
    expect(reg.take(['q'])).toBeNull(); // still claiming: not in its wait yet
    const waited = ticket.wait(5);
    await sleep(5);
    expect(await waited).toBe(false);
    expect(reg.take(['q'])).toBeNull();
    ticket.cancel();
    expect(reg.size).toBe(0);
  });

  it('an aborted wait that a hand-off holds also waits for it', async () => {
    const reg = new WaiterRegistry<Claim, Task>();
    const ticket = new WakeTicket(reg, ['q'], 1, false, claim);
    const abort = new AbortController();
    const waiting = ticket.wait(10_000, abort.signal);
    await sleep(1);
    reg.take(['q']);
    abort.abort();
    await sleep(5);
    reg.settle(ticket.waiter, null);
    expect(await waiting).toBe(true);
    expect(ticket.waiter).toMatchObject({ handed: null, share: 1 });
  });
});
