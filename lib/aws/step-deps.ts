import { S3ObjectStore } from './s3';
import { resources } from '../config';
import { DynamoJobStore } from './dynamodb/job-store';
import type { StepDeps } from '../use-cases/steps/step-deps';
import { DynamoShardProgressStore } from './dynamodb/shard-progress-store';

/** The AWS adapters the state machine tasks run with, created once per process. */
let deps: StepDeps | undefined;
export const awsStepDeps = (): StepDeps =>
  (deps ??= {
    store: new DynamoJobStore(),
    objects: new S3ObjectStore(),
    progress: new DynamoShardProgressStore(),
    inputsBucket: resources.inputsBucket(),
    outputsBucket: resources.outputsBucket(),
  });
