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
};
