/**
 * What a job cost, and what a workload would cost a day: Longtail's one cost model. Pure: the
 * usage comes from Batch's own attempt times (recorded on the job when it ends), the prices
 * from a table in configuration (config/prices.json). The zod schemas are the API's `cost` view
 * (lib/openapi) and the source of the types here.
 */
import { z } from 'zod';

export interface InstancePrice {
  onDemandPerHour: number;
  spotPerHour: number;
}

export interface PriceTable {
  region: string;
  gpuInstances: Record<string, InstancePrice>;
  stepFunctionsPerStateTransition: number;
  lambdaPerRequest: number;
  lambdaPerGbSecond: number;
  httpApiPerRequest: number;
  sqsPerRequest: number;
  snsPerPublish: number;
  dynamoDbPerWriteRequest: number;
  dynamoDbPerReadRequest: number;
}

/** One Batch attempt of one shard: the instance time it held, from Batch's started/stopped times. */
export const batchAttemptUsageSchema = z.strictObject({
  batchJobId: z.string(),
  shard: z
    .number()
    .int()
    .nullable()
    .meta({ description: 'The array index (the shard), or null for a single job.' }),
  attempt: z.number().int().min(1),
  startedAt: z.string(),
  stoppedAt: z.string(),
  seconds: z.number(),
});
export type BatchAttemptUsage = z.output<typeof batchAttemptUsageSchema>;

const measuredBySchema = z.enum(['aws-batch', 'local']).meta({
  description: "`aws-batch`: Batch's own attempt times; `local`: the local runtime's worker processes.",
});

/** What a job used, recorded on the job record when it ends. */
export const jobUsageSchema = z.strictObject({
  instanceType: z.string(),
  measuredBy: measuredBySchema,
  attempts: z.array(batchAttemptUsageSchema),
  gpuSeconds: z.number(),
  stateTransitions: z
    .number()
    .int()
    .meta({ description: 'State transitions the execution made (entering a state is one).' }),
});
export type JobUsage = z.output<typeof jobUsageSchema>;

/**
 * The serverless work around one job, besides its GPU time: submit and two status reads over
 * the API, six Lambda invocations (authorizer, createJob, dispatch, mark running, plan, complete)
 * of half a GB for about 300 ms each, three SQS requests, one SNS publish, a dozen DynamoDB
 * writes (job record, shard rows) and as many reads.
 */
export const perJobOverhead = {
  httpApiRequests: 3,
  lambdaInvocations: 6,
  lambdaGbSeconds: 6 * 0.5 * 0.3,
  sqsRequests: 3,
  snsPublishes: 1,
  dynamoDbWrites: 12,
  dynamoDbReads: 12,
};

/** A successful job's path through the state machine: start and the seven states it enters. */
export const typicalStateTransitions = 8;

const secondsToHours = (seconds: number) => seconds / 3600;

export const instancePriceOf = (prices: PriceTable, instanceType: string): InstancePrice => {
  const price = prices.gpuInstances[instanceType];
  if (!price) {
    throw new Error(
      `No price for instance type ${instanceType}: add it to the price table (config/prices.json). Known: ${Object.keys(prices.gpuInstances).join(', ')}`,
    );
  }
  return price;
};

/** The fixed part of a job: what Step Functions, Lambda, the API, SQS, SNS and DynamoDB charge. */
export const fixedCostOf = (prices: PriceTable, stateTransitions = typicalStateTransitions): number =>
  stateTransitions * prices.stepFunctionsPerStateTransition +
  perJobOverhead.lambdaInvocations * prices.lambdaPerRequest +
  perJobOverhead.lambdaGbSeconds * prices.lambdaPerGbSecond +
  perJobOverhead.httpApiRequests * prices.httpApiPerRequest +
  perJobOverhead.sqsRequests * prices.sqsPerRequest +
  perJobOverhead.snsPublishes * prices.snsPerPublish +
  perJobOverhead.dynamoDbWrites * prices.dynamoDbPerWriteRequest +
  perJobOverhead.dynamoDbReads * prices.dynamoDbPerReadRequest;

const onDemandAndSpot = z.strictObject({ onDemand: z.number(), spot: z.number() });

export const jobCostSchema = z.strictObject({
  instanceType: z.string(),
  gpuSeconds: z.number(),
  attempts: z.number().int().meta({ description: 'Batch attempts, every shard’s retries counted.' }),
  measuredBy: measuredBySchema,
  gpu: onDemandAndSpot.meta({
    description: 'USD for the GPU-instance seconds, on on-demand and on Spot capacity.',
  }),
  fixed: z.number().meta({
    description: 'USD for Step Functions, Lambda, the API, SQS, SNS and DynamoDB around the job.',
  }),
  total: onDemandAndSpot,
});
export type JobCost = z.output<typeof jobCostSchema>;

