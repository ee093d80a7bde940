import type { Type } from '@nestjs/common';
import { ArgsType, Field, Int, ObjectType } from '@nestjs/graphql';

/** `limit`/`offset` arguments of every list, with REST's defaults (common/validation.ts checks the ranges). */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: 100, description: '1 to 1000' })
  limit!: number;

  @Field(() => Int, { defaultValue: 0 })
  offset!: number;
}

/** A page of a list, shaped like REST's `{items, totalEntries, limit, offset}`. */
export function Paginated<T>(item: Type<T>) {
  @ObjectType({ isAbstract: true })
  abstract class Page {
    @Field(() => [item])
    items!: T[];

    @Field(() => Int, { description: 'Entries matching the query, over all pages' })
    totalEntries!: number;

    @Field(() => Int)
    limit!: number;

    @Field(() => Int)
    offset!: number;
  }
  return Page;
}
