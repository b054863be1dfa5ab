import { availableParallelism } from 'node:os';
import { isImageInput } from '../../lib/models/manifest';
import type { ModelManifest } from '../../lib/models/manifest';
import { intraOpThreadsFor, openSession, wantsCuda } from './execution-provider';
import type { ProviderChoice } from './execution-provider';
import { openInferenceLanes } from './inference-lanes';
import { createInputEncoder } from './model-inputs';
import type { ModelFiles } from './model-loader';
import { predict, warmUp } from './predict';
import type { Prediction } from '../../lib/models/tensors';
import type { ShardModel } from './batch-pipeline';

export interface OpenedModel {
  model: ShardModel<Prediction>;
  provider: 'cuda' | 'cpu';
  /** Sessions on threads of their own, each encoding and inferring its batches; 0: one session on the main thread. */
  lanes: number;
  preprocessThreads: number;
  close(): Promise<void>;
}

/**
 * Inference lanes (see inference-lanes.ts), on the CPU provider: an image model runs one lane per
 * vCPU the worker is given (LONGTAIL_INTRA_OP_THREADS where set, as the local runtime does when
 * workers share a host). A tabular model's encoding costs next to nothing and its records are many
 * and small: handing them to other threads would cost more than it saves, so it keeps one session.
 * Under CUDA one session feeds the GPU. See LONGTAIL_INFERENCE_LANES in settings.ts.
 */
export const inferenceLanesFor = (manifest: ModelManifest, configured?: number) =>
  configured ?? (manifest.inputs.some(isImageInput) ? intraOpThreadsFor('cpu') : 0);

/**
 * Threads that decode images while one session runs the model. Under CUDA the GPU waits on the
 * CPU, so every vCPU but the one feeding the GPU decodes. On the CPU provider an image model runs
 * in lanes that decode their own batches, and a single session (lanes set to 0) decodes between
 * batches. See LONGTAIL_PREPROCESS_THREADS in settings.ts.
 */
export const preprocessThreadsFor = (provider: 'cuda' | 'cpu', configured?: number) =>
  configured ?? (provider === 'cuda' ? Math.max(1, availableParallelism() - 1) : 0);

export interface ShardModelOptions {
  /** See inferenceLanesFor. */
  lanes?: number;
  /** See preprocessThreadsFor. */
  preprocessThreads?: number;
  /**
   * The shard's batch size. Under CUDA every batch is padded to it and one batch of zeros runs
   * first: cuDNN searches for its convolution algorithms on each new input shape (EXHAUSTIVE, the
   * only setting Node can have), which must happen once, before the shard's work.
   */
  batchSize?: number;
  /** In lanes, the most records an inference call takes (LONGTAIL_CPU_MAX_BATCH); 0 or unset: no cap. */
  cpuMaxBatch?: number;
}

/** The model opened once for the process: its session or lanes, and what feeds them. */
export const openShardModel = async (
  files: ModelFiles,
  choice: ProviderChoice,
  options: ShardModelOptions = {},
): Promise<OpenedModel> => {
  // Lanes only where the CPU is sure: an `auto` whose CUDA fails to load falls back to one session.
  const lanes = wantsCuda(choice) ? 0 : inferenceLanesFor(files.manifest, options.lanes);
  if (lanes > 0) {
    const opened = await openInferenceLanes(files, lanes);
    return {
      model: {
        run: opened.run,
        parallelBatches: lanes,
        ...(options.cpuMaxBatch ? { maxBatchSize: options.cpuMaxBatch } : {}),
      },
      provider: 'cpu',
      lanes,
      preprocessThreads: 0,
      close: opened.close,
    };
  }
  const { session, provider } = await openSession(files.onnxPath, choice);
  const threads = preprocessThreadsFor(provider, options.preprocessThreads);
  const encoder = createInputEncoder(files.manifest, { preprocessThreads: threads });
  const padTo = provider === 'cuda' ? (options.batchSize ?? 0) : 0;
  if (padTo > 0) await warmUp(session, files.manifest, padTo);
  return {
    model: {
      run: async (records) => {
        const encoded = await encoder.encode(records);
        return {
          predictions: await predict(session, files.manifest, encoded, files.alphabet, padTo),
          failures: encoded.failures,
        };
      },
      parallelBatches: 1,
    },
    provider,
    lanes: 0,
    preprocessThreads: threads,
    close: async () => {
      await encoder.close();
      await session.release();
    },
  };
};
