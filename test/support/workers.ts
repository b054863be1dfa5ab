import { readFileSync, readdirSync } from 'node:fs';

/** Running worker processes and the job each works for, from their environment (Linux /proc). */
export const runningWorkers = (): { pid: number; jobId: string }[] =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const variable = readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .find((entry) => entry.startsWith('LONGTAIL_JOB_ID='));
        return variable ? [{ pid: Number(pid), jobId: variable.slice('LONGTAIL_JOB_ID='.length) }] : [];
      } catch {
        return [];
      }
    });
