/*
 * Log filter helpers for the UI. The matching itself is main/shared/log-filter.ts, the same
 * function the core applies to log pages, so live lines filter exactly like pages. Pure.
 */
import type { LogFilter } from '../../../main/shared/contract.js';
import type { RuleName } from '../../../main/shared/types.js';

export { isReceive, matchesFilter, type AnyLogEntry } from '../../../main/shared/log-filter.js';

/** Drops empty fields so `{}` means "no filter" on the wire. */
export function cleanFilter(f: LogFilter): LogFilter | undefined {
  const out: LogFilter = {};
  if (f.text && f.text.trim()) out.text = f.text.trim();
  if (f.decision) out.decision = f.decision;
  if (f.rule) out.rule = f.rule;
  return Object.keys(out).length ? out : undefined;
}


/** "550 5.7.1 ..." from a code and a reply that may or may not already start with it. */
export function withCode(code: number | undefined, reply: string | undefined): string {
  const r = reply ?? '';
  if (!code) return r;
  return r.startsWith(String(code)) ? r : `${code} ${r}`.trim();
}

/** Every rule name, in decision order; a Record so the compiler insists the list is complete. */
const RULES: Record<RuleName, true> = {
  'address-syntax': true,
  'inbound': true,
  'no-route': true,
  'recipient-unknown': true,
  'relay-denied': true,
  'block-external': true,
  'block-external-header-from': true,
  'relay': true,
  'sender-ok': true,
  'sender-login-mismatch': true,
  'too-many-recipients': true,
  'message-too-big': true,
  'bad-line-endings': true,
  'too-many-clients': true,
  'too-many-connections-from-ip': true,
  'storage-error': true,
  'delay': true,
  'hold-approval': true,
  'approved': true,
  'rejected-by-approver': true,
  'approval-expired': true,
  'delay-cancelled': true,
  'delay-sent-now': true,
  'bcc-added': true,
  'bcc-convert': true,
  'sender-frozen': true,
};
export const RULE_NAMES = Object.keys(RULES) as RuleName[];
