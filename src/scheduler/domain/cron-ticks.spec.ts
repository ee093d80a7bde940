import { describe, expect, it } from '@jest/globals';
import { cronTicker } from './cron-ticks.js';
import { parseSchedule, type CronSchedule } from './schedule.js';

const NY = 'America/New_York';
const BERLIN = 'Europe/Berlin';

function cron(expression: string): CronSchedule {
  const schedule = parseSchedule(expression);
  if (schedule.kind !== 'cron') throw new Error(`${expression} is not a cron schedule`);
  return schedule;
}

/** The ticks after `from`, strictly after it, up to and including `until`. */
function ticksBetween(expression: string, timezone: string, from: string, until: string): string[] {
  const tickAfter = cronTicker(cron(expression), timezone);
  const ticks: string[] = [];
  for (let tick = tickAfter(Date.parse(from)); tick <= Date.parse(until); tick = tickAfter(tick)) {
    ticks.push(new Date(tick).toISOString().replace(':00.000Z', 'Z'));
  }
  return ticks;
}

function firstTicks(expression: string, timezone: string, from: string, count: number): string[] {
  const tickAfter = cronTicker(cron(expression), timezone);
  const ticks: string[] = [];
  for (let tick = tickAfter(Date.parse(from)); ticks.length < count; tick = tickAfter(tick)) {
    ticks.push(new Date(tick).toISOString().replace(':00.000Z', 'Z'));
  }
  return ticks;
}

