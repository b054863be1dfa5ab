import { buildExternalDataModel, buildTwoInputModel } from '../support/onnx-models';
import { useLocalStack } from '../support/local-stack';
import { fileOf, pushModel, waitForAlias, waitForCheck } from '../support/model-registry';
import type { Upload } from '../support/model-registry';

const compactRecord = { ids: [1, 2, 3, 4], scale: 2 };
const oipRecord = {
  id: 'request-7',
  inputs: [
    { name: 'ids', shape: [1, 4], datatype: 'INT64', data: [1, 1, 1, 1] },
    { name: 'scale', shape: [], datatype: 'FP32', data: [0.5] },
  ],
};

interface JobView {
  jobId: string;
  status: string;
  model: string;
  modelVersion: string;
  modelChecksum: string | null;
  outputUri: string;
  failureUri: string;
  counts: { total: number; succeeded: number; failed: number };
}

describe('a model the code has never heard of, registered through the API and served by jobs', () => {
  const local = useLocalStack();
  afterAll(() => {
    delete process.env.LONGTAIL_MODEL_SINGLE_PUT_MB;
    delete process.env.LONGTAIL_MODEL_PART_MB;
  });
  let checksum = '';

  beforeAll(async () => {
    await pushModel(local, 'adder', { 'model.onnx': buildTwoInputModel() });
    const checked = await waitForCheck(local, 'adder', '1');
    if (checked.status !== 'ready')
      throw new Error(`adder:1 failed its check: ${JSON.stringify(checked.error)}`);
    checksum = checked.checksum;
  });

  it('serves its metadata and readiness at the Open Inference Protocol paths', async () => {
    const metadata = await local.api('/v2/models/adder');
    const versioned = await local.api('/v2/models/adder/versions/1');
    const ready = await local.api('/v2/models/adder/ready');
    const unknown = await local.api('/v2/models/adder/versions/9/ready');

    expect(metadata.status).toBe(200);
    expect(metadata.json).toEqual({
      name: 'adder',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'ids', datatype: 'INT64', shape: [-1, 4] },
        { name: 'scale', datatype: 'FP32', shape: [] },
      ],
      outputs: [
        { name: 'sum', datatype: 'FP32', shape: [-1] },
        { name: 'ids_plus_one', datatype: 'INT64', shape: [-1, 4] },
      ],
    });
    expect(versioned.json).toEqual(metadata.json);
    expect(ready).toMatchObject({ status: 200, json: { name: 'adder', version: '1', ready: true } });
    expect(unknown).toMatchObject({
      status: 400,
      json: { ready: false, error: { code: 'MODEL_NOT_READY' } },
    });
  });

  it('runs inline records in both forms and answers each in the form it came in, naming the version', async () => {
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'adder', input: { records: [compactRecord, oipRecord] } },
    });
    expect(submitted).toMatchObject({ status: 202 });

    const job = (await local.waitForJob(String(submitted.json.jobId))) as unknown as JobView;

    expect(job).toMatchObject({
      status: 'completed',
      model: 'adder',
      modelVersion: '1',
      modelChecksum: checksum,
    });
    expect(await local.readJsonLines(job.outputUri)).toEqual([
      { sum: 20, ids_plus_one: [2, 3, 4, 5] },
      {
        id: 'request-7',
        model_name: 'adder',
        model_version: '1',
        outputs: [
          { name: 'sum', datatype: 'FP32', shape: [1], data: [2] },
          { name: 'ids_plus_one', datatype: 'INT64', shape: [1, 4], data: [2, 2, 2, 2] },
        ],
      },
    ]);
    const metadata = JSON.parse(
      await local.readObject(`${job.outputUri.replace(/[^/]+$/, '')}_metadata.json`),
    ) as {
      model: unknown;
      counts: unknown;
    };
    expect(metadata).toMatchObject({
      model: { name: 'adder', version: '1', checksum },
      counts: { total: 2, succeeded: 2, failed: 0 },
    });
  });

  it('refuses inline records whose tensors have the wrong shape, naming the input and the shape it expects', async () => {
    const { status, json } = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'adder', input: { records: [{ ids: [1, 2, 3], scale: 1 }] } },
    });

    expect(status).toBe(400);
    expect(json.error?.code).toBe('INVALID_RECORDS');
    expect(JSON.stringify(json.error)).toContain('ids');
    expect(JSON.stringify(json.error)).toContain(
      'expected shape [4] (INT64, one row of [batch, 4]), got [3]',
    );
  });

  it('fails only the records of an S3 file that do not fit, with INVALID_RECORD and the expected shape', async () => {
    const lines = [compactRecord, { ids: ['a', 2, 3, 4], scale: 1 }, { ids: [0, 0, 0, 1], scale: 3 }];
    const inputUri = await local.putInput(
      'adder/mixed.jsonl',
      `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`,
    );
    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'adder:1', input: { s3Uri: inputUri } },
    });

    const job = (await local.waitForJob(String(submitted.json.jobId))) as unknown as JobView;

    expect({ counts: job.counts, failures: await local.readObject(job.failureUri) }).toMatchObject({
      counts: { total: 3, succeeded: 2, failed: 1 },
    });
    expect(await local.readJsonLines(job.outputUri)).toEqual([
      { sum: 20, ids_plus_one: [2, 3, 4, 5] },
      { sum: 3, ids_plus_one: [1, 1, 1, 2] },
    ]);
    const [failure] = await local.readJsonLines<{ line: number; error: { code: string; message: string } }>(
      job.failureUri,
    );
    expect(failure).toMatchObject({ line: 2, error: { code: 'INVALID_RECORD' } });
    expect(failure?.error.message).toContain('ids');
  });

  it('runs a file dropped under drop/<model>/ with the model it names', async () => {
    await local.putInput('drop/adder/dropped.jsonl', `${JSON.stringify(compactRecord)}\n`);

    const deadline = Date.now() + 30_000;
    let job: JobView | undefined;
    while (!job && Date.now() < deadline) {
      const { json } = await local.api('/jobs?limit=100');
      const found = (json.jobs as JobView[] & { inputUri?: string }[]).find((j) =>
        (j as unknown as { input: { s3Uri?: string } }).input.s3Uri?.endsWith('drop/adder/dropped.jsonl'),
      );
      if (found && ['completed', 'failed'].includes(found.status)) job = found as JobView;
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }

    expect(job).toMatchObject({ status: 'completed', model: 'adder', modelVersion: '1' });
    expect(await local.readJsonLines(job!.outputUri)).toEqual([{ sum: 20, ids_plus_one: [2, 3, 4, 5] }]);
  });

  it('keeps a job on the version it accepted while latest moves to a new one; the next job runs the new one', async () => {
    const records = Array.from({ length: 400 }, (_, i) => ({ ...oipRecord, id: `r${i}` }));
    const before = await local.api('/jobs', { method: 'POST', body: { model: 'adder', input: { records } } });
    await pushModel(local, 'adder', { 'model.onnx': buildTwoInputModel(2) });
    expect((await waitForCheck(local, 'adder', '2')).status).toBe('ready');
    // The check records the version ready, then moves latest to it.
    await waitForAlias(local, 'adder', 'latest', '2');
    const after = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'adder', input: { records: [oipRecord] } },
    });
    const pinned = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'adder:1', input: { records: [oipRecord] } },
    });

    const [first, second, third] = (await Promise.all(
      [before, after, pinned].map((r) => local.waitForJob(String(r.json.jobId))),
    )) as unknown as JobView[];

    expect([first?.modelVersion, second?.modelVersion, third?.modelVersion]).toEqual(['1', '2', '1']);
    const firstLines = await local.readJsonLines<{ model_version: string; outputs: { data: number[] }[] }>(
      first!.outputUri,
    );
    expect(firstLines).toHaveLength(400);
    expect(new Set(firstLines.map((line) => line.model_version))).toEqual(new Set(['1']));
    const [secondLine] = await local.readJsonLines<{ model_version: string; outputs: { data: number[] }[] }>(
      second!.outputUri,
    );
    expect(secondLine).toMatchObject({
      model_version: '2',
      outputs: [{ data: [2] }, { data: [3, 3, 3, 3] }],
    });
  });

  it('answers 409 MODEL_NOT_READY for a version still checking, and 400 UNKNOWN_MODEL for one there is not', async () => {
    await local.api('/models/slow/versions', {
      method: 'POST',
      body: { files: [{ name: 'model.onnx', sha256: 'a'.repeat(64), size: 10 }] },
    });
    const notReady = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'slow', input: { records: [{}] } },
    });
    const unknown = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'adder:77', input: { records: [{}] } },
    });

    expect(notReady.status).toBe(409);
    expect(notReady.json.error?.code).toBe('MODEL_NOT_READY');
    expect(unknown.status).toBe(400);
    expect(unknown.json.error?.code).toBe('UNKNOWN_MODEL');
  });

  it('registers a model whose weights are an external-data file, uploaded in parts, and serves it', async () => {
    // 20 MiB of weights file, with single PUTs up to 8 MiB (100 by default): it goes up in parts.
    process.env.LONGTAIL_MODEL_SINGLE_PUT_MB = '8';
    process.env.LONGTAIL_MODEL_PART_MB = '8';
    const { model, weights } = buildExternalDataModel('weights.bin', 20 * 1024 * 1024);
    const created = await local.api('/models/external/versions', {
      method: 'POST',
      body: { files: [fileOf('model.onnx', model), fileOf('weights.bin', weights)] },
    });
    const uploads = (created.json as unknown as { uploads: Upload[] }).uploads;
    const parted = uploads.find((upload) => upload.name === 'weights.bin')?.multipart;
    expect(parted?.parts.length).toBeGreaterThan(1);
    const etags = [];
    for (const part of parted!.parts) {
      const start = (part.partNumber - 1) * parted!.partSize;
      const response = await fetch(part.url, {
        method: 'PUT',
        body: weights.subarray(start, start + parted!.partSize),
      });
      etags.push({ partNumber: part.partNumber, etag: response.headers.get('etag') ?? '' });
    }
    const single = uploads.find((upload) => upload.name === 'model.onnx');
    await fetch(single!.url!, { method: 'PUT', headers: single!.headers, body: model });
    const finished = await local.api('/models/external/versions/1/finish', {
      method: 'POST',
      body: { multipart: [{ name: 'weights.bin', uploadId: parted!.uploadId, parts: etags }] },
    });
    expect(finished.status).toBe(202);
    expect(await waitForCheck(local, 'external', '1')).toMatchObject({ status: 'ready' });

    const submitted = await local.api('/jobs', {
      method: 'POST',
      body: { model: 'external', input: { records: [{ x: [1, 0, 0, 1] }] } },
    });
    const job = await local.waitForJob(String(submitted.json.jobId));

    // Row 0 of W is all 1, row 3 all 4: x picks 1 + 4 in every column.
    expect(await local.readJsonLines(job.outputUri)).toEqual([{ y: [5, 5, 5, 5] }]);
  });

  it("fails a version whose external-data file was not registered with it, in ONNX Runtime's words", async () => {
    const { model } = buildExternalDataModel('missing.bin');
    await pushModel(local, 'no-weights', { 'model.onnx': model });

    const checked = await waitForCheck(local, 'no-weights', '1');

    expect(checked).toMatchObject({ status: 'failed', error: { code: 'INVALID_MODEL' } });
    expect(checked.error?.message).toContain('missing.bin');
  });
});
