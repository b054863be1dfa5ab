import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { ObjectNotFound, locationOf } from '../../lib/aws/object-store';
import type { ObjectStore } from '../../lib/aws/object-store';
import { LongtailError } from '../../lib/errors';
import type { RecordCounts } from '../../lib/jobs/job';
import { workerErrorCodes } from '../../lib/jobs/worker-report';
import type { WorkerReport } from '../../lib/jobs/worker-report';
import type { ModelManifest } from '../../lib/models/manifest';
import { checkRecord, describeIssues } from '../../lib/models/records';
import type { ModelRecord } from '../../lib/models/records';
import { logger } from '../../lib/logger';
import type { LoadedSession } from './execution-provider';
import { predict } from './predict';

export interface ShardJob {
  inputUri: string;
  outputUri: string;
  failureUri: string;
  batchSize: number;
}

interface PendingRecord {
  line: number;
  record: ModelRecord;
}

/** A JSON Lines writer that honours backpressure, so a slow upload slows reading, not memory. */
class LineWriter {
  readonly stream = new PassThrough();
  async write(value: unknown) {
    if (!this.stream.write(JSON.stringify(value) + '\n')) await once(this.stream, 'drain');
  }
  end() {
    this.stream.end();
  }
}

/**
 * Streams one input object through the model: every line becomes either a prediction in the
 * output object or a failure (with its line number and reason) in the failure object, and the
 * counts say how many of each.
 */
export const runShard = async (
  job: ShardJob,
  manifest: ModelManifest,
  loaded: LoadedSession,
  objects: ObjectStore,
): Promise<RecordCounts> => {
  let input;
  try {
    input = await objects.openRead(locationOf(job.inputUri));
  } catch (error) {
    if (error instanceof ObjectNotFound) {
      throw new LongtailError(workerErrorCodes.inputNotFound, `The input ${job.inputUri} does not exist.`);
    }
    throw error;
  }

  const outputs = new LineWriter();
  const failures = new LineWriter();
  const uploads = Promise.all([
    objects.upload(locationOf(job.outputUri), outputs.stream, 'application/x-ndjson'),
    objects.upload(locationOf(job.failureUri), failures.stream, 'application/x-ndjson'),
  ]);
  const counts: RecordCounts = { total: 0, succeeded: 0, failed: 0 };

  let pending: PendingRecord[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    const predictions = await predict(
      loaded.session,
      manifest,
      batch.map((p) => p.record),
    );
    for (const [i, { line }] of batch.entries()) {
      await outputs.write({ line, prediction: predictions[i] });
      counts.succeeded++;
    }
  };

  let line = 0;
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const rawLine of lines) {
    line++;
    const text = line === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
    if (text.trim() === '') continue;
    counts.total++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      counts.failed++;
      await failures.write({
        line,
        record: text,
        error: { code: 'MALFORMED_JSON', message: 'The line is not valid JSON.' },
      });
      continue;
    }
    const check = checkRecord(manifest, value);
    if (!check.ok) {
      counts.failed++;
      await failures.write({
        line,
        record: value,
        error: { code: 'INVALID_RECORD', message: describeIssues(check.issues) },
      });
      continue;
    }
    pending.push({ line, record: check.record });
    if (pending.length >= job.batchSize) await flush();
  }
  await flush();
  outputs.end();
  failures.end();
  await uploads;

  if (counts.total === 0) {
    throw new LongtailError(workerErrorCodes.emptyInput, `The input ${job.inputUri} holds no records.`);
  }
  logger.info('Shard done', { counts, provider: loaded.provider });
  return counts;
};

export const reportOf = (
  outcome: { counts: RecordCounts; provider: string; durationMs: number } | { error: unknown },
): WorkerReport => {
  if ('counts' in outcome) {
    return {
      status: 'succeeded',
      counts: outcome.counts,
      executionProvider: outcome.provider,
      durationMs: outcome.durationMs,
    };
  }
  const { error } = outcome;
  if (error instanceof LongtailError)
    return { status: 'failed', error: { code: error.code, message: error.message } };
  return {
    status: 'failed',
    error: {
      code: workerErrorCodes.internal,
      message: `The worker failed: ${(error as Error).message ?? String(error)}`,
    },
  };
};
