import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ApiKeysService } from '../../auth/api-keys.service.js';
import { apiKeyId, createApiKeyInput } from '../../auth/domain/api-key-inputs.js';
import { AdminOnly, Roles } from '../../access/roles.decorator.js';
import { paginationSchema, parseInput } from '../../common/validation.js';
import { PageArgs } from '../pagination.js';
import { ApiKey, ApiKeyPage, CreateApiKeyInput, CreatedApiKey, Principal } from './api-key.types.js';

/** API keys, admins only: the same ApiKeysService calls and input schemas as REST's /api/v1/apiKeys. */
@Resolver(() => ApiKey)
export class ApiKeysResolver {
  constructor(private readonly keys: ApiKeysService) {}

  @Query(() => ApiKeyPage, { nullable: true, name: 'apiKeys', description: 'API keys, newest first, with role, scope and last use' })
  @AdminOnly()
  apiKeyList(@Args() page: PageArgs) {
    const { limit, offset } = parseInput(paginationSchema, page);
    return this.keys.list(limit, offset);
  }

  @Query(() => Principal, { nullable: true, description: 'The role and name of the key this request presents (any valid key may ask)' })
  @Roles('viewer', 'worker')
  whoami() {
    return this.keys.whoami();
  }

  @Mutation(() => CreatedApiKey, { description: 'Create a key; the key itself is in this answer only' })
  @AdminOnly()
  createApiKey(@Args('input', { type: () => CreateApiKeyInput }) input: CreateApiKeyInput) {
    return this.keys.create(parseInput(createApiKeyInput, input));
  }

  @Mutation(() => ApiKey, { description: 'Revoke a key: it stops working at once (subscriptions within 5 s)' })
  @AdminOnly()
  revokeApiKey(@Args('id', { type: () => ID }) id: string) {
    return this.keys.revoke(parseInput(apiKeyId, id, 'id'));
  }
}
