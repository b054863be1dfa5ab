import { readFileSync, readdirSync } from 'node:fs';

/**
 * The local Batch's worker processes of a job, with their array index, read from their
 * environment (Linux /proc): how e2e tests lose a worker the way a lost host would.
 */
export const workersOf = (jobId: string) =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const env = Object.fromEntries(
          readFileSync(`/proc/${pid}/environ`, 'utf8')
            .split('\0')
            .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
        );
        return env.LONGTAIL_JOB_ID === jobId
          ? [{ pid: Number(pid), shard: Number(env.AWS_BATCH_JOB_ARRAY_INDEX ?? 0) }]
          : [];
      } catch {
        return [];
      }
    });

/** Kills every worker of the job, at every attempt, until it has failed; answers the failed job. */
export const killWorkersUntilFailed = async (
  jobId: string,
  status: () => Promise<Record<string, unknown>>,
  timeoutMs = 60_000,
) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const worker of workersOf(jobId)) {
      try {
        process.kill(worker.pid, 'SIGKILL');
      } catch {
        // It ended first.
      }
    }
    const job = await status();
    if (job.status === 'failed') return job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Job ${jobId} did not fail within ${timeoutMs} ms of its workers being killed`);
};
