import type { ObjectStore } from '../../ports/object-store';
import { locationOf } from '../../domain/s3-location';
import { contentTypeOf } from '../../records/formats';
import { shardOutputLocationOf, shardOutputsPrefixOf } from '../../domain/locations';
import type { JobPlan, PlannedFile } from '../../domain/job-plan';
import type { ShardProgress } from '../../domain/shard-progress';
import { renumberFailureLine } from '../../domain/worker-output';
import { joinObjects } from './join-objects';
import type { JoinSource } from './join-objects';

/**
 * The line renumbering of each of a file's shards: a shard after the first counts lines from its
 * own first byte, so its failure lines move by the newlines of every shard before it (and the
 * first shard's start line). Those counts come from the shards' rows.
 */
const linesBeforeOf = (plan: JobPlan, file: PlannedFile, rows: ReadonlyMap<number, ShardProgress>) => {
  const before: (number | undefined)[] = [0];
  let lines: number | undefined = (plan.shards[file.firstShard]?.firstLine ?? 1) - 1;
  for (let i = 1; i < file.shardCount; i++) {
    const previous = rows.get(file.firstShard + i - 1)?.lines;
    lines = lines === undefined || previous === undefined ? undefined : lines + previous;
    before.push(lines);
  }
  return before;
};

/**
 * Joins each input file's shard outputs, in shard order, into its `.out` and `.out.failed`:
 * shards are contiguous ranges of the file, so the result keeps the input's order. The store
 * copies the outputs itself (`joinObjects`: S3 UploadPartCopy), so no output byte passes through
 * here but those of shards under 5 MiB; sizes come from one listing. Failure lines of a file's
 * later shards are read and renumbered to the file's lines: the one part that reads data, in
 * proportion to the failures.
 */
export const assembleOutputs = async (
  plan: JobPlan,
  objects: ObjectStore,
  outputsBucket: string,
  rows: readonly ShardProgress[] = [],
) => {
  const sizes = new Map<string, number>();
  const prefix = shardOutputsPrefixOf(outputsBucket, plan.jobId);
  for await (const object of objects.list(prefix.bucket, prefix.key)) {
    sizes.set(object.key, object.size);
  }
  const rowsByIndex = new Map(rows.map((row) => [row.index, row]));
  for (const file of plan.files) {
    const shards = Array.from({ length: file.shardCount }, (_, i) =>
      shardOutputLocationOf(outputsBucket, plan.jobId, file.firstShard + i),
    );
    // perObject: each object's line went to its own `.out`; only the failures are joined.
    if (file.objects?.outputs !== 'perObject')
      await joinObjects(
        objects,
        locationOf(file.outputUri),
        shards.map(({ output }) => ({ location: output, size: sizes.get(output.key) ?? 0 })),
        contentTypeOf(file.outputFormat),
      );
    const linesBefore = linesBeforeOf(plan, file, rowsByIndex);
    const failures = shards.map(({ failures: location }, i): JoinSource => {
      const size = sizes.get(location.key) ?? 0;
      const before = linesBefore[i];
      // A listing's shards number their lines from the listing's start: already the job's.
      if (i === 0 || size === 0 || file.objects) return { location, size };
      if (before === undefined) {
        throw new Error(
          `Shard ${file.firstShard + i} of ${file.inputUri} has failures, but a shard before it reported no line count.`,
        );
      }
      return { location, size, rewriteLine: (line) => renumberFailureLine(line, before) };
    });
    await joinObjects(objects, locationOf(file.failureUri), failures, 'application/x-ndjson');
  }
};
