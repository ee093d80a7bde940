import { describe, expect, it } from '@jest/globals';
import { neverFiresReason, normalizeCronFields } from './cron-syntax.js';
import { nextIntervals } from './next-intervals.js';

const fields = (expression: string) => expression.split(' ');
const normalized = (expression: string) => {
  const result = normalizeCronFields(fields(expression));
  return typeof result === 'string' ? result : result.join(' ');
};
/** Local calendar days (in the zone) of the next `count` runs. */
const days = (schedule: string, timezone: string, from: string, count: number) =>
  nextIntervals(schedule, { timezone, startDate: new Date(from) }, null, count).map((i) =>
    i.logicalDate.toLocaleDateString('sv-SE', { timeZone: timezone }),
  );

describe('normalizeCronFields', () => {
  it.each([
    ['0 0 29-L * *', '0 0 29-31 * *'],
    ['0 0 29-l * *', '0 0 29-31 * *'],
    ['0 0 1-L/7 * *', '0 0 1-31/7 * *'],
    ['0 0 1,15-L * *', '0 0 1,15-31 * *'],
    ['0 0 l * *', '0 0 L * *'],
    ['0 0 * * L5', '0 0 * * 5L'],
    ['0 0 * * lfri', '0 0 * * FRIL'],
    ['0 0 * * 5l', '0 0 * * 5L'],
    // Left exactly as written.
    ['30 2 * * mon-fri', '30 2 * * mon-fri'],
    ['0 0 L * *', '0 0 L * *'],
    ['0 0 * * 1#2', '0 0 * * 1#2'],
  ])('%j -> %j', (expression, expected) => {
    expect(normalized(expression)).toBe(expected);
  });

  it.each([
    ['0 0 LW * *', "'LW' in day-of-month: 'W' (nearest weekday) is not supported"],
    ['0 0 15W * *', "'15W' in day-of-month: 'W' (nearest weekday) is not supported"],
    ['0 0 L-3 * *', "'L-3' in day-of-month: an offset from the last day is not supported; write 'L' for the last day, or a range to it such as '28-L'"],
    ['0 0 L/2 * *', "'L/2' in day-of-month: 'L' stands alone ('L', the last day) or ends a range ('25-L', '1-L/7')"],
    ['0 0 1,2L * *', "'2L' in day-of-month: 'L' stands alone"],
    ['0 0 * * L', "'L' alone in day-of-week is not supported (Quartz reads it as Saturday): write '6' for every Saturday, or '5L' for the last Friday of the month"],
  ])('refuses %j with the reason and what to write instead', (expression, reason) => {
    expect(normalized(expression)).toContain(reason);
  });
});

describe('day-of-month ranges up to L', () => {
  it.each([
    // [schedule, zone, from, local days]: every month ends on its own last day, leap years included.
    ['0 0 29-L * *', 'UTC', '2023-01-01T00:00Z', ['2023-01-29', '2023-01-30', '2023-01-31', '2023-03-29', '2023-03-30', '2023-03-31', '2023-04-29', '2023-04-30']],
    ['0 0 29-L * *', 'America/New_York', '2024-01-31T06:00Z', ['2024-02-29', '2024-03-29', '2024-03-30', '2024-03-31', '2024-04-29']],
    ['30 2 28-L 2 *', 'Europe/Berlin', '2023-01-01T00:00Z', ['2023-02-28', '2024-02-28', '2024-02-29', '2025-02-28']],
    ['0 0 25-L/3 * *', 'Asia/Kolkata', '2024-04-01T00:00Z', ['2024-04-25', '2024-04-28', '2024-05-25', '2024-05-28', '2024-05-31', '2024-06-25']],
  ])('%s in %s', (schedule, timezone, from, expected) => {
    expect(days(schedule, timezone, from, expected.length)).toEqual(expected);
  });

  it('is the same schedule as the range written up to 31', () => {
    const window = { timezone: 'Australia/Lord_Howe', startDate: new Date('2024-01-01T00:00Z') };
    expect(nextIntervals('15 3 27-L * *', window, null, 60)).toEqual(nextIntervals('15 3 27-31 * *', window, null, 60));
  });
});

describe('neverFiresReason', () => {
  it('names the day and the months for the error cron-parser gives a day no listed month has', () => {
    expect(neverFiresReason(fields('0 0 31 4,6 *'), 'Invalid explicit day of month definition')).toBe(
      "it never fires: no day in day-of-month '31' occurs in month '4,6' (L is the last day of any month)",
    );
  });

  it('leaves other parser errors alone', () => {
    expect(neverFiresReason(fields('61 * * * *'), 'Constraint error, got value 61 expected range 0-59')).toBeNull();
  });
});
