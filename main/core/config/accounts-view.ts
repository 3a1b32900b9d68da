/*
 * The accounts list as CLI and UI show it, and the edits they make. listAccounts() merges the
 * configured accounts (config order, with traffic counted from the seen table: exact rows by
 * address, pattern rows summed over the addresses they govern) with seen addresses that no
 * exact account names (configured: false, sorted by address). Such a row shows what actually
 * applies to it: when a pattern governs the address, that pattern's blockExternal and allow,
 * and the note `pattern <p>`; otherwise blockExternal false, allow [], note ''.
 * The mutation helpers work on a draft inside ConfigStore.update(); setBlock/setAllow create an
 * exact account when the address has none, starting from the effective values so that editing
 * one field never silently changes the other; upsertAccount saves a whole account (or renames
 * one). They throw ConfigError (path `accounts`) for adding an existing pattern, or removing or
 * renaming a missing one; syntax is checked by the store's validation when the draft is saved.
 */
import type { Account, AccountView, ExternalMode, GatehouseConfig, SeenStats } from '../../shared/types.js';
import { externalMode } from '../../shared/outbound.js';

import { compileAccounts } from '../policy/accounts.js';
import { addressKey, normalizeAddress } from '../../shared/address.js';
import { issueAt, problem } from '../../shared/issues.js';
import { ConfigError } from './schema.js';

/** The seen table itself, or anything with `all()` (a SeenAccounts). */
export type SeenSource = Record<string, SeenStats> | { all(): Record<string, SeenStats> };

function seenTable(src: SeenSource): Record<string, SeenStats> {
  const maybe = src as { all?: unknown };
  return typeof maybe.all === 'function' ? (src as { all(): Record<string, SeenStats> }).all() : (src as Record<string, SeenStats>);
}

export function listAccounts(cfg: GatehouseConfig, seenSource: SeenSource): AccountView[] {
  const seen = seenTable(seenSource);
  const index = compileAccounts(cfg.accounts);
  const exact = new Set(cfg.accounts.map((a) => addressKey(a.pattern)));
  const totals = new Map<Account, { firstSeen?: string; lastSeen?: string; messages: number }>();
  const extra: AccountView[] = [];

  for (const [address, s] of Object.entries(seen)) {
    const key = addressKey(address);
    const governing = index.find(key);
    if (governing) {
      const t = totals.get(governing) ?? { messages: 0 };
      if (!t.firstSeen || s.firstSeen < t.firstSeen) t.firstSeen = s.firstSeen;
      if (!t.lastSeen || s.lastSeen > t.lastSeen) t.lastSeen = s.lastSeen;
      t.messages += s.messages;
      totals.set(governing, t);
    }
    if (exact.has(key)) continue;
    extra.push({
      ...(governing ? outboundFields(governing) : {}),
      pattern: address,
      blockExternal: governing?.blockExternal ?? false,
      allow: governing ? [...governing.allow] : [],
      note: governing ? `pattern ${governing.pattern}` : '',
      mode: governing ? externalMode(governing) : 'relay',
      configured: false,
      firstSeen: s.firstSeen,
      lastSeen: s.lastSeen,
      messages: s.messages,
    });
  }

  const configured: AccountView[] = cfg.accounts.map((a) => {
    const t = totals.get(a);
    const row: AccountView = { ...a, mode: externalMode(a), allow: [...a.allow], configured: true, messages: t?.messages ?? 0 };
    if (t?.firstSeen) row.firstSeen = t.firstSeen;
    if (t?.lastSeen) row.lastSeen = t.lastSeen;
    return row;
  });
  extra.sort((a, b) => (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0));
  return [...configured, ...extra];
}

function indexOfPattern(draft: GatehouseConfig, pattern: string): number {
  const key = addressKey(pattern.trim());
  return draft.accounts.findIndex((a) => addressKey(a.pattern) === key);
}

/** The outbound settings of an account (mode and its parameters, Bcc), copied. */
function outboundFields(a: Account): Partial<Account> {
  const out: Partial<Account> = {};
  if (a.mode === 'delay' || a.mode === 'approval') out.mode = a.mode;
  if (a.delayMinutes !== undefined) out.delayMinutes = a.delayMinutes;
  if (a.approvers !== undefined) out.approvers = [...a.approvers];
  if (a.standIn !== undefined) out.standIn = a.standIn;
  if (a.expireHours !== undefined) out.expireHours = a.expireHours;
  if (a.bcc !== undefined) out.bcc = [...a.bcc];
  return out;
}

