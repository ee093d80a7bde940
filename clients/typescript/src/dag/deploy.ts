/** Registering a DAG document, or asking what registering it would do (shared by Dag and weft-cli). */
import { clientFor, unwrap, type Connection } from '../connection.js';
import { upsertDag, validateDag } from '../generated/sdk.gen.js';
import type { Dag as DagRecord, DagDocument as ApiDagDocument, RegistrationPreview } from '../generated/types.gen.js';
import type { DagDocument } from './generated/dag-document.gen.js';

/** `created`: the DAG is new; `updated`: a new version was stored; `unchanged`: the content was the latest version's. */
export type DeployStatus = 'created' | 'updated' | 'unchanged';
export type DeployResult = { dagId: string; status: DeployStatus; version: number; dag: DagRecord };
export type PreviewResult = RegistrationPreview;

/** Registers the document (POST /api/v1/dags). A document the service refuses throws WeftApiError (its `issues`). */
export async function deployDocument(document: DagDocument, connection: Connection = {}): Promise<DeployResult> {
  const result = await unwrap(upsertDag({ client: clientFor(connection), body: document as ApiDagDocument }));
  const status: DeployStatus = result.created ? 'created' : result.changed ? 'updated' : 'unchanged';
  return { dagId: result.dag.dagId, status, version: result.version, dag: result.dag };
}

/** What registering would do and the document as it would be stored (POST /api/v1/dags/validate); writes nothing. */
export async function previewDocument(document: DagDocument, connection: Connection = {}): Promise<PreviewResult> {
  return unwrap(validateDag({ client: clientFor(connection), body: document as ApiDagDocument }));
}
