/*
 * Public API of the policy: the pure decision functions, their compiled input, and the
 * validators the config layer uses. Re-exports only; nothing here runs or fails.
 */
export {
  addressKey,
  checkAddressSyntax,
  checkDomainSyntax,
  domainOf,
  fullSyntaxCheck,
  lowerAscii,
  normalizeAddress,
  splitAddress,
  type AddressParts,
  type SyntaxOptions,
} from '../../shared/address.js';
export { compileNetworks, validateCidr, type NetworkMatcher } from './networks.js';
export {
  compileAccounts,
  compileGlob,
  onAllowList,
  validateAllowEntry,
  validatePattern,
  type AccountIndex,
  type Governing,
} from './accounts.js';
export { DEFAULT_REPLIES } from './defaults.js';
export {
  RULE_RECIPIENT_UNKNOWN,
  RULE_REPLIES,
  check,
  compilePolicy,
  decideHeaderFrom,
  decideRecipient,
  headerFromHold,
  decideSender,
  isInternalDomain,
  routeFor,
  ruleDecision,
  toAsciiReply,
  trustOf,
  type HeaderFromHold,
  type CheckResult,
  type CompiledPolicy,
  type CompiledReply,
  type HeaderFromInput,
  type InboundAnswer,
  type Reason,
  type ReplyVars,
  type SenderInput,
} from './policy.js';
