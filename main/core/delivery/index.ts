/*
 * Public face of delivery: the runner (queue, attempts, DSNs, queue control, route health),
 * recipient verification, the deliverability engines' delivery side (OutboundOptions, long
 * lines, sender routes, the login probe), and the pieces tests and the CLI use. Re-exports only.
 */
export { DeliveryRunner, type DeliveryDeps, type DeliveryStats, type QueueShow } from './runner.js';
export { RecipientVerifier, type Verdict, type VerifierOptions, type VerifierStats } from './recipient-verifier.js';
export type { MxResolver, SpoolLike, HopAuth, XOAuth2Source, TlsInfo } from './types.js';
export type { OutboundOptions } from './outbound.js';
export { foldLongLines, MAX_LINE } from './long-lines.js';
export { selectSenderRoute, type SelectedRoute } from './sender-routes.js';
export { probeLogin, type LoginProbe } from './login-probe.js';
export type { QueueFilter } from './queue-view.js';
export { systemResolver, destinationFor, planHops, configuredHops, type Hop, type HopPlan, type Destination, type Via, type CredentialTarget, type RouteContext } from './next-hop.js';
export { buildDsn, mayBounce, headerBlock, rfc5322Date, type DsnInput, type DsnRecipient } from './dsn.js';
export { classify, summarize, type Classified, type RcptResult, type Transaction } from './outcome.js';
export { retryDelayMs, nextAttemptTime, isExpired, expiresAt, delayWarningDue } from './backoff.js';
export { probeRecipient, type ProbeResult } from './smtp-probe.js';
export type { RouteHealth } from './health.js';
