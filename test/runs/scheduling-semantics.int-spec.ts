import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Clock } from '../../src/common/clock.js';
import { Api, dag } from '../support/api.js';
import { useTestApp } from '../support/app.js';
import { graphql, graphqlOk } from '../support/graphql.js';

/**
 * The scheduling rules of docs/scheduling.md and docs/run-control.md that differ from a naive reading (issue 20),
 * through the public API: the schedule preview, backfills (dry run and real, REST and GraphQL) and the runs the
 * scheduler creates. The scheduler's time comes from tick(now); a backfill's "now" from the app's Clock.
 */
const ctx = useTestApp();
const api = new Api(() => ctx.t.app);

/** Freezes the service's clock (what a backfill request calls "now"). */
const clockAt = (iso: string) => jest.spyOn(ctx.t.app.get(Clock), 'now').mockReturnValue(new Date(iso));
afterEach(() => {
  jest.restoreAllMocks();
});

const iso = (s: string) => new Date(s).toISOString();
const isos = (...s: string[]) => s.map(iso);

async function runs(dagId: string): Promise<{ logicalDate: string; dataIntervalStart: string; dataIntervalEnd: string; runType: string }[]> {
  const { items } = await api.ok('GET', `/api/v1/dags/${dagId}/dagRuns?limit=1000`);
  return items.sort((a: any, b: any) => a.logicalDate.localeCompare(b.logicalDate));
}

const preview = async (dagId: string, count: number) => (await api.ok('GET', `/api/v1/dags/${dagId}/schedulePreview?count=${count}`)).items;

