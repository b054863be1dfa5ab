import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { logger } from '../../lib/logger';

export type ProviderChoice = 'auto' | 'cuda' | 'cpu';

/** A GPU is visible to this container when the NVIDIA runtime has mapped its device node. */
export const gpuVisible = (): boolean => existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl');

export interface LoadedSession {
  session: ort.InferenceSession;
  provider: 'cuda' | 'cpu';
}

const sessionOptions = (providers: string[]): ort.InferenceSession.SessionOptions => ({
  executionProviders: providers,
  graphOptimizationLevel: 'all',
  // Batch jobs own their instance: use its cores, but leave one for decoding and S3 I/O.
  intraOpNumThreads: Number(process.env.LONGTAIL_INTRA_OP_THREADS) || 0,
});

/**
 * Opens the model on the CUDA provider when asked or when a GPU is visible, on the CPU
 * otherwise. `auto` falls back to the CPU, loudly, when CUDA cannot load (missing libraries,
 * driver mismatch); an explicit `cuda` fails instead, so a misbuilt image cannot pass for a GPU one.
 */
export const openSession = async (modelPath: string, choice: ProviderChoice): Promise<LoadedSession> => {
  const wantCuda = choice === 'cuda' || (choice === 'auto' && gpuVisible());
  if (wantCuda) {
    try {
      return {
        session: await ort.InferenceSession.create(modelPath, sessionOptions(['cuda'])),
        provider: 'cuda',
      };
    } catch (error) {
      if (choice === 'cuda') throw error;
      logger.error('CUDA execution provider unavailable; falling back to CPU', { error: error as Error });
    }
  }
  return { session: await ort.InferenceSession.create(modelPath, sessionOptions(['cpu'])), provider: 'cpu' };
};

export const supportedBackends = () => ort.listSupportedBackends();
