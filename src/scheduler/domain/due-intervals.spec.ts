import { describe, expect, it } from '@jest/globals';
import type { RunInterval } from './data-interval.js';
import { dueIntervals, nextDueInterval, registeredNextDagrun, type DueOptions } from './due-intervals.js';
import { nextIntervals } from './next-intervals.js';
import { parseSchedule } from './schedule.js';
import { scheduledIntervals } from './scheduled-intervals.js';

const d = (iso: string): Date => new Date(iso);
const iso = (date: Date): string => date.toISOString().replace(':00.000Z', 'Z');
const starts = (intervals: RunInterval[]): string[] => intervals.map((i) => iso(i.logicalDate));

const daily = (catchup: boolean, extra: Partial<DueOptions> = {}): DueOptions => ({
  timezone: 'UTC',
  startDate: d('2024-01-01T00:00Z'),
  catchup,
  ...extra,
});

describe('dueIntervals', () => {
  describe.each([true, false])('catchup %p', (catchup) => {
    it.each<[string, string | null, string, string[], string[]]>([
      // [case, lastLogicalDate, now, with catchup, without catchup]
      ['nothing has ended yet', null, '2024-01-02T05:59:59Z', [], []],
      ['an interval ends exactly now', null, '2024-01-02T06:00Z', ['2024-01-01T06:00Z'], ['2024-01-01T06:00Z']],
      ['after downtime, no run yet', null, '2024-01-04T07:00Z',
        ['2024-01-01T06:00Z', '2024-01-02T06:00Z', '2024-01-03T06:00Z'], ['2024-01-03T06:00Z']],
      ['after downtime, one run done', '2024-01-01T06:00Z', '2024-01-04T07:00Z',
        ['2024-01-02T06:00Z', '2024-01-03T06:00Z'], ['2024-01-03T06:00Z']],
      ['up to date', '2024-01-03T06:00Z', '2024-01-04T07:00Z', [], []],
      ['last run is newer than every complete interval', '2024-01-05T06:00Z', '2024-01-04T07:00Z', [], []],
    ])('%s', (_case, last, now, withCatchup, withoutCatchup) => {
      const due = dueIntervals('0 6 * * *', daily(catchup), last === null ? null : d(last), d(now), 10);
      expect(starts(due)).toEqual(catchup ? withCatchup : withoutCatchup);
    });

    it('stops at endDate: with catchup every interval ending by it, without catchup nothing once it has passed', () => {
      const options = daily(catchup, { endDate: d('2024-01-03T06:00Z') });
      const due = dueIntervals('0 6 * * *', options, null, d('2024-02-01T00:00Z'), 10);
      expect(starts(due)).toEqual(catchup ? ['2024-01-01T06:00Z', '2024-01-02T06:00Z'] : []);
    });

    it('creates the interval ending exactly at endDate when it is the latest one', () => {
      const options = daily(catchup, { endDate: d('2024-01-03T06:00Z') });
      const due = dueIntervals('0 6 * * *', options, d('2024-01-01T06:00Z'), d('2024-01-03T06:00Z'), 10);
      expect(starts(due)).toEqual(['2024-01-02T06:00Z']);
    });

    it('returns nothing for a manual-only (null) schedule', () => {
      expect(dueIntervals(null, daily(catchup), null, d('2024-02-01T00:00Z'), 10)).toEqual([]);
    });

    it('returns nothing when the limit is 0', () => {
      expect(dueIntervals('0 6 * * *', daily(catchup), null, d('2024-02-01T00:00Z'), 0)).toEqual([]);
    });

    describe('@once', () => {
      const options = daily(catchup, { startDate: d('2024-05-01T08:00Z') });

      it('is due from startDate on', () => {
        expect(dueIntervals('@once', options, null, d('2024-05-01T07:59:59Z'), 10)).toEqual([]);
        expect(dueIntervals('@once', options, null, d('2024-05-01T08:00Z'), 10)).toEqual([
          {
            logicalDate: d('2024-05-01T08:00Z'),
            dataIntervalStart: d('2024-05-01T08:00Z'),
            dataIntervalEnd: d('2024-05-01T08:00Z'),
            runAfter: d('2024-05-01T08:00Z'),
          },
        ]);
      });

      it('runs only when there is no previous scheduled run', () => {
        expect(dueIntervals('@once', options, d('2024-05-01T08:00Z'), d('2025-01-01T00:00Z'), 10)).toEqual([]);
      });
    });
  });

  it('catchup returns the oldest `limit` missed intervals first', () => {
    const due = dueIntervals('0 6 * * *', daily(true), null, d('2024-03-01T00:00Z'), 3);
    expect(starts(due)).toEqual(['2024-01-01T06:00Z', '2024-01-02T06:00Z', '2024-01-03T06:00Z']);
  });

  it('catchup across the New York spring-forward creates one run per day', () => {
    const options = { timezone: 'America/New_York', startDate: d('2024-03-08T00:00Z'), catchup: true };
    const due = dueIntervals('30 2 * * *', options, null, d('2024-03-12T12:00Z'), 10);
    expect(due.map((i) => [iso(i.dataIntervalStart), iso(i.dataIntervalEnd)])).toEqual([
      ['2024-03-08T07:30Z', '2024-03-09T07:30Z'],
      ['2024-03-09T07:30Z', '2024-03-10T07:00Z'],
      ['2024-03-10T07:00Z', '2024-03-11T06:30Z'],
      ['2024-03-11T06:30Z', '2024-03-12T06:30Z'],
    ]);
  });

  it('catchup across the Berlin fall-back creates each hourly run once', () => {
    const options = { timezone: 'Europe/Berlin', startDate: d('2024-10-26T23:00Z'), catchup: true };
    const due = dueIntervals('@hourly', options, null, d('2024-10-27T03:00Z'), 10);
    expect(starts(due)).toEqual(['2024-10-26T23:00Z', '2024-10-27T00:00Z', '2024-10-27T01:00Z', '2024-10-27T02:00Z']);
  });

  it('without catchup, finds the latest interval of a minute schedule started years ago', () => {
    const options = { timezone: 'Europe/Berlin', startDate: d('2015-01-01T00:00Z'), catchup: false };
    const due = dueIntervals('* * * * *', options, null, d('2024-06-01T12:34:56Z'), 10);
    expect(due.map((i) => [iso(i.dataIntervalStart), iso(i.dataIntervalEnd)])).toEqual([
      ['2024-06-01T12:33Z', '2024-06-01T12:34Z'],
    ]);
  });

  it('without catchup, finds the latest interval of a yearly schedule', () => {
    const options = { timezone: 'UTC', startDate: d('2000-01-01T00:00Z'), catchup: false };
    const due = dueIntervals('@yearly', options, d('2019-01-01T00:00Z'), d('2024-06-01T00:00Z'), 10);
    expect(due.map((i) => [iso(i.dataIntervalStart), iso(i.dataIntervalEnd)])).toEqual([
      ['2023-01-01T00:00Z', '2024-01-01T00:00Z'],
    ]);
  });

  it('without catchup, needs two ticks after startDate', () => {
    const options = { timezone: 'UTC', startDate: d('2024-01-01T06:00:01Z'), catchup: false };
    expect(dueIntervals('0 6 * * *', options, null, d('2024-01-03T05:00Z'), 10)).toEqual([]);
    expect(starts(dueIntervals('0 6 * * *', options, null, d('2024-01-03T06:00Z'), 10))).toEqual(['2024-01-02T06:00Z']);
  });

  it.each([
    ['30 2 * * *', 'America/New_York', '2024-03-01T00:00Z', '2024-03-20T00:00Z'],
    ['30 1 * * *', 'America/New_York', '2024-10-25T00:00Z', '2024-11-10T00:00Z'],
    ['*/20 * * * *', 'Europe/Berlin', '2024-10-26T20:00Z', '2024-10-27T06:00Z'],
    ['@once', 'UTC', '2024-03-01T00:00Z', '2024-03-20T00:00Z'],
  ])('with catchup, creates exactly what the preview shows (%s in %s)', (schedule, timezone, startDate, now) => {
    const window = { timezone, startDate: d(startDate) };
    const preview = nextIntervals(schedule, window, null, 500).filter((i) => i.runAfter <= d(now));
    expect(dueIntervals(schedule, { ...window, catchup: true }, null, d(now), 500)).toEqual(preview);
    expect(dueIntervals(schedule, { ...window, catchup: false }, null, d(now), 500)).toEqual(preview.slice(-1));
  });

  describe('without catchup, once endDate has passed', () => {
    // The latest interval that has ended by now ends after endDate: the schedule is over, as in Airflow, whose
    // CronDataIntervalTimetable returns no run once the skipped-to start lies after end_date.
    it.each([
      // [schedule, zone, endDate, now, created]
      ['0 6 * * *', 'UTC', '2024-01-03T06:00Z', '2024-01-03T06:00Z', ['2024-01-02T06:00Z']],
      ['0 6 * * *', 'UTC', '2024-01-03T06:00Z', '2024-01-03T06:00:01Z', ['2024-01-02T06:00Z']],
      ['0 6 * * *', 'UTC', '2024-01-03T06:00Z', '2024-01-04T06:00Z', []],
      ['0 6 * * *', 'UTC', '2024-01-03T05:59:59Z', '2024-01-03T06:00Z', []],
      // docs/scheduling.md's example: 06:00 CET on Jan 10 is the end of the last interval.
      ['0 6 * * *', 'Europe/Berlin', '2024-01-10T05:00Z', '2024-01-10T05:00Z', ['2024-01-09T05:00Z']],
      ['0 6 * * *', 'Europe/Berlin', '2024-01-10T05:00Z', '2024-01-11T04:59:59Z', ['2024-01-09T05:00Z']],
      ['0 6 * * *', 'Europe/Berlin', '2024-01-10T05:00Z', '2024-01-11T05:00Z', []],
      ['@daily', 'America/New_York', '2024-03-10T05:00Z', '2024-03-10T05:00Z', ['2024-03-09T05:00Z']],
      ['@daily', 'America/New_York', '2024-03-10T05:00Z', '2024-03-11T03:59Z', ['2024-03-09T05:00Z']],
      ['@daily', 'America/New_York', '2024-03-10T05:00Z', '2024-03-11T04:00Z', []],
      ['30 * * * *', 'Australia/Lord_Howe', '2024-04-06T15:00Z', '2024-04-06T15:10Z', ['2024-04-06T14:30Z']],
      ['30 * * * *', 'Australia/Lord_Howe', '2024-04-06T15:00Z', '2024-04-06T16:00Z', []],
      ['0 0 29-L * *', 'Asia/Kolkata', '2024-03-01T00:00Z', '2024-06-01T00:00Z', []],
    ])('%s in %s, endDate %s, at %s', (schedule, timezone, endDate, now, created) => {
      const options = { timezone, startDate: d('2024-01-01T00:00Z'), endDate: d(endDate), catchup: false };
      expect(starts(dueIntervals(schedule, options, null, d(now), 10))).toEqual(created);
    });
  });

  it.each([-1, 0.5])('rejects limit %p', (limit) => {
    expect(() => dueIntervals('@daily', daily(true), null, d('2024-02-01T00:00Z'), limit)).toThrow(RangeError);
  });
});

