import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { BackfillItemStatusEnum, BackfillStateEnum, ReprocessBehaviorEnum, RunStateEnum } from '../enums.js';
import { Paginated } from '../pagination.js';
import { DateTimeScalar, JSONScalar } from '../scalars.js';

@ObjectType({ description: 'How many of a backfill’s dates are in each state' })
export class BackfillCounts {
  @Field(() => Int)
  pending!: number;

  @Field(() => Int)
  skipped!: number;

  @Field(() => Int)
  queued!: number;

  @Field(() => Int)
  running!: number;

  @Field(() => Int)
  success!: number;

  @Field(() => Int)
  failed!: number;
}

@ObjectType({ description: 'One logical date of a backfill' })
export class BackfillItem {
  @Field(() => Int)
  sortOrdinal!: number;

  @Field(() => DateTimeScalar)
  logicalDate!: Date;

  @Field(() => BackfillItemStatusEnum)
  status!: string;

  @Field({ description: 'Whether the date already had a run that is run again' })
  reprocess!: boolean;

  @Field(() => Int, { nullable: true })
  dagRunId!: number | null;

  @Field(() => String, { nullable: true })
  runId!: string | null;

  @Field(() => RunStateEnum, { nullable: true })
  runState!: string | null;

  @Field(() => String, { nullable: true })
  skipReason!: string | null;
}

@ObjectType({ description: 'The part of [fromDate, toDate] a backfill leaves out: intervals that had not ended when it was requested' })
export class BackfillClipping {
  @Field(() => Int, { description: 'How many intervals of the range were left out because they had not ended' })
  intervals!: number;

  @Field(() => DateTimeScalar, { description: 'The time of the request: the backfill covers the intervals that ended at or before it' })
  cutoff!: Date;

  @Field(() => DateTimeScalar, { description: 'Logical date of the first interval left out' })
  firstLogicalDate!: Date;

  @Field(() => DateTimeScalar, { description: 'Logical date of the last interval left out' })
  lastLogicalDate!: Date;
}

@ObjectType({ description: 'A planned set of logical dates of one DAG, run oldest (or newest) first under their own maxActiveRuns' })
export class Backfill {
  @Field(() => Int)
  id!: number;

  @Field(() => ID)
  dagId!: string;

  @Field(() => DateTimeScalar)
  fromDate!: Date;

  @Field(() => DateTimeScalar)
  toDate!: Date;

  @Field(() => Int)
  maxActiveRuns!: number;

  @Field(() => ReprocessBehaviorEnum)
  reprocessBehavior!: string;

  @Field()
  runBackwards!: boolean;

  @Field(() => JSONScalar)
  conf!: unknown;

  @Field()
  isPaused!: boolean;

  @Field(() => BackfillStateEnum)
  state!: string;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  completedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  canceledAt!: Date | null;

  @Field(() => BackfillClipping, { nullable: true, description: 'Intervals of the range left out because they had not ended; null when none were' })
  clipped!: BackfillClipping | null;
}

@ObjectType()
export class BackfillPage extends Paginated(Backfill) {}

@ObjectType()
export class BackfillReprocessDate {
  @Field(() => DateTimeScalar)
  logicalDate!: Date;

  @Field()
  runId!: string;
}

@ObjectType()
export class BackfillSkippedDate {
  @Field(() => DateTimeScalar)
  logicalDate!: Date;

  @Field()
  reason!: string;
}

@ObjectType({ description: 'What a backfill would do (dry run): nothing is written' })
export class BackfillPlan {
  @Field(() => ID)
  dagId!: string;

  @Field(() => [DateTimeScalar], { description: 'Dates that get a new run' })
  create!: Date[];

  @Field(() => [BackfillReprocessDate], { description: 'Dates whose existing run is run again' })
  reprocess!: BackfillReprocessDate[];

  @Field(() => [BackfillSkippedDate], { description: 'Dates left alone, with the reason' })
  skip!: BackfillSkippedDate[];

  @Field(() => BackfillClipping, { nullable: true, description: 'Intervals of the range left out because they had not ended; null when none were' })
  clipped!: BackfillClipping | null;
}

@ObjectType({ description: 'The backfill created, or with dryRun the plan' })
export class CreateBackfillPayload {
  @Field()
  dryRun!: boolean;

  @Field(() => Backfill, { nullable: true })
  backfill!: Backfill | null;

  @Field(() => BackfillPlan, { nullable: true })
  plan!: BackfillPlan | null;
}

@InputType()
export class CreateBackfillInput {
  @Field(() => ID)
  dagId!: string;

  @Field(() => DateTimeScalar)
  fromDate!: string;

  @Field(() => DateTimeScalar)
  toDate!: string;

  @Field(() => Int, { nullable: true, description: 'Default: 10' })
  maxActiveRuns?: number;

  @Field(() => ReprocessBehaviorEnum, { nullable: true, description: 'Default: none' })
  reprocessBehavior?: string;

  @Field({ nullable: true, description: 'Newest date first (default: false)' })
  runBackwards?: boolean;

  @Field(() => JSONScalar, { nullable: true, description: 'An object: the runs’ conf' })
  conf?: unknown;

  @Field({ nullable: true, description: 'Plan only, write nothing (default: false)' })
  dryRun?: boolean;

  @Field({ nullable: true, description: 'Allow another active backfill of the same DAG (default: false)' })
  allowConcurrent?: boolean;
}
