import { S3ObjectStore } from '../aws/object-store';
import { resources } from '../config';
import { DynamoJobStore } from './job-store';
import type { StepDeps } from './run-steps';
import { DynamoShardProgressStore } from './shard-progress';

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
