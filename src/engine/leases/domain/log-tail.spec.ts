import { describe, expect, it } from '@jest/globals';
import { LogTail, type TailLine } from './log-tail.js';

const line = (id: number): TailLine => ({ id: String(id), tryNumber: 1, line: `line ${id}`, stream: 'stdout', at: new Date(0) });

/** A log in memory: `read` answers the lines after a cursor, as the repository does. */
function memoryLog() {
  const lines: TailLine[] = [];
  const reads: string[] = [];
  return {
    lines,
    reads,
    append: (...ids: number[]) => lines.push(...ids.map(line)),
    read: async (after: string, limit: number) => {
      reads.push(after);
      return lines.filter((l) => Number(l.id) > Number(after)).slice(0, limit);
    },
  };
}

describe(LogTail.name, () => {
  it('hands over the lines after its cursor, then waits for a poke and continues from the last line handed over', async () => {
    const log = memoryLog();
    log.append(1, 2, 3);
    const sut = new LogTail(log.read, '1', 100, () => undefined);
    expect((await sut.next()).value).toEqual({ lines: [line(2), line(3)], lastId: '3' });
    const pending = sut.next();
    log.append(4);
    sut.poke();
    expect((await pending).value).toEqual({ lines: [line(4)], lastId: '4' });
  });

  it('reads a long log a page at a time', async () => {
    const log = memoryLog();
    log.append(1, 2, 3, 4, 5);
    const sut = new LogTail(log.read, '0', 2, () => undefined);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(...(await sut.next()).value!.lines.map((l: TailLine) => l.id));
    expect(ids).toEqual(['1', '2', '3', '4', '5']);
  });

  it('does not read while nobody waits (a poke then only marks it), and reads once when the consumer comes back', async () => {
    const log = memoryLog();
    log.append(1);
    const sut = new LogTail(log.read, '0', 100, () => undefined);
    await sut.next();
    const before = log.reads.length;
    log.append(2);
    sut.poke();
    sut.poke();
    expect(log.reads.length).toBe(before);
    expect((await sut.next()).value!.lastId).toBe('2');
    expect(log.reads.length).toBe(before + 1);
  });

  it('ends when its consumer leaves, and tells its owner', async () => {
    const log = memoryLog();
    let ended = 0;
    const sut = new LogTail(log.read, '0', 100, () => ended++);
    const pending = sut.next();
    await sut.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(ended).toBe(1);
    expect((await sut.next()).done).toBe(true);
  });

  it('passes a failed read to the consumer and ends', async () => {
    let ended = 0;
    const sut = new LogTail(async () => Promise.reject(new Error('db down')), '0', 100, () => ended++);
    await expect(sut.next()).rejects.toThrow('db down');
    expect(ended).toBe(1);
  });
});
