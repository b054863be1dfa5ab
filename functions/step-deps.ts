import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { DynamoShardProgressStore } from '../lib/aws/dynamodb/shard-progress-store';
import { S3ObjectStore } from '../lib/aws/s3';
import { resources } from '../lib/config';
import { RegistryModelCatalog } from '../lib/use-cases/model-catalog';
import type { StepDeps } from '../lib/use-cases/steps/step-deps';

/**
 * The AWS adapters the state machine tasks run with, created once per process: the wiring the
 * four task handlers share (as middleware.ts is the stack they share).
 */
let deps: StepDeps | undefined;
export const awsStepDeps = (): StepDeps =>
  (deps ??= {
    store: new DynamoJobStore(),
    objects: new S3ObjectStore(),
    progress: new DynamoShardProgressStore(),
    models: new RegistryModelCatalog(new DynamoModelRegistry()),
    inputsBucket: resources.inputsBucket(),
    outputsBucket: resources.outputsBucket(),
  });
