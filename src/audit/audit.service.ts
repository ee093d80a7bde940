import { Injectable } from '@nestjs/common';
import { currentActor } from '../auth/request-context.js';
import type { Queryable } from '../database/pg.js';
import type { Page } from '../common/validation.js';
import { AuditRepository, type AuditEntry, type AuditRow } from './audit.repository.js';

/**
 * The audit trail of administrative changes (register, pause, delete, clear, mark, backfill, pools). The actor is
 * the API key once authentication exists (issue: security); until then it is recorded as unknown.
 */
@Injectable()
export class AuditService {
  constructor(private readonly repo: AuditRepository) {}

  /** Written in the caller's transaction when given; the actor is the request's API key unless stated. */
  record(entry: AuditEntry, db: Queryable | null = null): Promise<void> {
    const who = currentActor();
    return this.repo.insert(db, {
      ...entry,
      actor: entry.actor ?? who.actor,
      apiKeyId: entry.apiKeyId ?? who.apiKeyId,
      details: { ...entry.details, ...(who.requestId ? { requestId: who.requestId } : {}) },
    });
  }

  async list(f: { action?: string; target?: string; limit: number; offset: number }): Promise<Page<AuditRow>> {
    const { items, total } = await this.repo.list(f);
    return { items, totalEntries: total, limit: f.limit, offset: f.offset };
  }
}
