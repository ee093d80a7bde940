import { expect } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SchedulerService } from '../../src/scheduler/scheduler.service.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** Thin helpers over the real HTTP API (Fastify inject: the full request pipeline without a socket). */
export class Api {
  private readonly appOf: () => NestFastifyApplication;

  /** Takes the app, or a function returning it (for handles created before beforeAll ran), and headers for every call (an API key). */
  constructor(
    app: NestFastifyApplication | (() => NestFastifyApplication),
    private readonly headers: Record<string, string> = {},
  ) {
    this.appOf = typeof app === 'function' ? app : () => app;
  }

  get app(): NestFastifyApplication {
    return this.appOf();
  }

  async call(method: Method, url: string, payload?: unknown): Promise<{ status: number; body: any }> {
    const res = await this.app.inject({ method, url, payload: payload as object, headers: this.headers });
    return { status: res.statusCode, body: res.body ? res.json() : undefined };
  }

  async ok(method: Method, url: string, payload?: unknown): Promise<any> {
    const res = await this.call(method, url, payload);
    if (res.status >= 300) throw new Error(`${method} ${url} -> ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  registerDag(doc: Record<string, unknown>) {
    return this.ok('POST', '/api/v1/dags', doc);
  }

  trigger(dagId: string, body: Record<string, unknown> = {}) {
    return this.ok('POST', `/api/v1/dags/${dagId}/dagRuns`, body);
  }

  lease(workerId: string, body: { queues?: string[]; capacity?: number; waitSeconds?: number; taskTypes?: string[] } = {}) {
    return this.ok('POST', `/api/v1/workers/${workerId}/lease`, { queues: ['default'], capacity: 10, waitSeconds: 0, ...body }).then(
      (b) => b.leases as any[],
    );
  }

  complete(leaseId: string, body: Record<string, unknown>) {
    return this.call('POST', `/api/v1/leases/${leaseId}/complete`, body);
  }

  run(dagId: string, runId: string) {
    return this.ok('GET', `/api/v1/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}`);
  }

  async taskStates(dagId: string, runId: string): Promise<Record<string, string>> {
    const { items } = await this.ok('GET', `/api/v1/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}/taskInstances`);
    return Object.fromEntries(items.map((t: { taskId: string; state: string }) => [t.taskId, t.state]));
  }

  /** Leases everything eligible and completes each task with the outcome `decide` picks (default success). */
  async drain(queue: string, decide: (lease: any) => Record<string, unknown> = () => ({ status: 'success' })) {
    const done: any[] = [];
    for (;;) {
      const leases = await this.lease(`drain-${queue}`, { queues: [queue], capacity: 50 });
      if (!leases.length) return done;
      for (const l of leases) {
        const res = await this.complete(l.leaseId, decide(l));
        expect(res.status).toBe(200);
        done.push(l);
      }
    }
  }

  tick(now?: Date) {
    return this.app.get(SchedulerService).tick(now);
  }
}

/**
 * A DAG document for engine tests. Its tasks go to a queue named after the DAG, so tests sharing a database
 * lease only their own work (`api.lease(worker, { queues: [dagId] })`).
 */
export function dag(dagId: string, tasks: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  return { dagId, defaultArgs: { queue: dagId }, tasks: tasks.map((t) => ({ type: 'noop', ...t })), ...extra };
}
