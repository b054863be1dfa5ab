import { canMove, isTerminal, jobStatuses, previousStatusesOf } from '../../lib/domain/job';
import type { JobStatus } from '../../lib/domain/job';

describe('job transitions', () => {
  const allowed: [JobStatus, JobStatus][] = [
    ['pending', 'running'],
    ['running', 'completed'],
    ['pending', 'failed'],
    ['running', 'failed'],
    ['pending', 'cancelled'],
    ['running', 'cancelled'],
  ];

  it.each(allowed)('lets a %s job become %s', (from, to) => {
    expect(canMove(from, to)).toBe(true);
  });

  it('allows no other move between statuses', () => {
    const moves = jobStatuses.flatMap((from) => jobStatuses.map((to): [JobStatus, JobStatus] => [from, to]));

    const permitted = moves.filter(([from, to]) => canMove(from, to));

    expect(permitted).toEqual(expect.arrayContaining(allowed));
    expect(permitted).toHaveLength(allowed.length);
  });

  it.each(['completed', 'failed', 'cancelled'] as const)('never moves a %s job again', (from) => {
    const targets = jobStatuses.filter((to) => canMove(from, to));

    expect(targets).toEqual([]);
  });

  it('never moves a job back to pending or skips running on the way to completed', () => {
    expect(canMove('running', 'pending')).toBe(false);
    expect(canMove('pending', 'completed')).toBe(false);
  });

  it('cannot cancel a job that already ended', () => {
    expect(canMove('completed', 'cancelled')).toBe(false);
    expect(canMove('failed', 'cancelled')).toBe(false);
  });

  it('names the statuses each status is reached from, for the conditional write', () => {
    expect(previousStatusesOf('running')).toEqual(['pending']);
    expect(previousStatusesOf('completed')).toEqual(['running']);
    expect(previousStatusesOf('failed')).toEqual(['pending', 'running']);
    expect(previousStatusesOf('cancelled')).toEqual(['pending', 'running']);
    expect(previousStatusesOf('pending')).toEqual([]);
  });

  it('calls completed, failed and cancelled terminal, pending and running not', () => {
    const terminal = jobStatuses.filter(isTerminal);

    expect(terminal).toEqual(['completed', 'failed', 'cancelled']);
  });
});
