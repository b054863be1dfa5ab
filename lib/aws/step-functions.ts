import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionNotRedrivable as SfnExecutionNotRedrivable,
  RedriveExecutionCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { sfnClient } from './clients';
import { resources } from '../config';
import { executionArnOf } from '../domain/locations';
import { ExecutionNotRedrivable } from '../errors';
import type {
  ExecutionLookup,
  ExecutionRedriver,
  ExecutionStarter,
  ExecutionStatus,
  ExecutionStopper,
} from '../ports/executions';

export class StepFunctionsExecutionStarter implements ExecutionStarter {
  constructor(
    private readonly client: () => SFNClient = sfnClient.get,
    private readonly stateMachineArn: () => string = resources.stateMachineArn,
  ) {}

  async start(jobId: string) {
    const stateMachineArn = this.stateMachineArn();
    try {
      const { executionArn } = await this.client().send(
        new StartExecutionCommand({ stateMachineArn, name: jobId, input: JSON.stringify({ jobId }) }),
      );
      return { executionArn: executionArn ?? executionArnOf(stateMachineArn, jobId), alreadyStarted: false };
    } catch (error) {
      // A redelivered message for a job whose execution exists: the work is already under way.
      if (error instanceof ExecutionAlreadyExists) {
        return { executionArn: executionArnOf(stateMachineArn, jobId), alreadyStarted: true };
      }
      throw error;
    }
  }
}

export class StepFunctionsExecutionStopper implements ExecutionStopper {
  constructor(private readonly client: () => SFNClient = sfnClient.get) {}

  async stop(executionArn: string, cause: string) {
    try {
      await this.client().send(new StopExecutionCommand({ executionArn, error: 'JobCancelled', cause }));
    } catch (error) {
      if (!(error instanceof ExecutionDoesNotExist)) throw error;
    }
  }
}

export class StepFunctionsExecutionLookup implements ExecutionLookup {
  constructor(private readonly client: () => SFNClient = sfnClient.get) {}

  async describe(executionArn: string) {
    try {
      const execution = await this.client().send(new DescribeExecutionCommand({ executionArn }));
      return { status: execution.status as ExecutionStatus, error: execution.error, cause: execution.cause };
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    }
  }
}

export class StepFunctionsExecutionRedriver implements ExecutionRedriver {
  constructor(private readonly client: () => SFNClient = sfnClient.get) {}

  async redrive(executionArn: string) {
    try {
      await this.client().send(new RedriveExecutionCommand({ executionArn }));
    } catch (error) {
      if (error instanceof SfnExecutionNotRedrivable || error instanceof ExecutionDoesNotExist)
        throw new ExecutionNotRedrivable(
          'NOT_RESUMABLE',
          `Step Functions cannot redrive it: ${error.message}`,
        );
      throw error;
    }
  }
}
