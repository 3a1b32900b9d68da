/*
 * The log filter as the core applies it (main/core/api.ts `matchesFilter`), repeated here so
 * live lines arriving over the event stream are filtered exactly like the pages the core
 * returns: text is a case-insensitive substring of the whole entry (sender, recipient,
 * client IP, account, reply...); decision and rule match receivelog fields; for the
 * senderlog, "accept" means delivered. Pure; never throws.
 */
import type { LogFilter } from '../../../main/shared/contract.js';
import type { ReceiveLogEntry, RuleName, SenderLogEntry } from '../../../main/shared/types.js';

export type AnyLogEntry = ReceiveLogEntry | SenderLogEntry;

export function isReceive(e: AnyLogEntry): e is ReceiveLogEntry {
  return 'event' in e;
}

/** Drops empty fields so `{}` means "no filter" on the wire. */
export function cleanFilter(f: LogFilter): LogFilter | undefined {
  const out: LogFilter = {};
  if (f.text && f.text.trim()) out.text = f.text.trim();
  if (f.decision) out.decision = f.decision;
  if (f.rule) out.rule = f.rule;
  return Object.keys(out).length ? out : undefined;
}

export function matchesFilter(e: AnyLogEntry, f: LogFilter | undefined): boolean {
  if (!f) return true;
  if (isReceive(e)) {
    if (f.decision && e.decision !== f.decision) return false;
    if (f.rule && e.rule !== f.rule) return false;
  } else if (f.decision || f.rule) {
    if (f.decision === 'reject' && e.outcome === 'delivered') return false;
    if (f.decision === 'accept' && e.outcome !== 'delivered') return false;
  }
  if (f.text) {
    const needle = f.text.toLowerCase();
    if (!JSON.stringify(e).toLowerCase().includes(needle)) return false;
  }
  return true;
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
};
export const RULE_NAMES = Object.keys(RULES) as RuleName[];
