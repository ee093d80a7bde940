import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { ValidationError, type ErrorDetail } from '../common/errors.js';
import { zodIssues } from '../common/validation.js';
import { API_CONTRACT, type ApiContractSpec } from './contract.js';
import { pathParamSchema } from './path-params.js';

/**
 * Checks every path parameter of a REST request against its rule (path-params.ts) before the handler runs: a bad
 * id is a 400 naming the parameter, never a query with a value its column cannot hold. A parameter without a rule
 * is refused too, so a new route cannot skip the check (the OpenAPI export fails on it first).
 */
@Injectable()
export class PathParamsInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const params = context.switchToHttp().getRequest<FastifyRequest>().params as Record<string, string> | undefined;
    if (params && Object.keys(params).length) {
      const contract = this.reflector.get<ApiContractSpec | undefined>(API_CONTRACT, context.getHandler());
      const issues: ErrorDetail[] = [];
      for (const [name, value] of Object.entries(params)) {
        const schema = pathParamSchema(name, contract?.params);
        if (!schema) {
          issues.push({ path: name, message: 'this path parameter has no rule (openapi/path-params.ts)' });
          continue;
        }
        const parsed = schema.safeParse(value);
        if (!parsed.success) issues.push(...zodIssues(parsed.error, name));
      }
      if (issues.length) throw new ValidationError(issues);
    }
    return next.handle();
  }
}
