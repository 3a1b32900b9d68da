/*
 * How a queued message looks to the admin: QueueItem rows for `queue list` / the UI, the
 * filter they use, and the state name (hold > active > deferred > queued). Pure; never throws.
 */
import type { QueueItem, QueueState } from '../../shared/types.js';
import type { QueuedHeader, SpoolState } from './types.js';

export interface QueueFilter {
  state?: QueueState;
  /** Case-insensitive substring of the envelope sender. */
  sender?: string;
  /** Case-insensitive substring of any recipient. */
  recipient?: string;
}

export function queueState(state: SpoolState, active: boolean): QueueState {
  if (state.held) return 'hold';
  if (active) return 'active';
  return state.attempts > 0 ? 'deferred' : 'queued';
}

export function queueItem(header: QueuedHeader, state: SpoolState, active: boolean): QueueItem {
  const item: QueueItem = {
    id: header.id,
    receivedAt: header.receivedAt,
    sender: header.sender,
    recipients: [...header.recipients],
    pending: [...state.pending],
    size: header.size,
    state: queueState(state, active),
    attempts: state.attempts,
  };
  if (state.nextAttemptAt) item.nextAttemptAt = state.nextAttemptAt;
  if (state.lastError) item.lastError = state.lastError;
  if (header.subject) item.subject = header.subject;
  return item;
}

export function matches(item: QueueItem, f: QueueFilter | undefined): boolean {
  if (!f) return true;
  if (f.state && item.state !== f.state) return false;
  if (f.sender && !item.sender.toLowerCase().includes(f.sender.toLowerCase())) return false;
  if (f.recipient) {
    const needle = f.recipient.toLowerCase();
    if (!item.recipients.some((r) => r.toLowerCase().includes(needle))) return false;
  }
  return true;
}
