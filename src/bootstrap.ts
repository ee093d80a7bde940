import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { NestFactory, Reflector } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { Logger } from 'pino';
import { AppModule, type AppOptions } from './app.module.js';
import { requestContext } from './access/request-context.js';
import { registerConsole } from './console/console-static.js';
import { withConnectionBudget } from './database/connection-budget.js';
import { AllExceptionsFilter } from './common/http-exception.filter.js';
import { edgeServerOptions, installHttpEdge } from './common/http-edge.js';
import { buildOpenApiDocument } from './openapi/openapi-document.js';
import { PathParamsInterceptor } from './openapi/path-params.interceptor.js';
import { PinoNestLogger } from './logging/logger.js';
import { Lifecycle } from './lifecycle/lifecycle.js';
import { instrumentHttp } from './metrics/http-instrumentation.js';
import { MetricsService } from './metrics/metrics.service.js';

/** Builds the HTTP application (not listening yet); shared by the CLI and the tests. */
export async function createApp(opts: AppOptions & { logger: Logger }): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    // Per-request lines only at debug/trace: long polls would otherwise flood the log.
    loggerInstance: opts.logger.child(
      { component: 'http' },
      { level: ['debug', 'trace'].includes(opts.config.logLevel) ? opts.config.logLevel : 'warn' },
    ),
    ...edgeServerOptions(opts.config),
    requestIdHeader: 'x-request-id',
    // Unique across replicas when the caller (or a proxy) sends no X-Request-Id; echoed in the answer.
    genReqId: () => randomUUID(),
    // Keep-alive sockets of workers would otherwise hold close() open. Nothing in flight is cut: a shutdown drains
    // first (waiting long polls answer empty) and waits for requests in flight (Lifecycle) before it closes.
    forceCloseConnections: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(opts), adapter, {
    logger: new PinoNestLogger(opts.logger),
    abortOnError: false,
    // Weft installs its own JSON parser (common/http-edge.ts).
    bodyParser: false,
  });
  app.useGlobalFilters(new AllExceptionsFilter(opts.config));
  app.useGlobalInterceptors(new PathParamsInterceptor(app.get(Reflector)));
  const fastify = app.getHttpAdapter().getInstance();
  // One request context per request (API key, request id) for the audit trail and lease ownership.
  // GraphQL requests also get a budget of database connections (database/connection-budget.ts).
  fastify.addHook('onRequest', (req, _reply, done) => {
    const run = () => requestContext.run({ requestId: String(req.id) }, done);
    if (req.url === '/graphql' || req.url.startsWith('/graphql?')) withConnectionBudget(opts.config.graphql.dbConnectionsPerRequest, run);
    else run();
  });
  instrumentHttp(fastify, app.get(Lifecycle), app.get(MetricsService));
  fastify.addHook('onSend', async (req, reply) => {
    void reply.header('x-request-id', req.id);
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'no-referrer');
  });
  // Bodies, parameters and limits are checked at one edge before anything else sees them (common/http-edge.ts).
  installHttpEdge(fastify, opts.config);

  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'api/v1/openapi.json' });
  await registerConsole(fastify);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
