import { PutObjectCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { encodeCsvRow } from '../../lib/transform/data-processing';
import { customerColumns } from '../support/csv-fixtures';
import { TestStack } from '../support/local-stack';

type Customer = ReturnType<typeof demoCustomers>[number];
const [c1, c2, c3] = demoCustomers(3, 31) as [Customer, Customer, Customer];
const header = customerColumns;
const row = (c: typeof c1) => encodeCsvRow(header.map((h) => c[h as keyof typeof c1]));

interface BadFile {
  name: string;
  key: string;
  body: string | Buffer;
  input?: Record<string, unknown>;
  options?: Record<string, unknown>;
  /** What the job must end as: a status, and an error code or the counts. */
  expect: { status: 'completed' | 'failed'; code?: string; failed?: number };
}

const pseudoRandomBytes = (n: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919 + 13) % 256));

const files: BadFile[] = [
  {
    name: 'an empty file',
    key: 'bad/empty.jsonl',
    body: '',
    expect: { status: 'failed', code: 'EMPTY_INPUT' },
  },
  {
    name: 'only blank lines',
    key: 'bad/blank.jsonl',
    body: '\n \r\n\n',
    expect: { status: 'failed', code: 'EMPTY_INPUT' },
  },
  {
    name: 'a CSV with only a header',
    key: 'bad/header-only.csv',
    body: `${header.join(',')}\n`,
    expect: { status: 'failed', code: 'EMPTY_INPUT' },
  },
  {
    name: 'one huge line',
    key: 'bad/huge.jsonl',
    body: `{"notes":"${'x'.repeat(7 * 1024 * 1024)}"}\n`,
    expect: { status: 'failed', code: 'ALL_RECORDS_FAILED' },
  },
  {
    name: 'ragged CSV rows',
    key: 'bad/ragged.csv',
    body: `${header.join(',')}\n${row(c1)}\n1,2\n${row(c2)},extra,cells\n`,
    expect: { status: 'completed', failed: 2 },
  },
  {
    name: 'Latin-1 text in a UTF-8 file',
    key: 'bad/latin1.csv',
    body: Buffer.concat([
      Buffer.from(`${header.join(',')}\n${row(c1)}\n`),
      Buffer.from([0x43, 0x30, 0x30, 0x32, 0x2c, 0xe9, 0x0a]),
    ]),
    expect: { status: 'completed', failed: 1 },
  },
  {
    name: 'binary bytes named .jsonl',
    key: 'bad/binary.jsonl',
    body: pseudoRandomBytes(4096),
    expect: { status: 'failed', code: 'ALL_RECORDS_FAILED' },
  },
  {
    name: 'gzip without saying so',
    key: 'bad/secretly-gzipped.jsonl',
    body: gzipSync(toJsonLines(demoCustomers(50))),
    expect: { status: 'failed', code: 'ALL_RECORDS_FAILED' },
  },
  {
    name: 'a declared .gz',
    key: 'bad/data.jsonl.gz',
    body: gzipSync(toJsonLines(demoCustomers(5))),
    expect: { status: 'failed', code: 'UNSUPPORTED_FORMAT' },
  },
  {
    name: 'an unknown extension',
    key: 'bad/data.txt',
    body: toJsonLines([c1]),
    expect: { status: 'failed', code: 'UNSUPPORTED_FORMAT' },
  },
  {
    name: 'a JSON array on one line',
    key: 'bad/array.json',
    body: `${JSON.stringify([c1, c2])}\n`,
    expect: { status: 'failed', code: 'ALL_RECORDS_FAILED' },
  },
  {
    name: 'an unterminated quote',
    key: 'bad/open-quote.csv',
    body: `${header.join(',')}\n${row(c1)}\n"C9,1,2,3\n`,
    expect: { status: 'completed', failed: 1 },
  },
  {
    name: 'null lines among records',
    key: 'bad/nulls.jsonl',
    body: `${JSON.stringify(c1)}\nnull\n${JSON.stringify(c2)}\n`,
    expect: { status: 'completed', failed: 1 },
  },
  {
    name: 'deeply nested values',
    key: 'bad/nested.jsonl',
    body: `${'['.repeat(500)}${']'.repeat(500)}\n${JSON.stringify(c3)}\n`,
    expect: { status: 'completed', failed: 1 },
  },
  {
    name: 'truncated last line',
    key: 'bad/truncated.jsonl',
    body: `${JSON.stringify(c1)}\n{"tenure_months": 3, "monthly_ch`,
    expect: { status: 'completed', failed: 1 },
  },
  {
    name: 'a BOM and CRLF (fine)',
    key: 'bad/bom-crlf.jsonl',
    body: `\uFEFF${JSON.stringify(c1)}\r\n${JSON.stringify(c2)}\r\n`,
    expect: { status: 'completed', failed: 0 },
  },
  {
    name: 'CSV columns in another order (fine)',
    key: 'bad/reordered.csv',
    body: `${[...header].reverse().join(',')}\n${encodeCsvRow([...header].reverse().map((h) => c1[h as keyof typeof c1]))}\n`,
    expect: { status: 'completed', failed: 0 },
  },
  {
    name: 'CSV with splitType None',
    key: 'bad/none.csv',
    body: `${header.join(',')}\n${row(c1)}\n`,
    options: { splitType: 'None' },
    expect: { status: 'failed', code: 'INVALID_OPTIONS' },
  },
  {
    name: 'a manifest that is not JSON',
    key: 'bad/not-json.manifest',
    body: 'prefix: s3://x/',
    input: { s3DataType: 'ManifestFile' },
    expect: { status: 'failed', code: 'INVALID_MANIFEST' },
  },
  {
    name: 'a manifest naming a missing object',
    key: 'bad/missing.manifest',
    body: JSON.stringify([{ prefix: 's3://longtail-local-inputs/bad/' }, 'nowhere.jsonl']),
    input: { s3DataType: 'ManifestFile' },
    expect: { status: 'failed', code: 'INPUT_NOT_FOUND' },
  },
  {
    name: 'a manifest reaching another bucket',
    key: 'bad/elsewhere.manifest',
    body: JSON.stringify([{ prefix: 's3://someone-else/' }, 'a.jsonl']),
    input: { s3DataType: 'ManifestFile' },
    expect: { status: 'failed', code: 'INPUT_OUTSIDE_BUCKET' },
  },
];

