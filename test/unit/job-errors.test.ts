import { jobErrorOf } from '../../lib/domain/job-failure';
import type { PlanningReport } from '../../lib/domain/job-failure';

const failedReport: PlanningReport = {
  status: 'failed',
  error: { code: 'INPUT_NOT_FOUND', message: 's3://inputs/missing.csv does not exist' },
};

const batchCause = (job: unknown) => JSON.stringify(job);

describe('jobErrorOf', () => {
  it("uses the Lambda error's message when every record failed", () => {
    const caught = {
      Error: 'AllRecordsFailed',
      Cause: JSON.stringify({
        errorType: 'AllRecordsFailed',
        errorMessage: 'All 3 records failed; see s3://outputs/outputs/j/records.jsonl.out.failed.',
        trace: ['AllRecordsFailed: All 3 records failed', '    at completeJob'],
      }),
    };

    expect(jobErrorOf(caught, undefined)).toEqual({
      code: 'ALL_RECORDS_FAILED',
      message: 'All 3 records failed; see s3://outputs/outputs/j/records.jsonl.out.failed.',
    });
  });

  it('reports a timeout as TIMED_OUT', () => {
    expect(jobErrorOf({ Error: 'States.Timeout', Cause: '' }, undefined)).toEqual({
      code: 'TIMED_OUT',
      message: 'The job ran longer than its time limit.',
    });
  });

  it("prefers the job's failure report to Batch's task failure", () => {
    const caught = {
      Error: 'States.TaskFailed',
      Cause: batchCause({
        StatusReason: 'Essential container in task exited',
        Attempts: [{ Container: { ExitCode: 1 } }],
      }),
    };

    expect(jobErrorOf(caught, failedReport)).toEqual(failedReport.error);
  });

  it('describes a Batch failure with its status reason and the last exit code', () => {
    const caught = {
      Error: 'States.TaskFailed',
      Cause: batchCause({
        JobId: 'b-1',
        Status: 'FAILED',
        StatusReason: 'Essential container in task exited',
        Attempts: [{ Container: { ExitCode: 137 } }, { Container: { ExitCode: 1 } }],
      }),
    };

    expect(jobErrorOf(caught, undefined)).toEqual({
      code: 'WORKER_FAILED',
      message: 'The worker failed: Essential container in task exited (exit code 1).',
    });
  });

  it('leaves out the exit code when Batch gives none', () => {
    const caught = {
      Error: 'States.TaskFailed',
      Cause: batchCause({ StatusReason: '1 of 2 child jobs failed', Attempts: [] }),
    };

    expect(jobErrorOf(caught, undefined).message).toBe('The worker failed: 1 of 2 child jobs failed.');
  });

  it("gives the container's reason and leaves out the exit code when the container never started", () => {
    const caught = {
      Error: 'States.TaskFailed',
      Cause: batchCause({
        StatusReason: 'Essential container in task exited',
        Attempts: [{ Container: { ExitCode: null, Reason: 'CannotStartContainerError: spawn ENOENT' } }],
      }),
    };

    expect(jobErrorOf(caught, undefined).message).toBe(
      'The worker failed: Essential container in task exited (CannotStartContainerError: spawn ENOENT).',
    );
  });

  it('says the worker ran out of memory and names the memory setting and its value', () => {
    const caught = {
      Error: 'States.TaskFailed',
      Cause: batchCause({
        StatusReason: 'Essential container in task exited',
        Container: {
          ResourceRequirements: [
            { Type: 'GPU', Value: '1' },
            { Type: 'MEMORY', Value: '15000' },
          ],
        },
        Attempts: [
          { Container: { ExitCode: 137, Reason: 'OutOfMemoryError: Container killed due to memory usage' } },
        ],
      }),
    };

    expect(jobErrorOf(caught, undefined)).toEqual({
      code: 'WORKER_FAILED',
      message:
        'The worker ran out of memory (OutOfMemoryError: Container killed due to memory usage): the job definition gives it 15000 MiB (MEMORY in WorkerJobDefinition, serverless.yml). Lower maxBatchSize or maxPayloadMB, or raise that setting.',
    });
  });

  it('says the worker image could not be pulled and how to push it', () => {
    const caught = {
      Error: 'States.TaskFailed',
      Cause: batchCause({
        StatusReason: 'Task failed to start',
        Attempts: [
          {
            Container: {
              Reason:
                'CannotPullContainerError: pull image manifest has been retried 5 time(s): 123456789012.dkr.ecr.us-east-1.amazonaws.com/longtail:unpushed: not found',
            },
          },
        ],
      }),
    };

    expect(jobErrorOf(caught, undefined)).toEqual({
      code: 'WORKER_FAILED',
      message:
        'The worker image could not be pulled (CannotPullContainerError: pull image manifest has been retried 5 time(s): 123456789012.dkr.ecr.us-east-1.amazonaws.com/longtail:unpushed: not found): push it with gpu-container/push-image.sh.',
    });
  });

  it('quotes a Batch cause that is not JSON', () => {
    expect(jobErrorOf({ Error: 'States.TaskFailed', Cause: 'capacity unavailable' }, undefined)).toEqual({
      code: 'WORKER_FAILED',
      message: 'The worker failed: capacity unavailable.',
    });
  });

  it("prefers a failed shard's own error to Batch's task failure", () => {
    const shardError = { code: 'TOO_MANY_FAILED_RECORDS', message: '30 of 100 records failed in shard 2.' };
    const caught = {
      Error: 'States.TaskFailed',
      Cause: batchCause({ StatusReason: '1 of 4 child jobs failed', Attempts: [] }),
    };

    expect(jobErrorOf(caught, undefined, shardError)).toEqual(shardError);
  });

  it("prefers the planning report to a failed shard's error", () => {
    const shardError = { code: 'INFERENCE_FAILED', message: 'bad tensor' };

    expect(jobErrorOf({ Error: 'JobCannotRun', Cause: '' }, failedReport, shardError)).toEqual(
      failedReport.error,
    );
  });

  it('reports TOO_MANY_FAILED_RECORDS with the Lambda error message when Finalize counts too many failures', () => {
    const caught = {
      Error: 'TooManyFailedRecords',
      Cause: JSON.stringify({ errorType: 'TooManyFailedRecords', errorMessage: '3 of 4 records failed.' }),
    };

    expect(jobErrorOf(caught, undefined)).toEqual({
      code: 'TOO_MANY_FAILED_RECORDS',
      message: '3 of 4 records failed.',
    });
  });

  it('calls anything else an internal error, naming the error and its message', () => {
    const caught = {
      Error: 'TransitionRejected',
      Cause: JSON.stringify({
        errorType: 'TransitionRejected',
        errorMessage: 'Job j is cancelled; it cannot become running.',
      }),
    };

    expect(jobErrorOf(caught, undefined)).toEqual({
      code: 'INTERNAL_ERROR',
      message: 'The job could not be run (TransitionRejected): Job j is cancelled; it cannot become running.',
    });
  });

  it('says "no detail" when an unknown error carries no cause', () => {
    expect(jobErrorOf({ Error: 'Lambda.Unknown' }, undefined).message).toBe(
      'The job could not be run (Lambda.Unknown): no detail',
    );
  });
});