describe('cronTicker', () => {
  describe('without DST', () => {
    it.each([
      ['0 * * * *', 'UTC', '2024-01-15T10:20Z', ['2024-01-15T11:00Z', '2024-01-15T12:00Z']],
      ['0 6 * * *', 'UTC', '2024-01-15T06:00Z', ['2024-01-16T06:00Z', '2024-01-17T06:00Z']],
      ['0 6 * * *', 'Asia/Kolkata', '2024-01-15T00:00Z', ['2024-01-15T00:30Z', '2024-01-16T00:30Z']],
      ['0 0 * * 1', 'Asia/Kolkata', '2024-01-01T00:00Z', ['2024-01-07T18:30Z', '2024-01-14T18:30Z']],
      ['0 0 1 * *', 'UTC', '2024-01-15T00:00Z', ['2024-02-01T00:00Z', '2024-03-01T00:00Z']],
      ['0 0 L * *', 'UTC', '2024-01-15T00:00Z', ['2024-01-31T00:00Z', '2024-02-29T00:00Z']],
      ['0 0 13 * 5', 'UTC', '2024-09-01T00:00Z', ['2024-09-06T00:00Z', '2024-09-13T00:00Z', '2024-09-20T00:00Z']],
    ])('%s in %s after %s', (expression, timezone, from, expected) => {
      expect(firstTicks(expression, timezone, from, expected.length)).toEqual(expected);
    });
  });

  // New York: 2024-03-10 02:00 EST -> 03:00 EDT (07:00Z); 2024-11-03 02:00 EDT -> 01:00 EST (06:00Z).
  // Berlin:   2024-03-31 02:00 CET -> 03:00 CEST (01:00Z); 2024-10-27 03:00 CEST -> 02:00 CET (01:00Z).
  describe('wall-clock schedules across DST: each local time runs once', () => {
    it.each([
      // Spring forward: 02:30 does not exist and runs when the gap ends (03:00 local).
      ['30 2 * * *', NY, '2024-03-09T00:00Z', ['2024-03-09T07:30Z', '2024-03-10T07:00Z', '2024-03-11T06:30Z']],
      ['0 2 * * *', NY, '2024-03-09T00:00Z', ['2024-03-09T07:00Z', '2024-03-10T07:00Z', '2024-03-11T06:00Z']],
      ['30 1 * * *', NY, '2024-03-09T00:00Z', ['2024-03-09T06:30Z', '2024-03-10T06:30Z', '2024-03-11T05:30Z']],
      ['30 2 * * *', BERLIN, '2024-03-30T00:00Z', ['2024-03-30T01:30Z', '2024-03-31T01:00Z', '2024-04-01T00:30Z']],
      ['30 1 * * *', BERLIN, '2024-03-30T00:00Z', ['2024-03-30T00:30Z', '2024-03-31T00:30Z', '2024-03-31T23:30Z']],
      // Fall back: 01:30 (New York) and 02:30 (Berlin) happen twice and run at the first (summer-time) one.
      ['30 1 * * *', NY, '2024-11-02T00:00Z', ['2024-11-02T05:30Z', '2024-11-03T05:30Z', '2024-11-04T06:30Z']],
      ['30 2 * * *', NY, '2024-11-02T00:00Z', ['2024-11-02T06:30Z', '2024-11-03T07:30Z', '2024-11-04T07:30Z']],
      ['30 2 * * *', BERLIN, '2024-10-26T00:00Z', ['2024-10-26T00:30Z', '2024-10-27T00:30Z', '2024-10-28T01:30Z']],
      ['30 1 * * *', BERLIN, '2024-10-25T12:00Z', ['2024-10-25T23:30Z', '2024-10-26T23:30Z', '2024-10-28T00:30Z']],
      // Several local times falling into one gap collapse into a single run when it ends.
      ['0,30 2,3 * * *', BERLIN, '2024-03-31T00:00Z', ['2024-03-31T01:00Z', '2024-03-31T01:30Z', '2024-04-01T00:00Z']],
      // Every two hours is not an every-hour schedule: 02:00 runs once, at its first occurrence.
      ['0 */2 * * *', BERLIN, '2024-10-26T21:30Z', ['2024-10-26T22:00Z', '2024-10-27T00:00Z', '2024-10-27T03:00Z']],
      ['0 */2 * * *', BERLIN, '2024-03-30T21:30Z', ['2024-03-30T23:00Z', '2024-03-31T01:00Z', '2024-03-31T02:00Z']],
      // Minutes of a repeated hour run only in its first pass.
      ['*/20 1-3 * * *', NY, '2024-11-03T04:30Z', [
        '2024-11-03T05:00Z', '2024-11-03T05:20Z', '2024-11-03T05:40Z', '2024-11-03T07:00Z',
      ]],
    ])('%s in %s after %s', (expression, timezone, from, expected) => {
      expect(firstTicks(expression, timezone, from, expected.length)).toEqual(expected);
    });

    it('from inside the second pass of a fold, skips to the next day', () => {
      // 06:10Z is 01:10 EST, after the 01:30 EDT run.
      expect(firstTicks('30 1 * * *', NY, '2024-11-03T06:10Z', 1)).toEqual(['2024-11-04T06:30Z']);
    });
  });

  describe('every-hour schedules across DST: real elapsed time', () => {
    it.each([
      ['0 * * * *', NY, '2024-03-10T04:30Z', [
        '2024-03-10T05:00Z', '2024-03-10T06:00Z', '2024-03-10T07:00Z', '2024-03-10T08:00Z',
      ]],
      ['30 * * * *', NY, '2024-03-10T05:00Z', [
        '2024-03-10T05:30Z', '2024-03-10T06:30Z', '2024-03-10T07:30Z', '2024-03-10T08:30Z',
      ]],
      ['0 * * * *', NY, '2024-11-03T03:30Z', [
        '2024-11-03T04:00Z', '2024-11-03T05:00Z', '2024-11-03T06:00Z', '2024-11-03T07:00Z',
      ]],
      ['30 * * * *', NY, '2024-11-03T04:00Z', [
        '2024-11-03T04:30Z', '2024-11-03T05:30Z', '2024-11-03T06:30Z', '2024-11-03T07:30Z',
      ]],
      ['0 * * * *', BERLIN, '2024-03-30T23:30Z', ['2024-03-31T00:00Z', '2024-03-31T01:00Z', '2024-03-31T02:00Z']],
      ['30 * * * *', BERLIN, '2024-03-30T23:00Z', ['2024-03-30T23:30Z', '2024-03-31T00:30Z', '2024-03-31T01:30Z']],
      ['0 * * * *', BERLIN, '2024-10-26T23:30Z', ['2024-10-27T00:00Z', '2024-10-27T01:00Z', '2024-10-27T02:00Z']],
      ['30 * * * *', BERLIN, '2024-10-26T23:00Z', [
        '2024-10-26T23:30Z', '2024-10-27T00:30Z', '2024-10-27T01:30Z', '2024-10-27T02:30Z',
      ]],
      // From inside the first pass of the fold (01:50 EDT) the next tick is 01:00 EST, not 02:00 EST.
      ['*/15 * * * *', NY, '2024-11-03T05:50Z', ['2024-11-03T06:00Z', '2024-11-03T06:15Z']],
      ['*/15 * * * *', NY, '2024-03-10T06:40Z', ['2024-03-10T06:45Z', '2024-03-10T07:00Z', '2024-03-10T07:15Z']],
      // Lord Howe moves its clocks by 30 minutes: 01:30-02:00 local repeats on 2024-04-07 (15:00Z).
      ['0 * * * *', 'Australia/Lord_Howe', '2024-04-06T12:30Z', [
        '2024-04-06T13:00Z', '2024-04-06T14:00Z', '2024-04-06T15:30Z',
      ]],
    ])('%s in %s after %s', (expression, timezone, from, expected) => {
      expect(firstTicks(expression, timezone, from, expected.length)).toEqual(expected);
    });

    it.each([
      // Local midnight to local midnight.
      ['0 * * * *', NY, '2024-03-10T05:00Z', '2024-03-11T04:00Z', 23],
      ['30 * * * *', NY, '2024-03-10T05:00Z', '2024-03-11T04:00Z', 23],
      ['0 * * * *', NY, '2024-11-03T04:00Z', '2024-11-04T05:00Z', 25],
      ['30 * * * *', NY, '2024-11-03T04:00Z', '2024-11-04T05:00Z', 25],
      ['0 * * * *', BERLIN, '2024-03-30T23:00Z', '2024-03-31T22:00Z', 23],
      ['0 * * * *', BERLIN, '2024-10-26T22:00Z', '2024-10-27T23:00Z', 25],
    ])('%s in %s: one tick per elapsed hour of the local day from %s', (expression, timezone, from, until, count) => {
      const ticks = ticksBetween(expression, timezone, from, until);
      expect(ticks).toHaveLength(count);
      const gaps = ticks.slice(1).map((tick, i) => Date.parse(tick) - Date.parse(ticks[i] ?? ''));
      expect(new Set(gaps)).toEqual(new Set([3600_000]));
    });
  });

  describe('over a whole year', () => {
    const localDate = (tz: string) => {
      const options = { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' } as const;
      const format = new Intl.DateTimeFormat('en-CA', options);
      return (iso: string) => format.format(new Date(iso));
    };

    it.each([
      ['0 0 * * *', NY],
      ['30 1 * * *', NY],
      ['30 2 * * *', NY],
      ['0 2 * * *', BERLIN],
      ['30 2 * * *', BERLIN],
      ['30 1 * * *', 'Asia/Kolkata'],
      ['30 2 * * *', 'UTC'],
    ])('%s in %s runs exactly once on every local day of 2024', (expression, timezone) => {
      const ticks = ticksBetween(expression, timezone, '2023-12-31T12:00Z', '2025-01-01T12:00Z');
      const days = ticks.map(localDate(timezone)).filter((day) => day.startsWith('2024-'));
      expect(days).toHaveLength(366);
      expect(new Set(days).size).toBe(366);
    });

    it('0 * * * * in New York ticks every elapsed hour of 2024', () => {
      const ticks = ticksBetween('0 * * * *', NY, '2023-12-31T23:59Z', '2024-12-31T23:59Z').map(Date.parse);
      expect(ticks).toHaveLength(366 * 24);
      expect(ticks.every((tick, i) => i === 0 || tick - (ticks[i - 1] ?? 0) === 3600_000)).toBe(true);
    });

    it.each([
      ['*/20 1-3 * * *', NY, '2024-03-01T00:00Z', '2024-03-20T00:00Z'],
      ['*/20 1-3 * * *', NY, '2024-10-25T00:00Z', '2024-11-10T00:00Z'],
      ['0,30 2,3 * * *', BERLIN, '2024-03-20T00:00Z', '2024-04-10T00:00Z'],
      ['0,30 2,3 * * *', BERLIN, '2024-10-20T00:00Z', '2024-11-10T00:00Z'],
      ['0 */2 * * *', BERLIN, '2024-03-20T00:00Z', '2024-11-10T00:00Z'],
    ])('%s in %s strictly increases from %s to %s', (expression, timezone, from, until) => {
      const ticks = ticksBetween(expression, timezone, from, until).map(Date.parse);
      expect(ticks.every((tick, i) => i === 0 || tick > (ticks[i - 1] ?? 0))).toBe(true);
    });
  });
});
