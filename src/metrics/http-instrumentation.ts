import type { FastifyInstance } from 'fastify';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import type { MetricsService } from './metrics.service.js';

/**
 * Per request: counts it in flight until its socket answer is done or abandoned (a shutdown waits for zero), and
 * observes its duration by route template (never the raw URL, which would explode the label set).
 */
export function instrumentHttp(fastify: FastifyInstance, lifecycle: Lifecycle, metrics: MetricsService): void {
  fastify.addHook('onRequest', (_req, reply, done) => {
    const end = lifecycle.requestStarted();
    reply.raw.once('finish', end);
    reply.raw.once('close', end);
    done();
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
}
