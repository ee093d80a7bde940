import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { CONFIG, type Config } from '../config/config.js';
import { type ChannelHandler, PgListener } from '../database/pg-listener.service.js';
import { DomainError, NotFoundError } from '../common/errors.js';
import type { Page } from '../common/validation.js';
import { Transactions } from '../database/transactions.js';
import { API_KEYS_CHANNEL, ApiKeysRepository } from './api-keys.repository.js';
import type { ApiKeyRow, Role } from './domain/api-key.js';
import { KeyCache } from './key-cache.js';
import { requestContext } from '../access/request-context.js';

/** Who is calling: the key of this request (with WEFT_AUTH=off, nobody in particular, with every right). */
export type Principal = { authEnabled: boolean; role: Role; keyId: string | null; name: string | null; prefix: string | null };

const KEY_PREFIX = 'weft_';
/** Advisory lock that keeps replicas starting at once from each creating a first admin key. */
const FIRST_ADMIN_LOCK = 7_260_001;

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * API keys. A key is 32 random bytes (so a fast hash is enough: there is nothing to brute-force), shown once at
 * creation and stored only as its SHA-256; listings show its first characters so people can tell keys apart.
 */
@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger('api-keys');
  /**
   * Keys looked up recently (by hash), so a request does not ask the database who it is. Trusted only while this
   * process listens for revocations (API_KEYS_CHANNEL): a revocation anywhere drops the key here when it commits,
   * a lost LISTEN connection empties the cache, and an entry is re-read after WEFT_API_KEY_CACHE_SEC regardless.
   */
  private readonly cache: KeyCache<ApiKeyRow>;
  private readonly revocations: ChannelHandler = {
    onNotify: (id) => this.cache.invalidate((row) => row.id === id),
    onLost: () => this.cache.invalidate(() => true),
  };
  private listening: Promise<void> | null = null;
  /** Set while listening fails (a database outage): every request tries again, but only the first failure is logged. */
  private listenFailing = false;

  constructor(
    private readonly transactions: Transactions,
    @Inject(CONFIG) private readonly config: Config,
    private readonly clock: Clock,
    private readonly repo: ApiKeysRepository,
    private readonly audit: AuditService,
    private readonly listener: PgListener,
  ) {
    this.cache = new KeyCache(config.apiKeyCacheSec * 1000, 10_000);
  }

  async create(req: { name: string; role: Role; queues?: string[]; taskTypes?: string[] }): Promise<ApiKeyRow & { key: string }> {
    const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const row = await this.transactions.run(async (db) => {
      const created = await this.repo.insert(db, {
        name: req.name,
        prefix: key.slice(0, 12),
        keyHash: hashKey(key),
        role: req.role,
        queues: req.queues ?? [],
        taskTypes: req.taskTypes ?? [],
      });
      await this.audit.record({ action: 'create_api_key', target: created.id, details: { name: req.name, role: req.role } }, db);
      return created;
    });
    return { ...row, key };
  }

  /**
   * The caller of the current request, so that a client (the console) can offer only what its key may do. The
   * server still checks every call: this is information, not a permission.
   */
  whoami(): Principal {
    if (!this.config.authEnabled) return { authEnabled: false, role: 'admin', keyId: null, name: null, prefix: null };
    const key = requestContext.getStore()?.apiKey;
    if (!key) throw new DomainError('UNAUTHENTICATED', 'missing API key: send Authorization: Bearer <key>');
    return { authEnabled: true, role: key.role, keyId: key.id, name: key.name, prefix: key.prefix };
  }

  /** The key a request presents, if it exists and is not revoked; last use is recorded at most once a minute. */
  async authenticate(key: string): Promise<ApiKeyRow | null> {
    const hash = hashKey(key);
    const now = this.clock.now();
    let row = this.cache.get(hash, now.getTime());
    if (!row) {
      const cacheable = this.cache.enabled && this.listenForRevocations();
      const generation = this.cache.generation;
      const found = await this.repo.findActiveByHash(hash);
      if (!found) return null;
      row = found;
      // Not if a revocation was heard while the row was on its way: it may be the one just revoked.
      if (cacheable) this.cache.set(hash, row, generation, this.clock.now().getTime());
    }
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
      row.lastUsedAt = now;
      void this.repo.touch(row.id, now).catch(() => undefined);
    }
    return row;
  }

  /** True while revocations are heard (the cache may be used); otherwise starts listening and answers false. */
  private listenForRevocations(): boolean {
    if (this.listener.isListening(API_KEYS_CHANNEL)) return true;
    this.listening ??= this.listener
      .listen(API_KEYS_CHANNEL, this.revocations)
      .then(
        () => {
          if (this.listenFailing) this.logger.log('listening for API-key revocations again');
          this.listenFailing = false;
        },
        (err: unknown) => {
          if (this.listenFailing) return;
          this.listenFailing = true;
          this.logger.warn(`cannot listen for API-key revocations (${(err as Error).message}); keys are looked up on every request meanwhile`);
        },
      )
      .finally(() => (this.listening = null));
    return false;
  }

  /** The key with this id if it is still valid (long-lived sessions, such as subscriptions, re-check their key). */
  async stillActive(id: string): Promise<ApiKeyRow | null> {
    return this.repo.findActiveById(id);
  }

  /** Which of these key ids are still valid (WebSocket connections re-check their keys together). */
  async activeIds(ids: string[]): Promise<Set<string>> {
    return ids.length === 0 ? new Set() : this.repo.activeIds(ids);
  }

  async list(limit: number, offset: number): Promise<Page<ApiKeyRow>> {
    const { items, total } = await this.repo.list(limit, offset);
    return { items, totalEntries: total, limit, offset };
  }

  async revoke(id: string): Promise<ApiKeyRow> {
    const row = await this.transactions.run(async (db) => {
      const revoked = await this.repo.revoke(db, id, this.clock.now());
      if (!revoked) throw new NotFoundError('API key', id);
      await this.audit.record({ action: 'revoke_api_key', target: id, details: { name: revoked.name } }, db);
      return revoked;
    });
    this.cache.invalidate((r) => r.id === id);
    return row;
  }

  /**
   * First start: when no admin key exists, create one — from WEFT_ADMIN_API_KEY when given (automation, tests),
   * otherwise a new random key written to `<home>/admin-api-key` (owner-only) and returned so it can be printed once.
   */
  async ensureAdminKey(seed: string | undefined, home: string): Promise<{ created: boolean; key?: string; file?: string }> {
    return this.transactions.run(async (db) => {
      await db.query('SELECT pg_advisory_xact_lock($1)', [FIRST_ADMIN_LOCK]);
      if (seed) {
        if (await this.repo.findByHash(db, hashKey(seed))) return { created: false };
        await this.repo.insert(db, { name: 'admin (WEFT_ADMIN_API_KEY)', prefix: seed.slice(0, 12), keyHash: hashKey(seed), role: 'admin', queues: [], taskTypes: [] });
        return { created: true };
      }
      if ((await this.repo.countActiveAdmins(db)) > 0) return { created: false };
      const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
      await this.repo.insert(db, { name: 'admin (first start)', prefix: key.slice(0, 12), keyHash: hashKey(key), role: 'admin', queues: [], taskTypes: [] });
      await mkdir(home, { recursive: true });
      const file = join(home, 'admin-api-key');
      await writeFile(file, `${key}\n`, { mode: 0o600 });
      await chmod(file, 0o600);
      return { created: true, key, file };
    });
  }
}
