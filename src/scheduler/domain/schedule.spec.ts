import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../common/errors.js';
import { parseSchedule, validateSchedule, validateTimezone } from './schedule.js';

const FIVE_FIELDS = 'expected 5 fields (minute hour day-of-month month day-of-week)';
const PRESETS = 'supported: @once, @hourly, @daily, @weekly, @monthly, @quarterly, @yearly';

describe('parseSchedule', () => {
  it.each([
    ['@hourly', '0 * * * *', 'elapsed'],
    ['@daily', '0 0 * * *', 'wall-clock'],
    ['@weekly', '0 0 * * 0', 'wall-clock'],
    ['@monthly', '0 0 1 * *', 'wall-clock'],
    ['@quarterly', '0 0 1 */3 *', 'wall-clock'],
    ['@yearly', '0 0 1 1 *', 'wall-clock'],
    ['0 6 * * *', '0 6 * * *', 'wall-clock'],
    ['  30   2 * *  mon-fri ', '30 2 * * mon-fri', 'wall-clock'],
    ['0 */2 * * *', '0 */2 * * *', 'wall-clock'],
    ['30 * * * *', '30 * * * *', 'elapsed'],
    ['*/15 * * * *', '*/15 * * * *', 'elapsed'],
    ['0 0-23 * * *', '0 0-23 * * *', 'elapsed'],
    // Shapes cron-parser does not read, handed to it in a form it does (cron-syntax.ts).
    ['0 0 29-L * *', '0 0 29-31 * *', 'wall-clock'],
    ['0 0 1-L/7 * *', '0 0 1-31/7 * *', 'wall-clock'],
    ['0 0 * * L5', '0 0 * * 5L', 'wall-clock'],
  ])('%j -> cron %j (%s)', (expression, cron, dstPolicy) => {
    expect(parseSchedule(expression)).toEqual({ kind: 'cron', expression: cron, dstPolicy });
  });

  it('reads @once and null (manual only)', () => {
    expect(parseSchedule('@once')).toEqual({ kind: 'once' });
    expect(parseSchedule(null)).toEqual({ kind: 'manual' });
  });

  it('throws a ValidationError on the schedule path', () => {
    let thrown: unknown;
    try {
      parseSchedule('@weekdays');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).issues).toEqual([
      { path: 'schedule', message: `unknown schedule preset '@weekdays' (${PRESETS})` },
    ]);
  });
});

describe('validateSchedule', () => {
  const valid = [null, '@once', '@daily', '@quarterly', '0 0 * * FRI-SAT,SUN-MON', '0 6 * * *', '0 0 L * *', '0 0 * * 5L', '0 0 * * 1#2', '0 0 29 2 *', '0 0 29-L * *', '0 0 29-L 2 *'];
  it.each(valid)('accepts %j', (expression) => {
    expect(validateSchedule(expression)).toBeNull();
  });

  it.each([
    ['61 * * * *', "invalid cron expression '61 * * * *': Constraint error, got value 61 expected range 0-59"],
    ['0 24 * * *', "invalid cron expression '0 24 * * *': Constraint error, got value 24 expected range 0-23"],
    ['0 0 * * * *', `invalid cron expression '0 0 * * * *': ${FIVE_FIELDS}, got 6; a seconds field is not supported`],
    ['* * * *', `invalid cron expression '* * * *': ${FIVE_FIELDS}, got 4`],
    ['', `invalid cron expression '': ${FIVE_FIELDS}, got 0`],
    ['H * * * *', "invalid cron expression 'H * * * *': hashed values ('H') are not supported"],
    ['0 H(0-5) * * *', "invalid cron expression '0 H(0-5) * * *': hashed values ('H') are not supported"],
    ['0 0 30 2 *', "invalid cron expression '0 0 30 2 *': it never fires: no day in day-of-month '30' occurs in month '2' (L is the last day of any month)"],
    ['0 0 30-L 2 *', "invalid cron expression '0 0 30-L 2 *': it never fires: no day in day-of-month '30-L' occurs in month '2' (L is the last day of any month)"],
    ['0 0 L-2 * *', expect.stringContaining("'L-2' in day-of-month: an offset from the last day is not supported; write 'L' for the last day, or a range to it such as '28-L'")],
    ['5-1 * * * *', "invalid cron expression '5-1 * * * *': Invalid range: 5-1, min(5) > max(1)"],
    ['0 0 * * FRI-MON', "invalid cron expression '0 0 * * FRI-MON': Invalid range: 5-1, min(5) > max(1)"],
    ['@weekdays', `unknown schedule preset '@weekdays' (${PRESETS})`],
  ])('rejects %j', (expression, message) => {
    expect(validateSchedule(expression)).toEqual(message);
  });

  it('does not mistake a day name containing H for a hashed value', () => {
    expect(validateSchedule('0 0 * * THU')).toBeNull();
  });

  it('re-exports validateTimezone for DAG validation', () => {
    expect(validateTimezone('Mars/Base')).toBe("unknown IANA timezone 'Mars/Base'");
  });
});
