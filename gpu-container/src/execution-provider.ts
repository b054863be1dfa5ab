import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { logger } from '../../lib/logger';

export type ProviderChoice = 'auto' | 'cuda' | 'cpu';

/** A GPU is visible to this container when the NVIDIA runtime has mapped its device node. */
export const gpuVisible = (): boolean => existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl');

export interface LoadedSession {
  session: ort.InferenceSession;
  provider: 'cuda' | 'cpu';
}

/**
 * Threads for the CPU provider's operators in one session. A Batch job owns its vCPUs, and on the
 * CPU provider inference is where they go: one intra-op thread per vCPU (an image model runs a
 * single-threaded session per vCPU instead; see inferenceLanesFor). Under CUDA these threads only
 * run the few operators left on the CPU.
 */
export const intraOpThreadsFor = (
  provider: 'cuda' | 'cpu',
  configured = process.env.LONGTAIL_INTRA_OP_THREADS,
) => Number(configured) || (provider === 'cuda' ? 1 : availableParallelism());

export const sessionOptions = (
  provider: 'cuda' | 'cpu',
  intraOpThreads = intraOpThreadsFor(provider),
): ort.InferenceSession.SessionOptions => ({
  executionProviders: [provider],
  graphOptimizationLevel: 'all',
  // One model, one stream of batches: parallelism inside operators, not between them.
  executionMode: 'sequential',
  interOpNumThreads: 1,
  intraOpNumThreads: intraOpThreads,
  enableCpuMemArena: true,
  // Batches share one shape (the last may be shorter), so ORT can reuse its memory plan.
  enableMemPattern: true,
});

/** CUDA when asked for, or (`auto`) when a GPU is visible. */
export const wantsCuda = (choice: ProviderChoice) => choice === 'cuda' || (choice === 'auto' && gpuVisible());

/**
 * Opens the model on the CUDA provider when asked or when a GPU is visible, on the CPU
 * otherwise. `auto` falls back to the CPU, loudly, when CUDA cannot load (missing libraries,
 * driver mismatch); an explicit `cuda` fails instead, so a misbuilt image cannot pass for a GPU one.
 */
export const openSession = async (
  modelPath: string,
  choice: ProviderChoice,
  intraOpThreads?: number,
): Promise<LoadedSession> => {
  if (wantsCuda(choice)) {
    try {
      return {
        session: await ort.InferenceSession.create(modelPath, sessionOptions('cuda', intraOpThreads)),
        provider: 'cuda',
      };
    } catch (error) {
      if (choice === 'cuda') throw error;
      logger.error('CUDA execution provider unavailable; falling back to CPU', { error: error as Error });
    }
  }
  return {
    session: await ort.InferenceSession.create(modelPath, sessionOptions('cpu', intraOpThreads)),
    provider: 'cpu',
  };
};

export const supportedBackends = () => ort.listSupportedBackends();
