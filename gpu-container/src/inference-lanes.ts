import type { ModelRecord } from '../../lib/models/record-schema';
import type { ModelFiles } from './model-loader';
import type { BatchOutcome } from './batch-pipeline';
import type { Prediction } from '../../lib/models/tensors';
import { threadPool } from './thread-pool';

/** What every lane's thread is started with: the model to open its own session on. */
export interface LaneData {
  files: ModelFiles;
}

/** A batch to decode, encode and infer, or (once a lane, at start) only opening the session. */
export type LaneTask = { records: ModelRecord[] } | { open: true };

export interface InferenceLanes {
  run(records: ModelRecord[]): Promise<BatchOutcome<Prediction>>;
  close(): Promise<void>;
}

/**
 * Inference lanes, for image models on the CPU provider: `lanes` threads, each with its own
 * ONNX Runtime session on one intra-op thread, each decoding, preprocessing and inferring whole
 * batches. Preprocessing an image costs a tenth of a small CNN's inference, and a lane that
 * decodes leaves the other lanes' cores inferring; one session spread over every vCPU instead
 * idles all but one of them while its batch is decoded, and waits on its slowest thread at every
 * operator. The main thread only reads, parses and writes records.
 */
export const openInferenceLanes = async (files: ModelFiles, lanes: number): Promise<InferenceLanes> => {
  const pool = threadPool<LaneTask, BatchOutcome<Prediction> | null>('lane-worker', lanes, {
    files,
  } satisfies LaneData);
  try {
    // Each lane opens its session now: a model that cannot load fails before the shard starts.
    await Promise.all(Array.from({ length: lanes }, () => pool.run({ open: true })));
  } catch (error) {
    await pool.destroy();
    throw error;
  }
  return {
    run: async (records) => (await pool.run({ records })) as BatchOutcome<Prediction>,
    close: () => pool.destroy(),
  };
};
