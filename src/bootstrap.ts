import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Logger } from 'pino';
import { AppModule, type AppOptions } from './app.module.js';
import { AllExceptionsFilter } from './common/http-exception.filter.js';
import { PinoNestLogger } from './logging/logger.js';

/** Builds the HTTP application (not listening yet); shared by the CLI and the tests. */
export async function createApp(opts: AppOptions & { logger: Logger }): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    // Per-request lines only at debug/trace: long polls would otherwise flood the log.
    loggerInstance: opts.logger.child(
      { component: 'http' },
      { level: ['debug', 'trace'].includes(opts.config.logLevel) ? opts.config.logLevel : 'warn' },
    ),
    bodyLimit: opts.config.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    // Keep-alive sockets of workers would otherwise hold close() open; waiting long polls are answered before
    // the server closes (LeasesService.beforeApplicationShutdown), so nothing in flight is cut.
    forceCloseConnections: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(opts), adapter, {
    logger: new PinoNestLogger(opts.logger),
    abortOnError: false,
  });
  app.useGlobalFilters(new AllExceptionsFilter());

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Weft')
      .setDescription('Workflow orchestrator API')
      .setVersion('0.1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'api/v1/openapi.json' });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
