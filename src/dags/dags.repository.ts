import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { PG_POOL, type Queryable } from '../database/pg.js';
import { Transactions } from '../database/transactions.js';
import { assertOwnership, type DagSource, type RegistrationOwner } from './domain/dag-ownership.js';
import type { DagDocument } from './domain/dag-document.schema.js';
import type { RegistrationOptions } from './domain/registration-options.js';
import type { DagListFilter, DagRecord, DagVersionRecord } from './domain/dag-record.js';
import type { NextDagrun } from '../scheduler/domain/index.js';

export type { DagSource } from './domain/dag-ownership.js';

/** The columns of a DagRecord, under its field names (the schedule column holds the document's schedule). */
const DAG_COLUMNS = `dag_id AS "dagId", description, owner, tags, schedule, timezone, is_paused AS "isPaused", is_active AS "isActive",
  source, fileloc, latest_version AS "latestVersion", max_active_runs AS "maxActiveRuns", max_active_tasks AS "maxActiveTasks",
  next_dagrun_logical_date AS "nextDagrunLogicalDate", next_dagrun_create_after AS "nextDagrunCreateAfter",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/** listDags' filters, $1 to $4: each applies only when given (a null parameter matches every row). */
const DAG_FILTER = `($1::boolean IS NULL OR is_paused = $1) AND ($2::boolean IS NULL OR is_active = $2)
  AND ($3::text IS NULL OR $3 = ANY(tags)) AND ($4::text IS NULL OR left(dag_id, length($4)) = $4)`;

const VERSION_COLUMNS = `dag_id AS "dagId", version, content_hash AS "contentHash", document, created_at AS "createdAt"`;

/** The only code that reads or writes the dags, dag_versions and dag_import_errors tables. */
@Injectable()
export class DagsRepository {
  constructor(
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
    /**
     * The DAG's next-run figures when a version is added with a time-based schedule, from the logical date of its
     * latest scheduled run (null when it has none); the scheduler first looks at the DAG at `createAfter`.
     */
    nextDagrun: (lastScheduledLogicalDate: Date | null) => NextDagrun,
    /** Runs last inside the transaction when a version was added (dataset lineage, the audit entry). */
    onChanged: (db: Queryable, version: number) => Promise<void>,
  ): Promise<{ dag: DagRecord; version: number; created: boolean; changed: boolean }> {
    const fileloc = source.kind === 'folder' ? source.fileloc : null;
    return this.transactions.run(async (db) => {
      const inserted = await db.query(
        `INSERT INTO dags (dag_id, latest_version, source, fileloc, is_paused, updated_at)
         VALUES ($1, 0, $2::"DagSource", $3, $4, now())
         ON CONFLICT (dag_id) DO NOTHING`,
        [doc.dagId, source.kind, fileloc, options.isPausedUponCreation],
      );
      const {
        rows: [current],
      } = await db.query<{ source: string; fileloc: string | null; is_active: boolean; latest_version: number }>(
        `SELECT d.source, d.fileloc, d.is_active, d.latest_version FROM dags d WHERE d.dag_id = $1 FOR UPDATE OF d`,
        [doc.dagId],
      );
      if (!current) throw new Error(`dag ${doc.dagId} vanished inside its registration transaction`);
      assertOwnership(doc.dagId, current, source);
      // The latest version's hash in a statement of its own, after the lock: had this registration waited for another
      // one's lock, a read in the locking statement would see the DAG row as that one left it but not the version it
      // added (the statement's snapshot is from before the wait), and the same content would become a new version.
      const {
        rows: [latest],
      } = await db.query<{ content_hash: string }>('SELECT content_hash FROM dag_versions WHERE dag_id = $1 AND version = $2', [
        doc.dagId,
        current.latest_version,
      ]);

      const changed = latest?.content_hash !== contentHash;
      const version = changed ? current.latest_version + 1 : current.latest_version;
      if (changed) {
        await db.query('INSERT INTO dag_versions (dag_id, version, content_hash, document) VALUES ($1, $2, $3, $4::jsonb)', [doc.dagId, version, contentHash, JSON.stringify(doc)]);
      }
      // A new version's next run, shown from now on (paused DAGs too); other schedules have none.
      let next: NextDagrun = { logicalDate: null, createAfter: null };
      if (changed && typeof doc.schedule === 'string') {
        const {
          rows: [last],
        } = await db.query<{ d: Date | null }>(`SELECT max(logical_date) AS d FROM dag_runs WHERE dag_id = $1 AND run_type = 'scheduled'`, [doc.dagId]);
        next = nextDagrun(last?.d ?? null);
      }
      const {
        rows: [dag],
      } = await db.query<DagRecord>(
        `UPDATE dags SET latest_version = $2, is_active = true, source = $3::"DagSource", fileloc = $4, description = $5, owner = $6,
           tags = $7::text[], schedule = $8::jsonb, timezone = $9, max_active_runs = $10, max_active_tasks = $11, updated_at = now(),
           next_dagrun_create_after = CASE WHEN $12 THEN $13::timestamptz ELSE next_dagrun_create_after END,
           next_dagrun_logical_date = CASE WHEN $12 THEN $14::timestamptz ELSE next_dagrun_logical_date END
         WHERE dag_id = $1
         RETURNING ${DAG_COLUMNS}`,
        [
          doc.dagId,
          version,
          source.kind,
          fileloc,
          doc.description ?? null,
          doc.defaultArgs.owner ?? null,
          doc.tags,
          doc.schedule === undefined || doc.schedule === null ? null : JSON.stringify(doc.schedule),
          doc.timezone,
          doc.maxActiveRuns,
          doc.maxActiveTasks,
          changed,
          next.createAfter,
          next.logicalDate,
        ],
      );
      if (changed) await onChanged(db, version);
      return { dag: dag!, version, created: inserted.rowCount === 1, changed };
    });
  }

  /**
   * Versions stored before secrets were encrypted at rest: each one holding a plaintext webhook secret is rewritten as
   * `rewrite` says (null: left as it is), in one transaction. The rows are locked (FOR UPDATE) so that replicas starting together rewrite
   * each row once; the jsonpath picks rows with a webhook `secret` lacking the `enc:v1:` prefix.
   */
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
    const { rows } = await this.pool.query<DagRecord>(`SELECT ${DAG_COLUMNS} FROM dags WHERE dag_id = $1`, [dagId]);
    return rows[0] ?? null;
  }

  /**
   * What a registration of `dagId` would compare against, read without locking (a preview, not a decision): the
   * latest version's number and content hash, and the ownership fields assertOwnership checks. Null: no such DAG.
   */
  async findRegistrationState(dagId: string): Promise<(RegistrationOwner & { contentHash: string | null }) | null> {
    const { rows } = await this.pool.query<RegistrationOwner & { contentHash: string | null }>(
      `SELECT d.source, d.fileloc, d.is_active, d.latest_version, v.content_hash AS "contentHash"
       FROM dags d LEFT JOIN dag_versions v ON v.dag_id = d.dag_id AND v.version = d.latest_version
       WHERE d.dag_id = $1`,
      [dagId],
    );
    return rows[0] ?? null;
  }

  async findVersion(dagId: string, version: number): Promise<DagVersionRecord | null> {
    const { rows } = await this.pool.query<DagVersionRecord>(`SELECT ${VERSION_COLUMNS} FROM dag_versions WHERE dag_id = $1 AND version = $2`, [dagId, version]);
    return rows[0] ?? null;
  }

  async listDags(f: DagListFilter): Promise<{ items: DagRecord[]; total: number }> {
    const filter = [f.paused ?? null, f.active ?? null, f.tag ?? null, f.dagIdPrefix ?? null];
    const [items, total] = await Promise.all([
      this.pool.query<DagRecord>(`SELECT ${DAG_COLUMNS} FROM dags WHERE ${DAG_FILTER} ORDER BY dag_id LIMIT $5 OFFSET $6`, [...filter, f.limit, f.offset]),
      this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM dags WHERE ${DAG_FILTER}`, filter),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }

  async listVersions(dagId: string, limit: number, offset: number): Promise<{ items: DagVersionRecord[]; total: number }> {
    const [items, total] = await Promise.all([
      this.pool.query<DagVersionRecord>(`SELECT ${VERSION_COLUMNS} FROM dag_versions WHERE dag_id = $1 ORDER BY version DESC LIMIT $2 OFFSET $3`, [dagId, limit, offset]),
      this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM dag_versions WHERE dag_id = $1', [dagId]),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
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
    const [rows, totals] = await Promise.all([
      this.pool.query<DagVersionRecord>(
        `SELECT v.dag_id AS "dagId", v.version, v.content_hash AS "contentHash", v.document, v.created_at AS "createdAt"
         FROM unnest($1::text[]) AS d(dag_id)
         CROSS JOIN LATERAL (
           SELECT * FROM dag_versions WHERE dag_id = d.dag_id ORDER BY version DESC LIMIT $2 OFFSET $3
         ) v
         ORDER BY v.dag_id, v.version DESC`,
        [dagIds, limit, offset],
      ),
      this.pool.query<{ dag_id: string; n: number }>('SELECT dag_id, count(*)::int AS n FROM dag_versions WHERE dag_id = ANY($1::text[]) GROUP BY dag_id', [dagIds]),
    ]);
    const byDag = new Map(dagIds.map((id) => [id, { items: [] as DagVersionRecord[], total: 0 }]));
    for (const t of totals.rows) byDag.get(t.dag_id)!.total = t.n;
    for (const r of rows.rows) byDag.get(r.dagId)?.items.push(r);
    return byDag;
  }

  /** The latest version of each of several DAGs, in one query. */
  async latestVersionsOfDags(dagIds: string[]): Promise<Map<string, DagVersionRecord>> {
    const { rows } = await this.pool.query<DagVersionRecord>(
      `SELECT v.dag_id AS "dagId", v.version, v.content_hash AS "contentHash", v.document, v.created_at AS "createdAt"
       FROM dags d JOIN dag_versions v ON v.dag_id = d.dag_id AND v.version = d.latest_version
       WHERE d.dag_id = ANY($1::text[])`,
      [dagIds],
    );
    return new Map(rows.map((r) => [r.dagId, r]));
  }

  /** `onDone` runs inside the transaction once the row changed (the audit entry). */
  async setPaused(dagId: string, isPaused: boolean, onDone: (db: Queryable) => Promise<void>): Promise<DagRecord | null> {
    return this.transactions.run(async (db) => {
      const { rows } = await db.query<DagRecord>(`UPDATE dags SET is_paused = $2, updated_at = now() WHERE dag_id = $1 RETURNING ${DAG_COLUMNS}`, [dagId, isPaused]);
      if (!rows[0]) return null;
      await onDone(db);
      return rows[0];
    });
  }

  /** Deletes the DAG with its versions, runs and everything under them (foreign keys cascade); `onDone` as above. */
  async delete(dagId: string, onDone: (db: Queryable) => Promise<void>): Promise<boolean> {
    return this.transactions.run(async (db) => {
      const { rowCount } = await db.query('DELETE FROM dags WHERE dag_id = $1', [dagId]);
      if (rowCount) await onDone(db);
      return Boolean(rowCount);
    });
  }

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
    const [items, total] = await Promise.all([
      this.pool.query<{ fileloc: string; message: string; details: unknown; updatedAt: Date }>(
        'SELECT fileloc, message, details, updated_at AS "updatedAt" FROM dag_import_errors ORDER BY fileloc LIMIT $1 OFFSET $2',
        [limit, offset],
      ),
      this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM dag_import_errors'),
    ]);
    return { items: items.rows, total: total.rows[0]!.n };
  }
}
