import { runFaultSuite } from './fault-suite';
import { runRestartFaults } from './restart-faults';

/**
 * `npm run fault-suite [-- --jobs 200 --seed 1 --restart-jobs 20 --restarts 6]`: the full seeded
 * run, with its report, then the restart kind (the runtime killed and started again).
 */
const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};

process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
const main = async () => {
  const report = await runFaultSuite({
    jobs: arg('jobs', 200),
    seed: arg('seed', 1),
    records: arg('records', 2000),
    log: console.log,
  });
  console.log(JSON.stringify(report, null, 2));
  const restart = await runRestartFaults({
    jobs: arg('restart-jobs', 20),
    restarts: arg('restarts', 6),
    seed: arg('seed', 1),
    log: console.log,
  });
  console.log(JSON.stringify(restart, null, 2));
  const ok =
    report.jobsLost === 0 &&
    report.duplicateJobs === 0 &&
    report.jobsWithOneExecution === report.jobs &&
    report.recordsIn === report.recordsOut &&
    report.jobsWithOneWebhookIdPerEvent === report.jobs &&
    restart.jobsLost === 0 &&
    restart.duplicateJobs === 0 &&
    restart.jobsWithOneExecution === restart.jobs &&
    restart.recordsIn === restart.recordsOut &&
    restart.jobsWithOneLinePerRecord === restart.jobs &&
    restart.jobsWithOneWebhookIdPerEvent === restart.jobs;
  console.log(ok ? 'Nothing lost, nothing duplicated.' : 'FAULTS FOUND');
  return ok;
};

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
