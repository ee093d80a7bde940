import { z } from 'zod';
import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { AdminOnly, CanOperate, CanRead } from '../../access/roles.decorator.js';
import { paginationSchema, parseInput } from '../../common/validation.js';
import { dagListFilter } from '../../dags/domain/dag-inputs.js';
import type { DagRecord } from '../../dags/domain/dag-record.js';
import { DagsService } from '../../dags/dags.service.js';
import type { GraphqlContext } from '../context.js';
import { GraphqlLoaders } from '../loaders.js';
import { PageArgs } from '../pagination.js';
import { JSONScalar } from '../scalars.js';
import { DagRun } from '../runs/run.types.js';
import { Dag, DagFilter, DagPage, DagVersion, DagVersionPage, ImportErrorPage, RegistrationPreview, UpsertDagPayload } from './dag.types.js';

/** Runs per DAG in a list: enough for a glance, small enough for a page of DAGs. */
const recentRunsLimit = z.int().min(1).max(25);

/** DAGs: the same DagsService calls and input schemas as REST's /api/v1/dags (error paths are the same too). */
@Resolver(() => Dag)
export class DagsResolver {
  constructor(
    private readonly dags: DagsService,
    private readonly loaders: GraphqlLoaders,
  ) {}

  @Query(() => DagPage, { nullable: true, name: 'dags', description: 'DAGs, by id' })
  @CanRead()
  dagList(@Args('filter', { type: () => DagFilter, nullable: true }) filter: DagFilter | null, @Args() page: PageArgs) {
    return this.dags.list(parseInput(dagListFilter, { ...filter, ...page }));
  }

  @Query(() => Dag, { nullable: true, description: 'One DAG (NOT_FOUND when it does not exist)' })
  @CanRead()
  async dag(@Args('dagId', { type: () => ID }) dagId: string) {
    const { dag, document } = await this.dags.get(dagId);
    return { ...dag, document };
  }

  @Query(() => DagVersion, { nullable: true, description: 'One version of a DAG' })
  @CanRead()
  dagVersion(@Args('dagId', { type: () => ID }) dagId: string, @Args('version', { type: () => Int }) version: number) {
    return this.dags.version(dagId, version);
  }

  @Query(() => ImportErrorPage, { nullable: true, description: 'DAG-folder files that failed to parse or validate' })
  @CanRead()
  importErrors(@Args() page: PageArgs) {
    const { limit, offset } = parseInput(paginationSchema, page);
    return this.dags.importErrors(limit, offset);
  }

  @ResolveField(() => JSONScalar, { description: 'The document of the latest version; secrets are redacted' })
  document(@Parent() dag: DagRecord & { document?: unknown }, @Context() ctx: GraphqlContext) {
    return dag.document !== undefined ? dag.document : this.loaders.for(ctx).latestDocument.load(dag.dagId);
  }

  @ResolveField(() => [DagRun], { description: 'The newest runs of the DAG (by logical date), newest first: the states at a glance' })
  recentRuns(
    @Parent() dag: DagRecord,
    @Args('limit', { type: () => Int, defaultValue: 10, description: '1 to 25' }) limit: number,
    @Context() ctx: GraphqlContext,
  ) {
    return this.loaders.for(ctx).recentRunsOfDag(parseInput(recentRunsLimit, limit, 'limit')).load(dag.dagId);
  }

  @ResolveField(() => DagVersionPage, { description: 'Versions of the DAG, newest first' })
  versions(@Parent() dag: DagRecord, @Args() page: PageArgs, @Context() ctx: GraphqlContext) {
    const { limit, offset } = parseInput(paginationSchema, page);
    return this.loaders.for(ctx).versionsOfDag(limit, offset).load(dag.dagId);
  }

  /** A query, not a mutation: like REST's POST /api/v1/dags/validate (POST only to carry the body), it writes nothing. */
  @Query(() => RegistrationPreview, {
    description: 'Validate a DAG document and tell what registering it would do (create, new version, unchanged), writing nothing',
  })
  @CanRead()
  validateDag(@Args('document', { type: () => JSONScalar }) document: unknown) {
    return this.dags.previewRegistration(document);
  }

  @Mutation(() => UpsertDagPayload, { description: 'Register or update a DAG; a new version is created only when the content changes' })
  @AdminOnly()
  upsertDag(@Args('document', { type: () => JSONScalar }) document: unknown) {
    return this.dags.register(document);
  }

  @Mutation(() => Dag, { description: 'Stop creating runs for a DAG' })
  @CanOperate()
  pauseDag(@Args('dagId', { type: () => ID }) dagId: string) {
    return this.dags.setPaused(dagId, true);
  }

  @Mutation(() => Dag, { description: 'Resume creating runs for a DAG' })
  @CanOperate()
  unpauseDag(@Args('dagId', { type: () => ID }) dagId: string) {
    return this.dags.setPaused(dagId, false);
  }

  @Mutation(() => Boolean, { description: 'Delete a DAG with its versions and runs; true when done' })
  @AdminOnly()
  async deleteDag(@Args('dagId', { type: () => ID }) dagId: string) {
    await this.dags.delete(dagId);
    return true;
  }
}
