import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger of a process; handlers append `jobId` (and `executionArn`, `shard`) as keys. */
export const logger = new Logger({ serviceName: 'longtail' });
