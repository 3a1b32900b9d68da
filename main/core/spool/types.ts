/*
 * Data shapes of the spool: what the SMTP layer hands in (envelope), what is stored at the
 * head of every message file (header), and the delivery runner's mutable per-message state.
 * Plain JSON only; nothing here does I/O or can fail.
 */

/** What the SMTP layer knows about a message when DATA ends. */
export interface SpoolEnvelope {
  /** '' is the null sender (bounces). */
  sender: string;
  recipients: string[];
  clientIp: string;
  session: string;
  helo?: string;
  trusted: boolean;
  authUser?: string;
  /**
   * What a higher layer keeps with the message, stored verbatim in the header (so it is as
   * durable as the bytes): core/outbound's hold (kind, account, until) for the held queue.
   */
  meta?: Record<string, unknown>;
  /** Subject: as received, decoded (for the queue's list; absent in older files). */
  subject?: string;
  /**
   * When DATA ended, if the caller already stamped it (a hold's `until` is counted from it):
   * the header's receivedAt then says the same instant. Absent: the spool stamps it.
   */
  at?: Date;
}

/** The envelope plus what the spool adds; stored as the JSON line of the .msg file. */
export interface SpoolHeader extends Omit<SpoolEnvelope, 'at'> {
  id: string;
  /** ISO 8601, UTC. */
  receivedAt: string;
  /** Body length in bytes. */
  size: number;
  /** Lower-case hex sha256 of the body bytes. */
  sha256: string;
}

/** Owned by the delivery runner; stored as queue/<id>.state. Absent = fresh. */
export interface SpoolState {
  pending: string[];
  done: string[];
  failed: { rcpt: string; code?: number; reply: string }[];
  attempts: number;
  nextAttemptAt?: string;
  held?: boolean;
  lastError?: string;
  warnedAt?: string;
}

/** One thing open() found wrong and what it did about it (for the log). */
export interface RecoveryNote {
  /** Path relative to the spool dir, e.g. `queue/1kx9z3ab-0004-7f3k.msg`. */
  file: string;
  action: 'quarantined' | 'deleted' | 'restored';
  reason: string;
}

/** A message the recovery at start verified, with its saved delivery state (null: none). */
export interface RecoveredMessage {
  header: SpoolHeader;
  state: SpoolState | null;
}

/** What the background recovery did once it has handed over every message (Spool.openInBackground). */
export interface RecoveryResult {
  /** Messages verified and handed over. */
  count: number;
  /** True when close() cut the recovery short: the rest is recovered at the next start. */
  stopped: boolean;
  /** Files moved to quarantine/ (paths relative to the spool dir, as they were). */
  quarantined: string[];
  notes: RecoveryNote[];
  /** I/O errors: those messages stay in queue/ for the next start. */
  errors: string[];
}

export interface OpenResult {
  /** Verified messages in queue/, oldest first. */
  recovered: SpoolHeader[];
  /** Files moved to quarantine/ (paths relative to the spool dir, as they were). */
  quarantined: string[];
  /** Every quarantine and every cleanup deletion, with the reason. */
  notes: RecoveryNote[];
}
