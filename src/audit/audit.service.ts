import { Injectable } from '@nestjs/common';
import { currentActor } from '../access/request-context.js';
import type { Queryable } from '../database/pg.js';
import type { Page } from '../common/validation.js';
import { AuditRepository, type AuditEntry, type AuditRow } from './audit.repository.js';

/**
 * The audit trail of administrative changes (register, pause, delete, clear, mark, trigger, backfill, pools, XCom,
 * dataset events, API keys). The actor is the request's API key (null with WEFT_AUTH=off or for the DAG folder).
 * An entry is written only inside the transaction of the change it records (`db` is that transaction), so the two
 * commit together or not at all; there is no way to write one on its own. (A manual trigger's entry is written by
 * the run's own insert statement, RunsRepository.lockDagAndInsertRun, with the row resolve() gives.)
 */
@Injectable()
export class AuditService {
  constructor(private readonly repo: AuditRepository) {}

  /** Written in the caller's transaction; the actor is the request's API key unless stated. */
  record(entry: AuditEntry, db: Queryable): Promise<void> {
    return this.repo.insert(db, this.resolve(entry));
  }

  /**
   * The row record() writes for `entry`: actor and API key from the request unless stated, the request id in its
   * details. For a statement that writes its change's audit row itself (a manual trigger's run insert).
   */
  resolve(entry: AuditEntry): Required<AuditEntry> {
    const who = currentActor();
    return {
      ...entry,
      actor: entry.actor ?? who.actor,
      apiKeyId: entry.apiKeyId ?? who.apiKeyId,
      details: { ...entry.details, ...(who.requestId ? { requestId: who.requestId } : {}) },
    };
  }

  async list(f: { action?: string; target?: string; limit: number; offset: number }): Promise<Page<AuditRow>> {
    const { items, total } = await this.repo.list(f);
    return { items, totalEntries: total, limit: f.limit, offset: f.offset };
  }
}
