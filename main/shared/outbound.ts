/*
 * Outbound controls (誤送信防止) as the core, the CLI and the window share them: an account's
 * effective external-sending mode with its parameters filled in, and the plain-JSON shapes of
 * held mail, frozen senders and the action log (what the approvals screen, the tray and
 * `gatehouse approvals` show). Pure and without Node; nothing here throws.
 *
 * The stored shape: an account keeps `blockExternal` (what older versions and `accounts
 * block|unblock` read and write) and gains `mode`, stored only for what `blockExternal`
 * cannot say ('delay', 'approval'): relay and block accounts keep exactly the shape they had,
 * so existing config.json files load unchanged. A file without `mode` means
 * `blockExternal ? 'block' : 'relay'`; when both are present and disagree, the stricter wins
 * (block), so a client that only knows `blockExternal` can never loosen an account by mistake.
 * Views (AccountView) always carry `mode`.
 */
import type { Account, ExternalMode } from './types.js';

export const EXTERNAL_MODES = ['relay', 'delay', 'approval', 'block'] as const satisfies readonly ExternalMode[];

export const DEFAULT_DELAY_MINUTES = 5;
export const DEFAULT_EXPIRE_HOURS = 24;

/** The mode an account really has (see the header for the rule). */
export function externalMode(a: Pick<Account, 'blockExternal' | 'mode'>): ExternalMode {
  if (a.blockExternal || a.mode === 'block') return 'block';
  return a.mode ?? 'relay';
}

/** An account's outbound settings with every default filled in. */
export interface OutboundRule {
  mode: ExternalMode;
  delayMinutes: number;
  approvers: string[];
  standIn: string;
  expireHours: number;
  bcc: string[];
}

export function outboundRule(a: Account): OutboundRule {
  return {
    mode: externalMode(a),
    delayMinutes: a.delayMinutes ?? DEFAULT_DELAY_MINUTES,
    approvers: a.approvers ?? [],
    standIn: a.standIn ?? '',
    expireHours: a.expireHours ?? DEFAULT_EXPIRE_HOURS,
    bcc: a.bcc ?? [],
  };
}

/**
 * The account as stored: `blockExternal` says relay or block, `mode` is there only for delay
 * and approval; parameters of other modes are kept (switching back restores them), empty
 * optional lists left out.
 */
export function normalizeAccount(a: Account): Account {
  const mode = externalMode(a);
  const out: Account = { ...a, blockExternal: mode === 'block' };
  if (mode === 'delay' || mode === 'approval') out.mode = mode;
  else delete out.mode;
  if (out.approvers?.length === 0) delete out.approvers;
  if (out.bcc?.length === 0) delete out.bcc;
  if (out.standIn === '') delete out.standIn;
  return out;
}

/** Held mail: 'delay' waits for its time (cancel / send now), 'approval' for an approver. */
export type HoldKind = 'delay' | 'approval';

/** What a held message says, decoded for a person (the approvals screen, notices, the CLI). */
export interface HeldPreview {
  subject: string;
  /** The From: header as written (decoded). */
  from: string;
  to: string[];
  cc: string[];
  attachments: { name: string; size: number; type: string }[];
  /** The first lines of the text part (at most PREVIEW_LINES lines). */
  text: string;
  /** The message has more text than `text` shows. */
  more: boolean;
}

export const PREVIEW_LINES = 20;

export interface HeldItem {
  /** Id in the held queue (`gatehouse approvals approve <id>`, `queue cancel <id>`). */
  id: string;
  kind: HoldKind;
  receivedAt: string;
  sender: string;
  /** The account (pattern) whose mode held it. */
  account: string;
  /** The external recipients waiting; the internal ones were delivered at once. */
  recipients: string[];
  /** delay: when it goes out by itself; approval: when it is rejected by itself. */
  until: string;
  approvers: string[];
  standIn: string;
  size: number;
  preview: HeldPreview;
}

/** A sender refused because it went past its limit (unfreeze: `gatehouse accounts unfreeze`). */
export interface FrozenSender {
  address: string;
  since: string;
  /** Which limit: 'messages' or 'external-recipients', and the count that went past it. */
  limit: 'messages' | 'external-recipients';
  count: number;
  max: number;
}

/** What the action log records: decisions on held mail, freezes and unfreezes. */
export type ActionKind = 'approved' | 'rejected' | 'expired' | 'cancelled' | 'sent-now' | 'frozen' | 'unfrozen';

/** Who acted: through which door, and the approver's address when known (LAN links, `--as`). */
export interface Actor {
  via: 'ui' | 'cli' | 'api' | 'lan' | 'timer' | 'smtp';
  address?: string;
}

/** One line of `<data>/actions.jsonl`: every decision and freeze, with who and when. */
export interface ActionEntry {
  n: number;
  at: string;
  action: ActionKind;
  by: Actor;
  /** Held-queue id for decisions; the sender's address for freezes. */
  subject: string;
  sender?: string;
  recipients?: string[];
  /** The approver's reason (rejections), or the limit that froze a sender. */
  reason?: string;
}

/** `cli`, `lan boss@test.jp`: the actor as the logs write it. */
export function actorText(by: Actor): string {
  return by.address ? `${by.via} ${by.address}` : by.via;
}
