/**
 * The date strings templates see, and the arithmetic the date filters do on them. Everything is UTC unless a string
 * carries its own offset; nothing here reads the clock.
 */

/** The four spellings a template date can have; `add_days` answers in the spelling it was given. */
export type TemplateDateShape = 'ds' | 'ds_nodash' | 'iso' | 'ts_nodash';

export interface TemplateDate {
  readonly shape: TemplateDateShape;
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** Fractional seconds as written, with the dot (`.123`), or `''`. */
  readonly fraction: string;
  /** `Z`, `+05:30`, or `''` for a date without offset (read as UTC). */
  readonly offset: string;
}

const DS = /^(\d{4})-(\d{2})-(\d{2})$/;
const DS_NODASH = /^(\d{4})(\d{2})(\d{2})$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$/;
const TS_NODASH = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/;

/** Reads `2024-01-15`, `20240115`, `2024-01-15T06:00:00+00:00` (any offset, `Z`, or none) and `20240115T060000`. */
export function parseTemplateDate(value: unknown): TemplateDate | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = matchShape(value);
  return parsed && isRealDate(parsed) ? parsed : undefined;
}

function matchShape(value: string): TemplateDate | undefined {
  const dateOnly = DS.exec(value) ?? DS_NODASH.exec(value);
  if (dateOnly) {
    const [, y, mo, d] = dateOnly.map(Number);
    const shape = value.includes('-') ? 'ds' : 'ds_nodash';
    return { shape, year: y, month: mo, day: d, hour: 0, minute: 0, second: 0, fraction: '', offset: '' };
  }
  const iso = ISO.exec(value);
  if (iso) {
    const [y, mo, d, h, mi, s] = iso.slice(1, 7).map(Number);
    const [fraction, offset] = [iso[7] ?? '', iso[8] ?? ''];
    return { shape: 'iso', year: y, month: mo, day: d, hour: h, minute: mi, second: s, fraction, offset };
  }
  const tsNodash = TS_NODASH.exec(value);
  if (tsNodash) {
    const [y, mo, d, h, mi, s] = tsNodash.slice(1, 7).map(Number);
    return { shape: 'ts_nodash', year: y, month: mo, day: d, hour: h, minute: mi, second: s, fraction: '', offset: '' };
  }
  return undefined;
}

// Rejects 2024-02-30 and 25:00, which Date arithmetic would silently roll over.
function isRealDate(d: TemplateDate): boolean {
  const wall = new Date(utcWallClock(d));
  return (
    wall.getUTCFullYear() === d.year &&
    wall.getUTCMonth() === d.month - 1 &&
    wall.getUTCDate() === d.day &&
    wall.getUTCHours() === d.hour &&
    wall.getUTCMinutes() === d.minute &&
    wall.getUTCSeconds() === d.second &&
    offsetMinutes(d.offset) !== undefined
  );
}

function offsetMinutes(offset: string): number | undefined {
  if (offset === '' || offset === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const hours = Number(offset.slice(1, 3));
  const minutes = Number(offset.slice(4, 6));
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes);
}

/** The instant a template date names; a date without offset is read as UTC. */
export function toInstant(d: TemplateDate): Date {
  const fractionMs = d.fraction === '' ? 0 : Math.floor(Number(`0${d.fraction}`) * 1000);
  return new Date(utcWallClock(d) + fractionMs - (offsetMinutes(d.offset) ?? 0) * 60_000);
}

/**
 * Moves the calendar date by `days`, keeping time of day, offset and spelling. The offset is fixed (no zone rules), so
 * a calendar day is always 24 hours here. Undefined when the result leaves years 0000–9999.
 */
export function addDays(d: TemplateDate, days: number): TemplateDate | undefined {
  const moved = new Date(utcWallClock({ ...d, day: d.day + days }));
  const year = moved.getUTCFullYear();
  if (!Number.isFinite(year) || year < 0 || year > 9999) return undefined;
  return { ...d, year, month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

export function formatTemplateDate(d: TemplateDate): string {
  const date = `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
  const time = `${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)}`;
  switch (d.shape) {
    case 'ds':
      return date;
    case 'ds_nodash':
      return date.replaceAll('-', '');
    case 'iso':
      return `${date}T${time}${d.fraction}${d.offset}`;
    case 'ts_nodash':
      return `${date.replaceAll('-', '')}T${time.replaceAll(':', '')}`;
  }
}

/** `2024-01-15` */
export function formatDs(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/** `20240115` */
export function formatDsNodash(instant: Date): string {
  return formatDs(instant).replaceAll('-', '');
}

/** `2024-01-15T06:00:00+00:00`, as Airflow's `ts`; milliseconds appear only when not zero. */
export function formatTs(instant: Date): string {
  const iso = instant.toISOString();
  const millis = iso.slice(19, 23);
  return `${iso.slice(0, 19)}${millis === '.000' ? '' : millis}+00:00`;
}

/** `20240115T060000`, as Airflow's `ts_nodash`. */
export function formatTsNodash(instant: Date): string {
  return instant.toISOString().slice(0, 19).replaceAll('-', '').replaceAll(':', '');
}

// Date.UTC reads years 0–99 as 1900–1999; setUTCFullYear does not.
function utcWallClock(d: Pick<TemplateDate, 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second'>): number {
  const wall = new Date(0);
  wall.setUTCFullYear(d.year, d.month - 1, d.day);
  return wall.setUTCHours(d.hour, d.minute, d.second, 0);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}
