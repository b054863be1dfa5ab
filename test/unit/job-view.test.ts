import prices from '../../config/prices.json';
import { usageOf } from '../../lib/domain/cost';
import { consoleUrlOf, jobView, jobViewSchema } from '../../lib/domain/job-view';
import { aJob, executionArn } from '../fixtures/jobs';

describe('consoleUrlOf', () => {
  const saved = process.env.LONGTAIL_CONSOLE_LINKS;

  afterEach(() => {
    if (saved === undefined) delete process.env.LONGTAIL_CONSOLE_LINKS;
    else process.env.LONGTAIL_CONSOLE_LINKS = saved;
  });

  it("links to the execution in the Step Functions console of the ARN's region", () => {
    const arn = 'arn:aws:states:eu-west-1:123456789012:execution:longtail-prod-inference-job:job-1';

    expect(consoleUrlOf(arn)).toBe(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${arn}`,
    );
  });

  it('gives no link for a job without an execution', () => {
    expect(consoleUrlOf(undefined)).toBeNull();
    expect(consoleUrlOf('')).toBeNull();
  });

  it('gives no link when LONGTAIL_CONSOLE_LINKS is false, as in the local runtime', () => {
    process.env.LONGTAIL_CONSOLE_LINKS = 'false';

    expect(consoleUrlOf(executionArn)).toBeNull();
  });

  it("puts the link in the job's view", () => {
    delete process.env.LONGTAIL_CONSOLE_LINKS;

    const view = jobView(aJob({ executionArn }), 'https://api.longtail.test', prices);

    expect(view.consoleUrl).toBe(
      `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${executionArn}`,
    );
    expect(jobView(aJob(), 'https://api.longtail.test', prices).consoleUrl).toBeNull();
  });
});

describe('jobView', () => {
  const progress = {
    succeeded: 40,
    failed: 2,
    shards: { total: 3, pending: 1, running: 1, succeeded: 1, failed: 0, stopped: 0 },
  };

  it("shows a running job's counts from its shards' progress, with the total it was planned with", () => {
    const view = jobView(
      aJob({ status: 'running', counts: { total: 100, succeeded: 0, failed: 0 } }),
      'https://api.longtail.test',
      prices,
      progress,
    );

    expect(view.counts).toEqual({ total: 100, succeeded: 40, failed: 2 });
    expect(view.shards).toEqual(progress.shards);
  });

  it('keeps the counts recorded when the job ended', () => {
    const counts = { total: 100, succeeded: 97, failed: 3 };

    const view = jobView(
      aJob({ status: 'completed', counts }),
      'https://api.longtail.test',
      prices,
      progress,
    );

    expect(view.counts).toEqual(counts);
  });

  it('shows no shards before the job is planned, and the options it runs with', () => {
    const job = aJob();

    const view = jobView(job, 'https://api.longtail.test', prices);

    expect(view).toMatchObject({ shards: null, options: job.options, source: 'api', parentJobId: null });
    expect(view.statusUrl).toBe(`https://api.longtail.test/jobs/${job.jobId}`);
  });

  it('shows no cost until the job has ended, then its usage priced, both as the API schema says', () => {
    const running = jobView(aJob({ status: 'running' }), 'https://api.longtail.test', prices);
    const usage = usageOf(
      [
        {
          batchJobId: 'b-1',
          shard: null,
          attempt: 1,
          startedAt: '2026-01-05T10:00:00.000Z',
          stoppedAt: '2026-01-05T10:30:00.000Z',
          seconds: 1800,
        },
      ],
      'g4dn.xlarge',
      'aws-batch',
    );
    const ended = jobView(aJob({ status: 'completed', usage }), 'https://api.longtail.test', prices);
    const unpriced = jobView(
      aJob({ status: 'completed', usage: { ...usage, instanceType: 'p5.48xlarge' } }),
      'https://api.longtail.test',
      prices,
    );

    expect(running.cost).toBeNull();
    expect(ended.cost).toMatchObject({ gpuSeconds: 1800, gpu: { onDemand: 0.263 }, currency: 'USD' });
    expect(unpriced.cost).toMatchObject({
      gpuSeconds: 1800,
      note: 'No price for p5.48xlarge in the price table.',
    });
    for (const view of [running, ended, unpriced])
      expect(jobViewSchema.safeParse(view).error).toBeUndefined();
  });
});
