/*
 * Which sentence of the dictionaries words each error code the core (or a transport) can send:
 * `ERROR_TEXT` maps a code to its key, `CONFLICT_TEXT` the decision an approval or a delayed
 * message already had (a 'conflict' carries it with who and when as params), `OAUTH_REASON`
 * the provider's answer to a sign-in that could not start ('oauth-failed', param `reason`).
 * Plain data, no runes, so a unit test can check every code the core sends has a sentence in
 * both languages. A code missing here falls back to the general "unexpected problem" one.
 */
import type { MessageKey } from './i18n/en.js';

export const ERROR_TEXT: Record<string, MessageKey> = {
  'network': 'err.network',
  'unauthorized': 'err.unauthorized',
  'forbidden': 'err.forbidden',
  'bad-response': 'err.badResponse',
  'rate-limited': 'err.rateLimited',
  'too-large': 'err.tooLarge',
  'timeout': 'err.timeout',
  'validation': 'err.validation',
  'not-running': 'err.notRunning',
  'unsupported': 'err.unsupported',
  'elevation-declined': 'err.elevationDeclined',
  'elevation-required': 'err.elevationRequired',
  'unreachable': 'err.unreachable',
  'service-failed': 'err.serviceFailed',
  'not-found': 'err.notFound',
  'bad-request': 'err.badRequest',
  'conflict': 'err.conflict',
  'listen-failed': 'err.listenFailed',
  'oauth-failed': 'err.oauthFailed',
  'internal': 'err.internal',
};

/** A held message's earlier decision (the action log's words), for 'conflict'. */
export const CONFLICT_TEXT: Record<string, MessageKey> = {
  'approved': 'err.conflict.approved',
  'rejected': 'err.conflict.rejected',
  'expired': 'err.conflict.expired',
  'cancelled': 'err.conflict.cancelled',
  'sent-now': 'err.conflict.sentNow',
};

/** The provider's answer when a sign-in could not start ('oauth-failed'). */
export const OAUTH_REASON: Record<string, MessageKey> = {
  'timeout': 'err.oauth.timeout',
  'network': 'oauth.err.network',
  'invalid_client': 'oauth.err.invalid_client',
  'unauthorized_client': 'oauth.err.invalid_client',
  'access_denied': 'oauth.err.access_denied',
};

/** The listener's system error ('listen-failed', param `reason`). */
export const LISTEN_REASON: Record<string, MessageKey> = { EADDRINUSE: 'err.reason.inUse', EACCES: 'err.reason.access', EADDRNOTAVAIL: 'err.reason.notHere' };
