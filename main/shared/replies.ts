/*
 * Default SMTP reply texts, one per ReplyTexts key. They are plain ASCII sentences without the
 * reply code and without the enhanced status code: the policy builds the reply as
 * `<code> <enhanced> <text>`, so Decision.code is e.g. 550 and Decision.message is
 * `5.7.1 <baito@test.jp> is not allowed to send to external recipients`. A configured text that
 * already starts with an enhanced code (`5.7.1 ...`) is used as is, not prefixed twice.
 * `{account}`, `{recipient}` and `{sender}` are substituted; the result is forced to printable
 * ASCII (anything else becomes `?`). Nothing here can fail.
 */
import type { ReplyTexts } from './types.js';

export const DEFAULT_REPLIES: ReplyTexts = Object.freeze({
  blockExternal: '<{account}> is not allowed to send to external recipients',
  blockExternalHeaderFrom:
    'Header From <{account}> is not allowed to send to external recipients (<{recipient}>)',
  relayDenied: 'Relaying denied: <{recipient}> is not a local domain and the client is not trusted',
  addressSyntax:
    'Address syntax not accepted (%, !, source routes, IP literals, quoted local parts and trailing dots are refused)',
  noRoute: 'No route configured yet for the domain of <{recipient}>, try again later',
  recipientUnknown: '<{recipient}>: Recipient address rejected: User unknown',
  tooManyRecipients: 'Too many recipients',
  messageTooBig: 'Message size exceeds the fixed limit',
  tooManyClients: 'Too many connections, try again later',
  tooManyConnectionsFromIp: 'Too many connections from your address, try again later',
  badLineEndings: 'Bare CR or NUL in message refused; use CRLF line endings',
  senderLoginMismatch: 'Sender address <{sender}> is not owned by the authenticated user',
  senderFrozen: '<{sender}> is frozen: it went past its sending limit; ask the administrator to unfreeze it',
});
