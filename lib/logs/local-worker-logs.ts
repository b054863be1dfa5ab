import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { batchJobNameOf } from '../domain/locations';
import { NotFound } from '../errors';
import type { WorkerLogs } from '../ports/worker-logs';

/** Logs live elsewhere (CloudWatch Logs in AWS): this deployment's console cannot show them. */
export class WorkerLogsElsewhere extends NotFound {}

/**
 * The local Batch's worker logs: one file per attempt under `LONGTAIL_WORKER_LOG_DIR`
 * (`.data/logs/batch/longtail-<jobId>/<shard|job>-attempt-<n>.log`). In AWS the workers log to
 * CloudWatch Logs (group /aws/batch/job), which this reader does not reach.
 */
export class LocalWorkerLogs implements WorkerLogs {
  constructor(private readonly dir: () => string | undefined = () => process.env.LONGTAIL_WORKER_LOG_DIR) {}

  async tail(jobId: string, shard: number, maxLines: number) {
    const root = this.dir();
    if (!root) {
      throw new WorkerLogsElsewhere(
        'WORKER_LOGS_IN_CLOUDWATCH',
        `Worker logs are in CloudWatch Logs, log group /aws/batch/job, streams of Batch jobs named ${batchJobNameOf(jobId)}; the console reads them only from the local runtime.`,
      );
    }
    const folder = join(root, batchJobNameOf(jobId));
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
