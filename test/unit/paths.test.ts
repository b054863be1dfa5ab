import {
  inlineInputLocation,
  inlineInputPrefix,
  outputLocationsOf,
  outputPrefixOf,
  reportLocationOf,
  retryInputPrefix,
} from '../../lib/domain/locations';

describe('job paths', () => {
  it('stores inline records under inline/<jobId>/<request tag>/records.jsonl in the inputs bucket', () => {
    expect(inlineInputLocation('inputs', 'job-1', '0123456789abcdef')).toEqual({
      bucket: 'inputs',
      key: 'inline/job-1/0123456789abcdef/records.jsonl',
    });
  });

  it('keeps the inline records of two requests for the same job apart', () => {
    const first = inlineInputLocation('inputs', 'job-1', 'aaaaaaaaaaaaaaaa');
    const second = inlineInputLocation('inputs', 'job-1', 'bbbbbbbbbbbbbbbb');

    expect(first.key).not.toBe(second.key);
  });

  it('reserves inline/ and retries/ of the inputs bucket for Longtail itself', () => {
    expect([inlineInputPrefix, retryInputPrefix]).toEqual(['inline/', 'retries/']);
    expect(inlineInputLocation('inputs', 'job-1', 'tag').key.startsWith(inlineInputPrefix)).toBe(true);
  });

  it('names the output and failure files after the name given, under outputs/<jobId>/', () => {
    const locations = outputLocationsOf('outputs', 'job-1', 'customers.csv');

    expect(locations).toEqual({
      outputUri: 's3://outputs/outputs/job-1/customers.csv.out',
      failureUri: 's3://outputs/outputs/job-1/customers.csv.out.failed',
    });
  });

  it("keeps the folders of a name, as a prefix's relative paths have them", () => {
    const { outputUri } = outputLocationsOf('outputs', 'job-2', '2024/01/customers.csv');

    expect(outputUri).toBe('s3://outputs/outputs/job-2/2024/01/customers.csv.out');
  });

  it('gives a job of many files the folder outputs/<jobId>/', () => {
    expect(outputPrefixOf('outputs', 'job-3')).toBe('s3://outputs/outputs/job-3/');
  });

  it('puts the job-level report at work/<jobId>/report.json in the outputs bucket', () => {
    expect(reportLocationOf('outputs', 'job-1')).toEqual({
      bucket: 'outputs',
      key: 'work/job-1/report.json',
    });
  });
});
