import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PrismaService } from '../database/prisma.service.js';
import { PG_POOL, prismaQueryable, type Queryable } from '../database/pg.js';
import { Transactions } from '../database/transactions.js';
import type { Prisma } from '../generated/prisma/client.js';
import { assertOwnership, type DagSource, type RegistrationOwner } from './domain/dag-ownership.js';
import type { DagDocument } from './domain/dag-document.schema.js';
import type { RegistrationOptions } from './domain/registration-options.js';
import type { DagListFilter, DagRecord, DagVersionRecord } from './domain/dag-record.js';

export type { DagSource } from './domain/dag-ownership.js';

const dagSelect = {
  dagId: true,
  description: true,
  owner: true,
  tags: true,
  schedule: true,
  timezone: true,
  isPaused: true,
  isActive: true,
  source: true,
  fileloc: true,
  latestVersion: true,
  maxActiveRuns: true,
  maxActiveTasks: true,
  nextDagrunLogicalDate: true,
  nextDagrunCreateAfter: true,
  createdAt: true,
  updatedAt: true,
} satisfies Prisma.DagSelect;

/** The schedule column holds the document's schedule (written by upsert from a validated document). */
function dagRecord<T extends { schedule: Prisma.JsonValue }>(row: T): Omit<T, 'schedule'> & { schedule: DagDocument['schedule'] } {
  return { ...row, schedule: row.schedule as DagDocument['schedule'] };
}

