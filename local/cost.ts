import { parseArgs } from 'node:util';
import { priceTable } from '../lib/config';
import { dailyComparison, dollars, instancePriceOf } from '../lib/domain/cost';

/**
 * `npm run cost`: a day of a workload by Longtail's cost model, scaling to zero against one
 * instance kept on all day. `--on-demand-per-hour` replaces the price table's price, to compare
 * with a figure quoted elsewhere.
 */
const { values } = parseArgs({
  options: {
    'jobs-per-day': { type: 'string', default: '100' },
    'seconds-per-job': { type: 'string', default: '300' },
    instance: { type: 'string', default: 'g4dn.xlarge' },
    'on-demand-per-hour': { type: 'string' },
  },
});
const number = (name: string, text: string | undefined) => {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number ≥ 0, got ${text}`);
  return value;
};

const prices = priceTable();
const instanceType = values.instance ?? 'g4dn.xlarge';
if (values['on-demand-per-hour'] !== undefined) {
  const price = instancePriceOf(prices, instanceType);
  prices.gpuInstances[instanceType] = {
    ...price,
    onDemandPerHour: number('on-demand-per-hour', values['on-demand-per-hour']),
  };
}
const workload = {
  jobsPerDay: number('jobs-per-day', values['jobs-per-day']),
  secondsPerJob: number('seconds-per-job', values['seconds-per-job']),
  instanceType,
};
const day = dailyComparison(workload, prices);
const price = instancePriceOf(prices, instanceType);
console.log(
  `${workload.jobsPerDay} jobs a day of ${workload.secondsPerJob} s on a ${instanceType} at $${price.onDemandPerHour}/h on demand ($${price.spotPerHour}/h Spot):

  scale to zero   ${dollars(day.scaleToZero.gpuOnDemand)} a day on demand (${day.scaleToZero.gpuHours.toFixed(2)} GPU hours), ${dollars(day.scaleToZero.gpuSpot)} on Spot
                  + ${dollars(day.scaleToZero.fixed)} for Step Functions, Lambda, API, SQS, SNS and DynamoDB
  always on       ${dollars(day.alwaysOn.onDemand)} a day (24 h on demand)`,
);
