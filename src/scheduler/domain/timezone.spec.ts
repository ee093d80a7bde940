import { describe, expect, it } from '@jest/globals';
import { firstTransitionAfter, offsetAt, resolveWallTime, validateTimezone, wallClockAt } from './timezone.js';

const at = (iso: string): number => Date.parse(iso);
const HOUR = 3600_000;

describe('validateTimezone', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'])('accepts %s', (tz) => {
    expect(validateTimezone(tz)).toBeNull();
  });

  it.each([
    ['Mars/Base', "unknown IANA timezone 'Mars/Base'"],
    ['', "unknown IANA timezone ''"],
    ['Europe/Berlin ', "unknown IANA timezone 'Europe/Berlin '"],
    ['+05:00', "unknown IANA timezone '+05:00': use a zone name such as 'Europe/Berlin'"],
    ['+05:30', "unknown IANA timezone '+05:30': use a zone name such as 'Europe/Berlin'"],
    ['-03:00', "unknown IANA timezone '-03:00': use a zone name such as 'Europe/Berlin'"],
    ['UTC+5', "unknown IANA timezone 'UTC+5'"],
  ])('rejects %j', (tz, message) => {
    expect(validateTimezone(tz)).toBe(message);
  });
});

describe('zone names as ICU reads them (docs/scheduling.md, "Time zones and daylight saving time")', () => {
  it.each([
    ['europe/amsterdam', 'Europe/Amsterdam'],
    ['utc', 'UTC'],
    ['US/Eastern', 'America/New_York'],
    ['Asia/Calcutta', 'Asia/Kolkata'],
  ])('accepts %s, the same zone as %s', (alias, zone) => {
    expect(validateTimezone(alias)).toBeNull();
    for (const iso of ['2024-01-15T12:00Z', '2024-07-15T12:00Z']) expect(offsetAt(alias, at(iso))).toBe(offsetAt(zone, at(iso)));
    expect(resolveWallTime(alias, at('2024-03-31T02:30Z'))).toEqual(resolveWallTime(zone, at('2024-03-31T02:30Z')));
  });
});

describe('offsetAt / wallClockAt', () => {
  it.each([
    ['UTC', '2024-07-01T12:00Z', 0],
    ['America/New_York', '2024-01-15T12:00Z', -5 * HOUR],
    ['America/New_York', '2024-07-15T12:00Z', -4 * HOUR],
    ['Europe/Berlin', '2024-01-15T12:00Z', 1 * HOUR],
    ['Europe/Berlin', '2024-07-15T12:00Z', 2 * HOUR],
    ['Asia/Kolkata', '2024-07-15T12:00Z', 5.5 * HOUR],
  ])('%s at %s', (tz, iso, offset) => {
    expect(offsetAt(tz, at(iso))).toBe(offset);
    expect(wallClockAt(tz, at(iso))).toBe(at(iso) + offset);
  });

  it('ignores milliseconds of the instant', () => {
    expect(offsetAt('America/New_York', at('2024-01-15T12:00:00.999Z'))).toBe(-5 * HOUR);
  });
});

describe('resolveWallTime', () => {
  it.each([
    ['America/New_York', '2024-03-10T02:30Z', { kind: 'skipped', gapEndsAt: at('2024-03-10T07:00Z') }],
    ['America/New_York', '2024-03-10T02:00Z', { kind: 'skipped', gapEndsAt: at('2024-03-10T07:00Z') }],
    ['America/New_York', '2024-03-10T03:00Z', { kind: 'unique', instant: at('2024-03-10T07:00Z') }],
    ['America/New_York', '2024-11-03T01:30Z', {
      kind: 'repeated', first: at('2024-11-03T05:30Z'), second: at('2024-11-03T06:30Z'),
    }],
    ['America/New_York', '2024-11-03T02:00Z', { kind: 'unique', instant: at('2024-11-03T07:00Z') }],
    ['Europe/Berlin', '2024-03-31T02:30Z', { kind: 'skipped', gapEndsAt: at('2024-03-31T01:00Z') }],
    ['Europe/Berlin', '2024-10-27T02:30Z', {
      kind: 'repeated', first: at('2024-10-27T00:30Z'), second: at('2024-10-27T01:30Z'),
    }],
    ['Asia/Kolkata', '2024-03-31T02:30Z', { kind: 'unique', instant: at('2024-03-30T21:00Z') }],
    ['UTC', '2024-03-31T02:30Z', { kind: 'unique', instant: at('2024-03-31T02:30Z') }],
  ])('%s wall %s', (tz, wall, expected) => {
    expect(resolveWallTime(tz, at(wall))).toEqual(expected);
  });
});

describe('firstTransitionAfter', () => {
  it('finds the spring-forward change in New York', () => {
    expect(firstTransitionAfter('America/New_York', at('2024-01-01T00:00Z'), at('2024-12-31T00:00Z'))).toEqual({
      at: at('2024-03-10T07:00Z'),
      before: -5 * HOUR,
      after: -4 * HOUR,
    });
  });

  it('finds the fall-back change in Berlin across a year boundary search', () => {
    expect(firstTransitionAfter('Europe/Berlin', at('2024-04-01T00:00Z'), at('2025-02-01T00:00Z'))).toEqual({
      at: at('2024-10-27T01:00Z'),
      before: 2 * HOUR,
      after: 1 * HOUR,
    });
  });

  it('excludes a change exactly at the start and includes one exactly at the end', () => {
    const change = at('2024-03-10T07:00Z');
    expect(firstTransitionAfter('America/New_York', change, change + HOUR)).toBeNull();
    expect(firstTransitionAfter('America/New_York', change - HOUR, change)?.at).toBe(change);
  });

  it.each(['UTC', 'Asia/Kolkata'])('finds none in %s', (tz) => {
    expect(firstTransitionAfter(tz, at('2023-01-01T00:00Z'), at('2025-01-01T00:00Z'))).toBeNull();
  });
});
