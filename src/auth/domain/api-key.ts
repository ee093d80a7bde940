export type Role = 'admin' | 'operator' | 'viewer' | 'worker';

export type ApiKeyRow = {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  queues: string[];
  taskTypes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};
