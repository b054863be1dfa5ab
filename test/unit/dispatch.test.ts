import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../functions/dispatch';
import { setHandlerEnv, testResources } from '../fixtures/env';
import { lambdaContext } from '../fixtures/lambda-context';
import { jobMessages, sqsRecord } from '../fixtures/sqs-events';

const sfn = mockClient(SFNClient);

const executionArnOf = (jobId: string) =>
  `${testResources.stateMachineArn.replace(':stateMachine:', ':execution:')}:${jobId}`;

const dispatch = async (event: ReturnType<typeof jobMessages>) =>
  (await handler(event, lambdaContext('longtail-test-dispatch'))) as SQSBatchResponse;

describe('dispatch handler', () => {
  beforeEach(() => {
    setHandlerEnv();
    sfn.reset();
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: executionArnOf(input.name),
      startDate: new Date(),
    }));
  });

  it('starts one execution per job, named by the job id, with the job id as input', async () => {
    const result = await dispatch(jobMessages('job-1', 'job-2'));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: testResources.stateMachineArn,
      name: 'job-1',
      input: JSON.stringify({ jobId: 'job-1' }),
    });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: testResources.stateMachineArn,
      name: 'job-2',
      input: JSON.stringify({ jobId: 'job-2' }),
    });
  });

  it('counts an execution that already exists as started, so a redelivered message is not retried', async () => {
    sfn
      .on(StartExecutionCommand, { name: 'job-1' })
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));

    const result = await dispatch(jobMessages('job-1'));

    expect(result).toEqual({ batchItemFailures: [] });
  });

  it('reports exactly the message whose execution could not be started', async () => {
    sfn.on(StartExecutionCommand, { name: 'job-2' }).rejects(new Error('Rate exceeded'));

    const result = await dispatch(jobMessages('job-1', 'job-2', 'job-3'));

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-job-2' }] });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 3);
  });

  it('reports a message that does not hold a job id, and still starts the others', async () => {
    const event = {
      Records: [
        sqsRecord('m-bad-json', 'not json'),
        sqsRecord('m-no-id', JSON.stringify({ job: 'x' })),
        ...jobMessages('job-1').Records,
      ],
    };

    const result = await dispatch(event);

    expect(result.batchItemFailures).toEqual([
      { itemIdentifier: 'm-bad-json' },
      { itemIdentifier: 'm-no-id' },
    ]);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name: 'job-1' });
  });
});
