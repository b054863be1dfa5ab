import { consoleUrlOf, jobView } from '../../lib/jobs/job-view';
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

    const view = jobView(aJob({ executionArn }), 'https://api.longtail.test');

    expect(view.consoleUrl).toBe(
      `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${executionArn}`,
    );
    expect(jobView(aJob(), 'https://api.longtail.test').consoleUrl).toBeNull();
  });
});
