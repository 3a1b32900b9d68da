// Retry timing: schedule indexing (last value repeats), expiry cap, delay-warning trigger.
import { describe, expect, it } from 'vitest';
import { delayWarningDue, isExpired, nextAttemptTime, retryDelayMs } from '../../main/core/delivery/backoff.js';

describe('backoff', () => {
  it.each([
    [[300, 600, 1200], 1, 300_000],
    [[300, 600, 1200], 2, 600_000],
    [[300, 600, 1200], 3, 1_200_000],
    [[300, 600, 1200], 9, 1_200_000],
    [[0.2], 5, 200],
    [[], 1, 300_000],
    [[Number.NaN], 1, 300_000],
    [[-5], 1, 300_000],
    [[0.001], 1, 50],
  ])('%j after %i attempts -> %i ms', (schedule, attempts, want) => {
    expect(retryDelayMs(schedule, attempts)).toBe(want);
  });

  it('never schedules past the expiry time', () => {
    const received = '2024-01-01T00:00:00.000Z';
    const now = Date.parse(received) + 50_000;
    expect(nextAttemptTime(now, [3600], 1, received, 60)).toBe(Date.parse(received) + 60_000);
    expect(nextAttemptTime(now, [5], 1, received, 60)).toBe(now + 5000);
    expect(isExpired(Date.parse(received) + 60_000, received, 60)).toBe(true);
    expect(isExpired(Date.parse(received) + 59_999, received, 60)).toBe(false);
  });

  it('delay warning: once, only when enabled and old enough', () => {
    const received = '2024-01-01T00:00:00.000Z';
    const t = Date.parse(received);
    expect(delayWarningDue(t + 10_000, received, 5, undefined)).toBe(true);
    expect(delayWarningDue(t + 1_000, received, 5, undefined)).toBe(false);
    expect(delayWarningDue(t + 10_000, received, 5, '2024-01-01T00:00:06.000Z')).toBe(false);
    expect(delayWarningDue(t + 10_000, received, 0, undefined)).toBe(false);
  });
});
