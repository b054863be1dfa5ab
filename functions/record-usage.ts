import { AwsBatchUsageReader } from '../lib/aws/batch';
import { DynamoJobStore } from '../lib/aws/dynamodb/job-store';
import { gpuInstanceType, usageMeasuredBy } from '../lib/config';
import { logger } from '../lib/logger';
import { recordJobUsage } from '../lib/use-cases/record-usage';

const batch = new AwsBatchUsageReader();
const store = new DynamoJobStore();

/**
 * Records a job's instance time as it ends. A cost estimate is not worth failing the job (or the cancel) for:
 * when Batch cannot be read, the job ends without one and says so in the log.
 */
export const recordUsageQuietly = async (jobId: string, until?: Date) => {
  try {
    const usage = await recordJobUsage(
      jobId,
      { batch, store, instanceType: gpuInstanceType(), measuredBy: usageMeasuredBy() },
      until,
    );
    logger.info('Job usage recorded', { gpuSeconds: usage.gpuSeconds, attempts: usage.attempts.length });
  } catch (error) {
    logger.warn('Job usage not recorded', { error: error as Error });
  }
};
