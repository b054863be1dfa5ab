import { demoCustomers } from '../../local/demo-data';
import { useLocalStack } from '../support/local-stack';

const record = demoCustomers(1)[0]!;
const bucket = 'longtail-local-inputs';

type Case = [name: string, body: unknown, headers?: Record<string, string>];

/** Requests a client could get wrong: each must get a 4xx with a code, and make no job. */
const cases: Case[] = [
  ['empty body', ''],
  ['truncated JSON', '{"model": "churn-risk", "input": {"records": [{"tenure_months": 3'],
  ['JSON with a trailing comma', '{"model": "churn-risk",}'],
  ['a JSON array', '[]'],
  ['a JSON string', '"churn-risk"'],
  ['JSON null', 'null'],
  ['a number for the model', { model: 42, input: { records: [record] } }],
  ['an empty model name', { model: '', input: { records: [record] } }],
  ['a model name with a path', { model: '../churn-risk', input: { records: [record] } }],
  ['a unicode model name', { model: 'chürn-rïsk', input: { records: [record] } }],
  ['records that are not a list', { model: 'churn-risk', input: { records: record } }],
  ['a record that is a string', { model: 'churn-risk', input: { records: ['tenure=3'] } }],
  ['a record that is null', { model: 'churn-risk', input: { records: [null] } }],
  [
    'a boolean as a number',
    { model: 'churn-risk', input: { records: [{ ...record, tenure_months: true }] } },
  ],
  [
    'a number as a string',
    { model: 'churn-risk', input: { records: [{ ...record, monthly_charges: '95.5' }] } },
  ],
  ['a negative count', { model: 'churn-risk', input: { records: [{ ...record, support_calls: -1 }] } }],
  ['a fractional integer', { model: 'churn-risk', input: { records: [{ ...record, tenure_months: 3.5 }] } }],
  ['NaN-like text', { model: 'churn-risk', input: { records: [{ ...record, monthly_charges: 'NaN' }] } }],
  ['a missing field', { model: 'churn-risk', input: { records: [{ tenure_months: 3 }] } }],
  ['an unknown category', { model: 'churn-risk', input: { records: [{ ...record, contract: 'forever' }] } }],
  [
    'both records and s3Uri',
    { model: 'churn-risk', input: { records: [record], s3Uri: `s3://${bucket}/a.jsonl` } },
  ],
  ['an unknown input kind', { model: 'churn-risk', input: { url: 'https://example.com/a.jsonl' } }],
  ['an unknown top-level field', { model: 'churn-risk', input: { records: [record] }, priority: 1 }],
  ['an s3Uri without a key', { model: 'churn-risk', input: { s3Uri: `s3://${bucket}` } }],
  ['an s3Uri in another bucket', { model: 'churn-risk', input: { s3Uri: 's3://attacker-bucket/a.jsonl' } }],
  [
    'an s3Uri with a bucket path trick',
    { model: 'churn-risk', input: { s3Uri: `s3://${bucket}.evil/a.jsonl` } },
  ],
  [
    'an s3Uri into other jobs’ inline records',
    { model: 'churn-risk', input: { s3Uri: `s3://${bucket}/inline/x/y/records.jsonl` } },
  ],
  ['an s3Uri into retry copies', { model: 'churn-risk', input: { s3Uri: `s3://${bucket}/retries/x/a.csv` } }],
  [
    'a prefix that covers inline/',
    { model: 'churn-risk', input: { s3Uri: `s3://${bucket}/in`, s3DataType: 'S3Prefix' } },
  ],
  [
    'an https URL as s3Uri',
    { model: 'churn-risk', input: { s3Uri: `https://${bucket}.s3.amazonaws.com/a.jsonl` } },
  ],
  [
    'an unknown s3DataType',
    { model: 'churn-risk', input: { s3Uri: `s3://${bucket}/a.jsonl`, s3DataType: 'Glob' } },
  ],
  [
    'a webhook to instance metadata',
    {
      model: 'churn-risk',
      input: { records: [record] },
      webhookUrl: 'http://169.254.169.254/latest/meta-data/',
    },
  ],
  [
    'a webhook to IPv6 metadata',
    { model: 'churn-risk', input: { records: [record] }, webhookUrl: 'http://[fd00:ec2::254]/' },
  ],
  [
    'a webhook to a private address',
    { model: 'churn-risk', input: { records: [record] }, webhookUrl: 'https://10.0.0.7/hook' },
  ],
  [
    'a webhook to 192.168.x',
    { model: 'churn-risk', input: { records: [record] }, webhookUrl: 'https://192.168.1.20/hook' },
  ],
  [
    'a webhook to 172.16.x',
    { model: 'churn-risk', input: { records: [record] }, webhookUrl: 'https://172.16.0.1/hook' },
  ],
  [
    'a webhook to IPv4-mapped metadata',
    { model: 'churn-risk', input: { records: [record] }, webhookUrl: 'http://[::ffff:169.254.169.254]/' },
  ],
  [
    'a webhook with credentials',
    { model: 'churn-risk', input: { records: [record] }, webhookUrl: 'https://user:pass@example.com/hook' },
  ],
  [
    'a webhook that is not http',
    { model: 'churn-risk', input: { records: [record] }, webhookUrl: 'file:///etc/passwd' },
  ],
  ['an unknown option', { model: 'churn-risk', input: { records: [record] }, options: { turbo: true } }],
  [
    'a batch size of zero',
    { model: 'churn-risk', input: { records: [record] }, options: { maxBatchSize: 0 } },
  ],
  ['too many shards', { model: 'churn-risk', input: { records: [record] }, options: { maxShards: 20_000 } }],
  [
    'a filter outside the JSONPath subset',
    { model: 'churn-risk', input: { records: [record] }, options: { inputFilter: '$..features' } },
  ],
  [
    'a filter with a script',
    { model: 'churn-risk', input: { records: [record] }, options: { outputFilter: '$[?(@.x)]' } },
  ],
  [
    'a name filter on CSV',
    { model: 'churn-risk', input: { s3Uri: `s3://${bucket}/a.csv` }, options: { inputFilter: '$.features' } },
  ],
  [
    'an unsupported accept',
    { model: 'churn-risk', input: { records: [record] }, options: { accept: 'application/xml' } },
  ],
  [
    'a text/plain body',
    JSON.stringify({ model: 'churn-risk', input: { records: [record] } }),
    { 'content-type': 'text/plain' },
  ],
  ['a form body', 'model=churn-risk', { 'content-type': 'application/x-www-form-urlencoded' }],
  [
    'an idempotency key with spaces',
    { model: 'churn-risk', input: { records: [record] } },
    { 'idempotency-key': 'two words' },
  ],
  [
    'an idempotency key too long',
    { model: 'churn-risk', input: { records: [record] } },
    { 'idempotency-key': 'k'.repeat(256) },
  ],
  [
    'an oversize body',
    { model: 'churn-risk', input: { records: Array.from({ length: 4000 }, () => record) } },
  ],
];

describe('bad input to POST /jobs', () => {
  const local = useLocalStack();

  it(`answers each of ${cases.length} bad requests with a 4xx and an error code, and creates no job`, async () => {
    const answers = [];
    for (const [name, body, headers] of cases) {
      const response = await local.api('/jobs', { method: 'POST', body, headers });
      answers.push({ name, status: response.status, code: response.json?.error?.code });
    }
    const invalidUtf8 = await fetch(`${local.stack.apiUrl}/jobs`, {
      method: 'POST',
      headers: { authorization: 'Bearer alice-test-key', 'content-type': 'application/json' },
      body: Buffer.from([0x7b, 0x22, 0x6d, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    });
    answers.push({
      name: 'invalid UTF-8',
      status: invalidUtf8.status,
      code: ((await invalidUtf8.json()) as { error?: { code?: string } }).error?.code,
    });

    expect(answers.filter((a) => a.status < 400 || a.status >= 500 || !a.code)).toEqual([]);
    expect(answers.length).toBeGreaterThanOrEqual(40);
    expect((await local.api('/jobs?limit=100')).json.jobs).toEqual([]);
  });
});
