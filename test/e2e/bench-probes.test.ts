import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { measureLimit, runNaiveWorker, runRawIo } from '../../bench/probes';
import { demoCustomers, toJsonLines } from '../../local/demo-data';
import { useLocalStack } from '../support/local-stack';

/** The bench's measurements, small, against the local runtime: `npm run bench` must keep working. */
describe('bench probes', () => {
  const local = useLocalStack();
  const imagesDir = join(__dirname, '../fixtures/images');
  const images = readdirSync(imagesDir).map((name) => readFileSync(join(imagesDir, name)).toString('base64'));

  it('measures ONNX Runtime alone for each thread count and batch size, and the encoding cost', async () => {
    const inputUri = await local.putInput(
      'bench/crops.jsonl',
      toJsonLines(images.map((image, id) => ({ id, image }))),
    );

    const limit = await measureLimit({
      model: 'text-orientation',
      inputUri,
      provider: 'cpu',
      threads: [1],
      batchSizes: [1, 4],
      secondsPerPoint: 0.05,
    });

    expect(limit.provider).toBe('cpu');
    expect(limit.points.map(({ threads, batchSize }) => [threads, batchSize])).toEqual([
      [1, 1],
      [1, 4],
    ]);
    for (const point of limit.points) expect(point.recordsPerSecond).toBeGreaterThan(0);
    expect(limit.encodeRecordsPerSecond).toBeGreaterThan(0);
  });

  it('runs the naive worker and the raw I/O pass over a file, writing their output to S3', async () => {
    const inputUri = await local.putInput(
      'bench/customers.jsonl',
      toJsonLines(demoCustomers(50).map(({ customer_id, ...rest }) => ({ id: customer_id, ...rest }))),
    );
    const outputs = `s3://${local.stack.names.outputsBucket}/bench`;

    const naive = await runNaiveWorker({
      model: 'churn-risk',
      inputUri,
      outputUri: `${outputs}/naive.out`,
      provider: 'cpu',
    });
    const raw = await runRawIo({ inputUri, outputUri: `${outputs}/raw.out` });

    expect(naive.records).toBe(50);
    const predictions = (
      await local.readJsonLines<{ id: string; prediction: { label: string } }>(`${outputs}/naive.out`)
    ).map((line) => line.prediction.label);
    expect(new Set(predictions)).toEqual(new Set(['stays', 'churns']));
    expect(raw.records).toBe(50);
    expect(await local.readObject(`${outputs}/raw.out`)).toBe(await local.readObject(inputUri));
  });
});
