import { Injectable } from '@nestjs/common';
import DataLoader from 'dataloader';
import type { Page } from '../common/validation.js';
import { BackfillsService, type BackfillView } from '../backfills/backfills.service.js';
import type { DagDocument } from '../dags/domain/dag-document.schema.js';
import type { DagVersionRecord } from '../dags/domain/dag-record.js';
import { DagsService } from '../dags/dags.service.js';
import type { XcomEntry } from '../engine/leases/domain/task-data.js';
import { TaskDataService } from '../engine/leases/task-data.service.js';
import type { RunRow } from '../engine/runs/domain/run-rows.js';
import { RunsService, type TaskInstanceView } from '../engine/runs/runs.service.js';
import { SubscriptionsService } from '../events/subscriptions.service.js';

type BackfillProgress = Pick<BackfillView, 'counts' | 'items'>;

/**
 * The DataLoaders of one GraphQL operation: nested fields (run → task instances → tries, dag → versions, …) are
 * gathered per tick and loaded with one batched service call, so the SQL round trips of a query do not grow with
 * the number of rows. Caches live only as long as the operation.
 */
export class RequestLoaders {
  readonly taskInstancesOfRun: DataLoader<number, TaskInstanceView[]>;
  readonly xcomsOfTaskInstance: DataLoader<number, XcomEntry[]>;
  readonly backfillProgress: DataLoader<number, BackfillProgress>;
  readonly latestDocument: DataLoader<string, DagDocument | null>;
  readonly streamPosition: DataLoader<string, number>;
  private readonly recentRunLoaders = new Map<number, DataLoader<string, RunRow[]>>();
  /** One loader per page size asked for: `versions(limit, offset)` may differ between fields of a query. */
  private readonly versionPages = new Map<string, DataLoader<string, Page<DagVersionRecord>>>();

  constructor(private readonly services: { runs: RunsService; dags: DagsService; backfills: BackfillsService; taskData: TaskDataService; events: SubscriptionsService }) {
    this.taskInstancesOfRun = byKey((ids) => services.runs.taskInstancesOfRuns(ids), () => []);
    this.xcomsOfTaskInstance = byKey((ids) => services.taskData.xcomsOfTaskInstances(ids), () => []);
    this.backfillProgress = byKey((ids) => services.backfills.progressOf(ids));
    this.latestDocument = byKey((ids) => services.dags.latestDocuments(ids), () => null);
    this.streamPosition = byKey((streams) => services.events.streamPositions(streams), () => 0);
  }

  recentRunsOfDag(limit: number): DataLoader<string, RunRow[]> {
    let loader = this.recentRunLoaders.get(limit);
    if (!loader) {
      loader = byKey((dagIds) => this.services.runs.recentRunsOfDags(dagIds, limit), () => []);
      this.recentRunLoaders.set(limit, loader);
    }
    return loader;
  }

  versionsOfDag(limit: number, offset: number): DataLoader<string, Page<DagVersionRecord>> {
    const key = `${limit}:${offset}`;
    let loader = this.versionPages.get(key);
    if (!loader) {
      loader = byKey(
        (dagIds) => this.services.dags.versionsOfDags(dagIds, limit, offset),
        () => ({ items: [], totalEntries: 0, limit, offset }),
      );
      this.versionPages.set(key, loader);
    }
    return loader;
  }
}

/**
 * A loader over a batch call that answers with a map; a key it has no entry for gets `missing()`, or fails (as an
 * internal error) when there is no sensible default.
 */
function byKey<K, V>(load: (keys: K[]) => Promise<Map<K, V>>, missing?: () => V): DataLoader<K, V> {
  return new DataLoader<K, V>(async (keys) => {
    const found = await load([...keys]);
    return keys.map((k) => {
      if (found.has(k)) return found.get(k)!;
      return missing ? missing() : new Error(`batch load returned nothing for ${String(k)}`);
    });
  });
}

/** Hands out the loaders of an operation, keyed by its context object (created per HTTP request or per subscription event). */
@Injectable()
export class GraphqlLoaders {
  private readonly byContext = new WeakMap<object, RequestLoaders>();

  constructor(
    private readonly runs: RunsService,
    private readonly dags: DagsService,
    private readonly backfills: BackfillsService,
    private readonly taskData: TaskDataService,
    private readonly events: SubscriptionsService,
  ) {}

  for(context: object): RequestLoaders {
    let loaders = this.byContext.get(context);
    if (!loaders) {
      loaders = new RequestLoaders({ runs: this.runs, dags: this.dags, backfills: this.backfills, taskData: this.taskData, events: this.events });
      this.byContext.set(context, loaders);
    }
    return loaders;
  }
}
