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
  /** A mapped instance's position (0…n−1); −1 (the default) when unmapped. */
  readonly mapIndex?: number;
  /** A mapped instance's values of its task's `expand` keys. */
  readonly expand?: Readonly<Record<string, unknown>>;
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
  readonly map_index: number;
  readonly expand: Readonly<Record<string, unknown>>;
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
    map_index: input.mapIndex ?? -1,
    expand: input.expand ?? {},
  };
}

function validDate(value: Date, field: string): Date {
  if (Number.isNaN(value.getTime())) throw new RangeError(`${field} is not a valid date`);
  return value;
}