// First in the file: its tick, years ahead, then has no other DAG to schedule.
describe('dataset-triggered runs', () => {
  it('take the time the scheduler creates them as logical date, covering the updates since the first one consumed', async () => {
    await api.registerDag(dag('on_data', [{ taskId: 'a' }], { schedule: { datasets: ['sem.table'], mode: 'any' } }));
    const before = Date.now();
    await api.ok('POST', '/api/v1/datasets/events', { uri: 'sem.table' });
    const now = new Date('2030-01-01T00:00:00Z');
    await api.tick(now);
    const [run] = await runs('on_data');
    expect(run).toMatchObject({ runType: 'dataset_triggered', logicalDate: now.toISOString(), dataIntervalEnd: now.toISOString(), runAfter: now.toISOString() });
    expect(new Date(run!.dataIntervalStart).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(new Date(run!.dataIntervalStart).getTime()).toBeLessThanOrEqual(Date.now());
  });
});

describe('backfills cover only intervals that have ended', () => {
  it('clips a range reaching into the future, says how many and up to when, and creates runs for the rest only', async () => {
    await api.registerDag(dag('bf_clip', [{ taskId: 'a' }], { schedule: '@daily', startDate: '2026-01-01T00:00:00Z' }));
    clockAt('2026-12-06T13:00:00Z');
    const range = { dagId: 'bf_clip', fromDate: '2026-12-01T00:00:00Z', toDate: '2026-12-08T00:00:00Z' };
    // Dec 6 ends at Dec 7 00:00: it is running, not over, so it is left out with Dec 7 and Dec 8.
    const clipped = { intervals: 3, cutoff: iso('2026-12-06T13:00Z'), firstLogicalDate: iso('2026-12-06T00:00Z'), lastLogicalDate: iso('2026-12-08T00:00Z') };

    const dry = await api.ok('POST', '/api/v1/backfills', { ...range, dryRun: true });
    expect(dry).toEqual({
      dryRun: true,
      dagId: 'bf_clip',
      create: isos('2026-12-01T00:00Z', '2026-12-02T00:00Z', '2026-12-03T00:00Z', '2026-12-04T00:00Z', '2026-12-05T00:00Z'),
      reprocess: [],
      skip: [],
      clipped,
    });

    const res = await api.call('POST', '/api/v1/backfills', { ...range, maxActiveRuns: 10 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ clipped, toDate: iso(range.toDate), counts: { running: 5, pending: 0 } });
    expect(res.body.items.map((i: any) => i.logicalDate)).toEqual(dry.create);
    expect((await api.ok('GET', `/api/v1/backfills/${res.body.id}`)).clipped).toEqual(clipped);
    expect((await api.ok('GET', '/api/v1/backfills?dagId=bf_clip')).items[0].clipped).toEqual(clipped);
    const created = await runs('bf_clip');
    expect(created.map((r) => r.logicalDate)).toEqual(dry.create);
    expect(created.every((r) => r.runType === 'backfill' && r.dataIntervalEnd <= iso('2026-12-06T13:00Z'))).toBe(true);

    // Three days later the same range has ended: nothing is clipped, and the three dates are backfilled.
    clockAt('2026-12-09T00:00:00Z');
    const later = await api.ok('POST', '/api/v1/backfills', { ...range, allowConcurrent: true });
    expect(later.clipped).toBeNull();
    expect(later.items.filter((i: any) => i.status === 'started').map((i: any) => i.logicalDate)).toEqual(
      isos('2026-12-06T00:00Z', '2026-12-07T00:00Z', '2026-12-08T00:00Z'),
    );
  });

  it('cuts at the end of each interval in the DAG’s zone, an interval ending exactly now included', async () => {
    await api.registerDag(dag('bf_clip_ny', [{ taskId: 'a' }], { schedule: '@daily', timezone: 'America/New_York', startDate: '2024-01-01T05:00:00Z' }));
    const range = { dagId: 'bf_clip_ny', fromDate: '2024-03-08T00:00:00Z', toDate: '2024-03-12T00:00:00Z', dryRun: true };
    // Local midnights: Mar 8, 9, 10 at 05:00Z (EST); Mar 11 at 04:00Z (EDT from Mar 10 03:00). Mar 9's interval ends
    // at Mar 10 05:00Z (a 23-hour day follows).
    clockAt('2024-03-10T04:59:59Z');
    expect(await api.ok('POST', '/api/v1/backfills', range)).toMatchObject({
      create: isos('2024-03-08T05:00Z'),
      clipped: { intervals: 3, firstLogicalDate: iso('2024-03-09T05:00Z'), lastLogicalDate: iso('2024-03-11T04:00Z') },
    });
    clockAt('2024-03-10T05:00:00Z');
    expect(await api.ok('POST', '/api/v1/backfills', range)).toMatchObject({
      create: isos('2024-03-08T05:00Z', '2024-03-09T05:00Z'),
      clipped: { intervals: 2, cutoff: iso('2024-03-10T05:00Z'), firstLogicalDate: iso('2024-03-10T05:00Z') },
    });
    clockAt('2024-03-11T04:00:00Z');
    expect(await api.ok('POST', '/api/v1/backfills', range)).toMatchObject({
      create: isos('2024-03-08T05:00Z', '2024-03-09T05:00Z', '2024-03-10T05:00Z'),
      clipped: { intervals: 1, firstLogicalDate: iso('2024-03-11T04:00Z'), lastLogicalDate: iso('2024-03-11T04:00Z') },
    });
  });

  it('refuses a range none of whose intervals has ended, dry run or not, writing nothing', async () => {
    await api.registerDag(dag('bf_future', [{ taskId: 'a' }], { schedule: '0 6 * * *', startDate: '2026-01-01T00:00:00Z' }));
    clockAt('2026-12-06T13:00:00Z');
    for (const dryRun of [true, false]) {
      const res = await api.call('POST', '/api/v1/backfills', { dagId: 'bf_future', fromDate: '2026-12-06T00:00:00Z', toDate: '2026-12-09T00:00:00Z', dryRun });
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual([
        {
          path: 'fromDate',
          message:
            'no interval in the range has ended yet (3 left out): a backfill covers only intervals that have ended by now ' +
            '(2026-12-06T13:00:00.000Z); the first, 2026-12-06T06:00:00.000Z, ends at 2026-12-07T06:00:00.000Z',
        },
      ]);
    }
    expect((await api.ok('GET', '/api/v1/backfills?dagId=bf_future')).totalEntries).toBe(0);
    expect(await runs('bf_future')).toEqual([]);
  });

  it('says so when a range over the size limit reaches into the future', async () => {
    await api.registerDag(dag('bf_far', [{ taskId: 'a' }], { schedule: '@hourly', startDate: '2026-01-01T00:00:00Z' }));
    clockAt('2026-12-06T13:00:00Z');
    const res = await api.call('POST', '/api/v1/backfills', { dagId: 'bf_far', fromDate: '2026-12-01T00:00:00Z', toDate: '2099-01-01T00:00:00Z', dryRun: true });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([
      {
        path: 'toDate',
        message: 'the range holds more than 10000 intervals (WEFT_BACKFILL_MAX_RUNS); only intervals that have ended by now (2026-12-06T13:00:00.000Z) can be backfilled',
      },
    ]);
  });

  it('GraphQL: the plan and the backfill say what was clipped', async () => {
    await api.registerDag(dag('bf_clip_gql', [{ taskId: 'a' }], { schedule: '0 */6 * * *', timezone: 'Asia/Kolkata', startDate: '2026-01-01T00:00:00Z' }));
    clockAt('2026-12-06T01:00:00Z'); // 06:30 in Kolkata: the 00:00–06:00 local interval (18:30Z–00:30Z) has ended
    const query = `mutation($input: CreateBackfillInput!) { createBackfill(input: $input) {
      plan { create clipped { intervals cutoff firstLogicalDate lastLogicalDate } }
      backfill { id items { logicalDate } clipped { intervals cutoff firstLogicalDate lastLogicalDate } } } }`;
    const input = { dagId: 'bf_clip_gql', fromDate: '2026-12-05T00:00:00Z', toDate: '2026-12-06T12:00:00Z' };
    const clipped = { intervals: 2, cutoff: iso('2026-12-06T01:00Z'), firstLogicalDate: iso('2026-12-06T00:30Z'), lastLogicalDate: iso('2026-12-06T06:30Z') };
    const created = isos('2026-12-05T00:30Z', '2026-12-05T06:30Z', '2026-12-05T12:30Z', '2026-12-05T18:30Z');
    const dry = await graphqlOk(ctx.t.app, query, { input: { ...input, dryRun: true } });
    expect(dry.createBackfill.plan).toEqual({ create: created, clipped });
    const real = await graphqlOk(ctx.t.app, query, { input });
    expect(real.createBackfill.backfill.clipped).toEqual(clipped);
    expect(real.createBackfill.backfill.items.map((i: any) => i.logicalDate)).toEqual(created);
    const listed = await graphqlOk(ctx.t.app, `{ backfills(dagId: "bf_clip_gql") { items { clipped { intervals } } } }`);
    expect(listed.backfills.items).toEqual([{ clipped: { intervals: 2 } }]);
  });
});

describe('catchup off once endDate has passed', () => {
  const berlin = (dagId: string, catchup: boolean) =>
    dag(dagId, [{ taskId: 'a' }], {
      schedule: '0 6 * * *',
      timezone: 'Europe/Berlin',
      startDate: '2024-01-01T00:00:00Z',
      endDate: '2024-01-10T05:00:00Z', // 06:00 CET on Jan 10: the last interval is [Jan 9 06:00, Jan 10 06:00) local
      catchup,
      maxActiveRuns: 20,
    });

  it('creates no run: the schedule is over (the preview still lists the intervals up to endDate)', async () => {
    await api.registerDag(berlin('over_no_catchup', false));
    const items = await preview('over_no_catchup', 20);
    expect(items).toHaveLength(9);
    expect(items.at(-1)).toMatchObject({ logicalDate: iso('2024-01-09T05:00Z'), dataIntervalEnd: iso('2024-01-10T05:00Z') });
    await api.tick(new Date('2024-02-01T00:00:00Z'));
    expect(await runs('over_no_catchup')).toEqual([]);
    expect(await api.ok('GET', '/api/v1/dags/over_no_catchup')).toMatchObject({ nextDagrunLogicalDate: null, nextDagrunCreateAfter: null });
  });

  it('creates the last interval when it is the latest one to have ended, then nothing more', async () => {
    await api.registerDag(berlin('over_at_end', false));
    await api.tick(new Date('2024-01-10T05:00:00Z'));
    await api.tick(new Date('2024-01-11T05:00:00Z'));
    await api.tick(new Date('2024-03-01T00:00:00Z'));
    expect((await runs('over_at_end')).map((r) => [r.logicalDate, r.dataIntervalEnd])).toEqual([[iso('2024-01-09T05:00Z'), iso('2024-01-10T05:00Z')]]);
    expect((await api.ok('GET', '/api/v1/dags/over_at_end')).nextDagrunCreateAfter).toBeNull();
  });

  it('with catchup, creates every interval up to endDate, as the preview lists them', async () => {
    await api.registerDag(berlin('over_catchup', true));
    await api.tick(new Date('2024-02-01T00:00:00Z'));
    expect((await runs('over_catchup')).map((r) => r.logicalDate)).toEqual((await preview('over_catchup', 20)).map((i: any) => i.logicalDate));
  });

  it('without catchup, the next run the DAG shows is the interval running now, created when it ends', async () => {
    await api.registerDag(dag('no_catchup_next', [{ taskId: 'a' }], { schedule: '0 * * * *', timezone: 'Australia/Lord_Howe', startDate: '2024-01-01T00:00:00Z', catchup: false }));
    await api.tick(new Date('2024-04-06T14:10:00Z')); // 01:10 LHDT; the clock falls back to 01:30 LHST at 15:00Z
    expect((await runs('no_catchup_next')).map((r) => r.logicalDate)).toEqual(isos('2024-04-06T13:00Z'));
    // 01:00 → 02:00 local lasts 90 minutes.
    expect(await api.ok('GET', '/api/v1/dags/no_catchup_next')).toMatchObject({
      nextDagrunLogicalDate: iso('2024-04-06T14:00Z'),
      nextDagrunCreateAfter: iso('2024-04-06T15:30Z'),
    });
    await api.tick(new Date('2024-04-06T15:29:59Z'));
    expect(await runs('no_catchup_next')).toHaveLength(1);
    await api.tick(new Date('2024-04-06T15:30:00Z'));
    expect((await runs('no_catchup_next')).map((r) => [r.logicalDate, r.dataIntervalEnd]).at(-1)).toEqual([iso('2024-04-06T14:00Z'), iso('2024-04-06T15:30Z')]);
  });
});

describe('the DAG’s next run from its registration on', () => {
  const next = async (dagId: string) => {
    const { nextDagrunLogicalDate, nextDagrunCreateAfter } = await api.ok('GET', `/api/v1/dags/${dagId}`);
    return [nextDagrunLogicalDate, nextDagrunCreateAfter];
  };

  it('is shown before any scheduler pass, in the DAG’s zone, and stays while the DAG is paused', async () => {
    clockAt('2024-03-01T00:00:00Z');
    // 02:30 does not exist in New York on 2024-03-10: that day's run is at 03:00 EDT, when the gap ends.
    const res = await api.registerDag(
      dag('next_paused', [{ taskId: 'a' }], { schedule: '30 2 * * *', timezone: 'America/New_York', startDate: '2024-03-09T12:00:00Z', isPausedUponCreation: true }),
    );
    expect([res.dag.nextDagrunLogicalDate, res.dag.nextDagrunCreateAfter]).toEqual(isos('2024-03-10T07:00Z', '2024-03-11T06:30Z'));
    await api.tick(new Date('2024-04-01T00:00:00Z'));
    expect(await next('next_paused')).toEqual(isos('2024-03-10T07:00Z', '2024-03-11T06:30Z'));
    expect(await runs('next_paused')).toEqual([]);

    // A start ahead: the first interval (Kolkata midnight is 18:30Z the day before).
    await api.registerDag(dag('next_ahead', [{ taskId: 'a' }], { schedule: '@daily', timezone: 'Asia/Kolkata', startDate: '2030-01-01T00:00:00Z', catchup: false }));
    expect(await next('next_ahead')).toEqual(isos('2030-01-01T18:30Z', '2030-01-02T18:30Z'));
  });

  it('without catchup, is the latest interval that has ended when the DAG is registered, created at the next pass', async () => {
    clockAt('2024-06-15T12:00:00Z');
    await api.registerDag(dag('next_latest', [{ taskId: 'a' }], { schedule: '0 6 * * *', timezone: 'Europe/Amsterdam', startDate: '2024-01-01T00:00:00Z', catchup: false }));
    // 06:00 CEST is 04:00Z; the scheduler looks from the end of the first interval (06:00 CET on Jan 2), long past.
    expect(await next('next_latest')).toEqual(isos('2024-06-14T04:00Z', '2024-01-02T05:00Z'));
    await api.tick(new Date('2024-06-15T12:00:00Z'));
    expect((await runs('next_latest')).map((r) => r.logicalDate)).toEqual(isos('2024-06-14T04:00Z'));
    expect(await next('next_latest')).toEqual(isos('2024-06-15T04:00Z', '2024-06-16T04:00Z'));
  });

  it('after a new schedule, continues from the latest scheduled run', async () => {
    const daily = (schedule: string) => dag('next_rescheduled', [{ taskId: 'a' }], { schedule, startDate: '2024-01-01T00:00:00Z' });
    await api.registerDag(daily('@daily'));
    await api.tick(new Date('2024-01-03T01:00:00Z'));
    expect((await runs('next_rescheduled')).map((r) => r.logicalDate)).toEqual(isos('2024-01-01T00:00Z', '2024-01-02T00:00Z'));
    clockAt('2024-01-03T01:00:00Z');
    await api.registerDag(daily('0 6 * * *'));
    expect(await next('next_rescheduled')).toEqual(isos('2024-01-02T06:00Z', '2024-01-03T06:00Z'));
    await api.tick(new Date('2024-01-03T05:59:59Z'));
    expect(await runs('next_rescheduled')).toHaveLength(2);
    await api.tick(new Date('2024-01-03T06:00:00Z'));
    expect((await runs('next_rescheduled')).map((r) => [r.logicalDate, r.dataIntervalEnd]).at(-1)).toEqual(isos('2024-01-02T06:00Z', '2024-01-03T06:00Z'));
  });
});

describe('@once and endDate', () => {
  it('accepts endDate equal to startDate and runs once, at startDate', async () => {
    await api.registerDag(dag('once_same', [{ taskId: 'a' }], { schedule: '@once', timezone: 'America/Santiago', startDate: '2024-09-08T04:30:00Z', endDate: '2024-09-08T04:30:00Z' }));
    const once = { logicalDate: iso('2024-09-08T04:30Z'), dataIntervalStart: iso('2024-09-08T04:30Z'), dataIntervalEnd: iso('2024-09-08T04:30Z'), runAfter: iso('2024-09-08T04:30Z') };
    expect(await preview('once_same', 5)).toEqual([once]);
    await api.tick(new Date('2024-09-08T04:29:59Z'));
    expect(await runs('once_same')).toEqual([]);
    await api.tick(new Date('2024-09-08T04:30:00Z'));
    await api.tick(new Date('2024-12-01T00:00:00Z'));
    expect((await runs('once_same')).map(({ logicalDate, dataIntervalStart, dataIntervalEnd }) => ({ logicalDate, dataIntervalStart, dataIntervalEnd }))).toEqual([
      { logicalDate: once.logicalDate, dataIntervalStart: once.dataIntervalStart, dataIntervalEnd: once.dataIntervalEnd },
    ]);
  });

  it('refuses endDate before startDate, naming the field, and writes nothing', async () => {
    const res = await api.call('POST', '/api/v1/dags', dag('once_before', [{ taskId: 'a' }], { schedule: '@once', startDate: '2024-09-08T04:30:00Z', endDate: '2024-09-08T04:29:59Z' }));
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ path: 'endDate', message: 'must not be before startDate (2024-09-08T04:30:00Z): @once runs once, at startDate' }]);
    expect((await api.call('GET', '/api/v1/dags/once_before')).status).toBe(404);
  });
});

