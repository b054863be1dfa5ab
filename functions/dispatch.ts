import type { SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { StepFunctionsExecutionStarter } from '../lib/aws/step-functions';
import { logger } from '../lib/logger';
import { sqsRecordsHandler } from './middleware';

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
export const handler = sqsRecordsHandler(startExecutionFor, { message: 'Dispatch failed', level: 'error' });
