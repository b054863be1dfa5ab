import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { sfnClient } from '../aws/clients';
import { resources } from '../config';

export interface ExecutionStarter {
  /** Starts the job's execution, named by its id; starting it twice starts it once. */
  start(jobId: string): Promise<{ executionArn: string; alreadyStarted: boolean }>;
}

/** Standard workflows name an execution `<state machine ARN with :execution:>:<name>`. */
export const executionArnOf = (stateMachineArn: string, name: string) =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

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
