/**
 * ISO 8601 durations in fixed units: weeks, days, hours, minutes and (fractional) seconds, e.g. `PT30M`, `PT2H`,
 * `P1D`, `P1DT12H`. Years and months are refused: their length depends on the calendar, which an SLA should not.
 */
export const ISO_DURATION_PATTERN =
  /^P(?!$)(?:(\d+)W)?(?:(\d+)D)?(?:T(?!$)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const UNIT_SECONDS = [7 * 86_400, 86_400, 3_600, 60, 1] as const;

/** Length of an ISO 8601 duration in seconds, or null when the text is not one `ISO_DURATION_PATTERN` accepts. */
export function parseIsoDurationSeconds(text: string): number | null {
  const match = ISO_DURATION_PATTERN.exec(text);
  if (!match) return null;
  return UNIT_SECONDS.reduce((sum, unit, i) => sum + Number(match[i + 1] ?? 0) * unit, 0);
}
