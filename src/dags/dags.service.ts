import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { NotFoundError, ValidationError } from '../common/errors.js';
import type { Page } from '../common/validation.js';
import { nextIntervals, validateSchedule, validateTimezone, type RunInterval } from '../scheduler/domain/index.js';
import { dagContentHash } from './domain/content-hash.js';
import { checkDocumentSize } from './domain/limits.js';
import { validateDagDocument } from './domain/validate-dag.js';
import type { DagDocument } from './domain/dag-document.schema.js';
import { DagsRepository, type DagListFilter, type DagRecord, type DagSource, type DagVersionRecord } from './dags.repository.js';

export type RegisterResult = { dag: DagRecord; version: number; created: boolean; changed: boolean };

/** DAG registry rules, shared by REST, GraphQL and the DAG-folder processor. */
@Injectable()
export class DagsService {
  constructor(
    private readonly repo: DagsRepository,
    private readonly audit: AuditService,
  ) {}

  /** Validates fully before writing anything; a rejected document leaves the database untouched. */
  validate(input: unknown, byteLength?: number): DagDocument {
    const size = checkDocumentSize(byteLength ?? Buffer.byteLength(JSON.stringify(input ?? null)));
    if (size) throw new ValidationError([size]);
    const result = validateDagDocument(input, { validateSchedule, validateTimezone });
    if (!result.ok) throw new ValidationError(result.errors);
    return result.dag;
  }

  async register(input: unknown, source: DagSource = { kind: 'api' }, byteLength?: number): Promise<RegisterResult> {
    const doc = this.validate(input, byteLength);
    const result = await this.repo.upsert(doc, dagContentHash(doc), source);
    if (result.changed) {
      await this.audit.record({ action: 'register_dag', target: doc.dagId, details: { version: result.version, source: source.kind } });
    }
    return result;
  }

  async get(dagId: string): Promise<{ dag: DagRecord; document: DagDocument }> {
    const dag = await this.repo.findDag(dagId);
    if (!dag) throw new NotFoundError('DAG', dagId);
    const version = await this.repo.findVersion(dagId, dag.latestVersion);
    if (!version) throw new NotFoundError('DAG version', `${dagId}@${dag.latestVersion}`);
    return { dag, document: redactSecrets(version.document) };
  }

  async list(filter: DagListFilter): Promise<Page<DagRecord>> {
    const { items, total } = await this.repo.listDags(filter);
    return { items, totalEntries: total, limit: filter.limit, offset: filter.offset };
  }

  async setPaused(dagId: string, isPaused: boolean): Promise<DagRecord> {
    const dag = await this.repo.setPaused(dagId, isPaused);
    if (!dag) throw new NotFoundError('DAG', dagId);
    await this.audit.record({ action: isPaused ? 'pause_dag' : 'unpause_dag', target: dagId });
    return dag;
  }

  async delete(dagId: string): Promise<void> {
    if (!(await this.repo.delete(dagId))) throw new NotFoundError('DAG', dagId);
    await this.audit.record({ action: 'delete_dag', target: dagId });
  }

  async versions(dagId: string, limit: number, offset: number): Promise<Page<DagVersionRecord>> {
    if (!(await this.repo.findDag(dagId))) throw new NotFoundError('DAG', dagId);
    const { items, total } = await this.repo.listVersions(dagId, limit, offset);
    return { items: items.map((v) => ({ ...v, document: redactSecrets(v.document) })), totalEntries: total, limit, offset };
  }

  async version(dagId: string, version: number): Promise<DagVersionRecord> {
    const v = await this.repo.findVersion(dagId, version);
    if (!v) throw new NotFoundError('DAG version', `${dagId}@${version}`);
    return { ...v, document: redactSecrets(v.document) };
  }

  /** A page of versions for each of several DAGs that exist (GraphQL's nested dag → versions), by DAG id. */
  async versionsOfDags(dagIds: string[], limit: number, offset: number): Promise<Map<string, Page<DagVersionRecord>>> {
    const pages = await this.repo.listVersionsOfDags(dagIds, limit, offset);
    return new Map(
      [...pages].map(([dagId, { items, total }]) => [
        dagId,
        { items: items.map((v) => ({ ...v, document: redactSecrets(v.document) })), totalEntries: total, limit, offset },
      ]),
    );
  }

  /** The latest document of each of several DAGs, by DAG id. */
  async latestDocuments(dagIds: string[]): Promise<Map<string, DagDocument>> {
    const versions = await this.repo.latestVersionsOfDags(dagIds);
    return new Map([...versions].map(([dagId, v]) => [dagId, redactSecrets(v.document)]));
  }

  /**
   * The next data intervals of the DAG's schedule after `after` (a logical date; from the first interval when
   * absent), computed by the same functions the scheduler uses. Manual and dataset schedules have none.
   */
  async schedulePreview(dagId: string, after: Date | null, count: number): Promise<{ items: RunInterval[] }> {
    const { document: doc } = await this.get(dagId);
    if (typeof doc.schedule !== 'string' || !doc.startDate) return { items: [] };
    const window = { timezone: doc.timezone, startDate: new Date(doc.startDate), endDate: doc.endDate ? new Date(doc.endDate) : null };
    return { items: nextIntervals(doc.schedule, window, after, count) };
  }

  async importErrors(limit: number, offset: number) {
    const { items, total } = await this.repo.listImportErrors(limit, offset);
    return { items, totalEntries: total, limit, offset };
  }
}

/** Webhook signing secrets stay in the stored document (deliveries need them) but are never returned. */
export function redactSecrets(doc: DagDocument): DagDocument {
  const redact = (cbs: DagDocument['slaCallbacks']) => cbs.map((cb) => (cb.type === 'webhook' && cb.secret ? { ...cb, secret: '***' } : cb));
  return { ...doc, slaCallbacks: redact(doc.slaCallbacks), onFailureCallbacks: redact(doc.onFailureCallbacks) };
}
