import prices from '../../config/prices.json';
import { jobView } from '../../lib/domain/job-view';
import type { Job } from '../../lib/domain/job';
import { RateMeter, figuresOf, progressLine } from '../../cli/watch';
import { formatDuration } from '../../cli/output';
import { aJob } from '../fixtures/jobs';

const viewOf = (overrides: Partial<Job>, shards?: { total: number; succeeded: number }) =>
  jobView(
    aJob(overrides),
    'https://api.example.com',
    prices,
    shards
      ? {
          succeeded: overrides.counts?.succeeded ?? 0,
          failed: overrides.counts?.failed ?? 0,
          shards: { ...shards, pending: 0, running: shards.total - shards.succeeded, failed: 0, stopped: 0 },
        }
      : undefined,
  );

describe('the rate of records per second', () => {
  it('is the records done between the first and last sample over the seconds between them', () => {
    const meter = new RateMeter();
    meter.add(0, 1_000);
    meter.add(500, 3_000);
    meter.add(1_500, 5_000);

    expect(meter.perSecond).toBe(375);
  });

  it('is 0 with one sample, or none, or all at one instant', () => {
    const meter = new RateMeter();
    expect(meter.perSecond).toBe(0);
    meter.add(100, 1_000);
    expect(meter.perSecond).toBe(0);
    meter.add(200, 1_000);
    expect(meter.perSecond).toBe(0);
  });

  it('forgets samples older than 10 s, so that it follows a job speeding up', () => {
    const meter = new RateMeter();
    meter.add(0, 0);
    meter.add(100, 10_000);
    meter.add(1_100, 12_000);
    meter.add(3_100, 14_000);

    // The sample at 0 s is gone: (3100 - 100) records over the 4 s since 10 s.
    expect(meter.perSecond).toBe(750);
  });

  it('keeps the last two samples however long a poll took', () => {
    const meter = new RateMeter();
    meter.add(0, 0);
    meter.add(600, 60_000);

    expect(meter.perSecond).toBe(10);
  });
});

describe('the progress figures', () => {
  it('counts succeeded and failed records as done and gives the time left at the current rate', () => {
    const figures = figuresOf(
      viewOf(
        { status: 'running', counts: { total: 10_000, succeeded: 3_000, failed: 500 } },
        { total: 4, succeeded: 1 },
      ),
      130,
    );

    expect(figures).toEqual({
      status: 'running',
      done: 3_500,
      total: 10_000,
      unit: 'records',
      failed: 500,
      shards: '1/4',
      rate: 130,
      // 6500 records left at 130 rec/s: 50 s.
      eta: '50s',
    });
    expect(progressLine(figures)).toBe(
      'running    3500/10000 records  500 failed  shards 1/4  130 rec/s  ETA 50s',
    );
  });

  it('gives minutes and hours for longer waits', () => {
    const running = {
      status: 'running' as const,
      counts: { total: 1_000_000, succeeded: 10_000, failed: 0 },
    };

    expect(figuresOf(viewOf(running), 100).eta).toBe('2h45m');
    expect(figuresOf(viewOf(running), 5_000).eta).toBe('3m18s');
  });

  it('gives no estimate before records move or while the total is unknown', () => {
    expect(
      figuresOf(viewOf({ status: 'running', counts: { total: 100, succeeded: 0, failed: 0 } }), 0).eta,
    ).toBe('?');
    expect(figuresOf(viewOf({ status: 'pending' }), 50).eta).toBe('?');
    expect(progressLine(figuresOf(viewOf({ status: 'pending' }), 0))).toContain('0/? records');
  });

  it('says 0s once the job has ended, whatever the rate', () => {
    for (const status of ['completed', 'failed', 'cancelled'] as const) {
      expect(figuresOf(viewOf({ status, counts: { total: 10, succeeded: 4, failed: 0 } }), 0).eta).toBe('0s');
    }
  });

  it('shows shards as done/total, and a dash for a job not yet planned', () => {
    expect(figuresOf(viewOf({ status: 'pending' }), 0).shards).toBe('-');
  });

  it('rounds the rate for display', () => {
    expect(
      figuresOf(viewOf({ status: 'running', counts: { total: 10, succeeded: 1, failed: 0 } }), 12.6).rate,
    ).toBe(13);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [59.4, '59s'],
    [59.6, '1m00s'],
    [3599, '59m59s'],
    [3600, '1h00m'],
    [-5, '0s'],
    [Infinity, '?'],
    [NaN, '?'],
  ])('writes %p seconds as %p', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
