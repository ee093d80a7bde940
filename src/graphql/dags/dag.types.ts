import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { DagSourceEnum } from '../enums.js';
import { Paginated } from '../pagination.js';
import { DateTimeScalar, JSONScalar } from '../scalars.js';

@ObjectType({ description: 'Accepted, but worth knowing: e.g. a task in a pool that does not exist (it stays queued until the pool is created)' })
export class RegistrationWarning {
  @Field({ description: 'The field, as a validation error would name it' })
  path!: string;

  @Field()
  message!: string;
}

@ObjectType({ description: 'One registered version of a DAG document (a new one whenever the content changes)' })
export class DagVersion {
  @Field(() => ID)
  dagId!: string;

  @Field(() => Int)
  version!: number;

  @Field()
  contentHash!: string;

  @Field(() => JSONScalar, { description: 'The DAG document of this version (DESIGN §2); secrets are redacted' })
  document!: unknown;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}

@ObjectType()
export class DagVersionPage extends Paginated(DagVersion) {}

@ObjectType({ description: 'A DAG with the settings of its latest version' })
export class Dag {
  @Field(() => ID)
  dagId!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => String, { nullable: true })
  owner!: string | null;

  @Field(() => [String])
  tags!: string[];

  @Field(() => JSONScalar, { nullable: true, description: 'A cron expression or preset, a dataset schedule object, or null (manual only)' })
  schedule!: unknown;

  @Field()
  timezone!: string;

  @Field()
  isPaused!: boolean;

  @Field()
  isActive!: boolean;

  @Field(() => DagSourceEnum)
  source!: string;

  @Field(() => String, { nullable: true })
  fileloc!: string | null;

  @Field(() => Int)
  latestVersion!: number;

  @Field(() => Int)
  maxActiveRuns!: number;

  @Field(() => Int)
  maxActiveTasks!: number;

  @Field(() => DateTimeScalar, { nullable: true })
  nextDagrunLogicalDate!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  nextDagrunCreateAfter!: Date | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;
}

@ObjectType()
export class DagPage extends Paginated(Dag) {}

@InputType({ description: 'Filters of the DAG list' })
export class DagFilter {
  @Field({ nullable: true })
  paused?: boolean;

  @Field({ nullable: true })
  active?: boolean;

  @Field({ nullable: true, description: 'DAGs carrying this tag' })
  tag?: string;

  @Field({ nullable: true })
  dagIdPrefix?: string;
}

@ObjectType()
export class UpsertDagPayload {
  @Field(() => Dag)
  dag!: Dag;

  @Field(() => Int, { description: 'The latest version after the call' })
  version!: number;

  @Field({ description: 'Whether the DAG did not exist before' })
  created!: boolean;

  @Field({ description: 'Whether a new version was created (false when the content is unchanged)' })
  changed!: boolean;

  @Field(() => [RegistrationWarning])
  warnings!: RegistrationWarning[];
}

export enum RegistrationAction {
  create = 'create',
  update = 'update',
  unchanged = 'unchanged',
}
registerEnumType(RegistrationAction, {
  name: 'RegistrationAction',
  description: 'What registering a document would do: create the DAG, store a new version, or nothing',
});

@ObjectType({ description: 'What registering a DAG document would do, worked out without writing' })
export class RegistrationPreview {
  @Field(() => ID)
  dagId!: string;

  @Field(() => RegistrationAction)
  action!: RegistrationAction;

  @Field(() => Int, { nullable: true, description: 'The latest version now; null when the DAG does not exist' })
  currentVersion!: number | null;

  @Field(() => Int, { description: 'The version that would be current after registering' })
  version!: number;

  @Field(() => JSONScalar, { description: 'The document as it would be stored: normalised, every default filled in, secrets shown as "***"' })
  document!: unknown;

  @Field(() => [RegistrationWarning])
  warnings!: RegistrationWarning[];
}

@ObjectType({ description: 'A DAG-folder file that failed to parse or validate' })
export class ImportError {
  @Field()
  fileloc!: string;

  @Field()
  message!: string;

  @Field(() => JSONScalar, { nullable: true })
  details!: unknown;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;
}

@ObjectType()
export class ImportErrorPage extends Paginated(ImportError) {}
