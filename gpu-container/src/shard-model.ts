import { availableParallelism } from 'node:os';
import { openSession } from './execution-provider';
import type { ProviderChoice } from './execution-provider';
import { createInputEncoder } from './model-inputs';
import type { ModelFiles } from './model-loader';
import { predict, warmUp } from './predict';
import type { ShardModel } from './run-shard';

export interface OpenedModel {
  model: ShardModel;
  provider: 'cuda' | 'cpu';
  preprocessThreads: number;
  close(): Promise<void>;
}

/**
 * Threads that decode images while the model runs. Under CUDA the GPU waits on the CPU, so every
 * vCPU but the one feeding the GPU decodes. On the CPU provider the vCPUs already run inference:
 * a decoding thread beside one intra-op thread per vCPU only oversubscribes them (on 2 vCPUs,
 * interleaved runs of text-orientation showed no gain from one, within the host's noise), so none
 * and one thread less to reason about. See LONGTAIL_PREPROCESS_THREADS in settings.ts.
 */
export const preprocessThreadsFor = (provider: 'cuda' | 'cpu', configured?: number) =>
  configured ?? (provider === 'cuda' ? Math.max(1, availableParallelism() - 1) : 0);

export interface ShardModelOptions {
  /** See preprocessThreadsFor. */
  preprocessThreads?: number;
  /**
   * The shard's batch size. Under CUDA every batch is padded to it and one batch of zeros runs
   * first: cuDNN searches for its convolution algorithms on each new input shape (EXHAUSTIVE, the
   * only setting Node can have), which must happen once, before the shard's work.
   */
  batchSize?: number;
}

/** The model opened once for the process: its session, and the encoder that feeds it. */
export const openShardModel = async (
  files: ModelFiles,
  choice: ProviderChoice,
  options: ShardModelOptions = {},
): Promise<OpenedModel> => {
  const { session, provider } = await openSession(files.onnxPath, choice);
  const threads = preprocessThreadsFor(provider, options.preprocessThreads);
  const encoder = createInputEncoder(files.manifest, threads);
  const padTo = provider === 'cuda' ? (options.batchSize ?? 0) : 0;
  if (padTo > 0) await warmUp(session, files.manifest, padTo);
  return {
    model: {
      encode: (records) => encoder.encode(records),
      infer: (batch) => predict(session, files.manifest, batch, files.alphabet, padTo),
    },
    provider,
    preprocessThreads: threads,
    close: async () => {
      await encoder.close();
      await session.release();
    },
  };
};
