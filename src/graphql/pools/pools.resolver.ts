import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CanOperate, CanRead } from '../../access/roles.decorator.js';
import { paginationSchema, parseInput } from '../../common/validation.js';
import { createPoolInput, updatePoolInput } from '../../pools/domain/pool-inputs.js';
import { PoolsService } from '../../pools/pools.service.js';
import { PageArgs } from '../pagination.js';
import { CreatePoolInput, Pool, PoolPage, UpdatePoolInput } from './pool.types.js';

/** Pools: the same PoolsService calls and input schemas as REST's /api/v1/pools. */
@Resolver(() => Pool)
export class PoolsResolver {
  constructor(private readonly pools: PoolsService) {}

  @Query(() => PoolPage, { nullable: true, name: 'pools', description: 'Pools with their occupancy' })
  @CanRead()
  poolList(@Args() page: PageArgs) {
    const { limit, offset } = parseInput(paginationSchema, page);
    return this.pools.list(limit, offset);
  }

  @Query(() => Pool, { nullable: true, description: 'One pool with its occupancy' })
  @CanRead()
  pool(@Args('name') name: string) {
    return this.pools.get(name);
  }

  @Mutation(() => Pool)
  @CanOperate()
  createPool(@Args('input', { type: () => CreatePoolInput }) input: CreatePoolInput) {
    return this.pools.create(parseInput(createPoolInput, input));
  }

  @Mutation(() => Pool, { description: 'Change a pool’s slots or description' })
  @CanOperate()
  updatePool(@Args('name') name: string, @Args('input', { type: () => UpdatePoolInput }) input: UpdatePoolInput) {
    return this.pools.update(name, parseInput(updatePoolInput, input));
  }

  @Mutation(() => Boolean, { description: 'Delete an unused pool (default_pool cannot be deleted); true when done' })
  @CanOperate()
  async deletePool(@Args('name') name: string) {
    await this.pools.delete(name);
    return true;
  }
}