/** The estimate `GET /jobs/{id}` shows for a job that ended, in dollars. */
export const jobCostOf = (usage: JobUsage, prices: PriceTable): JobCost => {
  const price = instancePriceOf(prices, usage.instanceType);
  const hours = secondsToHours(usage.gpuSeconds);
  const gpu = { onDemand: hours * price.onDemandPerHour, spot: hours * price.spotPerHour };
  const fixed = fixedCostOf(prices, usage.stateTransitions || typicalStateTransitions);
  return {
    instanceType: usage.instanceType,
    gpuSeconds: usage.gpuSeconds,
    attempts: usage.attempts.length,
    measuredBy: usage.measuredBy,
    gpu,
    fixed,
    total: { onDemand: gpu.onDemand + fixed, spot: gpu.spot + fixed },
  };
};

/** The instance seconds of the attempts, summed. */
export const usageOf = (
  attempts: BatchAttemptUsage[],
  instanceType: string,
  measuredBy: JobUsage['measuredBy'],
  stateTransitions = typicalStateTransitions,
): JobUsage => ({
  instanceType,
  measuredBy,
  attempts,
  gpuSeconds: attempts.reduce((sum, attempt) => sum + attempt.seconds, 0),
  stateTransitions,
});

export interface Workload {
  jobsPerDay: number;
  /** GPU seconds each job holds an instance. */
  secondsPerJob: number;
  instanceType: string;
}

/**
 * A day of a workload two ways: Longtail scaling to zero (instance time only while jobs run,
 * plus the fixed part per job) against one instance kept on all day as an always-on endpoint.
 */
export const dailyComparison = (workload: Workload, prices: PriceTable) => {
  const price = instancePriceOf(prices, workload.instanceType);
  const gpuHours = secondsToHours(workload.jobsPerDay * workload.secondsPerJob);
  const fixed = workload.jobsPerDay * fixedCostOf(prices);
  return {
    scaleToZero: {
      gpuHours,
      gpuOnDemand: gpuHours * price.onDemandPerHour,
      gpuSpot: gpuHours * price.spotPerHour,
      fixed,
    },
    alwaysOn: { hours: 24, onDemand: 24 * price.onDemandPerHour },
  };
};

/** Dollars to the cent, as a bill shows them. */
export const dollars = (amount: number): string => `$${amount.toFixed(2)}`;

/** Dollars to the cent, or to a thousandth of a cent for the amounts of a single small job. */
export const money = (amount: number): string => (amount >= 0.01 ? dollars(amount) : `$${amount.toFixed(5)}`);

/** A job's priced cost (its instance type is in the price table). */
export const pricedCostViewSchema = jobCostSchema
  .extend({
    currency: z.literal('USD'),
    pricesRegion: z.string().meta({ description: 'The region of the price table (config/prices.json).' }),
  })
  .meta({
    id: 'JobCost',
    description: 'What an ended job used and an estimate of what it cost, in USD.',
    example: {
      instanceType: 'g4dn.xlarge',
      gpuSeconds: 9.1,
      attempts: 4,
      measuredBy: 'local',
      gpu: { onDemand: 0.00133, spot: 0.00051 },
      fixed: 0.00023,
      total: { onDemand: 0.00156, spot: 0.00074 },
      currency: 'USD',
      pricesRegion: 'us-east-1',
    },
  });

/** What an ended job used, when the price table has no price for its instance type. */
export const unpricedCostViewSchema = jobUsageSchema
  .extend({ note: z.string().meta({ description: 'Why there is no estimate.' }) })
  .meta({
    id: 'JobUsageUnpriced',
    description:
      'What the job used, unpriced: the price table (LONGTAIL_PRICES) has no price for its instance type.',
  });

export const costViewSchema = z.union([pricedCostViewSchema, unpricedCostViewSchema]).nullable().meta({
  description: 'What the job used and what it cost; null until the job has ended and its usage is recorded.',
});
export type JobCostView = z.output<typeof costViewSchema>;

/** The cost `GET /jobs/{id}` shows: null until the job has ended and its usage is recorded. */
export const costViewOf = (usage: JobUsage | undefined, prices: PriceTable): JobCostView => {
  if (!usage) return null;
  if (!prices.gpuInstances[usage.instanceType]) {
    return { ...usage, note: `No price for ${usage.instanceType} in the price table.` };
  }
  return { ...jobCostOf(usage, prices), currency: 'USD', pricesRegion: prices.region };
};

/** One line for a job's cost, as the CLI prints it. */
export const describeCost = (cost: JobCostView | undefined): string | null => {
  if (!cost) return null;
  if (!('total' in cost)) return cost.note;
  const measured = cost.measuredBy === 'local' ? ', worker time on this machine' : '';
  return (
    `${money(cost.total.onDemand)} on demand, ${money(cost.total.spot)} on Spot ` +
    `(${cost.gpuSeconds.toFixed(1)} s of ${cost.instanceType} in ${cost.attempts} attempt${cost.attempts === 1 ? '' : 's'}${measured}; ` +
    `${money(cost.fixed)} fixed)`
  );
};
