import {
  retryCapSeconds,
  retryCeilingSeconds,
  retryDelaySeconds,
  retrySchedule,
  webhookMaxAttempts,
} from '../../lib/webhooks/backoff';

describe('retryDelaySeconds', () => {
  it('doubles its ceiling from 30 s after each failed attempt, up to 12 hours', () => {
    const ceilings = [1, 2, 3, 4, 10, 11, 12, 19].map(retryCeilingSeconds);

    expect(ceilings).toEqual([30, 60, 120, 240, 15_360, 30_720, 43_200, 43_200]);
    expect(retryCapSeconds).toBe(12 * 3600);
  });

  it('draws each wait evenly from zero to its ceiling (full jitter)', () => {
    expect(retryDelaySeconds(3, () => 0)).toBe(0);
    expect(retryDelaySeconds(3, () => 0.5)).toBe(60);
    expect(retryDelaySeconds(3, () => 0.999_999)).toBe(120);
    expect(retryDelaySeconds(19, () => 0.999_999)).toBe(43_200);
  });

  it('stays within SQS’s visibility limits whatever the draw', () => {
    const delays = Array.from({ length: 200 }, (_, i) => retryDelaySeconds((i % 25) + 1));

    expect(delays.every((delay) => Number.isInteger(delay) && delay >= 0 && delay <= 43_200)).toBe(true);
  });

  it('treats a missing or odd receive count as the first attempt', () => {
    expect(retryCeilingSeconds(0)).toBe(30);
    expect(retryCeilingSeconds(Number.NaN)).toBe(30);
  });
});

describe('retrySchedule', () => {
  it('spans well over a day before an event goes to the dead-letter queue', () => {
    const schedule = retrySchedule();

    expect(webhookMaxAttempts).toBe(20);
    expect(schedule.waits).toHaveLength(19);
    expect(schedule.waits[0]).toEqual({ afterAttempt: 1, ceilingSeconds: 30 });
    expect(schedule.longestSeconds).toBe(407_010);
    expect(schedule.expectedSeconds).toBeGreaterThan(2 * 24 * 3600);
  });
});