describe('bad input files', () => {
  const local = new TestStack();

  beforeAll(async () => {
    await local.start({ batchConcurrency: 3 });
  });

  afterAll(async () => {
    await local.stop();
    local.cleanUp();
  });

  it(`bring each of ${files.length} jobs to an end with the reason, and no worker crash goes unreported`, async () => {
    const submitted = [];
    for (const file of files) {
      await local.s3.send(
        new PutObjectCommand({ Bucket: local.stack.names.inputsBucket, Key: file.key, Body: file.body }),
      );
      const response = await local.api('/jobs', {
        method: 'POST',
        body: {
          model: 'churn-risk',
          input: { s3Uri: `s3://${local.stack.names.inputsBucket}/${file.key}`, ...file.input },
          ...(file.options ? { options: file.options } : {}),
        },
      });
      expect({ file: file.name, status: response.status }).toEqual({ file: file.name, status: 202 });
      submitted.push({ file, jobId: String(response.json.jobId) });
    }

    const outcomes = [];
    for (const { file, jobId } of submitted) {
      const job = await local.waitForJob(jobId);
      outcomes.push({
        file: file.name,
        status: job.status,
        ...(file.expect.code ? { code: job.error?.code } : { failed: job.counts.failed }),
      });
    }

    expect(outcomes).toEqual(files.map((file) => ({ file: file.name, ...file.expect })));
  }, 120_000);
});
