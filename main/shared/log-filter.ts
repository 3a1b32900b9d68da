/*
 * The log filter, one definition for the core (log.page) and the UI (live lines arriving
 * over the event stream), so both filter exactly alike: text is a case-insensitive
 * substring of the whole entry (sender, recipient, client IP, account, reply...); decision
 * and rule match receivelog fields; for the senderlog, "accept" means delivered. Pure.
 */
import type { LogFilter } from './contract.js';
import type { ReceiveLogEntry, SenderLogEntry } from './types.js';

export type AnyLogEntry = ReceiveLogEntry | SenderLogEntry;

export function isReceive(e: AnyLogEntry): e is ReceiveLogEntry {
  return 'event' in e;
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
