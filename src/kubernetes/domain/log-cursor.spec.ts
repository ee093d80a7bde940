import { describe, expect, it } from '@jest/globals';
import { isAfterCursor, sinceTime, splitTimestamp, timestampNanos } from './log-cursor.js';

describe('log cursor', () => {
  it('reads RFC 3339 timestamps with trimmed nanoseconds', () => {
    expect(timestampNanos('2024-01-15T06:00:00Z')).toBe(1_705_298_400_000_000_000n);
    expect(timestampNanos('2024-01-15T06:00:00.5Z')).toBe(1_705_298_400_500_000_000n);
    expect(timestampNanos('2024-01-15T06:00:00.000000001Z')).toBe(1_705_298_400_000_000_001n);
    expect(timestampNanos('2024-01-15T07:00:00+01:00')).toBe(1_705_298_400_000_000_000n);
    expect(timestampNanos('hello')).toBeNull();
  });

  it('splits a line into its timestamp and text', () => {
    expect(splitTimestamp('2024-01-15T06:00:00.12Z hello world')).toEqual({ ts: '2024-01-15T06:00:00.12Z', text: 'hello world' });
    expect(splitTimestamp('2024-01-15T06:00:00.12Z ')).toEqual({ ts: '2024-01-15T06:00:00.12Z', text: '' });
    expect(splitTimestamp('no timestamp here')).toEqual({ ts: null, text: 'no timestamp here' });
  });

  it('compares by time, not by text (trimmed zeros make text order wrong)', () => {
    expect(isAfterCursor('2024-01-15T06:00:00.5Z', '2024-01-15T06:00:00.45Z')).toBe(true);
    expect(isAfterCursor('2024-01-15T06:00:00.45Z', '2024-01-15T06:00:00.5Z')).toBe(false);
    expect(isAfterCursor('2024-01-15T06:00:00.5Z', '2024-01-15T06:00:00.5Z')).toBe(false);
    expect(isAfterCursor('2024-01-15T06:00:00.5Z', null)).toBe(true);
    expect(isAfterCursor(null, '2024-01-15T06:00:00.5Z')).toBe(true);
  });

  it('resumes from the cursor second', () => {
    expect(sinceTime('2024-01-15T06:00:07.999999999Z')).toBe('2024-01-15T06:00:07Z');
    expect(sinceTime(null)).toBeUndefined();
  });
});
