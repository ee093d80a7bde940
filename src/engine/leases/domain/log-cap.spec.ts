import { describe, expect, it } from '@jest/globals';
import { LogCapTracker, logBytes, markerLine, parseMarker } from './log-cap.js';

describe('task log cap', () => {
  it('writes a marker that reads back as the totals it states', () => {
    const line = markerLine({ lines: 1200, bytes: 98_765 }, 100_000);
    expect(line).toBe("[weft] 1200 earlier line(s), 98765 bytes, dropped: this try's log is over WEFT_TASK_LOG_MAX_BYTES_PER_TRY (100000 bytes)");
    expect(parseMarker(line)).toEqual({ lines: 1200, bytes: 98_765 });
    expect(parseMarker('an ordinary line')).toEqual({ lines: 0, bytes: 0 });
    expect(parseMarker(undefined)).toEqual({ lines: 0, bytes: 0 });
  });

  it('counts UTF-8 bytes', () => {
    expect(logBytes([{ line: 'abc' }, { line: 'é' }])).toBe(5);
  });

  it('asks for a measurement after every tenth of the cap appended to one try', () => {
    const sut = new LogCapTracker(1000);
    expect(sut.threshold).toBe(100);
    expect(sut.add('t1', 60)).toBe(false);
    expect(sut.add('t2', 60)).toBe(false);
    expect(sut.add('t1', 40)).toBe(true);
    expect(sut.add('t1', 40)).toBe(false);
    expect(sut.add('t2', 40)).toBe(true);
  });

  it('forgets the oldest tries beyond its size', () => {
    const sut = new LogCapTracker(1000, 2);
    sut.add('a', 90);
    sut.add('b', 90);
    sut.add('c', 90);
    expect(sut.add('a', 10)).toBe(false);
    expect(sut.add('c', 10)).toBe(true);
  });
});
