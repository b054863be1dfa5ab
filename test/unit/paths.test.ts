import { inlineInputLocation, outputLocationsOf, reportLocationOf } from '../../lib/jobs/paths';

describe('job paths', () => {
  it('stores inline records under inline/<jobId>/records.jsonl in the inputs bucket', () => {
    expect(inlineInputLocation('inputs', 'job-1')).toEqual({
      bucket: 'inputs',
      key: 'inline/job-1/records.jsonl',
    });
  });

  it('names the output and failure files after the input file, under outputs/<jobId>/', () => {
    const locations = outputLocationsOf('outputs', 'job-1', 'drop/churn-risk/customers.csv');

    expect(locations).toEqual({
      outputUri: 's3://outputs/outputs/job-1/customers.csv.out',
      failureUri: 's3://outputs/outputs/job-1/customers.csv.out.failed',
    });
  });

  it('gives inline jobs records.jsonl.out', () => {
    const { outputUri } = outputLocationsOf('outputs', 'job-2', inlineInputLocation('inputs', 'job-2').key);

    expect(outputUri).toBe('s3://outputs/outputs/job-2/records.jsonl.out');
  });

  it("puts the worker's report at work/<jobId>/report.json in the outputs bucket", () => {
    expect(reportLocationOf('outputs', 'job-1')).toEqual({
      bucket: 'outputs',
      key: 'work/job-1/report.json',
    });
  });
});
