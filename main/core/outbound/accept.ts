/*
 * What the receiver does with an accepted message before spooling it, decided from the RCPT
 * decisions it logged: which recipients go out at once and which wait in the held queue (the
 * external ones an account in `delay` or `approval` mode sent; colleagues always at once), the
 * automatic Bcc of the sender's account (envelope only, added to the recipients that go at
 * once whenever the message has an external recipient, held or not: the supervisor or the
 * archive sees what was sent and what waits), and the Bcc conversion of To/Cc (done on the
 * bytes before spooling, so every later step, DKIM signing included, sees the final header).
 * planMessage() is pure; it never throws.
 */
import { outboundRule } from '../../shared/outbound.js';
import type { GatehouseConfig, RuleName } from '../../shared/types.js';
import { domainOf } from '../../shared/address.js';
import { isInternalDomain, type CompiledPolicy } from '../policy/index.js';
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
  /** The held copy's recipients and its hold, when some wait. */
  held: { recipients: string[]; meta: HoldMeta } | null;
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
  input: { sender: string; recipients: string[]; outcomes: ReadonlyMap<string, RcptOutcome>; body: Buffer; trusted: boolean; receivedAt: Date },
): MessagePlan {
  const now: string[] = [];
  const held: string[] = [];
  let holdRule: RuleName | null = null;
  let external = 0;
  for (const r of input.recipients) {
    const o = input.outcomes.get(r);
    const internal = isInternalDomain(p, domainOf(r));
    if (!internal) external++;
    if (!internal && (o?.rule === 'delay' || o?.rule === 'hold-approval') && input.sender !== '') {
      held.push(r);
      holdRule ??= o.rule;
    } else {
      now.push(r);
    }
  }
  const plan: MessagePlan = { now, held: null, bcc: [], body: input.body, converted: null, external };
  if (!input.trusted || input.sender === '' || external === 0) return plan;

  const governing = p.accounts.lookup(input.sender)?.account;
  if (held.length > 0 && governing) {
    const rule = outboundRule(governing);
    const kind = holdRule === 'delay' ? 'delay' : 'approval';
    const ms = kind === 'delay' ? rule.delayMinutes * 60_000 : rule.expireHours * 3600_000;
    plan.held = {
      recipients: held,
      meta: { kind, account: governing.pattern, until: new Date(input.receivedAt.getTime() + ms).toISOString(), approvers: rule.approvers, standIn: rule.standIn },
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
