import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { StepFunctionsExecutionStarter } from '../lib/jobs/execution-starter';
import { logger } from '../lib/logger';

const starter = new StepFunctionsExecutionStarter();

const jobMessageSchema = z.object({ jobId: z.string().min(1) });

const startExecutionFor = async (record: SQSRecord) => {
  const { jobId } = jobMessageSchema.parse(JSON.parse(record.body));
  const { executionArn, alreadyStarted } = await starter.start(jobId);
  logger.info(alreadyStarted ? 'Execution already started' : 'Execution started', { jobId, executionArn });
};

/**
 * Starts one Step Functions execution per queued job. The execution is named by the job id, so
 * a redelivered message finds the execution already there instead of starting a second one.
 * Failed records are reported individually and come back after the visibility timeout.
 */
export const handler = middy<SQSEvent>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(
    sqsPartialBatchFailure({
      logger: (reason, record) => logger.error('Dispatch failed', { reason, messageId: record.messageId }),
    }),
  )
  .handler(async (event) => Promise.allSettled(event.Records.map(startExecutionFor)));
