import { Readable } from 'node:stream';
import { ObjectNotFound } from '../../lib/ports/object-store';
import { locationOf } from '../../lib/domain/s3-location';
import type { ObjectStore } from '../../lib/ports/object-store';
import { LongtailError } from '../../lib/errors';
import type { JobOptions } from '../../lib/domain/job-options';
import type { PlannedFile, PlannedShard } from '../../lib/domain/job-plan';
import { workerErrorCodes } from '../../lib/domain/worker-output';
import { describeIssues } from '../../lib/models/record-schema';
import type { RecordCheck } from '../../lib/models/record-schema';
import type { ModelRecord } from '../../lib/models/record-schema';
import { decodeRecordChunks } from '../../lib/records/decode';
import { alignedRangeOf, countingBytes, rangeReaderOf } from '../../lib/records/record-boundary';
import type { ReadPosition } from '../../lib/records/record-boundary';
import { logger } from '../../lib/logger';
import type { DecodedRecord } from '../../lib/records/decode';
import { RecordTransformError, modelInputOf } from '../../lib/transform/data-processing';
import type { CompiledDataProcessing } from '../../lib/transform/data-processing';
import type { ShardOutput } from './shard-output';

/** A record the model will see, waiting in a batch for its prediction. */
export interface PendingRecord {
  line: number;
  raw: string;
  /** The record as decoded, for joining with its prediction. */
  value: unknown;
  input: ModelRecord;
  /** What the record weighs against a batch's maxPayloadMB, when not its raw text: an object's bytes. */
  bytes?: number;
}

/**
 * The shard's records: its cut moved to record boundaries (reading a little past each cut, and
 * for CSV maybe speculating on quotes), then that range streamed, counted as it passes.
 */
const openShard = async (
  objects: ObjectStore,
  file: PlannedFile,
  shard: PlannedShard,
  position: ReadPosition,
): Promise<Readable> => {
  const location = locationOf(file.inputUri);
  try {
    const read = rangeReaderOf(objects, location);
    const range = await alignedRangeOf(read, shard, {
      format: file.format,
      size: file.bytes,
      onExactFallback: (cut) =>
        logger.warn('Counted quotes from the file start to align a shard', { shard: shard.index, cut }),
    });
    return Readable.from(countingBytes(await read(range.start, range.end), position));
  } catch (error) {
    if (error instanceof ObjectNotFound) {
      throw new LongtailError(workerErrorCodes.inputNotFound, `The input ${file.inputUri} no longer exists.`);
    }
    throw error;
  }
};

/** `splitType: None`: the whole object is one JSON record. */
async function* wholeObjectRecord(source: Readable): AsyncGenerator<DecodedRecord[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(Buffer.from(chunk as Uint8Array));
  const raw = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  try {
    yield [{ line: 1, raw, ok: true, value: JSON.parse(raw) }];
  } catch (error) {
    yield [{ line: 1, raw, ok: false, error: { code: 'MALFORMED_JSON', message: (error as Error).message } }];
  }
}

/**
 * Streams the shard's byte range and decodes it, chunk by chunk. The source is returned too: a
 * shard that fails destroys it rather than read on; and the position, bytes and newlines read so far.
 */
export const openShardRecords = async (
  objects: ObjectStore,
  file: PlannedFile,
  shard: PlannedShard,
  options: Pick<JobOptions, 'splitType'> & { maxRecordBytes: number },
): Promise<{ source: Readable; chunks: AsyncIterable<DecodedRecord[]>; position: ReadPosition }> => {
  const position: ReadPosition = { bytes: 0, lines: 0 };
  const source = await openShard(objects, file, shard, position);
  const chunks =
    options.splitType === 'None'
      ? wholeObjectRecord(source)
      : decodeRecordChunks(source, file.format, {
          firstLine: shard.firstLine,
          atObjectStart: shard.atObjectStart,
          maxRecordBytes: options.maxRecordBytes,
        });
  return { source, chunks, position };
};

/**
 * Counts each decoded record and admits it to the model when it decoded, passes the input filter
 * and has the model's fields (or fits its tensors). Any other goes to the failure file with its line and reason.
 */
export const recordAdmission =
  (
    checkRecord: (value: unknown, header?: string[]) => RecordCheck,
    compiled: CompiledDataProcessing,
    header: string[] | undefined,
    output: ShardOutput,
  ) =>
  (decoded: DecodedRecord): PendingRecord | undefined => {
    output.counts.total++;
    if (!decoded.ok) {
      output.fail(decoded.line, decoded.raw, decoded.error.code, decoded.error.message);
      return undefined;
    }
    let input: unknown;
    try {
      input = modelInputOf(compiled, decoded.value);
    } catch (error) {
      if (!(error instanceof RecordTransformError)) throw error;
      output.fail(decoded.line, decoded.raw, error.code, error.message);
      return undefined;
    }
    const check = checkRecord(input, header);
    if (!check.ok) {
      output.fail(decoded.line, decoded.raw, 'INVALID_RECORD', describeIssues(check.issues));
      return undefined;
    }
    return { line: decoded.line, raw: decoded.raw, value: decoded.value, input: check.record };
  };
