import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { batchJobNameOf } from '../domain/locations';
import type { WorkerLogs } from '../ports/worker-logs';

/**
 * The local Batch's worker logs: one file per attempt under `LONGTAIL_WORKER_LOG_DIR`
 * (`.data/logs/batch/longtail-<jobId>/<shard|job>-attempt-<n>.log`). In AWS the workers log to
 * CloudWatch Logs, which lib/aws/worker-logs.ts reads.
 */
export class LocalWorkerLogs implements WorkerLogs {
  constructor(private readonly root: string) {}

  async tail(jobId: string, shard: number, maxLines: number) {
    const folder = join(this.root, batchJobNameOf(jobId));
    const names = await readdir(folder).catch(() => [] as string[]);
    const pattern = /^(\d+|job)-attempt-(\d+)\.log$/;
    const attempts = names
      .map((name) => ({ name, match: pattern.exec(name) }))
      .filter(({ match }) => match && (match[1] === 'job' ? shard === 0 : Number(match[1]) === shard))
      .map(({ name, match }) => ({ name, attempt: Number(match?.[2]) }))
      .sort((a, b) => a.attempt - b.attempt);
    return Promise.all(
      attempts.map(async ({ name, attempt }) => {
        const lines = (await readFile(join(folder, name), 'utf8')).split('\n').filter(Boolean);
        return {
          attempt,
          source: name,
          lines: lines.slice(-maxLines),
          truncated: lines.length > maxLines,
        };
      }),
    );
  }
}
