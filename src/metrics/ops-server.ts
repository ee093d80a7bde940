import { createServer, type Server } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { ApiKeysService } from '../auth/api-keys.service.js';
import { bearerToken } from '../auth/domain/bearer.js';
import { roleAllows } from '../access/roles.decorator.js';
import type { Config } from '../config/config.js';
import { HealthService } from '../health/health.service.js';
import { MetricsService } from './metrics.service.js';

/**
 * The small HTTP side of `weft scheduler` (WEFT_SCHEDULER_HTTP_PORT): `/health`, `/health/ready` and `/metrics`
 * only, for probes and Prometheus, since the scheduler serves no API. Same answers and same access rule as the API's.
 */
export async function startOpsServer(app: INestApplicationContext, config: Config, port: number): Promise<Server> {
  const metrics = app.get(MetricsService);
  const health = app.get(HealthService);
  const keys = app.get(ApiKeysService);
  const server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    const json = (status: number, body: unknown) => send(status, 'application/json; charset=utf-8', JSON.stringify(body));
    const path = (req.url ?? '/').split('?')[0];
    void (async () => {
      if (req.method !== 'GET') return json(405, { statusCode: 405, error: 'Method Not Allowed', message: 'GET only' });
      if (path === '/health') return json(200, { status: 'ok' });
      if (path === '/health/ready') {
        const report = await health.readiness();
        return json(report.status === 'ok' ? 200 : 503, report);
      }
      if (path === '/metrics') {
        if (!config.metricsPublic && config.authEnabled) {
          const bearer = bearerToken(req.headers.authorization);
          if ('problem' in bearer) return json(401, { statusCode: 401, error: 'Unauthorized', message: `${bearer.problem} (WEFT_METRICS_PUBLIC=false)` });
          const key = await keys.authenticate(bearer.token).catch(() => null);
          if (!key) return json(401, { statusCode: 401, error: 'Unauthorized', message: 'unknown or revoked API key (WEFT_METRICS_PUBLIC=false)' });
          if (!roleAllows(key.role, ['viewer'])) return json(403, { statusCode: 403, error: 'Forbidden', message: `a ${key.role} key may not read metrics` });
        }
        return send(200, metrics.contentType, await metrics.scrape());
      }
      return json(404, { statusCode: 404, error: 'Not Found', message: `${path} is not served by weft scheduler` });
    })().catch(() => json(500, { statusCode: 500, error: 'Internal Server Error', message: 'internal error' }));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, config.host, resolve));
  return server;
}
