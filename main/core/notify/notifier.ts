/*
 * The notifier: decides, from what the gateway sees, when the admin must be told something
 * while the window may be closed, and tells them once per episode. Conditions (each with its
 * threshold and off switch in `notifications` of the config):
 *   route-down   a next hop failed `failures` times in a row (and route-up when it works again)
 *   queue-size   the queue holds `messages` or more (again only after it fell below 80 %)
 *   near-expiry  a queued message is `hours` from being given up (once per message)
 *   approvals-waiting, sender-frozen
 *                reported by outbound control through `report()` (the approval queue and the
 *                per-sender limits live there); this file only words and sends them
 * Each notice goes to `emit` (the gateway's 'notice' event: the desktop shell shows it, the
 * window lists it) and, when `mailTo` is set, to `mail` (a message from the null sender: a
 * notice that cannot be delivered bounces nowhere, and its own failures only repeat a notice
 * already given, so mail notices never loop). At most 30 notices an hour leave; the rest are
 * counted and said in the next one. `check()` is cheap and is called after delivery lines,
 * queue changes and once a minute. Never throws; a failing mail is reported through `onError`.
 */
import { randomBytes } from 'node:crypto';
import type { RouteHealth } from '../../shared/contract.js';
import { explainProblem, whyText } from '../../shared/explain.js';
import type { Notice, NoticeKind } from '../../shared/notices.js';
import type { GatehouseConfig, QueueItem } from '../../shared/types.js';

export interface NotifierDeps {
  config(): GatehouseConfig;
  /** Next hops with their state (the delivery runner's health book). */
  routes(): RouteHealth[];
  /** Which route (domain) or the smarthost a hop serves, for the notice's wording. */
  hopName(hop: string, via: string): string;
  queue(): Promise<QueueItem[]>;
  emit(n: Notice): void;
  /** Queue a notice mail to `to` (null sender). */
  mail?(n: Notice, to: string): Promise<void>;
  onError?(message: string): void;
  now?(): Date;
}

const PER_HOUR = 30;
const HOUR = 3600_000;

export class Notifier {
  private readonly down = new Set<string>();
  private queueNoticed = false;
  private approvalsNoticed = false;
  private readonly expiring = new Set<string>();
  private readonly sent: number[] = [];
  private suppressed = 0;
  private checking: Promise<void> | null = null;

  constructor(private readonly deps: NotifierDeps) {}

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /** Looks at every condition once; concurrent calls share one run. */
  check(): Promise<void> {
    if (!this.checking) {
      this.checking = this.run()
        .catch((err: unknown) => this.deps.onError?.(`notifier: ${(err as Error).message}`))
        .finally(() => {
          this.checking = null;
        });
    }
    return this.checking;
  }

  private async run(): Promise<void> {
    const cfg = this.deps.config();
    const n = cfg.notifications;
    // Route health: one notice when a hop goes down, one when it works again.
    for (const r of this.deps.routes()) {
      const key = `${r.via} ${r.hop}`;
      const isDown = r.state === 'failing' && r.consecutiveFailures >= n.routeDown.failures;
      if (isDown && !this.down.has(key)) {
        this.down.add(key);
        if (n.routeDown.enabled) {
          const why = explainProblem(undefined, r.lastError);
          this.send('route-down', 'error', { hop: r.hop, name: this.deps.hopName(r.hop, r.via), failures: r.consecutiveFailures, why: whyText(why, 'ja'), whyEn: whyText(why, 'en'), whyCode: why.code });
        }
      } else if (!isDown && r.state === 'ok' && this.down.has(key)) {
        this.down.delete(key);
        if (n.routeDown.enabled) this.send('route-up', 'ok', { hop: r.hop, name: this.deps.hopName(r.hop, r.via) });
      }
    }
    const items = await this.deps.queue();
    const total = items.length;
    if (total >= n.queueSize.messages && !this.queueNoticed) {
      this.queueNoticed = true;
      if (n.queueSize.enabled) this.send('queue-size', 'warn', { n: total, threshold: n.queueSize.messages });
    } else if (total < n.queueSize.messages * 0.8) {
      this.queueNoticed = false;
    }
    const lifetimeMs = cfg.delivery.maxLifetimeSeconds * 1000;
    const now = this.now().getTime();
    const present = new Set<string>();
    for (const q of items) {
      present.add(q.id);
      if (this.expiring.has(q.id) || q.state === 'hold') continue;
      const left = Date.parse(q.receivedAt) + lifetimeMs - now;
      if (left > n.nearExpiry.hours * HOUR) continue;
      this.expiring.add(q.id);
      // A notice mail about a notice mail would be a loop in the making.
      if (n.nearExpiry.enabled && q.sender !== '') {
        this.send('near-expiry', 'warn', { sender: q.sender, recipients: q.pending.join(', '), since: q.receivedAt, hours: Math.max(0, Math.round(left / HOUR)) }, q.id);
      }
    }
    for (const id of this.expiring) if (!present.has(id)) this.expiring.delete(id);
  }

  /**
   * Outbound control's hook: the approval queue's size ('approvals-waiting', params `{n}`),
   * or a sender frozen by a limit ('sender-frozen', params `{sender, reason}`).
   */
  report(kind: Extract<NoticeKind, 'approvals-waiting' | 'sender-frozen'>, params: Record<string, string | number>): Notice | null {
    const n = this.deps.config().notifications;
    if (kind === 'approvals-waiting') {
      const waiting = Number(params.n ?? 0);
      if (waiting < n.approvals.waiting) {
        this.approvalsNoticed = false;
        return null;
      }
      if (this.approvalsNoticed || !n.approvals.enabled) return null;
      this.approvalsNoticed = true;
      return this.send(kind, 'warn', { n: waiting });
    }
    if (!n.senderFrozen.enabled) return null;
    return this.send(kind, 'warn', params);
  }

  /** A test notice: desktop, and mail when an address is set. */
  test(): Notice {
    return this.send('test', 'ok', {}, undefined, true)!;
  }

  private send(kind: NoticeKind, level: Notice['level'], params: Record<string, string | number>, ref?: string, force = false): Notice | null {
    const at = this.now();
    const t = at.getTime();
    while (this.sent.length && t - this.sent[0]! > HOUR) this.sent.shift();
    if (!force && this.sent.length >= PER_HOUR) {
      this.suppressed++;
      return null;
    }
    this.sent.push(t);
    const notice: Notice = { id: `${t.toString(36)}-${randomBytes(3).toString('hex')}`, ts: at.toISOString(), kind, level, params: this.suppressed ? { ...params, suppressed: this.suppressed } : params };
    if (ref) notice.ref = ref;
    this.suppressed = 0;
    try {
      this.deps.emit(notice);
    } catch {
      // a listener's failure is its own
    }
    const cfg = this.deps.config();
    const to = cfg.notifications.mailTo;
    // A freeze already mails its own, fuller notice to outbound.adminAddress: not twice.
    const told = kind === 'sender-frozen' && cfg.outbound.adminAddress !== '' && cfg.outbound.adminAddress.toLowerCase() === to.toLowerCase();
    if (to && this.deps.mail && !told) {
      this.deps.mail(notice, to).catch((err: unknown) => this.deps.onError?.(`notice mail to ${to}: ${(err as Error).message}`));
    }
    return notice;
  }
}
