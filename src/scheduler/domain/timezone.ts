/**
 * IANA time-zone arithmetic on plain millisecond timestamps, built on the runtime's Intl (ICU) data only.
 *
 * A "wall clock" value is the local date and time in the zone, encoded as if it were a UTC timestamp
 * (wall = instant + offset). That lets cron fields be matched with plain UTC arithmetic while this file
 * decides how a wall time maps back to real instants: once, twice (fall-back fold) or never (spring-forward gap).
 */

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;
/** Offsets are sampled this far apart when a year's transitions are located; transitions closer than this are
 * not resolved. No rule in tzdata changes a zone's offset twice within six hours. */
const SAMPLE_STEP = 6 * HOUR;
/** Wider than any UTC offset (±14 h), so every instant that can show a given wall time lies inside it. */
const WALL_SEARCH_RADIUS = 2 * DAY;

/** One change of a zone's UTC offset: from `at` on, the offset is `after` instead of `before` (all ms). */
export type OffsetTransition = { at: number; before: number; after: number };

/** How a wall-clock time maps to real instants in a zone. */
export type WallTimeResolution =
  | { kind: 'unique'; instant: number }
  /** Fall-back fold: the wall time happens twice; `first` < `second`. */
  | { kind: 'repeated'; first: number; second: number }
  /** Spring-forward gap: the wall time never happens; the clock jumps over it at `gapEndsAt`. */
  | { kind: 'skipped'; gapEndsAt: number };

const formatters = new Map<string, Intl.DateTimeFormat>();
const transitionsByYear = new Map<string, readonly OffsetTransition[]>();

/** An error message for an unusable time zone, or null. Offset strings such as `+05:00` are not IANA names. */
export function validateTimezone(timezone: string): string | null {
  if (/^[+-]/.test(timezone)) return `unknown IANA timezone '${timezone}': use a zone name such as 'Europe/Berlin'`;
  try {
    formatterFor(timezone);
    return null;
  } catch {
    return `unknown IANA timezone '${timezone}'`;
  }
}

/** The zone's UTC offset in ms at an instant (positive east of Greenwich). */
export function offsetAt(timezone: string, instant: number): number {
  const parts = formatterFor(timezone).formatToParts(instant);
  const field = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((part) => part.type === type)?.value ?? Number.NaN);
  const wall = new Date(0);
  wall.setUTCFullYear(field('year'), field('month') - 1, field('day'));
  wall.setUTCHours(field('hour'), field('minute'), field('second'), 0);
  return wall.getTime() - Math.floor(instant / SECOND) * SECOND;
}

/** The local wall-clock time of an instant, encoded as a UTC timestamp. */
export function wallClockAt(timezone: string, instant: number): number {
  return instant + offsetAt(timezone, instant);
}

/** Maps a local wall-clock time to the instant(s) showing it. */
export function resolveWallTime(timezone: string, wall: number): WallTimeResolution {
  const nearby = transitionsBetween(timezone, wall - WALL_SEARCH_RADIUS, wall + WALL_SEARCH_RADIUS);
  const offsetBefore = offsetAt(timezone, wall - WALL_SEARCH_RADIUS);
  if (nearby.length === 0) return { kind: 'unique', instant: wall - offsetBefore };
  const offsets = new Set([offsetBefore, ...nearby.map((t) => t.after)]);
  const instants = [...offsets]
    .map((offset) => wall - offset)
    .filter((instant) => wallClockAt(timezone, instant) === wall)
    .sort((a, b) => a - b);
  const [first, second] = instants;
  if (first !== undefined && second !== undefined) return { kind: 'repeated', first, second };
  if (first !== undefined) return { kind: 'unique', instant: first };
  const gap = nearby.find((t) => t.at + t.before <= wall && wall < t.at + t.after);
  if (!gap) throw new Error(`wall time ${new Date(wall).toISOString()} in ${timezone} resolves to no instant`);
  return { kind: 'skipped', gapEndsAt: gap.at };
}

/** The first offset change in (from, to], or null when the offset is constant over that span. */
export function firstTransitionAfter(timezone: string, from: number, to: number): OffsetTransition | null {
  for (let year = new Date(from).getUTCFullYear(); year <= new Date(to).getUTCFullYear(); year++) {
    const hit = transitionsOfYear(timezone, year).find((t) => t.at > from && t.at <= to);
    if (hit) return hit;
  }
  return null;
}

function transitionsBetween(timezone: string, from: number, to: number): OffsetTransition[] {
  const found: OffsetTransition[] = [];
  for (let year = new Date(from).getUTCFullYear(); year <= new Date(to).getUTCFullYear(); year++) {
    found.push(...transitionsOfYear(timezone, year).filter((t) => t.at > from && t.at <= to));
  }
  return found;
}

/** Offset changes in (1 Jan `year`, 1 Jan `year + 1`] UTC, memoised: tzdata does not change while we run. */
function transitionsOfYear(timezone: string, year: number): readonly OffsetTransition[] {
  const key = `${timezone}|${year}`;
  const cached = transitionsByYear.get(key);
  if (cached) return cached;
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  const found: OffsetTransition[] = [];
  let previous = start;
  let previousOffset = offsetAt(timezone, start);
  while (previous < end) {
    const sample = Math.min(previous + SAMPLE_STEP, end);
    const offset = offsetAt(timezone, sample);
    if (offset !== previousOffset) {
      const at = locateChange(timezone, previous, sample, previousOffset);
      found.push({ at, before: previousOffset, after: offset });
    }
    previous = sample;
    previousOffset = offset;
  }
  transitionsByYear.set(key, found);
  return found;
}

/** Binary search (whole seconds) for the first instant in (low, high] whose offset differs from `offset`. */
function locateChange(timezone: string, low: number, high: number, offset: number): number {
  let lo = low / SECOND;
  let hi = high / SECOND;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(timezone, mid * SECOND) === offset) lo = mid;
    else hi = mid;
  }
  return hi * SECOND;
}

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}
