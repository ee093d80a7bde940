import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { NotFoundError, ValidationError } from '../common/errors.js';
import type { Page } from '../common/validation.js';
import { nextIntervals, registeredNextDagrun, validateSchedule, validateTimezone, type NextDagrun, type RunInterval } from '../scheduler/domain/index.js';
import { Clock } from '../common/clock.js';
import { dagContentHash } from './domain/content-hash.js';
import { checkDocumentSize } from './domain/limits.js';
import { validateDagDocument } from './domain/validate-dag.js';
import type { DagDocument } from './domain/dag-document.schema.js';
import { assertOwnership } from './domain/dag-ownership.js';
import { DagsRepository, type DagSource } from './dags.repository.js';
import type { DagListFilter, DagRecord, DagVersionRecord } from './domain/dag-record.js';
import { SecretsService } from '../secrets/secrets.service.js';
import { DatasetsService } from '../datasets/datasets.service.js';
import { mapWebhookSecrets, redactWebhookSecrets, sealWebhookSecrets } from './domain/webhook-secrets.js';
import { OutboundService } from '../outbound/outbound.service.js';
import { dagOutboundTargets } from './domain/outbound-targets.js';
import { splitRegistrationOptions } from './domain/registration-options.js';
import { missingPoolWarnings, poolsUsed, type RegistrationWarning } from './domain/missing-pools.js';
import { PoolsService } from '../pools/pools.service.js';

export type RegisterResult = { dag: DagRecord; version: number; created: boolean; changed: boolean; warnings: RegistrationWarning[] };

/**
 * What registering a document would do, worked out without writing: `create` (no such DAG), `update` (a new
 * version), `unchanged` (same content as the latest version); `version` is the version that would be current.
 */
export type RegistrationPreview = {
  dagId: string;
  action: 'create' | 'update' | 'unchanged';
  currentVersion: number | null;
  version: number;
  document: DagDocument;
  warnings: RegistrationWarning[];
};

/** DAG registry rules, shared by REST, GraphQL and the DAG-folder processor. */
@Injectable()
export class DagsService {
  constructor(
    private readonly repo: DagsRepository,
    private readonly audit: AuditService,
    private readonly secrets: SecretsService,
    private readonly outbound: OutboundService,
    private readonly pools: PoolsService,
    private readonly datasets: DatasetsService,
    private readonly clock: Clock,
  ) {}

  /** Validates fully before writing anything; a rejected document leaves the database untouched. */
  validate(input: unknown, byteLength?: number): DagDocument {
    const size = checkDocumentSize(byteLength ?? Buffer.byteLength(JSON.stringify(input ?? null)));
    if (size) throw new ValidationError([size]);
    const result = validateDagDocument(input, { validateSchedule, validateTimezone });
    if (!result.ok) throw new ValidationError(result.errors);
    return result.dag;
  }

  /** validate, then the outbound-address policy on the URLs Weft and its worker will call (resolving names). */
  private async validateWithTargets(input: unknown, byteLength?: number): Promise<DagDocument> {
    const doc = this.validate(input, byteLength);
    const targets = dagOutboundTargets(doc);
    await this.outbound.assertAllowed([
      ...targets.callbacks.map((t) => ({ ...t, guard: this.outbound.callbacks })),
      ...targets.httpTasks.map((t) => ({ ...t, guard: this.outbound.httpTasks })),
    ]);
    return doc;
  }

  async register(input: unknown, source: DagSource = { kind: 'api' }, byteLength?: number): Promise<RegisterResult> {
    const { content: doc, options } = splitRegistrationOptions(await this.validateWithTargets(input, byteLength));
    // Webhook secrets are stored encrypted; the hash sees their fingerprints, so the same document hashes the same.
    const stored = sealWebhookSecrets(doc, (s) => this.secrets.encrypt(s));
    const next = (last: Date | null) => this.nextDagrun(doc, last);
    const result = await this.repo.upsert(stored, dagContentHash(doc, (s) => this.secrets.fingerprint(s)), source, options, next, async (db, version) => {
      await this.datasets.syncLineage(db, doc);
      await this.audit.record({ action: 'register_dag', target: doc.dagId, details: { version, source: source.kind } }, db);
    });
    return { ...result, warnings: await this.warnings(doc) };
  }

  /** A new version's next run (docs/scheduling.md, "Start date, end date, catchup"), seen from the registration's time. */
  private nextDagrun(doc: DagDocument, lastScheduledLogicalDate: Date | null): NextDagrun {
    if (typeof doc.schedule !== 'string' || !doc.startDate) return { logicalDate: null, createAfter: null };
    const options = { timezone: doc.timezone, startDate: new Date(doc.startDate), endDate: doc.endDate ? new Date(doc.endDate) : null, catchup: doc.catchup };
    return registeredNextDagrun(doc.schedule, options, lastScheduledLogicalDate, this.clock.now());
  }

  /** What the registration accepts but the author should hear about: tasks in pools that do not exist (yet). */
  private async warnings(doc: DagDocument): Promise<RegistrationWarning[]> {
    return missingPoolWarnings(doc, await this.pools.existing([...poolsUsed(doc).keys()]));
  }

