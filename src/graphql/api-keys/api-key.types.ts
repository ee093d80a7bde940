import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import type { Role } from '../../auth/domain/api-key.js';
import { ApiKeyRoleEnum } from '../enums.js';
import { Paginated } from '../pagination.js';
import { DateTimeScalar } from '../scalars.js';

@ObjectType({ description: 'An API key as listed: never the key itself, which is shown once, by createApiKey' })
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field({ description: 'The first characters of the key, to recognise it' })
  prefix!: string;

  @Field(() => ApiKeyRoleEnum)
  role!: Role;

  @Field(() => [String], { description: 'Worker keys: the only queues it may lease from (empty = any)' })
  queues!: string[];

  @Field(() => [String], { description: 'Worker keys: the only task types it may lease (empty = any)' })
  taskTypes!: string[];

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Recorded at most once a minute' })
  lastUsedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  revokedAt!: Date | null;
}

@ObjectType()
export class ApiKeyPage extends Paginated(ApiKey) {}

@ObjectType({ description: 'A new API key, with the key itself: shown in this answer only' })
export class CreatedApiKey extends ApiKey {
  @Field({ description: 'The key to send as `Authorization: Bearer <key>`; it cannot be read again' })
  key!: string;
}

@InputType()
export class CreateApiKeyInput {
  @Field({ description: '1 to 200 characters, to tell keys apart' })
  name!: string;

  @Field(() => ApiKeyRoleEnum)
  role!: Role;

  @Field(() => [String], { nullable: true, description: 'Worker keys: limit leasing to these queues' })
  queues?: string[];

  @Field(() => [String], { nullable: true, description: 'Worker keys: limit leasing to these task types' })
  taskTypes?: string[];
}

@ObjectType({ description: 'The caller: the role and name of the key the request presents' })
export class Principal {
  @Field({ description: 'false when the service runs with WEFT_AUTH=off (then role is admin)' })
  authEnabled!: boolean;

  @Field(() => ApiKeyRoleEnum)
  role!: Role;

  @Field(() => ID, { nullable: true })
  keyId!: string | null;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => String, { nullable: true })
  prefix!: string | null;
}
