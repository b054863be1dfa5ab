import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * Everything the worker reads from its environment, with documented defaults. AWS Batch sets
 * the job's values through the state machine's ContainerOverrides, and its own AWS_BATCH_*.
 */
const settingsSchema = z.object({
  LONGTAIL_JOB_ID: z.string().min(1),
  LONGTAIL_MODEL: z.string().min(1),
  LONGTAIL_INPUT_URI: z.string().startsWith('s3://'),
  LONGTAIL_OUTPUT_URI: z.string().startsWith('s3://'),
  LONGTAIL_FAILURE_URI: z.string().startsWith('s3://'),
  LONGTAIL_REPORT_URI: z.string().startsWith('s3://'),
  /** Folder holding `<model>/model.json` and its ONNX file. */
  LONGTAIL_MODELS_DIR: z.string().default(resolve('models')),
  /** Records per inference call. */
  LONGTAIL_BATCH_SIZE: z.coerce.number().int().min(1).max(4096).default(64),
  LONGTAIL_EXECUTION_PROVIDER: z.enum(['auto', 'cuda', 'cpu']).default('auto'),
  AWS_BATCH_JOB_ID: z.string().default('local'),
  AWS_BATCH_JOB_ATTEMPT: z.coerce.number().int().default(1),
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
