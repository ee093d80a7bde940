import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../common/errors.js';
import { CONFIG, type Config } from '../config/config.js';
import { ApiKeysService } from './api-keys.service.js';
import type { Role } from './domain/api-key.js';
import { bearerToken } from './domain/bearer.js';
import { RateLimiter } from './rate-limiter.js';
import { requestContext } from '../access/request-context.js';
import { PUBLIC_KEY, PUBLIC_WHEN_KEY, ROLES_KEY, roleAllows } from '../access/roles.decorator.js';

/**
 * Every request: `Authorization: Bearer <key>` → the key's role must satisfy the endpoint's @Roles (admin-only
 * when it declares none), then the key's rate limit. WEFT_AUTH=off skips all of it (local experiments only).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly limiter: RateLimiter;

  constructor(
    private readonly reflector: Reflector,
    @Inject(CONFIG) private readonly config: Config,
    private readonly keys: ApiKeysService,
  ) {
    this.limiter = new RateLimiter(config.rateLimitPerSec, config.rateLimitBurst);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) || !this.config.authEnabled) return true;
    if (this.reflector.getAllAndOverride<((c: Config) => boolean) | undefined>(PUBLIC_WHEN_KEY, targets)?.(this.config)) return true;
    const { req, reply } = this.transport(context);
    const bearer = bearerToken(req?.headers.authorization);
    if ('problem' in bearer) throw new DomainError('UNAUTHENTICATED', bearer.problem);
    const key = await this.keys.authenticate(bearer.token);
    if (!key) throw new DomainError('UNAUTHENTICATED', 'unknown or revoked API key');
    const allowed = this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? ['admin'];
    if (!roleAllows(key.role, allowed)) {
      throw new DomainError('FORBIDDEN', `a ${key.role} key may not call this endpoint (needs ${allowed.join(' or ')})`);
    }
    const wait = this.limiter.take(key.id, Date.now());
    if (wait) {
      void reply?.header('retry-after', String(wait));
      throw new DomainError('RATE_LIMITED', `rate limit of ${this.config.rateLimitPerSec} requests/s for this key exceeded; retry after ${wait}s`);
    }
    const store = requestContext.getStore();
    if (store) store.apiKey = key;
    return true;
  }

  /** REST handlers and GraphQL resolvers (whose context carries the Fastify request) are guarded alike. */
  private transport(context: ExecutionContext): { req?: FastifyRequest; reply?: FastifyReply } {
    if (context.getType<string>() === 'graphql') {
      const gql = context.getArgByIndex<{ req?: FastifyRequest; request?: FastifyRequest; reply?: FastifyReply } | undefined>(2);
      return { req: gql?.req ?? gql?.request, reply: gql?.reply };
    }
    const http = context.switchToHttp();
    return { req: http.getRequest<FastifyRequest>(), reply: http.getResponse<FastifyReply>() };
  }
}
