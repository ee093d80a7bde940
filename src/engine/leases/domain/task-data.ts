export type XcomEntry = { key: string; value: unknown; tryNumber: number; createdAt: Date };

export type LogLine = { tryNumber: number; line: string; stream: string; at: Date };

export type WorkerView = {
  workerId: string;
  hostname: string | null;
  queues: string[];
  taskTypes: string[];
  capacity: number;
  firstSeen: Date;
  lastSeen: Date;
  runningLeases: number;
  /** The task instances it holds now, oldest lease first. */
  leases: WorkerLeaseView[];
};

/** A lease a worker holds: which attempt, since when, until when unless heartbeats extend it (no lease id: it is the worker's). */
export type WorkerLeaseView = {
  dagId: string;
  runId: string;
  taskId: string;
  /** -1 unless it is an instance of a mapped task. */
  mapIndex: number;
  tryNumber: number;
  queue: string;
  acquiredAt: Date;
  heartbeatAt: Date;
  expiresAt: Date;
  deadlineAt: Date | null;
  cancelRequested: boolean;
};
