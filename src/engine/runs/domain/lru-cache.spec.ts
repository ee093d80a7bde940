import { describe, expect, it } from '@jest/globals';
import { LruCache } from './lru-cache.js';

describe('LruCache', () => {
  it('evicts the least recently used entry, not the first inserted', () => {
    const cache = new LruCache<number, string>(2);
    cache.set(1, 'a');
    cache.set(2, 'b');
    expect(cache.get(1)).toBe('a'); // 1 is now the most recent
    cache.set(3, 'c');
    expect(cache.get(2)).toBeUndefined();
    expect(cache.get(1)).toBe('a');
    expect(cache.get(3)).toBe('c');
    expect(cache.size).toBe(2);
  });

  it('keeps a working set that fits, however often it cycles (a FIFO of the same size would too, but not one item more)', () => {
    const cache = new LruCache<number, number>(3);
    for (let round = 0; round < 5; round++) for (const k of [1, 2, 3]) if (cache.get(k) === undefined) cache.set(k, round);
    expect([1, 2, 3].map((k) => cache.get(k))).toEqual([0, 0, 0]);
  });

  it('replacing a key does not grow it', () => {
    const cache = new LruCache<string, number>(1);
    cache.set('x', 1);
    cache.set('x', 2);
    expect(cache.size).toBe(1);
    expect(cache.get('x')).toBe(2);
    expect(() => new LruCache(0)).toThrow();
  });
});
