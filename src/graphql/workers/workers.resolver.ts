import { Args, Query, Resolver } from '@nestjs/graphql';
import { CanRead } from '../../access/roles.decorator.js';
import { paginationSchema, parseInput } from '../../common/validation.js';
import { TaskDataService } from '../../engine/leases/task-data.service.js';
import { PageArgs } from '../pagination.js';
import { Worker, WorkerPage } from './worker.types.js';

/** Workers: the same TaskDataService call as REST's /api/v1/workers. */
@Resolver(() => Worker)
export class WorkersResolver {
  constructor(private readonly taskData: TaskDataService) {}

  @Query(() => WorkerPage, { nullable: true, description: 'Workers seen, most recently seen first' })
  @CanRead()
  workers(@Args() page: PageArgs) {
    const { limit, offset } = parseInput(paginationSchema, page);
    return this.taskData.workers(limit, offset);
  }
}
