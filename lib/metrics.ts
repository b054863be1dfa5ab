import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { JobEvent } from './domain/job-event';

/**
 * Job metrics for the operators' dashboard, as CloudWatch embedded metric format in the
 * functions' logs (no PutMetricData call, no extra permission). The local runtime turns them
 * off with POWERTOOLS_METRICS_DISABLED.
 */
export const metrics = new Metrics({ namespace: 'Longtail', serviceName: 'longtail' });

const endings = {
  'job.completed': 'JobsCompleted',
  'job.failed': 'JobsFailed',
  'job.cancelled': 'JobsCancelled',
} as const;

/** Counts a job's end, its records, and how long it ran. */
export const recordJobEnded = (event: JobEvent) => {
  metrics.addMetric(endings[event.type], MetricUnit.Count, 1);
  metrics.addMetric('RecordsSucceeded', MetricUnit.Count, event.counts.succeeded);
  metrics.addMetric('RecordsFailed', MetricUnit.Count, event.counts.failed);
  if (event.startedAt && event.completedAt) {
    const seconds = (Date.parse(event.completedAt) - Date.parse(event.startedAt)) / 1000;
    if (seconds >= 0) metrics.addMetric('JobDurationSeconds', MetricUnit.Seconds, seconds);
  }
};

export { MetricUnit };
