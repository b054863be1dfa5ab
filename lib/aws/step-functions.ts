import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ExecutionNotRedrivable as SfnExecutionNotRedrivable,
  RedriveExecutionCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { HistoryEvent as SfnHistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { sfnClient } from './clients';
import { resources } from '../config';
import { executionArnOf } from '../domain/locations';
import { ExecutionNotRedrivable, NotFound } from '../errors';
import type {
  ExecutionHistoryReader,
  ExecutionLookup,
  ExecutionRedriver,
  ExecutionStarter,
  ExecutionStatus,
  ExecutionStopper,
  HistoryEvent,
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

/**
 * The details a history event carries sit in a field named after its type
 * (`stateEnteredEventDetails`, `taskFailedEventDetails`, …): one flat shape for every type.
 */
const flatten = (event: SfnHistoryEvent): HistoryEvent => {
  const details = Object.entries(event).find(
    ([key, value]) => key.endsWith('EventDetails') && value && typeof value === 'object',
  )?.[1] as { name?: string; input?: string; output?: string; error?: string; cause?: string } | undefined;
  const timestamp = event.timestamp instanceof Date ? event.timestamp : new Date(event.timestamp ?? 0);
  return {
    id: event.id ?? 0,
    ...(event.previousEventId !== undefined ? { previousEventId: event.previousEventId } : {}),
    timestamp: timestamp.toISOString(),
    type: event.type ?? 'Unknown',
    ...(details?.name !== undefined && /State(Entered|Exited)$/.test(event.type ?? '')
      ? { stateName: details.name }
      : {}),
    ...(details?.input !== undefined ? { input: details.input } : {}),
    ...(details?.output !== undefined ? { output: details.output } : {}),
    ...(details?.error !== undefined ? { error: details.error } : {}),
    ...(details?.cause !== undefined ? { cause: details.cause } : {}),
  };
};

/** GetExecutionHistory, every page, oldest first: the same call in AWS and against the local runtime. */
export class StepFunctionsExecutionHistory implements ExecutionHistoryReader {
  constructor(
    private readonly client: () => SFNClient = sfnClient.get,
    /** A job's execution is short (a dozen states and their retries): a bound, not a limit met in practice. */
    private readonly maxEvents = 5000,
  ) {}

  async history(executionArn: string) {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const page = await this.client().send(
          new GetExecutionHistoryCommand({
            executionArn,
            nextToken,
            maxResults: 1000,
            includeExecutionData: true,
          }),
        );
        events.push(...(page.events ?? []).map(flatten));
        nextToken = page.nextToken;
      } while (nextToken && events.length < this.maxEvents);
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      // An endpoint that does not keep histories (an older local runtime) says so by name.
      if ((error as Error).name === 'UnknownOperationException') {
        throw new NotFound(
          'EXECUTION_HISTORY_UNAVAILABLE',
          'This Step Functions endpoint does not answer GetExecutionHistory, so the execution cannot be shown state by state.',
        );
      }
      throw error;
    }
    return events;
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
