import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where `npm run build` writes the console (console/dist beside src/ and dist/, from either of them). */
export const CONSOLE_DIR = fileURLToPath(new URL('../../console/dist', import.meta.url));

/** The page loads nothing but its own files and talks only to this origin (REST, and GraphQL over WebSocket). */
const CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The operator console is static files: the page at `/`, content-hashed assets under `/assets/` (cached for a
 * year; the precompressed copies the build writes, .br and .gz, go to browsers that accept them). Everything the
 * page does goes through the public REST and GraphQL API with the signed-in key: the server adds nothing for it but
 * the files. Both are read at request time, so a rebuilt console is served without a restart; any other unknown
 * path still gets the API's JSON 404.
 */
export async function registerConsole(fastify: FastifyInstance, dir = CONSOLE_DIR): Promise<void> {
  fastify.get('/', async (_req, reply) => {
    const page = await readFile(join(dir, 'index.html')).catch(() => null);
    if (!page) return reply.code(503).type('text/plain; charset=utf-8').send('The console is not built: run `npm run build` (see docs/console.md).\n');
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').header('content-security-policy', CSP).send(page);
  });
  if (!existsSync(dir)) return;
  await fastify.register(fastifyStatic, {
    root: join(dir, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    preCompressed: true,
    index: false,
    setHeaders: (reply) => void reply.header('cache-control', 'public, max-age=31536000, immutable'),
  });
}
