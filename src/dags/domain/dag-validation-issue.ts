/** One problem found in a DAG document: where (`tasks[2].dependsOn[0]`; '' for the document itself) and why. */
export type DagValidationIssue = { path: string; message: string };

export { formatPath as formatIssuePath } from '../../common/format-path.js';
