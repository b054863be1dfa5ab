import { runFaultSuite } from '../fault/fault-suite';
import { runRestartFaults } from '../fault/restart-faults';

describe('the fault suite, bounded', () => {
  it('loses nothing and doubles nothing under seeded faults of every kind', async () => {
    const report = await runFaultSuite({ jobs: 12, seed: 7, records: 1500 });

    expect(report.faults.duplicateSqs).toBeGreaterThan(0);
    expect(report.faults.duplicateS3).toBeGreaterThan(0);
    expect(report.faults.workerKills).toBeGreaterThan(0);
    expect(report.faults.webhook500s).toBeGreaterThan(0);
    expect(report).toMatchObject({
      jobsLost: 0,
      duplicateJobs: 0,
      jobsWithOneExecution: 12,
      jobsWithOneWebhookIdPerEvent: 12,
      statuses: { completed: 12 },
    });
    expect(report.recordsOut).toBe(report.recordsIn);
  }, 240_000);

  it('restart: the runtime killed (SIGKILL) and started again mid-jobs completes every job once', async () => {
    const report = await runRestartFaults({ jobs: 6, restarts: 3, seed: 7 });

    // The kills found jobs under way, not only ended ones.
    expect(report.killedWhile.running ?? 0).toBeGreaterThan(0);
    expect(report.killedWhile['just submitted']).toBe(3);
    expect(report.atStart.resumed).toBeGreaterThan(0);
    expect(report.atStart.notResumed).toBe(0);
    expect(report).toMatchObject({
      jobsLost: 0,
      duplicateJobs: 0,
      jobsWithOneExecution: 6,
      jobsWithOneLinePerRecord: 6,
      jobsWithOneWebhookIdPerEvent: 6,
      statuses: { completed: 6 },
    });
    expect(report.recordsOut).toBe(report.recordsIn);
  }, 400_000);
});