describe('cron shapes', () => {
  it('runs a day-of-month range up to L on each month’s own last days, across a DST gap', async () => {
    // 02:30 does not exist in Berlin on 2024-03-31: that run is at 03:00 CEST, when the gap ends.
    await api.registerDag(dag('last_days', [{ taskId: 'a' }], { schedule: '30 2 29-L * *', timezone: 'Europe/Berlin', startDate: '2024-01-30T00:00:00Z', maxActiveRuns: 20 }));
    const items = await preview('last_days', 6);
    expect(items.map((i: any) => i.logicalDate)).toEqual(
      isos('2024-01-30T01:30Z', '2024-01-31T01:30Z', '2024-02-29T01:30Z', '2024-03-29T01:30Z', '2024-03-30T01:30Z', '2024-03-31T01:00Z'),
    );
    await api.tick(new Date(items[5].dataIntervalStart));
    expect((await runs('last_days')).map((r) => r.logicalDate)).toEqual(items.slice(0, 5).map((i: any) => i.logicalDate));

    await api.registerDag(dag('last_days_bf', [{ taskId: 'a' }], { schedule: '30 2 29-L * *', timezone: 'Europe/Berlin', startDate: '2024-01-30T00:00:00Z' }));
    clockAt('2024-06-01T00:00:00Z');
    const dry = await api.ok('POST', '/api/v1/backfills', { dagId: 'last_days_bf', fromDate: '2024-02-01T00:00:00Z', toDate: '2024-05-31T23:59:59Z', dryRun: true });
    // May 31's interval ends on Jun 29: clipped.
    expect(dry.create.map((d: string) => new Date(d).toLocaleDateString('sv-SE', { timeZone: 'Europe/Berlin' }))).toEqual([
      '2024-02-29', '2024-03-29', '2024-03-30', '2024-03-31', '2024-04-29', '2024-04-30', '2024-05-29', '2024-05-30',
    ]);
    expect(dry.clipped).toMatchObject({ intervals: 1, firstLogicalDate: iso('2024-05-31T00:30Z') });
  });

  it('accepts croniter’s L5 (last Friday) and @quarterly', async () => {
    await api.registerDag(dag('last_friday', [{ taskId: 'a' }], { schedule: '0 9 * * L5', timezone: 'America/New_York', startDate: '2024-01-01T00:00:00Z' }));
    expect((await preview('last_friday', 3)).map((i: any) => i.logicalDate)).toEqual(isos('2024-01-26T14:00Z', '2024-02-23T14:00Z', '2024-03-29T13:00Z'));
    await api.registerDag(dag('quarterly', [{ taskId: 'a' }], { schedule: '@quarterly', startDate: '2024-01-01T00:00:00Z' }));
    expect((await preview('quarterly', 3)).map((i: any) => i.logicalDate)).toEqual(isos('2024-01-01T00:00Z', '2024-04-01T00:00Z', '2024-07-01T00:00Z'));
  });

  it.each([
    ['0 0 30 2 *', "invalid cron expression '0 0 30 2 *': it never fires: no day in day-of-month '30' occurs in month '2' (L is the last day of any month)"],
    ['0 0 31 4,6,9,11 *', "invalid cron expression '0 0 31 4,6,9,11 *': it never fires: no day in day-of-month '31' occurs in month '4,6,9,11' (L is the last day of any month)"],
    ['0 0 LW * *', "invalid cron expression '0 0 LW * *': 'LW' in day-of-month: 'W' (nearest weekday) is not supported; list the days instead (for example '1-5' in day-of-month), or use day-of-week ('1-5' for Monday to Friday)"],
    ['0 0 L-2 * *', "invalid cron expression '0 0 L-2 * *': 'L-2' in day-of-month: an offset from the last day is not supported; write 'L' for the last day, or a range to it such as '28-L'"],
    ['0 0 * * L', "invalid cron expression '0 0 * * L': 'L' alone in day-of-week is not supported (Quartz reads it as Saturday): write '6' for every Saturday, or '5L' for the last Friday of the month"],
  ])('refuses %j with the reason', async (schedule, message) => {
    const res = await api.call('POST', '/api/v1/dags', dag('refused_cron', [{ taskId: 'a' }], { schedule, startDate: '2024-01-01T00:00:00Z' }));
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ path: 'schedule', message }]);
  });
});

describe('GraphQL and REST agree on the refusal', () => {
  it('a backfill of a range with nothing ended is a 400 on fromDate in both', async () => {
    await api.registerDag(dag('bf_future_gql', [{ taskId: 'a' }], { schedule: '@daily', startDate: '2026-01-01T00:00:00Z' }));
    clockAt('2026-12-06T13:00:00Z');
    const res = await graphql(ctx.t.app, 'mutation($input: CreateBackfillInput!) { createBackfill(input: $input) { dryRun } }', {
      input: { dagId: 'bf_future_gql', fromDate: '2026-12-06T00:00:00Z', toDate: '2026-12-07T00:00:00Z', dryRun: true },
    });
    expect(res.errors?.[0].extensions).toMatchObject({ statusCode: 400, details: [{ path: 'fromDate' }] });
  });
});
