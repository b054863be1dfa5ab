import { resolve } from 'node:path';
import { z } from 'zod';
import { imageSettingsSchema } from './images/image-limits';

/**
 * Everything the worker reads from its environment, with documented defaults. The state machine
 * passes the job's values through ContainerOverrides; AWS Batch sets its own AWS_BATCH_*.
 */
const settingsSchema = z.object({
  LONGTAIL_JOB_ID: z.string().min(1),
  /** The job's plan (files and shards) in S3. */
  LONGTAIL_PLAN_URI: z.string().startsWith('s3://'),
  /** Folder holding `<model>/model.json` and its ONNX file. */
  LONGTAIL_MODELS_DIR: z.string().default(resolve('models')),
  LONGTAIL_EXECUTION_PROVIDER: z.enum(['auto', 'cuda', 'cpu']).default('auto'),
  /**
   * Inference lanes: sessions on threads of their own, each decoding, preprocessing and inferring
   * whole batches on one intra-op thread. Unset: on the CPU provider, one per vCPU for an image
   * model (LONGTAIL_INTRA_OP_THREADS where set), none for a tabular one; none under CUDA. 0: one
   * session on the main thread.
   */
  LONGTAIL_INFERENCE_LANES: z.coerce.number().int().min(0).optional(),
  /**
   * With one session (no lanes): threads that decode and preprocess images while it runs. Unset:
   * every vCPU but one under CUDA (the GPU waits on them), none on the CPU provider (images are
   * decoded between batches).
   */
  LONGTAIL_PREPROCESS_THREADS: z.coerce.number().int().min(0).optional(),
  /**
   * In inference lanes (an image model on the CPU provider), the most records one inference call
   * takes: the CPU's caches, not a GPU's parallelism, set the best size (batches of 64 ran at 0.61
   * of batches of 4 on the bench's host). The job's maxBatchSize, when lower, wins. 0: no cap.
   */
  LONGTAIL_CPU_MAX_BATCH: z.coerce.number().int().min(0).default(16),
  /** Images with more pixels than this (250 million unset) fail with OBJECT_TOO_LARGE, unread. */
  ...imageSettingsSchema,
  /** The table the shard's progress row goes to. */
  JOBS_TABLE: z.string().min(1),
  AWS_BATCH_JOB_ID: z.string().default('local'),
  AWS_BATCH_JOB_ATTEMPT: z.coerce.number().int().min(1).default(1),
  /** Set by Batch for array children; a single-shard job has none and runs shard 0. */
  AWS_BATCH_JOB_ARRAY_INDEX: z.coerce.number().int().min(0).default(0),
});

export type WorkerSettings = z.infer<typeof settingsSchema>;

export const readSettings = (env: NodeJS.ProcessEnv = process.env): WorkerSettings => {
  const result = settingsSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Worker settings are not valid: ${problems.join('; ')}`);
  }
  return result.data;
};
