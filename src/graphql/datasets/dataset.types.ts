import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { Paginated } from '../pagination.js';
import { DateTimeScalar, JSONScalar } from '../scalars.js';

@ObjectType({ description: 'A task that updates a dataset (declares it in its outlets)' })
export class DatasetProducer {
  @Field(() => ID)
  dagId!: string;

  @Field()
  taskId!: string;
}

@ObjectType({ description: 'A dataset with its producing tasks and consuming DAGs' })
export class Dataset {
  @Field()
  uri!: string;

  @Field(() => JSONScalar)
  extra!: unknown;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => [DatasetProducer])
  producers!: DatasetProducer[];

  @Field(() => [String], { description: 'Ids of the DAGs scheduled on this dataset' })
  consumers!: string[];

  @Field(() => DateTimeScalar, { nullable: true })
  lastEventAt!: Date | null;
}

@ObjectType()
export class DatasetPage extends Paginated(Dataset) {}

@ObjectType({ description: 'An update of a dataset, by a task or posted from outside Weft' })
export class DatasetEvent {
  @Field(() => Int)
  id!: number;

  @Field()
  uri!: string;

  @Field(() => String, { nullable: true })
  sourceDagId!: string | null;

  @Field(() => String, { nullable: true })
  sourceRunId!: string | null;

  @Field(() => String, { nullable: true })
  sourceTaskId!: string | null;

  @Field(() => Int, { nullable: true })
  sourceTryNumber!: number | null;

  @Field(() => JSONScalar)
  extra!: unknown;

  @Field(() => DateTimeScalar)
  timestamp!: Date;
}

@ObjectType()
export class DatasetEventPage extends Paginated(DatasetEvent) {}

@InputType()
export class DatasetEventFilter {
  @Field({ nullable: true })
  uri?: string;

  @Field(() => DateTimeScalar, { nullable: true })
  since?: string;

  @Field(() => DateTimeScalar, { nullable: true })
  until?: string;
}

@InputType()
export class PostDatasetEventInput {
  @Field()
  uri!: string;

  @Field(() => JSONScalar, { nullable: true, description: 'An object stored with the event' })
  extra?: unknown;
}
