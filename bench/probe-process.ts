import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalStack } from '../local/stack';
import type { LimitPoint } from './probes';

/**
 * The bench's probes (bench/probes.ts) each run in a process of their own, against a running
 * local stack's S3: what they measure shares no event loop or heap with the stack.
 */
const run = promisify(execFile);
export const provider = process.env.LONGTAIL_EXECUTION_PROVIDER ?? 'auto';

export const probe = async <T>(name: string, args: unknown, stack: LocalStack): Promise<T> => {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'probes.ts'), name, JSON.stringify(args)],
    {
      maxBuffer: 16 * 1024 * 1024,
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: stack.awsEndpoint,
        AWS_REGION: stack.region,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      },
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as T;
};

export interface LimitProbe {
  provider: string;
  points: LimitPoint[];
  encodeRecordsPerSecond: number;
}

/**
 * The ONNX Runtime limit at each thread count and batch size for `sessions` sessions side by side:
 * one session, or one single-threaded session per vCPU (what the worker's CPU lanes run), each in
 * a process of its own, their rates summed point by point. Side by side, the processes walk the
 * grid in step; what one gains while the other starts or ends only raises the limit.
 */
export const measureLimit = async (
  stack: LocalStack,
  sessions: number,
  args: { model: string; inputUri: string; threads: number[]; batchSizes: number[]; secondsPerPoint: number },
): Promise<LimitProbe> => {
  const parts = await Promise.all(
    Array.from({ length: sessions }, () =>
      probe<Omit<LimitProbe, 'points'> & { points: Omit<LimitPoint, 'sessions'>[] }>(
        'limit',
        { ...args, provider },
        stack,
      ),
    ),
  );
  const [first] = parts;
  if (!first) throw new Error('no limit probe');
  return {
    provider: first.provider,
    points: first.points.map((point, i) => ({
      ...point,
      sessions,
      recordsPerSecond: parts.reduce((sum, part) => sum + (part.points[i]?.recordsPerSecond ?? NaN), 0),
    })),
    encodeRecordsPerSecond: parts.reduce((sum, part) => sum + part.encodeRecordsPerSecond, 0) / sessions,
  };
};