/** The exact account for `address`, created from the governing pattern's values if missing. */
function materialise(draft: GatehouseConfig, address: string): Account {
  const i = indexOfPattern(draft, address);
  if (i >= 0) return draft.accounts[i]!;
  const governing = compileAccounts(draft.accounts).find(address);
  const account: Account = {
    pattern: normalizeAddress(address.trim()),
    blockExternal: governing?.blockExternal ?? false,
    allow: governing ? [...governing.allow] : [],
    note: '',
    ...(governing ? outboundFields(governing) : {}),
  };
  draft.accounts.push(account);
  return account;
}

/**
 * Block (or unblock) external sending for an address or an existing pattern, as always:
 * block sets mode 'block'; unblock of a blocked account makes it 'relay', and leaves an
 * account in 'delay' or 'approval' as it is (it was not blocked).
 */
export function setBlock(draft: GatehouseConfig, address: string, block: boolean): void {
  const a = materialise(draft, address);
  a.blockExternal = block;
  if (block || a.mode === 'block' || a.mode === 'relay') delete a.mode;
}

/** The external-sending mode and its parameters (those left out keep their stored values). */
export function setMode(
  draft: GatehouseConfig,
  address: string,
  m: { mode: ExternalMode; delayMinutes?: number; approvers?: string[]; standIn?: string; expireHours?: number },
): void {
  const a = materialise(draft, address);
  a.blockExternal = m.mode === 'block';
  if (m.mode === 'delay' || m.mode === 'approval') a.mode = m.mode;
  else delete a.mode;
  if (m.delayMinutes !== undefined) a.delayMinutes = m.delayMinutes;
  if (m.approvers !== undefined) a.approvers = [...m.approvers];
  if (m.standIn !== undefined) a.standIn = m.standIn;
  if (m.expireHours !== undefined) a.expireHours = m.expireHours;
}

/** The automatic Bcc of external mail; [] clears it. */
export function setBcc(draft: GatehouseConfig, address: string, bcc: string[]): void {
  const a = materialise(draft, address);
  if (bcc.length > 0) a.bcc = [...bcc];
  else delete a.bcc;
}

/** Set the allow-list (external domains / addresses still reachable) for an address or pattern. */
export function setAllow(draft: GatehouseConfig, address: string, allow: string[]): void {
  const clean = [...new Set(allow.map((s) => s.trim()).filter((s) => s !== ''))];
  materialise(draft, address).allow = clean;
}

/** Add a new account; missing fields default to not blocked, no allow-list, no note. */
export function addAccount(draft: GatehouseConfig, account: Partial<Account> & { pattern: string }): Account {
  const i = indexOfPattern(draft, account.pattern);
  if (i >= 0) {
    throw new ConfigError(
      [issueAt(`accounts[${i}].pattern`, problem('account_exists', { pattern: draft.accounts[i]!.pattern }))],
      { summary: 'Account not added' },
    );
  }
  const a: Account = {
    pattern: account.pattern.trim(),
    blockExternal: account.blockExternal ?? false,
    allow: [...(account.allow ?? [])],
    note: account.note ?? '',
  };
  draft.accounts.push(a);
  return a;
}

/**
 * Save a whole account (UI edit form, CSV import): replaces the account with the same pattern
 * in place, or, with `original`, the account that had that pattern (a rename); else appends.
 * Throws ConfigError when `original` is missing or the new pattern belongs to another account.
 */
export function upsertAccount(draft: GatehouseConfig, account: Account, original?: string): Account {
  const a: Account = {
    pattern: account.pattern.trim(),
    blockExternal: account.blockExternal,
    allow: [...account.allow],
    note: account.note,
    ...outboundFields(account),
  };
  const same = indexOfPattern(draft, a.pattern);
  if (original !== undefined && addressKey(original.trim()) !== addressKey(a.pattern)) {
    const from = indexOfPattern(draft, original);
    if (from < 0) {
      throw new ConfigError([issueAt('accounts', problem('account_missing', { pattern: original }))], {
        summary: 'Account not saved',
      });
    }
    if (same >= 0) {
      throw new ConfigError(
        [issueAt(`accounts[${same}].pattern`, problem('account_exists', { pattern: draft.accounts[same]!.pattern }))],
        { summary: 'Account not renamed' },
      );
    }
    draft.accounts[from] = a;
    return a;
  }
  if (same >= 0) draft.accounts[same] = a;
  else draft.accounts.push(a);
  return a;
}

/** Remove the account with this pattern (case-insensitive). Returns the removed account. */
export function removeAccount(draft: GatehouseConfig, pattern: string): Account {
  const i = indexOfPattern(draft, pattern);
  if (i < 0) {
    throw new ConfigError([issueAt('accounts', problem('account_missing', { pattern }))], {
      summary: 'Account not removed',
    });
  }
  return draft.accounts.splice(i, 1)[0]!;
}
