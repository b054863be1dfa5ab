import type { Job } from '../../cli/client';
import { figuresOf, progressLine } from '../../cli/watch';

const running = (overrides: Partial<Job>): Job =>
  ({
    jobId: 'job-1',
    status: 'running',
    counts: { total: 100, succeeded: 40, failed: 2 },
    shards: { total: 4, pending: 1, running: 2, succeeded: 1, failed: 0 },
    bytes: { read: 500, total: 2_000 },
    ...overrides,
  }) as Job;

describe('longtail jobs watch progress', () => {
  it('counts records of the total when planning counted them', () => {
    const figures = figuresOf(running({}), 10);

    expect(figures).toMatchObject({ unit: 'records', done: 42, total: 100, eta: '6s' });
    expect(progressLine(figures)).toContain('42/100 records');
  });

  it('counts bytes read of the input while the record total is unknown, and times the rest by bytes', () => {
    const figures = figuresOf(running({ counts: { total: null, succeeded: 40, failed: 2 } }), 10, 100);

    expect(figures).toMatchObject({ unit: 'bytes', done: 500, total: 2_000, eta: '15s' });
    expect(progressLine(figures)).toContain('500/2000 bytes read');
  });
});
