/** The fields of a lease that name an attempt and its data interval (the lease protocol's). */
export type AttemptContext = {
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
};

/** What every task sees of its attempt: the environment of shell tasks and of the Kubernetes executor's pods. */
export function contextVariables(lease: AttemptContext): Record<string, string> {
  return {
    WEFT_DAG_ID: lease.dagId,
    WEFT_RUN_ID: lease.runId,
    WEFT_TASK_ID: lease.taskId,
    WEFT_TRY_NUMBER: String(lease.tryNumber),
    WEFT_LOGICAL_DATE: lease.logicalDate,
    WEFT_DS: lease.logicalDate.slice(0, 10),
    WEFT_DATA_INTERVAL_START: lease.dataIntervalStart,
    WEFT_DATA_INTERVAL_END: lease.dataIntervalEnd,
  };
}
