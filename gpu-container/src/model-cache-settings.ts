import { resolve } from 'node:path';
import { z } from 'zod';

/** The image's cache folder: the job definition mounts a host volume here (serverless.yml). */
export const defaultModelCacheDir = '/var/cache/longtail/models';

/** Half of the 100 GiB root volume the launch template gives GPU instances (serverless.yml). */
export const defaultModelCacheMaxGb = 50;

const modelCacheSchema = z.object({
  /**
   * Where downloaded model versions are kept, by checksum. On Batch, a host folder shared by every
   * worker on the instance; the local runtime passes a folder under its data dir.
   */
  LONGTAIL_MODEL_CACHE_DIR: z.string().min(1).default(defaultModelCacheDir),
  /** GiB (2^30 bytes) past which the least recently used versions are evicted. */
  LONGTAIL_MODEL_CACHE_MAX_GB: z.coerce.number().positive().default(defaultModelCacheMaxGb),
});

export interface ModelCacheSettings {
  /** An absolute path. */
  dir: string;
  maxBytes: number;
}

/** The worker's model cache settings, from its environment; throws naming the variable that is wrong. */
export const modelCacheSettings = (env: NodeJS.ProcessEnv = process.env): ModelCacheSettings => {
  const result = modelCacheSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Model cache settings are not valid: ${problems.join('; ')}`);
  }
  return {
    dir: resolve(result.data.LONGTAIL_MODEL_CACHE_DIR),
    maxBytes: Math.floor(result.data.LONGTAIL_MODEL_CACHE_MAX_GB * 2 ** 30),
  };
};
