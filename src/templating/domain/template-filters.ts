import { filters as liquidFilters, type FilterImplOptions } from 'liquidjs';
import {
  addDays,
  formatDs,
  formatDsNodash,
  formatTemplateDate,
  formatTs,
  formatTsNodash,
  parseTemplateDate,
  toInstant,
  type TemplateDate,
} from './template-dates.js';

// liquidjs exports only the union of a bare handler and `{ handler, raw }`; these name its parts.
type FilterHandler = Extract<FilterImplOptions, (...args: never[]) => unknown>;
export type FilterThis = ThisParameterType<FilterHandler>;

/** Thrown by Weft's filters; the renderer turns it into a TemplateError that quotes the template. */
export class FilterArgumentError extends Error {
  constructor(
    readonly filter: string,
    problem: string,
  ) {
    super(`filter '${filter}': ${problem}`);
    this.name = 'FilterArgumentError';
  }
}

const ACCEPTED_DATES = 'YYYY-MM-DD, YYYYMMDD, an ISO 8601 timestamp or YYYYMMDDTHHMMSS';

function requireDate(filter: string, value: unknown): TemplateDate {
  const parsed = parseTemplateDate(value);
  if (parsed) return parsed;
  throw new FilterArgumentError(filter, `expected a date (${ACCEPTED_DATES}), got ${describeValue(value)}`);
}

function requireDays(filter: string, days: unknown): number {
  const n = typeof days === 'string' && /^[+-]?\d+$/.test(days) ? Number(days) : days;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new FilterArgumentError(filter, `expected a whole number of days, got ${describeValue(days)}`);
  }
  return n;
}

function shiftDays(filter: string, date: TemplateDate, days: unknown): string {
  const moved = addDays(date, requireDays(filter, days));
  if (!moved) throw new FilterArgumentError(filter, 'the result falls outside the years 0000-9999');
  return formatTemplateDate(moved);
}

function describeValue(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  return typeof value === 'string' ? `'${value}'` : `${typeof value} ${JSON.stringify(value)}`;
}

/** `{{ ds | add_days: 1 }}`: any template date, answered in the spelling it came in. */
function add_days(value: unknown, days: unknown): string {
  return shiftDays('add_days', requireDate('add_days', value), days);
}

/** Airflow's `macros.ds_add(ds, n)` as a filter: `{{ ds | ds_add: 7 }}`; only YYYY-MM-DD in and out, as there. */
function ds_add(value: unknown, days: unknown): string {
  const date = parseTemplateDate(value);
  if (date?.shape !== 'ds') throw new FilterArgumentError('ds_add', `expected YYYY-MM-DD, got ${describeValue(value)}`);
  return shiftDays('ds_add', date, days);
}

const liquidDate = unwrap(liquidFilters.date);

function unwrap(filter: FilterImplOptions | undefined): FilterHandler {
  if (filter === undefined) throw new Error('liquidjs no longer ships a date filter');
  return typeof filter === 'function' ? filter : filter.handler;
}

/**
 * strftime through LiquidJS's own `date` filter, but fed only dates we parsed: its own parser would read `now` from the
 * clock and `20240115` as epoch seconds. UTC unless a time zone name is given.
 */
function formatDate(filter: string) {
  return function (this: FilterThis, value: unknown, format: unknown, timeZone?: unknown): unknown {
    const instant = toInstant(requireDate(filter, value));
    if (typeof format !== 'string' || format === '') {
      throw new FilterArgumentError(filter, `expected a format such as '%Y-%m-%d', got ${describeValue(format)}`);
    }
    if (timeZone !== undefined && !isTimeZone(timeZone)) {
      throw new FilterArgumentError(filter, `unknown time zone ${describeValue(timeZone)}`);
    }
    return liquidDate.call(this, instant, format, timeZone);
  };
}

function isTimeZone(value: unknown): value is string {
  if (typeof value !== 'string' || value === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** Airflow's `ds`, `ds_nodash`, `ts`, `ts_nodash` filters: `{{ data_interval_end | ds }}`. */
function reformat(filter: string, format: (instant: Date) => string) {
  return (value: unknown): string => format(toInstant(requireDate(filter, value)));
}

export const WEFT_FILTERS: Readonly<Record<string, FilterHandler>> = {
  add_days,
  ds_add,
  format_date: formatDate('format_date'),
  date: formatDate('date'),
  ds: reformat('ds', formatDs),
  ds_nodash: reformat('ds_nodash', formatDsNodash),
  ts: reformat('ts', formatTs),
  ts_nodash: reformat('ts_nodash', formatTsNodash),
};
