import { ConflictError } from '../../common/errors.js';

export type DagSource = { kind: 'api' } | { kind: 'folder'; fileloc: string };

/** The fields of a DAG row that decide who may register it. */
export type RegistrationOwner = { source: string; fileloc: string | null; is_active: boolean; latest_version: number };

/**
 * A DAG defined by a folder file is owned by that file while the file exists: a registration from the API, or from
 * another file, is refused. Shared by registration (under the row lock) and its preview.
 */
export function assertOwnership(dagId: string, current: RegistrationOwner, source: DagSource): void {
  if (current.latest_version === 0 || !current.is_active || current.source !== 'folder') return;
  if (source.kind === 'api') {
    throw new ConflictError(`DAG '${dagId}' is defined by the DAG folder file ${current.fileloc}; change that file instead`, 'dag_owned_by_folder');
  }
  if (source.fileloc !== current.fileloc) {
    throw new ConflictError(`DAG '${dagId}' is already defined by ${current.fileloc}`, 'duplicate_dag_id');
  }
}
