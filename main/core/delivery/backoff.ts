/*
 * Retry timing: when a deferred message is tried next, when it expires, and when the one
 * delay warning is due. Pure arithmetic on epoch milliseconds; never throws. Bad schedule
 * values (empty, NaN, negative) fall back to safe ones instead of spinning: the config layer
 * validates, but a runaway retry loop is the one failure this file must never produce.
 */

/** Used when the schedule is empty or unusable. */
export const FALLBACK_RETRY_SECONDS = 300;
/** Floor for one step (tests use fractions of a second; zero would spin). */
export const MIN_RETRY_SECONDS = 0.05;

/**
 * Delay before the next try after `attempts` tries (1 = after the first). The schedule is
 * indexed by attempt; its last value repeats.
 */
export function retryDelayMs(schedule: readonly number[], attempts: number): number {
  if (schedule.length === 0) return FALLBACK_RETRY_SECONDS * 1000;
  const i = Math.min(Math.max(attempts, 1), schedule.length) - 1;
  const s = schedule[i];
  const secs = Number.isFinite(s) && s > 0 ? Math.max(s, MIN_RETRY_SECONDS) : FALLBACK_RETRY_SECONDS;
  return Math.round(secs * 1000);
}

/** Epoch ms at which a message received at `receivedAt` has been queued too long. */
export function expiresAt(receivedAt: string, maxLifetimeSeconds: number): number {
  const t = Date.parse(receivedAt);
  // An unparsable date cannot be aged: treat it as just received rather than bouncing at once.
  const base = Number.isNaN(t) ? Date.now() : t;
  return base + Math.max(0, maxLifetimeSeconds) * 1000;
}

export function isExpired(now: number, receivedAt: string, maxLifetimeSeconds: number): boolean {
  return now >= expiresAt(receivedAt, maxLifetimeSeconds);
}

/**
 * When to try next: after the schedule's delay, but never after the expiry time, so the
 * last try (and the bounce that follows it) happens on time rather than up to one step late.
 */
export function nextAttemptTime(now: number, schedule: readonly number[], attempts: number, receivedAt: string, maxLifetimeSeconds: number): number {
  const next = now + retryDelayMs(schedule, attempts);
  const exp = expiresAt(receivedAt, maxLifetimeSeconds);
  return exp > now ? Math.min(next, exp) : next;
}

/** The delay warning is due once, when enabled and the message is older than the threshold. */
export function delayWarningDue(now: number, receivedAt: string, delayWarningSeconds: number, warnedAt: string | undefined): boolean {
  if (!(delayWarningSeconds > 0) || warnedAt) return false;
  const t = Date.parse(receivedAt);
  if (Number.isNaN(t)) return false;
  return now - t >= delayWarningSeconds * 1000;
}
