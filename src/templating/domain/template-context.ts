import { formatDs, formatDsNodash, formatTs, formatTsNodash } from './template-dates.js';

/** XCom values of the upstream tasks: task id → XCom key → value. A task's return value sits under `return_value`. */
export type UpstreamXcoms = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export interface TemplateContextInput {
  readonly dagId: string;
  readonly runId: string;
  readonly logicalDate: Date;
  readonly dataIntervalStart: Date;
  readonly dataIntervalEnd: Date;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly conf?: Readonly<Record<string, unknown>>;
  readonly xcom?: UpstreamXcoms;
}

/** The variables a template can name. Dates are strings already, so rendering never depends on the host's zone. */
export interface TemplateContext {
  readonly ds: string;
  readonly ds_nodash: string;
  readonly ts: string;
  readonly ts_nodash: string;
  readonly logical_date: string;
  readonly data_interval_start: string;
  readonly data_interval_end: string;
  readonly run_id: string;
  readonly dag_id: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly dag_run: { readonly conf: Readonly<Record<string, unknown>> };
  readonly xcom: UpstreamXcoms;
}

export function buildTemplateContext(input: TemplateContextInput): TemplateContext {
  const logicalDate = validDate(input.logicalDate, 'logicalDate');
  return {
    ds: formatDs(logicalDate),
    ds_nodash: formatDsNodash(logicalDate),
    ts: formatTs(logicalDate),
    ts_nodash: formatTsNodash(logicalDate),
    logical_date: formatTs(logicalDate),
    data_interval_start: formatTs(validDate(input.dataIntervalStart, 'dataIntervalStart')),
    data_interval_end: formatTs(validDate(input.dataIntervalEnd, 'dataIntervalEnd')),
    run_id: input.runId,
    dag_id: input.dagId,
    params: input.params ?? {},
    dag_run: { conf: input.conf ?? {} },
    xcom: input.xcom ?? {},
  };
}

function validDate(value: Date, field: string): Date {
  if (Number.isNaN(value.getTime())) throw new RangeError(`${field} is not a valid date`);
  return value;
}
