import { extname, join } from 'node:path';
import Piscina from 'piscina';

/**
 * A fixed pool of `threads` threads running `<taskFile>` from this folder: `.js` beside the
 * bundled worker, `.ts` from source (tests, the local runtime), where the threads load tsx.
 * Threads start at once and never idle out: a shard keeps them busy until it closes the pool.
 */
export const threadPool = <Task, Result>(taskFile: string, threads: number, workerData?: unknown) =>
  new Piscina<Task, Result>({
    filename: join(__dirname, `${taskFile}${extname(__filename)}`),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    workerData,
    ...(extname(__filename) === '.ts' ? { execArgv: ['--import', 'tsx'] } : {}),
  });
