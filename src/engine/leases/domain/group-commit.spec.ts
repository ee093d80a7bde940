import { GroupCommit, KeyedGroupCommit, oneByOne, type ItemResult } from './group-commit.js';

/** A serve function whose batches end when the test says so. */
function controlled<I>() {
  const calls: { items: I[]; finish: (r: ItemResult<string>[] | Error) => void }[] = [];
  const serve = (items: I[]) =>
    new Promise<ItemResult<string>[]>((resolve, reject) => {
      calls.push({ items, finish: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
    });
  return { calls, serve };
}
const ok = (v: string): ItemResult<string> => ({ ok: true, value: v });
const flush = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('serves a lone item at once, as a batch of one', async () => {
    const { calls, serve } = controlled<number>();
    const g = new GroupCommit(serve);
    const p = g.submit(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.items).toEqual([1]);
    calls[0]!.finish([ok('one')]);
    await expect(p).resolves.toBe('one');
    expect(g.inFlight).toBe(false);
  });

  it('queues items while a batch is in flight and serves them together when it ends, each with its own result', async () => {
    const { calls, serve } = controlled<number>();
    const g = new GroupCommit(serve);
    const first = g.submit(1);
    const rest = [2, 3, 4].map((i) => g.submit(i));
    expect(calls).toHaveLength(1);
    expect(g.waiting).toBe(3);
    calls[0]!.finish([ok('a')]);
    await expect(first).resolves.toBe('a');
    await flush();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.items).toEqual([2, 3, 4]);
    calls[1]!.finish([ok('b'), { ok: false, error: new Error('stale') }, ok('d')]);
    const settled = await Promise.allSettled(rest);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason.message).toBe('stale');
    expect(g.batches).toBe(2);
    expect(g.items).toBe(4);
  });

  it('caps a batch at maxItems, the rest going to the next batch in arrival order', async () => {
    const { calls, serve } = controlled<number>();
    const g = new GroupCommit(serve, 2);
    const all = [1, 2, 3, 4, 5].map((i) => g.submit(i));
    calls[0]!.finish([ok('1')]);
    await flush();
    expect(calls[1]!.items).toEqual([2, 3]);
    calls[1]!.finish([ok('2'), ok('3')]);
    await flush();
    expect(calls[2]!.items).toEqual([4, 5]);
    calls[2]!.finish([ok('4'), ok('5')]);
    await expect(Promise.all(all)).resolves.toEqual(['1', '2', '3', '4', '5']);
  });

  it('fails every item of a batch whose serve threw, and goes on with the next batch', async () => {
    const { calls, serve } = controlled<number>();
    const g = new GroupCommit(serve);
    const a = g.submit(1);
    const b = g.submit(2);
    calls[0]!.finish(new Error('connection lost'));
    await expect(a).rejects.toThrow('connection lost');
    await flush();
    calls[1]!.finish([ok('two')]);
    await expect(b).resolves.toBe('two');
  });

  it('fails an item the serve function left without a result instead of leaving it hanging', async () => {
    const { calls, serve } = controlled<number>();
    const g = new GroupCommit(serve);
    const a = g.submit(1);
    calls[0]!.finish([]);
    await expect(a).rejects.toThrow('no result');
  });

  it('survives a serve function that throws synchronously', async () => {
    const g = new GroupCommit<number, string>(() => {
      throw new Error('sync');
    });
    await expect(g.submit(1)).rejects.toThrow('sync');
    expect(g.inFlight).toBe(false);
  });
});

describe('GroupCommit with two batches in flight', () => {
  it('starts a second batch at once while one is in flight, and queues behind both', async () => {
    const { calls, serve } = controlled<number>();
    const g = new GroupCommit(serve, 64, undefined, undefined, 2);
    const all = [1, 2, 3, 4].map((i) => g.submit(i));
    expect(calls.map((c) => c.items)).toEqual([[1], [2]]);
    expect(g.waiting).toBe(2);
    calls[1]!.finish([ok('2')]);
    await flush();
    expect(calls[2]!.items).toEqual([3, 4]);
    calls[0]!.finish([ok('1')]);
    calls[2]!.finish([ok('3'), ok('4')]);
    await expect(Promise.all(all)).resolves.toEqual(['1', '2', '3', '4']);
    await flush();
    expect(g.inFlight).toBe(false);
  });
});

describe('KeyedGroupCommit', () => {
  it('batches per key, never across keys, and forgets idle keys', async () => {
    const { calls, serve } = controlled<string>();
    const k = new KeyedGroupCommit(serve);
    const a1 = k.submit('q1', 'a1');
    const b1 = k.submit('q2', 'b1');
    const a2 = k.submit('q1', 'a2');
    expect(calls.map((c) => c.items)).toEqual([['a1'], ['b1']]);
    calls[0]!.finish([ok('A1')]);
    calls[1]!.finish([ok('B1')]);
    await flush();
    expect(calls[2]!.items).toEqual(['a2']);
    calls[2]!.finish([ok('A2')]);
    await expect(Promise.all([a1, b1, a2])).resolves.toEqual(['A1', 'B1', 'A2']);
    await flush();
    expect(k.size).toBe(0);
  });
});

describe('oneByOne', () => {
  it('gives each item its own result', async () => {
    const r = await oneByOne([1, 2, 3], async (i) => {
      if (i === 2) throw new Error('two');
      return i * 10;
    });
    expect(r.map((x) => (x.ok ? x.value : (x.error as Error).message))).toEqual([10, 'two', 30]);
  });
});
