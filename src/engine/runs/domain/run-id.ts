/** Run ids in Airflow's form, e.g. `scheduled__2024-01-15T06:00:00+00:00`, so they sort by logical date. */
function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, '+00:00').replace(/Z$/, '+00:00');
}

export const scheduledRunId = (logicalDate: Date): string => `scheduled__${isoSeconds(logicalDate)}`;
export const manualRunId = (logicalDate: Date): string => `manual__${isoSeconds(logicalDate)}`;
export const backfillRunId = (logicalDate: Date): string => `backfill__${isoSeconds(logicalDate)}`;
