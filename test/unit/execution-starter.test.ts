import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { StepFunctionsExecutionStarter } from '../../lib/aws/step-functions';
import { executionArnOf } from '../../lib/domain/locations';
import { setHandlerEnv, testResources } from '../fixtures/env';

const sfn = mockClient(SFNClient);

const expectedArn = 'arn:aws:states:us-east-1:123456789012:execution:longtail-test-inference-job:job-1';

describe('executionArnOf', () => {
  it("derives an execution's ARN from its state machine and name", () => {
    expect(executionArnOf(testResources.stateMachineArn, 'job-1')).toBe(expectedArn);
  });
});

describe('StepFunctionsExecutionStarter', () => {
  beforeEach(() => {
    setHandlerEnv();
    sfn.reset();
  });

  it('returns the ARN of the execution it started', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: expectedArn, startDate: new Date() });

    const started = await new StepFunctionsExecutionStarter().start('job-1');

    expect(started).toEqual({ executionArn: expectedArn, alreadyStarted: false });
  });

  it('reports an execution that already exists as already started, with its ARN', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));

    const started = await new StepFunctionsExecutionStarter().start('job-1');

    expect(started).toEqual({ executionArn: expectedArn, alreadyStarted: true });
  });

  it('lets any other error through', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('AccessDeniedException'));

    await expect(new StepFunctionsExecutionStarter().start('job-1')).rejects.toThrow('AccessDeniedException');
  });
});
