import { Readable } from 'node:stream';
import type { ObjectStore } from '../../ports/object-store';
import { ObjectNotFound } from '../../ports/object-store';
import { locationOf } from '../../domain/s3-location';
import type { S3Location } from '../../domain/s3-location';
import { contentTypeOf } from '../../records/formats';
import { shardOutputLocationOf } from '../../domain/locations';
import type { JobPlan } from '../../domain/job-plan';

/** The shard objects one after the other, as one stream; a shard with no object adds nothing. */
const concatenated = (objects: ObjectStore, parts: S3Location[]) =>
  Readable.from(
    (async function* () {
      for (const part of parts) {
        let body: Readable;
        try {
          body = await objects.openRead(part);
        } catch (error) {
          if (error instanceof ObjectNotFound) continue;
          throw error;
        }
        for await (const chunk of body) yield chunk as Buffer;
      }
    })(),
  );

/**
 * Joins each input file's shard outputs, in shard order, into its `.out` and `.out.failed`:
 * shards are contiguous ranges of the file, so the result keeps the input's order. Streams
 * through (a multipart upload), so memory does not grow with the output.
 */
export const assembleOutputs = async (plan: JobPlan, objects: ObjectStore, outputsBucket: string) => {
  for (const file of plan.files) {
    const shards = Array.from({ length: file.shardCount }, (_, i) =>
      shardOutputLocationOf(outputsBucket, plan.jobId, file.firstShard + i),
    );
    await objects.upload(
      locationOf(file.outputUri),
      concatenated(
        objects,
        shards.map((s) => s.output),
      ),
      contentTypeOf(file.outputFormat),
    );
    await objects.upload(
      locationOf(file.failureUri),
      concatenated(
        objects,
        shards.map((s) => s.failures),
      ),
      'application/x-ndjson',
    );
  }
};