/** The only code that reads or writes the dags, dag_versions and dag_import_errors tables. */
@Injectable()
export class DagsRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly transactions: Transactions,
  ) {}

  /**
   * Registers `doc` in one transaction: the DAG row is locked (FOR UPDATE) so concurrent registrations of one
   * DAG serialise, and a version is added only when the content hash differs from the latest version's.
   */
  async upsert(
    doc: DagDocument,
    contentHash: string,
    source: DagSource,
    /** isPausedUponCreation: the pause state of a DAG this registration creates (an existing one keeps its own). */
    options: RegistrationOptions,
    /** Runs last inside the transaction when a version was added (dataset lineage, the audit entry). */
    onChanged: (db: Queryable, version: number) => Promise<void>,
  ): Promise<{ dag: DagRecord; version: number; created: boolean; changed: boolean }> {
    return this.prisma.$transaction(async (tx) => {
      const inserted = await tx.$executeRaw`
        INSERT INTO dags (dag_id, latest_version, source, fileloc, is_paused, updated_at)
        VALUES (${doc.dagId}, 0, ${source.kind}::"DagSource", ${source.kind === 'folder' ? source.fileloc : null}, ${options.isPausedUponCreation}, now())
        ON CONFLICT (dag_id) DO NOTHING`;
      const [current] = await tx.$queryRaw<{ source: string; fileloc: string | null; is_active: boolean; latest_version: number }[]>`
        SELECT source, fileloc, is_active, latest_version FROM dags WHERE dag_id = ${doc.dagId} FOR UPDATE`;
      if (!current) throw new Error(`dag ${doc.dagId} vanished inside its registration transaction`);
      assertOwnership(doc.dagId, current, source);

      const latest = await tx.dagVersion.findUnique({
        where: { dagId_version: { dagId: doc.dagId, version: current.latest_version } },
        select: { contentHash: true },
      });
      const changed = latest?.contentHash !== contentHash;
      const version = changed ? current.latest_version + 1 : current.latest_version;
      if (changed) {
        await tx.dagVersion.create({
          data: { dagId: doc.dagId, version, contentHash, document: doc as unknown as Prisma.InputJsonValue },
        });
      }
      const dag = await tx.dag.update({
        where: { dagId: doc.dagId },
        data: {
          latestVersion: version,
          isActive: true,
          source: source.kind,
          fileloc: source.kind === 'folder' ? source.fileloc : null,
          description: doc.description ?? null,
          owner: doc.defaultArgs.owner ?? null,
          tags: doc.tags,
          schedule: (doc.schedule ?? null) as Prisma.InputJsonValue,
          timezone: doc.timezone,
          maxActiveRuns: doc.maxActiveRuns,
          maxActiveTasks: doc.maxActiveTasks,
          // A changed time-based schedule is re-evaluated by the next scheduler tick (epoch = due now).
          ...(changed && { nextDagrunCreateAfter: typeof doc.schedule === 'string' ? new Date(0) : null, nextDagrunLogicalDate: null }),
        },
        select: dagSelect,
      });
      if (changed) await onChanged(prismaQueryable(tx), version);
      return { dag: dagRecord(dag), version, created: inserted === 1, changed };
    });
  }

  /**
   * Versions stored before secrets were encrypted at rest: each one holding a plaintext webhook secret is rewritten as
   * `rewrite` says (null: left as it is), in one transaction. The rows are locked (FOR UPDATE) so that replicas starting together rewrite
   * each row once; the jsonpath picks rows with a webhook `secret` lacking the `enc:v1:` prefix.
   */
  // The two start-up checks below use plain pg, not Prisma: every process runs them at start, and Prisma's query
  // engine, loaded on its first query, costs ~75 MB of RSS that an idle API process otherwise does not pay.
  async rewritePlaintextSecretVersions(rewrite: (doc: DagDocument) => { document: DagDocument; contentHash: string } | null): Promise<number> {
    return this.transactions.run(async (db) => {
      const { rows } = await db.query<{ id: number; document: DagDocument }>(
        `SELECT id, document FROM dag_versions
         WHERE document @? '$.slaCallbacks[*] ? (@.type == "webhook" && exists(@.secret) && !(@.secret starts with "enc:v1:"))'
            OR document @? '$.onFailureCallbacks[*] ? (@.type == "webhook" && exists(@.secret) && !(@.secret starts with "enc:v1:"))'
         ORDER BY id
         FOR UPDATE`,
      );
      let rewritten = 0;
      for (const row of rows) {
        const next = rewrite(row.document);
        if (!next) continue;
        await db.query('UPDATE dag_versions SET document = $2::jsonb, content_hash = $3 WHERE id = $1', [row.id, JSON.stringify(next.document), next.contentHash]);
        rewritten++;
      }
      return rewritten;
    });
  }

  /** The key ids (`enc:v1:<key id>:…`) of every encrypted webhook secret stored, each once. */
  async storedSecretKeyIds(): Promise<string[]> {
    const { rows } = await this.pool.query<{ key_id: string | null }>(
      `SELECT DISTINCT substring(cb->>'secret' FROM '^enc:v1:([0-9a-f]{8}):') AS key_id
       FROM dag_versions v
       CROSS JOIN LATERAL jsonb_array_elements(coalesce(v.document->'slaCallbacks', '[]') || coalesce(v.document->'onFailureCallbacks', '[]')) AS cb
       WHERE cb->>'secret' LIKE 'enc:v1:%'`,
    );
    return rows.map((r) => r.key_id).filter((id): id is string => Boolean(id));
  }

  async findDag(dagId: string): Promise<DagRecord | null> {
    const row = await this.prisma.dag.findUnique({ where: { dagId }, select: dagSelect });
    return row && dagRecord(row);
  }

  /**
   * What a registration of `dagId` would compare against, read without locking (a preview, not a decision): the
   * latest version's number and content hash, and the ownership fields assertOwnership checks. Null: no such DAG.
   */
  async findRegistrationState(dagId: string): Promise<(RegistrationOwner & { contentHash: string | null }) | null> {
    const dag = await this.prisma.dag.findUnique({ where: { dagId }, select: { source: true, fileloc: true, isActive: true, latestVersion: true } });
    if (!dag) return null;
    const latest = await this.prisma.dagVersion.findUnique({
      where: { dagId_version: { dagId, version: dag.latestVersion } },
      select: { contentHash: true },
    });
    return { source: dag.source, fileloc: dag.fileloc, is_active: dag.isActive, latest_version: dag.latestVersion, contentHash: latest?.contentHash ?? null };
  }

  async findVersion(dagId: string, version: number): Promise<DagVersionRecord | null> {
    const v = await this.prisma.dagVersion.findUnique({ where: { dagId_version: { dagId, version } } });
    return v && { dagId: v.dagId, version: v.version, contentHash: v.contentHash, document: v.document as DagDocument, createdAt: v.createdAt };
  }

  async listDags(f: DagListFilter): Promise<{ items: DagRecord[]; total: number }> {
    const where: Prisma.DagWhereInput = {
      ...(f.paused !== undefined && { isPaused: f.paused }),
      ...(f.active !== undefined && { isActive: f.active }),
      ...(f.tag !== undefined && { tags: { has: f.tag } }),
      ...(f.dagIdPrefix !== undefined && { dagId: { startsWith: f.dagIdPrefix } }),
    };
    const [items, total] = await this.prisma.$transaction([
      this.prisma.dag.findMany({ where, select: dagSelect, orderBy: { dagId: 'asc' }, skip: f.offset, take: f.limit }),
      this.prisma.dag.count({ where }),
    ]);
    return { items: items.map(dagRecord), total };
  }

  async listVersions(dagId: string, limit: number, offset: number): Promise<{ items: DagVersionRecord[]; total: number }> {
    const [rows, total] = await this.prisma.$transaction([
      this.prisma.dagVersion.findMany({ where: { dagId }, orderBy: { version: 'desc' }, skip: offset, take: limit }),
      this.prisma.dagVersion.count({ where: { dagId } }),
    ]);
    return {
      items: rows.map((v) => ({ dagId: v.dagId, version: v.version, contentHash: v.contentHash, document: v.document as DagDocument, createdAt: v.createdAt })),
      total,
    };
  }

  /**
   * One page of versions (newest first) for each of several DAGs, with each DAG's total, in two queries whatever
   * the number of DAGs (GraphQL batches nested dag → versions with it).
   */
  async listVersionsOfDags(
    dagIds: string[],
    limit: number,
    offset: number,
  ): Promise<Map<string, { items: DagVersionRecord[]; total: number }>> {
    const [rows, totals] = await this.prisma.$transaction([
      this.prisma.$queryRaw<VersionRow[]>`
        SELECT v.dag_id, v.version, v.content_hash, v.document, v.created_at
        FROM unnest(${dagIds}::text[]) AS d(dag_id)
        CROSS JOIN LATERAL (
          SELECT * FROM dag_versions WHERE dag_id = d.dag_id ORDER BY version DESC LIMIT ${limit} OFFSET ${offset}
        ) v
        ORDER BY v.dag_id, v.version DESC`,
      this.prisma.dagVersion.groupBy({ by: ['dagId'], where: { dagId: { in: dagIds } }, _count: { _all: true } }),
    ]);
    const byDag = new Map(dagIds.map((id) => [id, { items: [] as DagVersionRecord[], total: 0 }]));
    for (const t of totals) byDag.get(t.dagId)!.total = t._count._all;
    for (const r of rows) byDag.get(r.dag_id)?.items.push(versionRecord(r));
    return byDag;
  }

  /** The latest version of each of several DAGs, in one query. */
  async latestVersionsOfDags(dagIds: string[]): Promise<Map<string, DagVersionRecord>> {
    const rows = await this.prisma.$queryRaw<VersionRow[]>`
      SELECT v.dag_id, v.version, v.content_hash, v.document, v.created_at
      FROM dags d JOIN dag_versions v ON v.dag_id = d.dag_id AND v.version = d.latest_version
      WHERE d.dag_id = ANY(${dagIds}::text[])`;
    return new Map(rows.map((r) => [r.dag_id, versionRecord(r)]));
  }

  /** `onDone` runs inside the transaction once the row changed (the audit entry). */
  async setPaused(dagId: string, isPaused: boolean, onDone: (db: Queryable) => Promise<void>): Promise<DagRecord | null> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.dag.updateMany({ where: { dagId }, data: { isPaused } });
      if (!count) return null;
      await onDone(prismaQueryable(tx));
      const row = await tx.dag.findUnique({ where: { dagId }, select: dagSelect });
      return row && dagRecord(row);
    });
  }

  /** Deletes the DAG with its versions, runs and everything under them (foreign keys cascade); `onDone` as above. */
  async delete(dagId: string, onDone: (db: Queryable) => Promise<void>): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.dag.deleteMany({ where: { dagId } });
      if (count) await onDone(prismaQueryable(tx));
      return count > 0;
    });
  }

  // The DAG folder's bookkeeping runs at every scan, in plain pg like the start-up checks above, so that a scan of
  // an unchanged folder does not load Prisma's engine into an otherwise idle process.

  /** Folder DAGs whose file is no longer among `filelocs` become inactive; returns their ids. */
  async deactivateMissingFolderDags(folder: string, filelocs: string[]): Promise<string[]> {
    const { rows } = await this.pool.query<{ dag_id: string }>(
      `UPDATE dags SET is_active = false, updated_at = now()
       WHERE source = 'folder' AND is_active AND left(fileloc, length($1)) = $1 AND NOT (fileloc = ANY($2::text[]))
       RETURNING dag_id`,
      [folder, filelocs],
    );
    return rows.map((r) => r.dag_id);
  }

  async recordImportError(fileloc: string, message: string, details: unknown): Promise<void> {
    await this.pool.query(
      `INSERT INTO dag_import_errors (fileloc, message, details, updated_at) VALUES ($1, $2, $3::jsonb, now())
       ON CONFLICT (fileloc) DO UPDATE SET message = EXCLUDED.message, details = EXCLUDED.details, updated_at = now()`,
      [fileloc, message, details === undefined || details === null ? null : JSON.stringify(details)],
    );
  }

  async clearImportErrors(filelocs: string[]): Promise<void> {
    await this.pool.query('DELETE FROM dag_import_errors WHERE fileloc = ANY($1::text[])', [filelocs]);
  }

  async clearImportErrorsOutside(folder: string, filelocs: string[]): Promise<void> {
    await this.pool.query('DELETE FROM dag_import_errors WHERE left(fileloc, length($1)) = $1 AND NOT (fileloc = ANY($2::text[]))', [folder, filelocs]);
  }

  async listImportErrors(limit: number, offset: number) {
    const [items, total] = await this.prisma.$transaction([
      this.prisma.dagImportError.findMany({ orderBy: { fileloc: 'asc' }, skip: offset, take: limit }),
      this.prisma.dagImportError.count(),
    ]);
    return { items, total };
  }
}

type VersionRow = { dag_id: string; version: number; content_hash: string; document: unknown; created_at: Date };

function versionRecord(r: VersionRow): DagVersionRecord {
  return { dagId: r.dag_id, version: r.version, contentHash: r.content_hash, document: r.document as DagDocument, createdAt: r.created_at };
}
