/**
 * What a DAG run covers and when it may start (Airflow's data-interval model, docs/scheduling.md). All values
 * are UTC instants.
 */
export type RunInterval = {
  /** Identifies the run and feeds `{{ ds }}`; the start of the data interval for scheduled runs. */
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  /** The earliest instant the run may be created: the end of its data interval. */
  runAfter: Date;
};

/** A scheduled run: logical date = interval start, due when the interval ends. */
export function scheduledInterval(start: number, end: number): RunInterval {
  return {
    logicalDate: new Date(start),
    dataIntervalStart: new Date(start),
    dataIntervalEnd: new Date(end),
    runAfter: new Date(end),
  };
}

/**
 * A manually triggered run covers the empty interval [logicalDate, logicalDate] and is due at its logical date
 * (Airflow 3 behaviour), whatever the DAG's schedule: it never stands in for a scheduled interval.
 */
export function manualInterval(logicalDate: Date): RunInterval {
  return scheduledInterval(logicalDate.getTime(), logicalDate.getTime());
}
