/*
 * What the receiver does with an accepted message before spooling it, decided from the RCPT
 * decisions it logged: which recipients go out at once and which wait in the held queue (the
 * external ones an account in `delay` or `approval` mode sent, by the envelope sender or by an
 * address in the From: header, whichever is stricter; colleagues always at once), the
 * automatic Bcc of the sender's account (envelope only, added to the recipients that go at
 * once whenever the message has an external recipient, held or not: the supervisor or the
 * archive sees what was sent and what waits), and the Bcc conversion of To/Cc (done on the
 * bytes before spooling, so every later step, DKIM signing included, sees the final header).
 * planMessage() is pure; it never throws.
 */
import { outboundRule } from '../../shared/outbound.js';
import type { GatehouseConfig, RuleName } from '../../shared/types.js';
import { domainOf } from '../../shared/address.js';
import { headerFromHold, isInternalDomain, type CompiledPolicy } from '../policy/index.js';
import { convertToBcc, externalToCc } from './bcc-convert.js';
import type { HoldMeta } from './held-queue.js';

/** The RCPT decision kept per accepted recipient. */
export interface RcptOutcome {
  rule: RuleName;
  account?: string;
}

export interface MessagePlan {
  /** Recipients spooled for delivery at once (Bcc included). */
  now: string[];
  /** The held copy's recipients and its hold, when some wait; `headerFrom` when a From: address's account holds them. */
  held: { recipients: string[]; meta: HoldMeta; headerFrom?: string } | null;
  /** Bcc addresses added (not already recipients). */
  bcc: { address: string; account: string }[];
  /** The body to spool (To/Cc rewritten when converted). */
  body: Buffer;
  /** External To/Cc addresses found, when the header was converted. */
  converted: number | null;
  /** External recipients of the message (held or not), for the sender limits. */
  external: number;
}

export function planMessage(
  p: CompiledPolicy,
  cfg: GatehouseConfig,
  input: {
    sender: string;
    recipients: string[];
    outcomes: ReadonlyMap<string, RcptOutcome>;
    body: Buffer;
    trusted: boolean;
    receivedAt: Date;
    /** The From: header's addresses: an account in delay or approval mode there holds too (headerFromHold). */
    headerFrom?: readonly string[];
  },
): MessagePlan {
  const now: string[] = [];
  const held: string[] = [];
  let holdRule: RuleName | null = null;
  let external = 0;
  const byHeader = input.trusted && input.sender !== '' ? headerFromHold(p, input.headerFrom ?? [], input.recipients) : null;
  const heldByHeader = new Set(byHeader?.recipients ?? []);
  for (const r of input.recipients) {
    const o = input.outcomes.get(r);
    const internal = isInternalDomain(p, domainOf(r));
    if (!internal) external++;
    const byEnvelope = !internal && (o?.rule === 'delay' || o?.rule === 'hold-approval') && input.sender !== '';
    if (byEnvelope || heldByHeader.has(r)) {
      held.push(r);
      if (byEnvelope) holdRule ??= o.rule;
    } else {
      now.push(r);
    }
  }
  const plan: MessagePlan = { now, held: null, bcc: [], body: input.body, converted: null, external };
  if (!input.trusted || input.sender === '' || external === 0) return plan;

  const governing = p.accounts.lookup(input.sender)?.account;
  // Whose hold it is: the envelope sender's account, unless the header From's is stricter
  // (approval over delay) or the envelope holds nothing.
  let holder = holdRule && governing ? { account: governing, kind: holdRule === 'delay' ? ('delay' as const) : ('approval' as const) } : null;
  let headerFrom: string | undefined;
  if (byHeader && (!holder || (holder.kind === 'delay' && byHeader.mode === 'approval'))) {
    holder = { account: byHeader.account, kind: byHeader.mode };
    headerFrom = byHeader.from;
  }
  if (held.length > 0 && holder) {
    const rule = outboundRule(holder.account);
    const kind = holder.kind;
    const ms = kind === 'delay' ? rule.delayMinutes * 60_000 : rule.expireHours * 3600_000;
    plan.held = {
      recipients: held,
      meta: { kind, account: holder.account.pattern, until: new Date(input.receivedAt.getTime() + ms).toISOString(), approvers: rule.approvers, standIn: rule.standIn },
      ...(headerFrom ? { headerFrom } : {}),
    };
  } else if (held.length > 0) {
    // The account went away between RCPT and DATA: nothing holds them any more.
    plan.now.push(...held);
  }
  if (governing) {
    const have = new Set(input.recipients.map((r) => r.toLowerCase()));
    for (const address of outboundRule(governing).bcc) {
      if (have.has(address.toLowerCase())) continue;
      have.add(address.toLowerCase());
      plan.now.push(address);
      plan.bcc.push({ address, account: governing.pattern });
    }
  }
  const over = cfg.outbound.bccConvertOver;
  if (over > 0) {
    const found = externalToCc(input.body, (d) => isInternalDomain(p, d));
    if (found.length > over) {
      plan.body = convertToBcc(input.body);
      plan.converted = found.length;
    }
  }
  return plan;
}