  /**
   * Validates like register and compares with the latest version like register, writing nothing: the answer of
   * `weft-cli dags validate` and `dags deploy --dry-run`. A registration racing with it may change the outcome.
   */
  async previewRegistration(input: unknown, byteLength?: number): Promise<RegistrationPreview> {
    const { content: doc } = splitRegistrationOptions(await this.validateWithTargets(input, byteLength));
    const current = await this.repo.findRegistrationState(doc.dagId);
    if (current) assertOwnership(doc.dagId, current, { kind: 'api' });
    const document = redactWebhookSecrets(doc);
    const warnings = await this.warnings(doc);
    if (!current || current.latest_version === 0) return { dagId: doc.dagId, action: 'create', currentVersion: null, version: 1, document, warnings };
    const changed = current.contentHash !== dagContentHash(doc, (s) => this.secrets.fingerprint(s));
    return {
      dagId: doc.dagId,
      action: changed ? 'update' : 'unchanged',
      currentVersion: current.latest_version,
      version: changed ? current.latest_version + 1 : current.latest_version,
      document,
      warnings,
    };
  }

  /**
   * Encrypts the webhook secrets of versions stored in plaintext (before encryption at rest) and rehashes them the
   * way register does, so the next registration of the same document adds no version. Run at every start; cheap
   * when there is nothing to do. Returns the number of versions rewritten.
   */
  async encryptPlaintextSecrets(): Promise<number> {
    return this.repo.rewritePlaintextSecretVersions((stored) => {
      // A version may mix both forms if an older replica wrote it during a rolling upgrade. One that also holds a
      // secret of another key cannot be rehashed: it is left as it is (foreignSecretKeyIds reports that key).
      let plain: DagDocument;
      try {
        plain = mapWebhookSecrets(stored, (s) => this.secrets.decrypt(s));
      } catch {
        return null;
      }
      return { document: sealWebhookSecrets(stored, (s) => this.secrets.encrypt(s)), contentHash: dagContentHash(plain, (s) => this.secrets.fingerprint(s)) };
    });
  }

  /**
   * Key ids of stored secrets that this process's secrets key cannot decrypt: not empty when replicas (or this
   * process and an earlier start) use different keys, which fails those DAGs' signed webhook deliveries.
   */
  async foreignSecretKeyIds(): Promise<string[]> {
    return (await this.repo.storedSecretKeyIds()).filter((id) => id !== this.secrets.keyId);
  }

  async get(dagId: string): Promise<{ dag: DagRecord; document: DagDocument }> {
    const dag = await this.repo.findDag(dagId);
    if (!dag) throw new NotFoundError('DAG', dagId);
    const version = await this.repo.findVersion(dagId, dag.latestVersion);
    if (!version) throw new NotFoundError('DAG version', `${dagId}@${dag.latestVersion}`);
    return { dag, document: redactWebhookSecrets(version.document) };
  }

  async list(filter: DagListFilter): Promise<Page<DagRecord>> {
    const { items, total } = await this.repo.listDags(filter);
    return { items, totalEntries: total, limit: filter.limit, offset: filter.offset };
  }

  async setPaused(dagId: string, isPaused: boolean): Promise<DagRecord> {
    const dag = await this.repo.setPaused(dagId, isPaused, (db) => this.audit.record({ action: isPaused ? 'pause_dag' : 'unpause_dag', target: dagId }, db));
    if (!dag) throw new NotFoundError('DAG', dagId);
    return dag;
  }

  async delete(dagId: string): Promise<void> {
    if (!(await this.repo.delete(dagId, (db) => this.audit.record({ action: 'delete_dag', target: dagId }, db)))) throw new NotFoundError('DAG', dagId);
  }

  async versions(dagId: string, limit: number, offset: number): Promise<Page<DagVersionRecord>> {
    if (!(await this.repo.findDag(dagId))) throw new NotFoundError('DAG', dagId);
    const { items, total } = await this.repo.listVersions(dagId, limit, offset);
    return { items: items.map((v) => ({ ...v, document: redactWebhookSecrets(v.document) })), totalEntries: total, limit, offset };
  }

  async version(dagId: string, version: number): Promise<DagVersionRecord> {
    const v = await this.repo.findVersion(dagId, version);
    if (!v) throw new NotFoundError('DAG version', `${dagId}@${version}`);
    return { ...v, document: redactWebhookSecrets(v.document) };
  }

  /** A page of versions for each of several DAGs that exist (GraphQL's nested dag → versions), by DAG id. */
  async versionsOfDags(dagIds: string[], limit: number, offset: number): Promise<Map<string, Page<DagVersionRecord>>> {
    const pages = await this.repo.listVersionsOfDags(dagIds, limit, offset);
    return new Map(
      [...pages].map(([dagId, { items, total }]) => [
        dagId,
        { items: items.map((v) => ({ ...v, document: redactWebhookSecrets(v.document) })), totalEntries: total, limit, offset },
      ]),
    );
  }

  /** The latest document of each of several DAGs, by DAG id. */
  async latestDocuments(dagIds: string[]): Promise<Map<string, DagDocument>> {
    const versions = await this.repo.latestVersionsOfDags(dagIds);
    return new Map([...versions].map(([dagId, v]) => [dagId, redactWebhookSecrets(v.document)]));
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