describe('nextDueInterval', () => {
  const span = (i: RunInterval | null) => i && [iso(i.dataIntervalStart), iso(i.dataIntervalEnd)];

  it('with catchup, the interval after the last run, even one already due', () => {
    expect(span(nextDueInterval('0 6 * * *', daily(true), null, d('2024-03-01T00:00Z')))).toEqual(['2024-01-01T06:00Z', '2024-01-02T06:00Z']);
    expect(span(nextDueInterval('0 6 * * *', daily(true), d('2024-01-05T06:00Z'), d('2024-03-01T00:00Z')))).toEqual([
      '2024-01-06T06:00Z',
      '2024-01-07T06:00Z',
    ]);
  });

  it('without catchup, the interval running at now: the next one the scheduler creates', () => {
    expect(span(nextDueInterval('0 6 * * *', daily(false), d('2024-02-28T06:00Z'), d('2024-03-01T00:00Z')))).toEqual([
      '2024-02-29T06:00Z',
      '2024-03-01T06:00Z',
    ]);
    // No run yet and startDate long past: still the running interval, not the first one of the schedule.
    expect(span(nextDueInterval('0 6 * * *', daily(false), null, d('2024-03-01T00:00Z')))).toEqual(['2024-02-29T06:00Z', '2024-03-01T06:00Z']);
    // startDate ahead: the first interval.
    const later = daily(false, { startDate: d('2024-05-01T00:00Z') });
    expect(span(nextDueInterval('0 6 * * *', later, null, d('2024-03-01T00:00Z')))).toEqual(['2024-05-01T06:00Z', '2024-05-02T06:00Z']);
  });

  it.each([true, false])('is null once the next interval would end after endDate (catchup %p)', (catchup) => {
    const options = daily(catchup, { endDate: d('2024-01-03T06:00Z') });
    expect(nextDueInterval('0 6 * * *', options, d('2024-01-02T06:00Z'), d('2024-01-03T06:00Z'))).toBeNull();
    if (!catchup) expect(nextDueInterval('0 6 * * *', options, null, d('2024-02-01T00:00Z'))).toBeNull();
  });

  it('agrees with what dueIntervals creates later (catchup off, Lord Howe, hourly)', () => {
    const options = { timezone: 'Australia/Lord_Howe', startDate: d('2024-04-06T00:00Z'), catchup: false };
    let last: Date | null = null;
    let now = d('2024-04-06T12:10Z');
    for (let i = 0; i < 8; i++) {
      const next: RunInterval = nextDueInterval('0 * * * *', options, last, now)!;
      expect(dueIntervals('0 * * * *', options, last, new Date(next.runAfter.getTime() - 1), 10).map((x) => x.logicalDate)).not.toContainEqual(
        next.logicalDate,
      );
      expect(dueIntervals('0 * * * *', options, last, next.runAfter, 10)).toEqual([next]);
      last = next.logicalDate;
      now = next.runAfter;
    }
    // 01:00 to 02:00 local took 90 minutes (the clock fell back half an hour at 15:00Z).
    expect(iso(now)).toBe('2024-04-06T20:30Z');
  });

  it('@once: its run until it exists, then none; manual: none', () => {
    const options = daily(true, { startDate: d('2024-05-01T08:00Z') });
    expect(span(nextDueInterval('@once', options, null, d('2024-01-01T00:00Z')))).toEqual(['2024-05-01T08:00Z', '2024-05-01T08:00Z']);
    expect(nextDueInterval('@once', options, d('2024-05-01T08:00Z'), d('2024-06-01T00:00Z'))).toBeNull();
    expect(nextDueInterval(null, options, null, d('2024-06-01T00:00Z'))).toBeNull();
  });
});

