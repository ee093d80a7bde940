import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CanOperate, CanRead } from '../../access/roles.decorator.js';
import { paginationSchema, parseInput } from '../../common/validation.js';
import { DatasetsService } from '../../datasets/datasets.service.js';
import { datasetEventFilter, postDatasetEventInput } from '../../datasets/domain/dataset-inputs.js';
import { PageArgs } from '../pagination.js';
import { Dataset, DatasetEvent, DatasetEventFilter, DatasetEventPage, DatasetPage, PostDatasetEventInput } from './dataset.types.js';

/** Datasets: the same DatasetsService calls and input schemas as REST's /api/v1/datasets. */
@Resolver(() => Dataset)
export class DatasetsResolver {
  constructor(private readonly datasets: DatasetsService) {}

  @Query(() => DatasetPage, { nullable: true, name: 'datasets', description: 'Datasets with their producing tasks and consuming DAGs' })
  @CanRead()
  datasetList(@Args() page: PageArgs) {
    const { limit, offset } = parseInput(paginationSchema, page);
    return this.datasets.list(limit, offset);
  }

  @Query(() => DatasetEventPage, { nullable: true, description: 'Dataset updates, newest first' })
  @CanRead()
  datasetEvents(@Args('filter', { type: () => DatasetEventFilter, nullable: true }) filter: DatasetEventFilter | null, @Args() page: PageArgs) {
    return this.datasets.events(parseInput(datasetEventFilter, { ...filter, ...page }));
  }

  @Mutation(() => DatasetEvent, { description: 'Record an update made outside Weft; DAGs scheduled on the dataset react' })
  @CanOperate()
  postDatasetEvent(@Args('input', { type: () => PostDatasetEventInput }) input: PostDatasetEventInput) {
    const { uri, extra } = parseInput(postDatasetEventInput, input);
    return this.datasets.postEvent(uri, extra);
  }
}
