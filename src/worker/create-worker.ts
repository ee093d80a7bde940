import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { createDefaultExecutors } from './executors/default-executors.js';
import { LocalWorker } from './local-worker.js';

/** The built-in worker as configured (WEFT_WORKER_*), talking to the API at `apiUrl`. */
export function createLocalWorker(config: Config, apiUrl: string, logger: Logger): LocalWorker {
  return new LocalWorker({
    apiUrl,
    apiKey: config.apiKey,
    workerId: config.workerId ?? `${hostname()}-${process.pid}`,
    queues: config.workerQueues,
    concurrency: config.workerConcurrency,
    executors: createDefaultExecutors({ connEnv: process.env, httpPolicy: config.outbound.httpTasks }),
    limits: { maxXcomBytes: config.maxXcomBytes, maxLogLineBytes: 16 * 1024 },
    logger: logger.child({ component: 'worker' }),
  });
}
