import { CronExpressionParser } from 'cron-parser';
import { ValidationError } from '../../common/errors.js';
import { neverFiresReason, normalizeCronFields } from './cron-syntax.js';

export { validateTimezone } from './timezone.js';

/** Presets and the 5-field cron each stands for (evaluated in the DAG's timezone like any cron). */
export const SCHEDULE_PRESETS = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@quarterly': '0 0 1 */3 *',
  '@yearly': '0 0 1 1 *',
} as const;

export const ONCE = '@once';

/**
 * How a cron schedule meets DST changes (docs/scheduling.md, "Daylight saving time"):
 * - `elapsed`: the hour field matches all 24 hours, so the schedule follows real time — a repeated wall hour
 *   runs twice, a skipped one not at all (what Airflow and cron-parser do for such schedules);
 * - `wall-clock`: every matching local time runs exactly once — a skipped one when the gap ends, a repeated
 *   one at its first occurrence.
 */
export type DstPolicy = 'elapsed' | 'wall-clock';

export type CronSchedule = { kind: 'cron'; expression: string; dstPolicy: DstPolicy };
export type Schedule = { kind: 'manual' } | { kind: 'once' } | CronSchedule;

const FIELD_NAMES = 'minute hour day-of-month month day-of-week';
/** `H` picks a random value per process; several schedulers must agree on every tick. */
const HASHED_VALUE = /(^|,)H(?=$|[(/,])/;
/** Any fixed instant works: it only proves that the expression matches some date at all. */
const PROBE_FROM = new Date(Date.UTC(2000, 0, 1));

/** Parses a DAG's `schedule`; throws a ValidationError naming the reason when it is not usable. */
export function parseSchedule(expression: string | null): Schedule {
  const result = interpret(expression);
  if (typeof result === 'string') throw new ValidationError([{ path: 'schedule', message: result }]);
  return result;
}

/** An error message for an unusable schedule, or null. `null` (manual only) is valid. */
export function validateSchedule(expression: string | null): string | null {
  const result = interpret(expression);
  return typeof result === 'string' ? result : null;
}

function interpret(expression: string | null): Schedule | string {
  if (expression === null) return { kind: 'manual' };
  const trimmed = expression.trim();
  if (trimmed === ONCE) return { kind: 'once' };
  if (trimmed.startsWith('@')) {
    if (Object.hasOwn(SCHEDULE_PRESETS, trimmed)) {
      return cronSchedule(SCHEDULE_PRESETS[trimmed as keyof typeof SCHEDULE_PRESETS]);
    }
    const known = [ONCE, ...Object.keys(SCHEDULE_PRESETS)].join(', ');
    return `unknown schedule preset '${expression}' (supported: ${known})`;
  }
  const fields = trimmed === '' ? [] : trimmed.split(/\s+/);
  const invalid = (reason: string): string => `invalid cron expression '${expression}': ${reason}`;
  if (fields.length !== 5) {
    const seconds = fields.length === 6 ? '; a seconds field is not supported' : '';
    return invalid(`expected 5 fields (${FIELD_NAMES}), got ${fields.length}${seconds}`);
  }
  if (fields.some((field) => HASHED_VALUE.test(field))) return invalid("hashed values ('H') are not supported");
  const normalized = normalizeCronFields(fields);
  if (typeof normalized === 'string') return invalid(normalized);
  try {
    return cronSchedule(normalized.join(' '));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return invalid(neverFiresReason(fields, message) ?? message);
  }
}

function cronSchedule(expression: string): CronSchedule {
  const parsed = CronExpressionParser.parse(expression, { tz: 'UTC', currentDate: PROBE_FROM });
  parsed.next();
  const dstPolicy = parsed.fields.hour.values.length === 24 ? 'elapsed' : 'wall-clock';
  return { kind: 'cron', expression, dstPolicy };
}
