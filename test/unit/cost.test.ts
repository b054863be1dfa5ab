import prices from '../../config/prices.json';
import {
  dailyComparison,
  dollars,
  fixedCostOf,
  jobCostOf,
  perJobOverhead,
  usageOf,
} from '../../lib/domain/cost';
import type { PriceTable } from '../../lib/domain/cost';

const table = prices as PriceTable;
/** The figure users quote for a g4dn.xlarge (SageMaker's ml.g4dn.xlarge price); EC2's is lower. */
const quoted: PriceTable = {
  ...table,
  gpuInstances: { ...table.gpuInstances, 'g4dn.xlarge': { onDemandPerHour: 0.736, spotPerHour: 0.2 } },
};

describe('the cost model', () => {
  it('reproduces 100 five-minute jobs a day on a g4dn.xlarge at $0.736/h: $6.13 scaling to zero, $17.66 always on', () => {
    const day = dailyComparison({ jobsPerDay: 100, secondsPerJob: 300, instanceType: 'g4dn.xlarge' }, quoted);

    expect(day.scaleToZero.gpuHours).toBeCloseTo(500 / 60, 10);
    expect(dollars(day.scaleToZero.gpuOnDemand)).toBe('$6.13');
    // 24 h × $0.736 = $17.664: $17.66 to the cent (the $17.67 often quoted rounds it up).
    expect(day.alwaysOn.onDemand).toBeCloseTo(17.664, 10);
    expect(dollars(day.alwaysOn.onDemand)).toBe('$17.66');
    // The serverless part of 100 jobs is cents, not dollars.
    expect(day.scaleToZero.fixed).toBeGreaterThan(0);
    expect(day.scaleToZero.fixed).toBeLessThan(0.05);
  });

  it('prices a job from its Batch attempts, on demand and on Spot, plus its fixed part', () => {
    const usage = usageOf(
      [
        { batchJobId: 'b:0', shard: 0, attempt: 1, startedAt: 't0', stoppedAt: 't1', seconds: 1800 },
        { batchJobId: 'b:1', shard: 1, attempt: 1, startedAt: 't0', stoppedAt: 't1', seconds: 1200 },
        { batchJobId: 'b:1', shard: 1, attempt: 2, startedAt: 't1', stoppedAt: 't2', seconds: 600 },
      ],
      'g4dn.xlarge',
      'aws-batch',
    );

    const cost = jobCostOf(usage, quoted);

    expect(cost.gpuSeconds).toBe(3600);
    expect(cost.attempts).toBe(3);
    expect(cost.gpu.onDemand).toBeCloseTo(0.736, 10);
    expect(cost.gpu.spot).toBeCloseTo(0.2, 10);
    expect(cost.fixed).toBeCloseTo(fixedCostOf(quoted), 12);
    expect(cost.total.onDemand).toBeCloseTo(0.736 + cost.fixed, 10);
  });

  it('prices from the table in configuration: EC2’s own g4dn.xlarge price gives $4.38 against $12.62', () => {
    const day = dailyComparison({ jobsPerDay: 100, secondsPerJob: 300, instanceType: 'g4dn.xlarge' }, table);

    expect(dollars(day.scaleToZero.gpuOnDemand)).toBe('$4.38');
    expect(dollars(day.alwaysOn.onDemand)).toBe('$12.62');
  });

  it('counts state transitions, Lambda, API, SQS, SNS and DynamoDB in the fixed part', () => {
    const free = Object.fromEntries(
      Object.entries(table).map(([k, v]) => [k, typeof v === 'number' ? 0 : v]),
    );
    const only = (name: keyof PriceTable, price: number) =>
      fixedCostOf({ ...free, [name]: price } as PriceTable);

    expect(only('stepFunctionsPerStateTransition', 1)).toBe(8);
    expect(only('lambdaPerRequest', 1)).toBe(perJobOverhead.lambdaInvocations);
    expect(only('httpApiPerRequest', 1)).toBe(perJobOverhead.httpApiRequests);
    expect(only('snsPerPublish', 1)).toBe(1);
  });

  it('refuses an instance type the price table does not list, naming the ones it does', () => {
    expect(() =>
      dailyComparison({ jobsPerDay: 1, secondsPerJob: 1, instanceType: 'p5.48xlarge' }, table),
    ).toThrow(/No price for instance type p5\.48xlarge.*g4dn\.xlarge/);
  });
});
