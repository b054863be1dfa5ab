import { ExecutionDoesNotExist, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { StepFunctionsExecutionHistory } from '../../lib/aws/step-functions';
import { setHandlerEnv } from '../fixtures/env';

const sfn = mockClient(SFNClient);
const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:longtail-test-inference-job:job-1';

describe('StepFunctionsExecutionHistory', () => {
  beforeEach(() => {
    setHandlerEnv();
    sfn.reset();
  });

  it('reads every page with the execution data, and flattens each event’s details', async () => {
    sfn
      .on(GetExecutionHistoryCommand, { executionArn, nextToken: undefined })
      .resolves({
        events: [
          {
            id: 1,
            type: 'ExecutionStarted',
            timestamp: new Date('2026-01-01T00:00:00Z'),
            executionStartedEventDetails: { input: '{"jobId":"job-1"}' },
          },
          {
            id: 2,
            previousEventId: 1,
            type: 'TaskStateEntered',
            timestamp: new Date('2026-01-01T00:00:01Z'),
            stateEnteredEventDetails: { name: 'Mark job running', input: '{"jobId":"job-1"}' },
          },
        ],
        nextToken: 'page-2',
      })
      .on(GetExecutionHistoryCommand, { executionArn, nextToken: 'page-2' })
      .resolves({
        events: [
          {
            id: 3,
            previousEventId: 2,
            type: 'LambdaFunctionFailed',
            timestamp: new Date('2026-01-01T00:00:02Z'),
            lambdaFunctionFailedEventDetails: { error: 'Boom', cause: 'it broke' },
          },
        ],
      });

    const events = await new StepFunctionsExecutionHistory().history(executionArn);

    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, {
      includeExecutionData: true,
      maxResults: 1000,
    });
    expect(events).toEqual([
      { id: 1, timestamp: '2026-01-01T00:00:00.000Z', type: 'ExecutionStarted', input: '{"jobId":"job-1"}' },
      {
        id: 2,
        previousEventId: 1,
        timestamp: '2026-01-01T00:00:01.000Z',
        type: 'TaskStateEntered',
        stateName: 'Mark job running',
        input: '{"jobId":"job-1"}',
      },
      {
        id: 3,
        previousEventId: 2,
        timestamp: '2026-01-01T00:00:02.000Z',
        type: 'LambdaFunctionFailed',
        error: 'Boom',
        cause: 'it broke',
      },
    ]);
  });

  it('answers undefined for an execution Step Functions does not know', async () => {
    sfn.on(GetExecutionHistoryCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));

    await expect(new StepFunctionsExecutionHistory().history(executionArn)).resolves.toBeUndefined();
  });

  it('says so clearly when the endpoint does not keep histories', async () => {
    const unknown = Object.assign(new Error('does not implement GetExecutionHistory'), {
      name: 'UnknownOperationException',
    });
    sfn.on(GetExecutionHistoryCommand).rejects(unknown);

    await expect(new StepFunctionsExecutionHistory().history(executionArn)).rejects.toMatchObject({
      code: 'EXECUTION_HISTORY_UNAVAILABLE',
    });
  });
});