describe('registeredNextDagrun (the DAG view right after registration, paused DAGs included)', () => {
  const figures = (f: { logicalDate: Date | null; createAfter: Date | null }) => [f.logicalDate && iso(f.logicalDate), f.createAfter && iso(f.createAfter)];

  it('with catchup, the first interval after the latest scheduled run, due at its end (in the past: due now)', () => {
    expect(figures(registeredNextDagrun('0 6 * * *', daily(true), null, d('2024-03-01T00:00Z')))).toEqual(['2024-01-01T06:00Z', '2024-01-02T06:00Z']);
    expect(figures(registeredNextDagrun('0 6 * * *', daily(true), d('2024-02-27T06:00Z'), d('2024-03-01T00:00Z')))).toEqual([
      '2024-02-28T06:00Z',
      '2024-02-29T06:00Z',
    ]);
  });

  it('without catchup, the run the scheduler creates next seen from now; the scheduler looks from the first interval’s end', () => {
    // Started long ago, no run yet: the latest interval that has ended (created at the next pass).
    expect(figures(registeredNextDagrun('0 6 * * *', daily(false), null, d('2024-03-01T07:00Z')))).toEqual(['2024-02-29T06:00Z', '2024-01-02T06:00Z']);
    // Inside the first interval, or before it: that interval, due at its end.
    expect(figures(registeredNextDagrun('0 6 * * *', daily(false), null, d('2024-01-01T12:00Z')))).toEqual(['2024-01-01T06:00Z', '2024-01-02T06:00Z']);
    expect(figures(registeredNextDagrun('0 6 * * *', daily(false), null, d('2023-06-01T00:00Z')))).toEqual(['2024-01-01T06:00Z', '2024-01-02T06:00Z']);
    // Over (the latest ended interval ends after endDate): no run will come; the pass at createAfter stores null.
    const over = daily(false, { endDate: d('2024-01-10T06:00Z') });
    expect(figures(registeredNextDagrun('0 6 * * *', over, null, d('2024-03-01T00:00Z')))).toEqual([null, '2024-01-02T06:00Z']);
  });

  it('in the DAG’s zone across DST: a skipped 02:30 runs when the gap ends, a 25-hour day ends a day later', () => {
    const ny = { timezone: 'America/New_York', startDate: d('2024-03-09T12:00Z'), catchup: true };
    expect(figures(registeredNextDagrun('30 2 * * *', ny, null, d('2024-03-01T00:00Z')))).toEqual(['2024-03-10T07:00Z', '2024-03-11T06:30Z']);
    const ams = { timezone: 'Europe/Amsterdam', startDate: d('2024-10-26T12:00Z'), catchup: false };
    expect(figures(registeredNextDagrun('@daily', ams, null, d('2024-10-27T12:00Z')))).toEqual(['2024-10-26T22:00Z', '2024-10-27T23:00Z']);
  });

  it('none for a manual schedule, @once already run, or no interval left before endDate', () => {
    const once = daily(true, { startDate: d('2024-05-01T08:00Z') });
    expect(figures(registeredNextDagrun('@once', once, null, d('2024-06-01T00:00Z')))).toEqual(['2024-05-01T08:00Z', '2024-05-01T08:00Z']);
    expect(figures(registeredNextDagrun('@once', once, d('2024-05-01T08:00Z'), d('2024-06-01T00:00Z')))).toEqual([null, null]);
    expect(figures(registeredNextDagrun(null, daily(true), null, d('2024-06-01T00:00Z')))).toEqual([null, null]);
    const ended = daily(false, { endDate: d('2024-01-03T06:00Z') });
    expect(figures(registeredNextDagrun('0 6 * * *', ended, d('2024-01-02T06:00Z'), d('2024-01-03T06:00Z')))).toEqual([null, null]);
  });

  it.each([
    ['30 2 * * *', 'America/New_York'],
    ['0 * * * *', 'Australia/Lord_Howe'],
    ['45 2 * * *', 'Pacific/Chatham'],
    ['@daily', 'Asia/Kolkata'],
    ['@weekly', 'America/Sao_Paulo'],
  ])('%s in %s: nothing is due before createAfter, and a pass before it stores the same figures', (schedule, timezone) => {
    for (const catchup of [true, false]) {
      for (const start of ['2024-03-08T00:00Z', '2024-04-05T13:17Z', '2024-09-27T00:00Z', '2024-11-01T00:00Z']) {
        const options = { timezone, startDate: d(start), catchup };
        for (const hours of [-30, 0, 5, 40, 200]) {
          const now = new Date(d(start).getTime() + hours * 3600_000);
          const { logicalDate, createAfter } = registeredNextDagrun(schedule, options, null, now);
          const before = new Date(createAfter!.getTime() - 1);
          expect(dueIntervals(schedule, options, null, before, 10)).toEqual([]);
          expect(dueIntervals(schedule, options, null, createAfter!, 10)).not.toEqual([]);
          if (catchup || createAfter!.getTime() > now.getTime()) {
            const pass = nextDueInterval(schedule, options, null, before)!;
            expect([pass.logicalDate, pass.runAfter]).toEqual([logicalDate, createAfter]);
          } else {
            expect(logicalDate).toEqual(dueIntervals(schedule, options, null, now, 1)[0]!.logicalDate);
          }
        }
      }
    }
  });
});

