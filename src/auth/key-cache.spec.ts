import { KeyCache } from './key-cache.js';

describe('KeyCache', () => {
  it('returns what was stored until it expires', () => {
    const c = new KeyCache<string>(1000, 10);
    c.set('a', 'A', c.generation, 0);
    expect(c.get('a', 999)).toBe('A');
    expect(c.get('a', 1000)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('is off with a zero ttl', () => {
    const c = new KeyCache<string>(0, 10);
    c.set('a', 'A', c.generation, 0);
    expect(c.enabled).toBe(false);
    expect(c.get('a', 0)).toBeUndefined();
  });

  it('evicts the least recently used entry beyond its size', () => {
    const c = new KeyCache<string>(1000, 2);
    c.set('a', 'A', c.generation, 0);
    c.set('b', 'B', c.generation, 0);
    expect(c.get('a', 1)).toBe('A'); // a is now the most recent
    c.set('c', 'C', c.generation, 0);
    expect(c.get('b', 1)).toBeUndefined();
    expect(c.get('a', 1)).toBe('A');
    expect(c.get('c', 1)).toBe('C');
  });

  it('drops invalidated entries and refuses a lookup that began before the invalidation', () => {
    const c = new KeyCache<{ id: string }>(1000, 10);
    c.set('a', { id: '1' }, c.generation, 0);
    c.set('b', { id: '2' }, c.generation, 0);
    const before = c.generation; // a lookup of key 1 starts here…
    c.invalidate((v) => v.id === '1'); // …a revocation is heard meanwhile…
    expect(c.get('a', 1)).toBeUndefined();
    expect(c.get('b', 1)).toEqual({ id: '2' });
    c.set('a', { id: '1' }, before, 1); // …and its (possibly stale) answer is not kept
    expect(c.get('a', 2)).toBeUndefined();
    c.set('a', { id: '1' }, c.generation, 2);
    expect(c.get('a', 3)).toEqual({ id: '1' });
  });
});
