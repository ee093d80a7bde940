import { describe, expect, it } from '@jest/globals';
import { CronExpressionParser } from 'cron-parser';
import { periodicWallTicks } from './cron-ticks.js';

/** cron-parser's answer: the first matching wall time strictly after `wall` (UTC over wall-clock values). */
function reference(expression: string, wall: number): number {
  const it = CronExpressionParser.parse(expression, { tz: 'UTC', currentDate: new Date(wall) });
  return it.next().getTime();
}

describe('periodicWallTicks', () => {
  const expressions = ['0 * * * *', '17 * * * *', '0 0 * * *', '30 6 * * *', '59 23 * * *', '*/5 * * * *', '*/15 * * * *', '*/1 * * * *'];
  // Ordinary instants, instants exactly on a tick, a millisecond either side, around a leap day and a year end.
  const base = [Date.UTC(2024, 1, 28, 23, 59, 59, 999), Date.UTC(2024, 1, 29, 0, 0), Date.UTC(2023, 11, 31, 23, 30), Date.UTC(2025, 6, 1, 6, 30), 0, Date.UTC(2031, 2, 30, 1, 0)];
  const instants = base.flatMap((t) => [t - 1, t, t + 1, t + 61_000, t + 3_599_999]);

  it.each(expressions)('agrees with cron-parser for %s', (expression) => {
    const ticks = periodicWallTicks(expression)!;
    expect(ticks).not.toBeNull();
    for (const wall of instants) expect([wall, ticks(wall)]).toEqual([wall, reference(expression, wall)]);
    // And along a walk of consecutive ticks.
    let a = Date.UTC(2024, 0, 1);
    let b = a;
    for (let i = 0; i < 500; i++) {
      a = ticks(a);
      b = reference(expression, b);
      expect(a).toBe(b);
    }
  });

  it('leaves every other expression to cron-parser', () => {
    for (const expression of ['0 0 1 * *', '0 0 * * 0', '*/7 * * * *', '0 */2 * * *', '0,30 * * * *', '5-10 * * * *', '0 9 * * 1-5', '60 * * * *', '0 24 * * *']) {
      expect(periodicWallTicks(expression)).toBeNull();
    }
  });
});
