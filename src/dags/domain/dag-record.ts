import type { DagDocument } from './dag-document.schema.js';

export type DagRecord = {
  dagId: string;
  description: string | null;
  owner: string | null;
  tags: string[];
  schedule: DagDocument['schedule'];
  timezone: string;
  isPaused: boolean;
  isActive: boolean;
  source: 'api' | 'folder';
  fileloc: string | null;
  latestVersion: number;
  maxActiveRuns: number;
  maxActiveTasks: number;
  nextDagrunLogicalDate: Date | null;
  nextDagrunCreateAfter: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

export type DagVersionRecord = { dagId: string; version: number; contentHash: string; document: DagDocument; createdAt: Date };

export type DagListFilter = { limit: number; offset: number; paused?: boolean; active?: boolean; tag?: string; dagIdPrefix?: string };