describe('without catchup, against a brute-force walk of the schedule', () => {
  // Deterministic pseudo-random instants (a linear congruential generator), so a failure names its case.
  let seed = 20;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const zones = ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Santiago', 'Pacific/Chatham'];
  const schedules = ['@hourly', '30 * * * *', '0 6 * * *', '30 2 * * *', '*/20 1-3 * * *', '0 0 29-L * *', '@weekly'];
  const start = d('2024-01-01T00:00Z').getTime();
  const year = 366 * 24 * 3600 * 1000;
  const minute = (ms: number) => new Date(Math.round(ms / 60_000) * 60_000);
  const days = 24 * 3600 * 1000;
  const cases = zones.flatMap((timezone) =>
    schedules.flatMap((schedule) =>
      [0, 1, 2].map(() => {
        const now = minute(start + random() * year);
        const last = minute(now.getTime() - random() * 30 * days);
        // endDate near now, on either side (or none), where the answer changes.
        const endDate = random() < 0.2 ? null : minute(now.getTime() + (random() - 0.6) * 10 * days);
        return [schedule, timezone, last, endDate, now] as const;
      }),
    ),
  );

  // The walk from startDate, once per schedule and zone (its three cases read the part they need): walking it
  // afresh for each case was most of this file's time.
  const walks = new Map<string, RunInterval[]>();
  const walk = (schedule: string, timezone: string, until: number): RunInterval[] => {
    const key = `${schedule} ${timezone}`;
    let all = walks.get(key);
    if (!all) {
      const furthest = Math.max(...cases.filter((c) => c[0] === schedule && c[1] === timezone).map((c) => c[4].getTime())) + 40 * days;
      all = [];
      for (const interval of scheduledIntervals(parseSchedule(schedule), { timezone, startDate: d('2024-01-01T00:00Z') }, null)) {
        if (interval.runAfter.getTime() > furthest) break;
        all.push(interval);
      }
      walks.set(key, all);
    }
    return all.filter((i) => i.runAfter.getTime() <= until);
  };

  it.each(cases)('%s in %s (last %s, endDate %s, now %s)', (schedule, timezone, lastCandidate, endDate, now) => {
    const window = { timezone, startDate: d('2024-01-01T00:00Z') };
    const all = walk(schedule, timezone, now.getTime() + 40 * days);
    const last = all.filter((i) => i.logicalDate <= lastCandidate).at(-1)?.logicalDate ?? null;
    const options = { ...window, endDate, catchup: false };
    // The latest interval that has ended by now, if it comes after the last run and ends by endDate.
    const latest = all.filter((i) => i.runAfter <= now).at(-1);
    const endsInWindow = (i: RunInterval) => endDate === null || i.runAfter <= endDate;
    const expected = latest && (!last || latest.logicalDate > last) && endsInWindow(latest) ? [latest] : [];
    expect(dueIntervals(schedule, options, last, now, 10)).toEqual(expected);
    // The next one created after now: the first interval ending after now (after the last run), if it ends by endDate.
    const cursor = expected[0]?.logicalDate ?? last;
    const next = all.find((i) => i.runAfter > now && (!cursor || i.logicalDate > cursor));
    expect(nextDueInterval(schedule, options, cursor, now)).toEqual(next && endsInWindow(next) ? next : null);
  });
});
