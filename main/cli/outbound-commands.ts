/*
 * CLI verbs of the outbound controls (誤送信防止): `accounts mode|bcc|frozen|unfreeze`,
 * `approvals list|approve|reject`, `queue delayed|send-now|cancel`. Thin calls over the command
 * layer (client.ts): the running gateway does the work; decisions need it ('not-running',
 * exit 2, without one). A decision on an unknown id is 'not-found', on one already decided
 * 'conflict': both exit 2 with a sentence saying so, and nothing changes.
 */
import type { HeldItem } from '../shared/outbound.js';
import type { ExternalMode } from '../shared/types.js';
import { EXTERNAL_MODES } from '../shared/outbound.js';
import { UsageError, type ParsedArgs } from './args.js';
import type { Client } from './client.js';
import { print, printJson, table } from './output.js';

function arg(a: ParsedArgs, i: number, name: string): string {
  const v = a.positionals[i];
  if (v === undefined || v === '') throw new UsageError(`missing <${name}>`);
  return v;
}

function intFlag(a: ParsedArgs, name: string): number | undefined {
  const v = a.flags[name];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} needs a whole number`);
  return n;
}

function strFlag(a: ParsedArgs, name: string): string | undefined {
  const v = a.flags[name];
  return typeof v === 'string' ? v : undefined;
}

function listFlag(a: ParsedArgs, name: string): string[] | undefined {
  const v = a.flags[name];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v : [String(v)]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
}

const MODE_WORDS: Record<ExternalMode, string> = {
  relay: 'relay (external mail goes out at once)',
  delay: 'delay (external mail waits, the sender may cancel it)',
  approval: 'approval (external mail waits for an approver)',
  block: 'block (external recipients refused with 550)',
};

/** `accounts mode|bcc|frozen|unfreeze`; null when `sub` is none of them. */
export async function cmdAccountsOutbound(c: Client, a: ParsedArgs, sub: string): Promise<number | null> {
  switch (sub) {
    case 'mode': {
      const pattern = arg(a, 1, 'address|pattern');
      const mode = arg(a, 2, EXTERNAL_MODES.join('|'));
      if (!(EXTERNAL_MODES as readonly string[]).includes(mode)) throw new UsageError(`mode must be one of ${EXTERNAL_MODES.join(', ')}, not "${mode}"`);
      const delayMinutes = intFlag(a, 'minutes');
      const expireHours = intFlag(a, 'expire-hours');
      const approvers = listFlag(a, 'approver');
      const standIn = strFlag(a, 'stand-in');
      const rows = await c.call('accounts.setMode', {
        pattern,
        mode: mode as ExternalMode,
        ...(delayMinutes !== undefined ? { delayMinutes } : {}),
        ...(approvers !== undefined ? { approvers } : {}),
        ...(standIn !== undefined ? { standIn } : {}),
        ...(expireHours !== undefined ? { expireHours } : {}),
      });
      const row = rows.find((r) => r.pattern.toLowerCase() === pattern.toLowerCase());
      let detail = '';
      if (row?.mode === 'delay') detail = `, ${row.delayMinutes ?? 5} min`;
      if (row?.mode === 'approval') detail = `, approvers ${(row.approvers ?? []).join(', ') || '-'}${row.standIn ? `, stand-in ${row.standIn}` : ''}, expires after ${row.expireHours ?? 24} h`;
      print(`${pattern}: ${MODE_WORDS[mode as ExternalMode]}${detail} (applies to the next RCPT)`);
      return 0;
    }
    case 'bcc': {
      const pattern = arg(a, 1, 'address|pattern');
      const addresses = a.positionals.slice(2);
      if (a.flags.clear && addresses.length > 0) throw new UsageError('bcc takes addresses or --clear, not both');
      if (!a.flags.clear && addresses.length === 0) throw new UsageError('bcc needs one or more addresses, or --clear');
      await c.call('accounts.setBcc', { pattern, bcc: a.flags.clear ? [] : addresses });
      print(a.flags.clear ? `${pattern}: no automatic Bcc` : `${pattern}: external mail also goes (Bcc, envelope only) to ${addresses.join(', ')}`);
      return 0;
    }
    case 'frozen': {
      const list = await c.call('accounts.frozen');
      if (a.flags.json) return printJson(list), 0;
      if (list.length === 0) print('no sender is frozen');
      else table(['sender', 'frozen since', 'limit', 'count', 'max per hour'], list.map((f) => [f.address, f.since, f.limit, String(f.count), String(f.max)]));
      return 0;
    }
    case 'unfreeze': {
      const address = arg(a, 1, 'address');
      await c.call('accounts.unfreeze', { address });
      print(`${address}: unfrozen (its mail is accepted again from the next MAIL FROM)`);
      return 0;
    }
    default:
      return null;
  }
}

function kb(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`;
}

function heldRows(items: HeldItem[]): string[][] {
  return items.map((i) => [
    i.id,
    i.receivedAt,
    i.until,
    i.sender,
    i.recipients.join(' '),
    i.preview.subject,
    i.preview.attachments.map((x) => `${x.name} (${kb(x.size)})`).join(', '),
  ]);
}

export async function cmdApprovals(c: Client, a: ParsedArgs): Promise<number> {
  const sub = arg(a, 0, 'list|approve|reject');
  const as = strFlag(a, 'as');
  switch (sub) {
    case 'list': {
      const items = await c.call('approvals.list');
      if (a.flags.json) return printJson(items), 0;
      if (items.length === 0) print('no mail waits for approval');
      else table(['id', 'received', 'expires', 'sender', 'held recipients', 'subject', 'attachments'], heldRows(items));
      return 0;
    }
    case 'approve': {
      const id = arg(a, 1, 'id');
      const r = await c.call('approvals.approve', { id, ...(as ? { as } : {}) });
      print(`approved ${id}: sent on to its external recipients as ${r.queueId}`);
      return 0;
    }
    case 'reject': {
      const id = arg(a, 1, 'id');
      const reason = strFlag(a, 'reason') ?? '';
      await c.call('approvals.reject', { id, reason, ...(as ? { as } : {}) });
      print(`rejected ${id}: not sent; the sender gets a bounce${reason ? ` with the reason "${reason}"` : ''}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown approvals command "${sub}"`);
  }
}

/** `queue delayed|send-now|cancel`; null when `sub` is none of them. */
export async function cmdQueueDelayed(c: Client, a: ParsedArgs, sub: string): Promise<number | null> {
  switch (sub) {
    case 'delayed': {
      const items = await c.call('queue.delayed');
      if (a.flags.json) return printJson(items), 0;
      if (items.length === 0) print('no delayed mail');
      else table(['id', 'received', 'goes out', 'sender', 'held recipients', 'subject', 'attachments'], heldRows(items));
      return 0;
    }
    case 'send-now': {
      const id = arg(a, 1, 'id');
      const r = await c.call('queue.sendNow', { id });
      print(`sent ${id} now: queued for its external recipients as ${r.queueId}`);
      return 0;
    }
    case 'cancel': {
      const id = arg(a, 1, 'id');
      await c.call('queue.cancel', { id });
      print(`cancelled ${id}: nothing goes to its external recipients`);
      return 0;
    }
    default:
      return null;
  }
}
