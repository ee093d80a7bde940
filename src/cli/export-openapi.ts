import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../app.module.js';
import { loadConfig } from '../config/config.js';
import { buildOpenApiDocument } from '../openapi/openapi-document.js';

/**
 * The committed form of the OpenAPI document (clients/openapi.json), built from the application's modules without
 * a database or a server: the app is created, never initialised, so nothing connects.
 */
export async function exportOpenApiJson(): Promise<string> {
  const config = loadConfig({ WEFT_LOG_LEVEL: 'silent', WEFT_AUTH: 'on' });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ config, databaseUrl: 'postgresql://weft@127.0.0.1:1/unused', watchDagsFolder: false, runScheduler: false }),
    new FastifyAdapter(),
    { logger: false, abortOnError: false },
  );
  try {
    return `${JSON.stringify(buildOpenApiDocument(app, { requireContracts: true }), null, 2)}\n`;
  } finally {
    await app.close();
  }
}
