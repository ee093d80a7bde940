export * from './generated/index.js';
export { client } from './generated/client.gen.js';
export { createClient, createConfig, type Client } from './generated/client/index.js';
export { TaskFailure, Worker, type CancelReason, type TaskContext, type TaskHandler, type WorkerOptions } from './worker.js';
