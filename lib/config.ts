import { readFileSync } from 'node:fs';
import defaultPrices from '../config/prices.json';
import type { JobUsage, PriceTable } from './domain/cost';

/** Reads one environment variable, failing fast with its name when it is missing. */
export const requireEnv = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`Missing required environment variable ${name}`);
  }
  return value;
};

export const intEnv = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value))
    throw new Error(`Environment variable ${name} must be an integer, got "${raw}"`);
  return value;
};

/**
 * Names of the resources a process talks to. Each is read when first needed, so a function
 * that never touches the queue does not need its URL.
 */
export const resources = {
  jobsTable: () => requireEnv('JOBS_TABLE'),
  jobsQueueUrl: () => requireEnv('JOBS_QUEUE_URL'),
  jobEventsTopicArn: () => requireEnv('JOB_EVENTS_TOPIC_ARN'),
  inputsBucket: () => requireEnv('INPUTS_BUCKET'),
  outputsBucket: () => requireEnv('OUTPUTS_BUCKET'),
  stateMachineArn: () => requireEnv('STATE_MACHINE_ARN'),
  modelsTable: () => requireEnv('MODELS_TABLE'),
  modelsBucket: () => requireEnv('MODELS_BUCKET'),
};

/** Inline `records` above this size must go through S3 instead (API Gateway allows 10 MB). */
export const inlineLimitBytes = () => intEnv('LONGTAIL_INLINE_LIMIT_BYTES', 256 * 1024);

/**
 * The most dropped images one job takes (`LONGTAIL_DROP_MAX_OBJECTS`, default 1,000): a larger
 * batch makes several jobs, so that one bad batch does not hold thousands of images.
 */
export const dropMaxObjects = () => {
  const value = intEnv('LONGTAIL_DROP_MAX_OBJECTS', 1000);
  if (value < 1) throw new Error(`LONGTAIL_DROP_MAX_OBJECTS must be at least 1, got ${value}`);
  return value;
};

/** Where the job API is served; used to build `statusUrl`. Empty in AWS: taken from the request. */
export const publicApiUrl = () => process.env.LONGTAIL_PUBLIC_API_URL;

/**
 * The price table the cost estimates use: config/prices.json (bundled with each function), or
 * the JSON file `LONGTAIL_PRICES` names.
 */
export const priceTable = (): PriceTable => {
  const path = process.env.LONGTAIL_PRICES;
  return path ? (JSON.parse(readFileSync(path, 'utf8')) as PriceTable) : (defaultPrices as PriceTable);
};

/** The GPU instance type a job's time is priced at: the compute environment's first choice. */
export const gpuInstanceType = () => process.env.LONGTAIL_GPU_INSTANCE_TYPE || 'g4dn.xlarge';

/** Whose attempt times a job's usage comes from: the local runtime's worker processes, or Batch's. */
export const usageMeasuredBy = (): JobUsage['measuredBy'] =>
  process.env.LONGTAIL_USAGE_MEASURED_BY === 'local' ? 'local' : 'aws-batch';

/**
 * Where the workers' logs are read from. The local runtime names its folder of per-attempt files
 * (`LONGTAIL_WORKER_LOG_DIR`); a deployment has none and reads CloudWatch Logs, from the group
 * the job definition's LogConfiguration names (`WORKER_LOG_GROUP`; Batch's default otherwise).
 */
export const workerLogSource = ():
  { kind: 'local-files'; dir: string } | { kind: 'cloudwatch'; logGroup: string } => {
  const dir = process.env.LONGTAIL_WORKER_LOG_DIR;
  if (dir) return { kind: 'local-files', dir };
  return { kind: 'cloudwatch', logGroup: process.env.WORKER_LOG_GROUP || '/aws/batch/job' };
};
