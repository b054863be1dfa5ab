import { BatchModelChecks } from '../lib/aws/batch';
import { DynamoModelRegistry } from '../lib/aws/dynamodb/model-registry';
import { S3ModelArtifacts } from '../lib/aws/s3';
import { resources } from '../lib/config';
import type { RegisterModelDeps } from '../lib/use-cases/register-model';

/** The AWS adapters the registration routes run with, created once per process. */
let deps: RegisterModelDeps | undefined;
export const awsRegisterModelDeps = (): RegisterModelDeps =>
  (deps ??= {
    registry: new DynamoModelRegistry(),
    artifacts: new S3ModelArtifacts(),
    checks: new BatchModelChecks(),
    modelsBucket: resources.modelsBucket(),
  });
