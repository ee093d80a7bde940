import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where `npm run build` writes the console (console/dist beside src/ and dist/, from either of them). */
export const CONSOLE_DIR = fileURLToPath(new URL('../../console/dist', import.meta.url));

/**
 * The operator console is static files: the page at `/`, hashed assets under `/assets/`. Everything it does goes
 * through the public REST and GraphQL API with the signed-in key, so the server adds nothing for it but the files.
 * Files are registered one route each (no wildcard), so an unknown path still gets the API's JSON 404, and the
 * precompressed copies the build writes (.br, .gz) are sent to browsers that accept them.
 */
export async function registerConsole(fastify: FastifyInstance, dir = CONSOLE_DIR): Promise<void> {
  if (!existsSync(`${dir}/index.html`)) {
    fastify.get('/', (_req, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').send('The console is not built: run `npm run build` (see docs/console.md).\n'),
    );
    return;
  }
  await fastify.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false,
    decorateReply: false,
    preCompressed: true,
    globIgnore: ['**/*.gz', '**/*.br', '**/.stamp'],
    setHeaders: (reply, path) => {
      if (path.includes('/assets/')) {
        void reply.header('cache-control', 'public, max-age=31536000, immutable');
      } else {
        void reply.header('cache-control', 'no-cache');
        // The page loads nothing but its own files and talks only to this origin (REST, and GraphQL over WebSocket).
        void reply.header(
          'content-security-policy',
          "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        );
      }
    },
  });
}
