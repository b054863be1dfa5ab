import { parseS3Uri, toS3Uri } from '../../lib/domain/s3-location';

describe('parseS3Uri', () => {
  it('splits an s3:// URI into bucket and key', () => {
    expect(parseS3Uri('s3://longtail-inputs/drop/churn-risk/customers.csv')).toEqual({
      bucket: 'longtail-inputs',
      key: 'drop/churn-risk/customers.csv',
    });
  });

  it('accepts bucket names with dots and digits', () => {
    expect(parseS3Uri('s3://my.bucket-01/a')).toEqual({ bucket: 'my.bucket-01', key: 'a' });
  });

  it.each([
    ['an https URL', 'https://longtail-inputs.s3.amazonaws.com/key'],
    ['a URI without a key', 's3://longtail-inputs/'],
    ['a URI without a slash after the bucket', 's3://longtail-inputs'],
    ['an upper-case bucket', 's3://Longtail/key'],
    ['a bucket shorter than three characters', 's3://ab/key'],
    ['a bucket longer than 63 characters', `s3://${'a'.repeat(64)}/key`],
    ['a bucket ending in a dash', 's3://bucket-/key'],
    ['an empty string', ''],
  ])('rejects %s', (_what, uri) => {
    expect(parseS3Uri(uri)).toBeUndefined();
  });

  it('round-trips with toS3Uri', () => {
    const uri = 's3://longtail-outputs/outputs/job-1/records.jsonl.out';

    const location = parseS3Uri(uri);

    expect(location && toS3Uri(location)).toBe(uri);
  });
});

describe('toS3Uri', () => {
  it('writes s3://bucket/key', () => {
    expect(toS3Uri({ bucket: 'b-1', key: 'x/y.json' })).toBe('s3://b-1/x/y.json');
  });
});
