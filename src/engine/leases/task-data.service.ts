import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { DomainError, NotFoundError } from '../../common/errors.js';
import type { Page } from '../../common/validation.js';
import { CONFIG, type Config } from '../../config/config.js';
import { Transactions } from '../../database/transactions.js';
import { TaskDataRepository } from './task-data.repository.js';
import type { LogLine, WorkerView, XcomEntry } from './domain/task-data.js';

@Injectable()
export class TaskDataService {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly repo: TaskDataRepository,
    private readonly audit: AuditService,
    private readonly transactions: Transactions,
  ) {}

  /** XCom is for small values: a completion over the limit is refused (413) before anything is written. */
  checkXcom<T extends { xcom?: Record<string, unknown> }>(req: T): T {
    if (!req.xcom) return req;
    const size = Buffer.byteLength(JSON.stringify(req.xcom));
    if (size > this.config.maxXcomBytes) {
      throw new DomainError('PAYLOAD_TOO_LARGE', `xcom: ${size} bytes is over the limit of ${this.config.maxXcomBytes} bytes (WEFT_MAX_XCOM_BYTES)`, [
        { path: 'xcom', message: `over ${this.config.maxXcomBytes} bytes` },
      ]);
    }
    return req;
  }

  checkXcomValue<T extends { value: unknown }>(req: T): T {
    this.checkXcom({ xcom: { value: req.value } });
    return req;
  }

  async setXcom(dagId: string, runId: string, taskId: string, key: string, value: unknown, mapIndex = -1): Promise<XcomEntry> {
    const taskInstanceId = await this.ti(dagId, runId, taskId, mapIndex);
    return this.transactions.run(async (db) => {
      const entry = await this.repo.setXcom(db, taskInstanceId, key, value);
      const target = `${dagId}/${runId}/${taskId}${mapIndex === -1 ? '' : `/${mapIndex}`}`;
      await this.audit.record({ action: 'set_xcom', target, details: { key } }, db);
      return entry;
    });
  }

  async xcoms(dagId: string, runId: string, taskId: string, mapIndex = -1): Promise<{ items: XcomEntry[]; totalEntries: number }> {
    const items = await this.repo.xcoms(await this.ti(dagId, runId, taskId, mapIndex));
    return { items, totalEntries: items.length };
  }

  /** XCom entries of task instances already loaded (GraphQL's nested field), by task instance id. */
  xcomsOfTaskInstances(taskInstanceIds: number[]): Promise<Map<number, XcomEntry[]>> {
    return this.repo.xcomsOfTaskInstances(taskInstanceIds);
  }

  async xcom(dagId: string, runId: string, taskId: string, key: string, mapIndex = -1): Promise<XcomEntry> {
    const entry = (await this.repo.xcoms(await this.ti(dagId, runId, taskId, mapIndex))).find((x) => x.key === key);
    if (!entry) throw new NotFoundError('XCom entry', `${dagId}/${runId}/${taskId}/${key}`);
    return entry;
  }

  async logs(
    dagId: string,
    runId: string,
    taskId: string,
    q: { tryNumber?: number; limit: number; offset: number },
    mapIndex = -1,
  ): Promise<Page<LogLine>> {
    const { items, total } = await this.repo.logs(await this.ti(dagId, runId, taskId, mapIndex), q.tryNumber, q.limit, q.offset);
    return { items, totalEntries: total, limit: q.limit, offset: q.offset };
  }

  async workers(limit: number, offset: number): Promise<Page<WorkerView>> {
    const { items, total } = await this.repo.workers(limit, offset);
    return { items, totalEntries: total, limit, offset };
  }

  /** The row id of a task instance (NOT_FOUND when there is none): what log tails and event streams are keyed by. */
  taskInstanceRowId(dagId: string, runId: string, taskId: string, mapIndex = -1): Promise<number> {
    return this.ti(dagId, runId, taskId, mapIndex);
  }

  private async ti(dagId: string, runId: string, taskId: string, mapIndex = -1): Promise<number> {
    const id = await this.repo.taskInstanceId(dagId, runId, taskId, mapIndex);
    if (id === null) throw new NotFoundError('task instance', `${dagId}/${runId}/${taskId}${mapIndex === -1 ? '' : `/${mapIndex}`}`);
    return id;
  }
}
