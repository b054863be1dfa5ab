import { runFaultSuite } from './fault-suite';

/** `npm run fault-suite [-- --jobs 200 --seed 1]`: the full seeded run, with its report. */
const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};

process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
runFaultSuite({
  jobs: arg('jobs', 200),
  seed: arg('seed', 1),
  records: arg('records', 2000),
  log: console.log,
}).then(
  (report) => {
    console.log(JSON.stringify(report, null, 2));
    const ok =
      report.jobsLost === 0 &&
      report.duplicateJobs === 0 &&
      report.jobsWithOneExecution === report.jobs &&
      report.recordsIn === report.recordsOut &&
      report.jobsWithOneWebhookIdPerEvent === report.jobs;
    console.log(ok ? 'Nothing lost, nothing duplicated.' : 'FAULTS FOUND');
    process.exit(ok ? 0 : 1);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
