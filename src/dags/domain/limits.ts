import type { DagValidationIssue } from './dag-validation-issue.js';

/** Largest DAG document accepted, in bytes of its UTF-8 text (JSON or YAML as submitted). */
export const MAX_DAG_DOCUMENT_BYTES = 1024 * 1024;

/** Most tasks one DAG may declare. */
export const MAX_TASKS_PER_DAG = 1000;

/** Returns an issue naming the limit when a document is too large, otherwise null. */
export function checkDocumentSize(byteLength: number): DagValidationIssue | null {
  if (byteLength <= MAX_DAG_DOCUMENT_BYTES) return null;
  return {
    path: '',
    message: `document is ${byteLength} bytes; the limit is ${MAX_DAG_DOCUMENT_BYTES} bytes (1 MiB)`,
  };
}
