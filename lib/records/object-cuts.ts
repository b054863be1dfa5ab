/** One shard of a list of objects: objects `[first, end)` of the list. */
export interface ObjectCut {
  first: number;
  end: number;
}

export interface ObjectCutOptions {
  /** No shard holds more objects than this, unless `maxShards` forces it. */
  maxObjectsPerShard: number;
  /** No shard holds more bytes than this (a single larger object is a shard of its own), unless `maxShards` forces it. */
  targetShardBytes: number;
  maxShards: number;
}

/**
 * Cuts a list of objects, in its order, into contiguous shards by count and bytes: as many as
 * the larger of the two limits needs (at most `maxShards`, at most one per object; fewer where
 * single objects outweigh a share), each given a nearly equal share of a weight that counts an object's bytes and the object itself alike
 * (decoding costs by the byte, inference by the record). Sizes unknown (a manifest's keys) are 0:
 * those shards are cut by count.
 */
export const cutObjects = (sizes: ArrayLike<number>, options: ObjectCutOptions): ObjectCut[] => {
  const count = sizes.length;
  if (count === 0) return [];
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += sizes[i]!;
  const wanted = Math.max(
    Math.ceil(count / options.maxObjectsPerShard),
    Math.ceil(bytes / options.targetShardBytes),
    1,
  );
  const shards = Math.min(wanted, options.maxShards, count);
  if (shards === 1) return [{ first: 0, end: count }];
  const weightOf = (i: number) => 0.5 / count + (bytes > 0 ? (0.5 * sizes[i]!) / bytes : 0.5 / count);
  // Each object goes to the shard its weight's midpoint falls in: shares come out nearly equal,
  // and a shard an object heavier than a share skips over is simply not planned.
  const cuts: ObjectCut[] = [];
  let before = 0;
  let current = -1;
  for (let i = 0; i < count; i++) {
    const weight = weightOf(i);
    const shard = Math.min(shards - 1, Math.floor((before + weight / 2) * shards));
    before += weight;
    if (shard !== current) {
      cuts.push({ first: i, end: i + 1 });
      current = shard;
    } else cuts[cuts.length - 1]!.end = i + 1;
  }
  return cuts;
};
