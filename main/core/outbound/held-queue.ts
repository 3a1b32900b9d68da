/*
 * The held queue (Postfix has a `hold` queue too): the external copy of mail from an account
 * in `delay` or `approval` mode waits here, in a spool of its own (<spool>/held: the same
 * format, the same fsync before the 250), until its time comes, an approver decides, the
 * sender cancels or sends it now, or nobody approves it in time. Its internal recipients were
 * spooled for delivery at once; only the held recipients are here.
 *
 * What is durable where:
 *  - the hold itself (kind, account, until, approvers) is in the message's spool header
 *    (`meta`), written with the bytes before the 250: timers and expiry survive kill -9;
 *  - a decision is written to the message's state (fsync) before anything else happens, and
 *    the action log gets its line;
 *  - what the decision sends (the released copy, a DSN, notices) is written to the main spool
 *    with a marker session `held:<id>:<what>` and NOT handed to delivery yet; then the state
 *    says `done` (fsync), the held message is removed, and only then is delivery told. After a
 *    crash, open() finishes an unfinished decision and skips what the markers show was already
 *    written, so approving delivers the external copy exactly once, restart or kill -9 between;
 *  - notices that a message is held follow the same scheme (`noticed` in the state).
 * Decisions run one at a time. A decision on an unknown id, on one already decided (remembered
 * from the action log) or of the wrong kind rejects with an ApiError ('not-found', 'conflict',
 * 'bad-request') and changes nothing. Link tokens (tokens.ts) are kept hashed in the state.
 */
import type { SpoolEnvelope, SpoolHeader, SpoolState } from '../spool/index.js';
import { Spool } from '../spool/index.js';
import { ApiError } from '../../shared/contract.js';
import { problem } from '../../shared/issues.js';
import { actorText, type ActionEntry, type ActionKind, type Actor, type HeldItem, type HeldPreview, type HoldKind } from '../../shared/outbound.js';
import type { GatehouseConfig, ReceiveLogEntry, RuleName, SenderLogEntry } from '../../shared/types.js';
import { headerBlock, mayBounce } from '../delivery/dsn.js';
import { headerLines } from '../smtp/message-checks.js';
import { isInternalDomain, type CompiledPolicy } from '../policy/index.js';
import type { ActionLog } from './action-log.js';
import {
  approvalRequest,
  approvedNotice,
  composeNotice,
  delayedNotice,
  expiredNotice,
  heldNotice,
  noticeRecipients,
  rejectedNotice,
  rejectionDsn,
  type Notice,
} from './notices.js';
import { previewOf } from './preview.js';
import { checkToken, hashToken, newToken, wellFormed, type TokenPurpose, type TokenRecord } from './tokens.js';

/** The hold as the receiver writes it into the held copy's spool header. */
export interface HoldMeta {
  kind: HoldKind;
  account: string;
  /** delay: when it goes out; approval: when it expires. ISO 8601. */
  until: string;
  approvers: string[];
  standIn: string;
}

/** How a held message ended (ActionKind, plus 'released': a delay that ran out). */
export type Outcome = Exclude<ActionKind, 'frozen' | 'unfrozen'> | 'released';

interface HoldState {
  decision?: { action: Outcome; by: Actor; at: string; reason?: string };
  noticed?: boolean;
  done?: boolean;
  tokens?: TokenRecord[];
}

type HeldState = SpoolState & { hold?: HoldState };

interface Item {
  header: SpoolHeader;
  meta: HoldMeta;
  state: HeldState;
  preview?: Promise<HeldPreview>;
  /** A finish that failed (the main spool refused a write) is tried again at this time. */
  retryAt?: number;
}

export interface LinkMaker {
  /** The LAN page's URL for an approver's token. */
  approver?(token: string): string;
  /** The LAN page's URL for a sender's cancel / send-now token. */
  sender?(token: string): string;
}

export interface HeldQueueDeps {
  /** The held spool's folder (<spool>/held). */
  dir: string;
  fsync?: boolean;
  /** The main spool: where released copies, DSNs and notices are written. */
  main: { write(env: SpoolEnvelope, body: Buffer): Promise<SpoolHeader> };
  /** Hands a main-spool message to delivery. */
  enqueue(h: SpoolHeader): void;
  config(): GatehouseConfig;
  policy(): CompiledPolicy;
  logReceive(e: ReceiveLogEntry): void;
  logSend(e: SenderLogEntry): void;
  actions: ActionLog;
  /** The held list of `kind` changed (for the window: the approvals / delayed events). */
  changed(kind: HoldKind): void;
  links?: LinkMaker;
  now?(): Date;
}

export type TokenRefusal = 'unknown' | 'expired' | 'used' | 'decided' | 'wrong-action';
export type TokenAction = 'approve' | 'reject' | 'cancel' | 'send-now';

const RULE_OF: Record<Outcome, RuleName> = {
  approved: 'approved',
  rejected: 'rejected-by-approver',
  expired: 'approval-expired',
  cancelled: 'delay-cancelled',
  'sent-now': 'delay-sent-now',
  released: 'delay',
};

const MAX_TIMER_MS = 2 ** 31 - 1;
const RETRY_MS = 30_000;

export const marker = (id: string, what: string): string => `held:${id}:${what}`;

/** The hold from a held copy's header, or null when it is not one (quarantined at open). */
export function holdMeta(h: SpoolHeader): HoldMeta | null {
  const m = h.meta as Partial<HoldMeta> | undefined;
  if (!m || (m.kind !== 'delay' && m.kind !== 'approval') || typeof m.until !== 'string' || Number.isNaN(Date.parse(m.until))) return null;
  return {
    kind: m.kind,
    account: typeof m.account === 'string' ? m.account : '',
    until: m.until,
    approvers: Array.isArray(m.approvers) ? m.approvers.filter((x): x is string => typeof x === 'string') : [],
    standIn: typeof m.standIn === 'string' ? m.standIn : '',
  };
}

/**
 * The refusal of a second decision: 'conflict', with who decided (through which door, and the
 * approver's address when known), what and when as params, so the window can say it in the
 * admin's language; the issue keeps the English sentence for the CLI.
 */
export function decidedError(id: string, e: ActionEntry): ApiError {
  const p = problem('held_decided', { id, action: e.action, by: actorText(e.by), at: e.at });
  return new ApiError(p.message, 'conflict', [{ path: 'id', ...p }], { id, action: e.action, via: e.by.via, by: e.by.address ?? '', at: e.at });
}

export class HeldQueue {
  readonly spool: Spool;
  private readonly items = new Map<string, Item>();
  /** Decisions by held id, from the action log (so a second decision gets a clear answer). */
  private readonly decided = new Map<string, ActionEntry>();
  /** Token hash -> held id, for live items. */
  private readonly tokens = new Map<string, string>();
  /** Token hash -> how its message ended, for tokens of messages already decided. */
  private readonly spent = new Map<string, string>();
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private links: LinkMaker | undefined;

  constructor(private readonly deps: HeldQueueDeps) {
    this.spool = new Spool(deps.dir, { fsync: deps.fsync ?? true });
    this.links = deps.links;
  }

  /**
   * The LAN approval page's links, once it serves them (null: off). Notices sent from now on
   * carry one single-use link per approver (and for the sender of delayed mail).
   */
  setLinks(links: LinkMaker | null): void {
    this.links = links ?? undefined;
  }

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /**
   * Opens the held spool and recovers: a decision left half done is finished (skipping what
   * the markers in `mainRecovered`, the main spool's recovered headers, show was written), held
   * notices not yet out are sent, timers are armed. `mainRecovered` may be a function giving
   * the marker sessions once the main spool's background recovery is through: it is called
   * only when a held message needs them. Rejects on I/O errors only.
   */
  async open(mainRecovered: readonly SpoolHeader[] | (() => Promise<ReadonlySet<string>>)): Promise<string[]> {
    const notes: string[] = [];
    for (const e of await this.deps.actions.all()) {
      if (e.action !== 'frozen' && e.action !== 'unfrozen') this.decided.set(e.subject, e);
    }
    const { recovered, notes: spoolNotes } = await this.spool.open();
    for (const n of spoolNotes) notes.push(`held queue recovery: ${n.action} ${n.file}: ${n.reason}`);
    let known: ReadonlySet<string> | null = typeof mainRecovered === 'function' ? null : new Set(mainRecovered.map((h) => h.session).filter((s) => s.startsWith('held:')));
    const markers = async (): Promise<ReadonlySet<string>> => (known ??= await (mainRecovered as () => Promise<ReadonlySet<string>>)());
    for (const header of recovered) {
      const meta = holdMeta(header);
      if (!meta) {
        await this.spool.quarantine(header.id, 'held copy without a valid hold in its header');
        notes.push(`held queue: ${header.id} has no valid hold; moved to quarantine`);
        continue;
      }
      const state = (await this.spool.getState(header.id)) as HeldState;
      const item: Item = { header, meta, state };
      if (state.hold?.done) {
        await this.spool.remove(header.id);
        continue;
      }
      this.items.set(header.id, item);
      this.indexTokens(item);
      if (state.hold?.decision) {
        await this.finish(item, await markers()).catch((err: Error) => this.failed(item, err));
      } else if (!state.hold?.noticed) {
        await this.notify(item, await markers()).catch((err: Error) => notes.push(`held queue: notices for ${header.id} failed: ${err.message}`));
      }
    }
    this.arm();
    return notes;
  }

  /** A held copy this process's receiver just wrote (the spool already counts it). */
  written(header: SpoolHeader): void {
    this.take(header);
  }

  /** A held copy a listener process wrote. False when already known. */
  adopt(header: SpoolHeader): boolean {
    if (!this.spool.adopt(header)) return false;
    this.take(header);
    return true;
  }

  private take(header: SpoolHeader): void {
    const meta = holdMeta(header);
    if (!meta || this.items.has(header.id)) return;
    const item: Item = { header, meta, state: { pending: [...header.recipients], done: [], failed: [], attempts: 0 } };
    this.items.set(header.id, item);
    this.arm();
    this.deps.changed(meta.kind);
    void this.serial(() => this.notify(item, new Set())).catch((err: Error) =>
      this.logError(`held queue: notices for ${header.id} failed: ${err.message}`),
    );
  }

  // ---- reading ----

  private preview(item: Item): Promise<HeldPreview> {
    item.preview ??= this.spool.readBody(item.header.id).then(previewOf, () => previewOf(Buffer.alloc(0)));
    return item.preview;
  }

  private async view(item: Item): Promise<HeldItem> {
    const h = item.header;
    return {
      id: h.id,
      kind: item.meta.kind,
      receivedAt: h.receivedAt,
      sender: h.sender,
      account: item.meta.account,
      recipients: [...h.recipients],
      until: item.meta.until,
      approvers: [...item.meta.approvers],
      standIn: item.meta.standIn,
      size: h.size,
      preview: await this.preview(item),
    };
  }

  /** Held mail of one kind not yet decided; approvals oldest first, delayed soonest first. */
  async list(kind: HoldKind): Promise<HeldItem[]> {
    const items = [...this.items.values()].filter((i) => i.meta.kind === kind && !i.state.hold?.decision);
    const views = await Promise.all(items.map((i) => this.view(i)));
    return views.sort((a, b) => (kind === 'delay' ? a.until.localeCompare(b.until) : a.receivedAt.localeCompare(b.receivedAt)) || a.id.localeCompare(b.id));
  }

  counts(): { approval: number; delay: number } {
    let approval = 0;
    let delay = 0;
    for (const i of this.items.values()) {
      if (i.state.hold?.decision) continue;
      if (i.meta.kind === 'approval') approval++;
      else delay++;
    }
    return { approval, delay };
  }

  // ---- decisions ----

  approve(id: string, by: Actor): Promise<{ id: string; queueId: string }> {
    return this.decide(id, 'approval', 'approved', by).then((queueId) => ({ id, queueId: queueId ?? '' }));
  }

  reject(id: string, reason: string, by: Actor): Promise<{ id: string }> {
    return this.decide(id, 'approval', 'rejected', by, reason).then(() => ({ id }));
  }

  sendNow(id: string, by: Actor): Promise<{ id: string; queueId: string }> {
    return this.decide(id, 'delay', 'sent-now', by).then((queueId) => ({ id, queueId: queueId ?? '' }));
  }

  cancel(id: string, by: Actor): Promise<{ id: string }> {
    return this.decide(id, 'delay', 'cancelled', by).then(() => ({ id }));
  }

  private decide(id: string, kind: HoldKind, action: Outcome, by: Actor, reason?: string): Promise<string | undefined> {
    return this.serial(async () => {
      const item = this.items.get(id);
      if (!item || item.state.hold?.decision) {
        const before = this.decided.get(id);
        if (before) throw decidedError(id, before);
        const p = problem('held_unknown', { id });
        throw new ApiError(p.message, 'not-found', [{ path: 'id', ...p }]);
      }
      if (item.meta.kind !== kind) {
        const p = problem('held_kind', { id, kind: item.meta.kind === 'delay' ? 'delay' : 'approval', expected: kind });
        throw new ApiError(p.message, 'bad-request', [{ path: 'id', ...p }]);
      }
      return this.decideNow(item, action, by, reason);
    });
  }

  /** Records the decision durably, logs it, then sends on what it sends. */
  private async decideNow(item: Item, action: Outcome, by: Actor, reason?: string): Promise<string | undefined> {
    const at = this.now().toISOString();
    const decision = reason !== undefined && reason !== '' ? { action, by, at, reason } : { action, by, at };
    item.state = { ...item.state, hold: { ...item.state.hold, decision } };
    await this.spool.setState(item.header.id, item.state);
    if (action !== 'released') {
      const line = { at, action, by, subject: item.header.id, sender: item.header.sender, recipients: [...item.header.recipients], ...(reason ? { reason } : {}) };
      // The decision itself is durable already; a log that cannot be written must not stop it.
      const entry = await this.deps.actions.append(line).catch((err: Error) => {
        this.logError(`action log: ${err.message}`);
        return { n: 0, ...line };
      });
      this.decided.set(item.header.id, entry);
    }
    this.deps.changed(item.meta.kind);
    try {
      return await this.finish(item, new Set());
    } catch (err) {
      this.failed(item, err as Error);
      throw new ApiError(`decided, but sending it on failed (retried every ${RETRY_MS / 1000} s): ${(err as Error).message}`, 'internal');
    }
  }

  /** What a decided message sends; written (unless a marker says it already was), then done. */
  private async finish(item: Item, markers: ReadonlySet<string>): Promise<string | undefined> {
    const d = item.state.hold!.decision!;
    const id = item.header.id;
    const h = item.header;
    const cfg = this.deps.config();
    const now = this.now();
    const body = await this.spool.readBody(id);
    const view = await this.view(item);
    const internal = (domain: string) => isInternalDomain(this.deps.policy(), domain);
    const who = actorText(d.by);
    const outputs: { key: string; env: SpoolEnvelope; body: () => Promise<Buffer> }[] = [];
    const automatic = isAutomatic(body);
    const notice = (key: string, n: Notice) => {
      if (n.to.length === 0 || automatic) return;
      outputs.push({ key, env: noticeEnvelope(n.to, marker(id, key)), body: () => composeNotice(n, cfg.hostname, now) });
    };
    const approvers = noticeRecipients([...item.meta.approvers, ...(item.meta.standIn ? [item.meta.standIn] : [])], internal);
    const sender = noticeRecipients([h.sender], internal);
    let releaseKey: string | null = null;
    if (d.action === 'approved' || d.action === 'sent-now' || d.action === 'released') {
      releaseKey = marker(id, 'release');
      const env: SpoolEnvelope = { sender: h.sender, recipients: [...h.recipients], clientIp: h.clientIp, session: releaseKey, trusted: h.trusted };
      if (h.helo !== undefined) env.helo = h.helo;
      if (h.authUser !== undefined) env.authUser = h.authUser;
      outputs.push({ key: 'release', env, body: async () => body });
      if (d.action === 'approved') notice('notice-approved', approvedNotice(view, [...sender, ...approvers.filter((a) => !sender.includes(a))], who));
    } else if (d.action === 'rejected' || d.action === 'expired') {
      if (mayBounce(h.sender)) {
        const dsn = rejectionDsn({ item: view, hostname: cfg.hostname, action: d.action, by: who, reason: d.reason ?? '', originalHeaders: headerBlock(body), now });
        outputs.push({ key: 'dsn', env: { sender: '', recipients: [h.sender], clientIp: '127.0.0.1', session: marker(id, 'dsn'), trusted: true }, body: async () => dsn });
      }
      notice(`notice-${d.action}`, d.action === 'rejected' ? rejectedNotice(view, approvers, who, d.reason ?? '') : expiredNotice(view, approvers));
    }
    const written: SpoolHeader[] = [];
    for (const o of outputs) {
      if (markers.has(marker(id, o.key))) continue;
      written.push(await this.deps.main.write(o.env, await o.body()));
    }
    item.state = { ...item.state, hold: { ...item.state.hold, done: true } };
    await this.spool.setState(id, item.state);
    await this.spool.remove(id);
    this.forget(item);
    for (const w of written) this.deps.enqueue(w);
    const released = written.find((w) => w.session === releaseKey)?.id;
    this.logDecision(item, released);
    this.deps.changed(item.meta.kind);
    this.arm();
    return released;
  }

  private forget(item: Item): void {
    this.items.delete(item.header.id);
    const outcome = item.state.hold?.decision?.action ?? 'decided';
    for (const t of item.state.hold?.tokens ?? []) {
      this.tokens.delete(t.hash);
      this.spent.set(t.hash, outcome);
    }
  }

  private logDecision(item: Item, released: string | undefined): void {
    const d = item.state.hold!.decision!;
    const h = item.header;
    const rule = RULE_OF[d.action];
    const accept = d.action === 'approved' || d.action === 'sent-now' || d.action === 'released';
    const note = accept
      ? `${h.recipients.length} external recipient(s) sent on${released ? ` as ${released}` : ''}`
      : d.action === 'cancelled'
        ? 'cancelled: nothing sent to the external recipients'
        : `not sent; bounce to the sender${d.reason ? `; reason: ${d.reason}` : ''}`;
    // Log lines carry the wall clock (the day file they go to), the decision its own time.
    const ts = new Date().toISOString();
    this.deps.logReceive({
      ts,
      event: 'hold',
      session: h.session,
      clientIp: h.clientIp,
      tls: false,
      sender: h.sender,
      recipients: [...h.recipients],
      decision: accept ? 'accept' : 'reject',
      rule,
      account: item.meta.account || undefined,
      queueId: h.id,
      ...(released ? { released } : {}),
      by: actorText(d.by),
      note,
    });
    if (d.action === 'rejected' || d.action === 'expired') {
      const reply = d.action === 'rejected' ? `rejected by ${actorText(d.by)}${d.reason ? `: ${d.reason}` : ''}` : 'approval expired';
      this.deps.logSend({
        ts,
        queueId: h.id,
        attempt: 0,
        sender: h.sender,
        recipients: [...h.recipients],
        hop: '',
        via: 'dsn',
        tls: false,
        outcome: 'bounced',
        reply: `${reply}${mayBounce(h.sender) ? '; bounce sent' : ''}`,
        durationMs: 0,
        rule,
        perRecipient: h.recipients.map((recipient) => ({ recipient, reply, outcome: 'bounced' as const })),
      });
    }
  }

  /** Notices that a message is held (sender; approvers with their own links when the page is on). */
  private async notify(item: Item, markers: ReadonlySet<string>): Promise<void> {
    if (item.state.hold?.noticed || item.state.hold?.decision) return;
    if (!this.items.has(item.header.id)) return;
    const id = item.header.id;
    const cfg = this.deps.config();
    const now = this.now();
    const internal = (domain: string) => isInternalDomain(this.deps.policy(), domain);
    const view = await this.view(item);
    // Never a notice about a notice (or any automatic mail, RFC 3834): a mailbox rule that
    // forwards our notices outside would otherwise make one notice per round, forever. Such
    // mail is still held; only the notices are left out.
    const automatic = await this.spool.readBody(id).then(isAutomatic, () => false);
    const sender = automatic ? [] : noticeRecipients([item.header.sender], internal);
    const approvers = automatic ? [] : noticeRecipients([...item.meta.approvers, ...(item.meta.standIn ? [item.meta.standIn] : [])], internal);
    const until = new Date(item.meta.until);
    const notices: { key: string; n: Notice }[] = [];
    const records: TokenRecord[] = [];
    const token = (purpose: TokenPurpose, address: string): string => {
      const t = newToken(purpose, address, until);
      records.push(t.record);
      return t.token;
    };
    if (item.meta.kind === 'approval') {
      if (sender.length) notices.push({ key: 'notice-held', n: heldNotice(view, sender) });
      const link = this.links?.approver;
      if (link) approvers.forEach((a, i) => notices.push({ key: `notice-request-${i}`, n: approvalRequest(view, [a], link(token('approver', a))) }));
      else if (approvers.length) notices.push({ key: 'notice-request', n: approvalRequest(view, approvers) });
    } else if (sender.length) {
      const link = this.links?.sender;
      notices.push({ key: 'notice-delayed', n: delayedNotice(view, sender, link ? link(token('sender', sender[0]!)) : undefined) });
    }
    const written: SpoolHeader[] = [];
    for (const { key, n } of notices) {
      if (markers.has(marker(id, key))) continue;
      written.push(await this.deps.main.write(noticeEnvelope(n.to, marker(id, key)), await composeNotice(n, cfg.hostname, now)));
    }
    const tokens = [...(item.state.hold?.tokens ?? []), ...records];
    item.state = { ...item.state, hold: { ...item.state.hold, noticed: true, ...(tokens.length ? { tokens } : {}) } };
    await this.spool.setState(id, item.state);
    this.indexTokens(item);
    for (const w of written) this.deps.enqueue(w);
  }

  // ---- link tokens (for the LAN page) ----

  private indexTokens(item: Item): void {
    for (const t of item.state.hold?.tokens ?? []) this.tokens.set(t.hash, item.header.id);
  }

  /** A token for one message, issued now and stored hashed (durable when this resolves). */
  issueToken(id: string, purpose: TokenPurpose, address: string, expiresAt?: Date): Promise<string> {
    return this.serial(async () => {
      const item = this.items.get(id);
      if (!item || item.state.hold?.decision) throw new ApiError(problem('held_unknown', { id }).message, 'not-found');
      const t = newToken(purpose, address, expiresAt ?? new Date(item.meta.until));
      item.state = { ...item.state, hold: { ...item.state.hold, tokens: [...(item.state.hold?.tokens ?? []), t.record] } };
      await this.spool.setState(id, item.state);
      this.tokens.set(t.record.hash, id);
      return t.token;
    });
  }

  /** What a link shows (nothing is used up): the message, who the token was issued to, until when. */
  async verifyToken(token: string): Promise<{ ok: true; item: HeldItem; purpose: TokenPurpose; address: string; expiresAt: string } | { ok: false; reason: TokenRefusal }> {
    const found = this.lookup(token);
    if (!found.ok) return found;
    const { record } = found;
    return { ok: true, item: await this.view(found.item), purpose: record.purpose, address: record.address, expiresAt: record.expiresAt };
  }

  private lookup(token: string): { ok: true; item: Item; record: TokenRecord } | { ok: false; reason: TokenRefusal } {
    if (!wellFormed(token)) return { ok: false, reason: 'unknown' };
    const hash = hashToken(token);
    const id = this.tokens.get(hash);
    if (id === undefined) return { ok: false, reason: this.spent.has(hash) ? 'decided' : 'unknown' };
    const item = this.items.get(id);
    const record = item?.state.hold?.tokens?.find((t) => t.hash === hash);
    if (!item || !record) return { ok: false, reason: 'unknown' };
    if (item.state.hold?.decision) return { ok: false, reason: 'decided' };
    const c = checkToken(record, this.now());
    return c === 'ok' ? { ok: true, item, record } : { ok: false, reason: c };
  }

  /**
   * Uses a token for its decision: approve / reject (an approver's), cancel / send-now (a
   * sender's, delayed mail). The token is marked used (durably) before the decision runs, so a
   * second use is refused even if the decision fails.
   */
  consumeToken(token: string, action: TokenAction, reason = ''): Promise<{ ok: true; id: string; queueId?: string } | { ok: false; reason: TokenRefusal }> {
    return this.serial(async () => {
      const found = this.lookup(token);
      if (!found.ok) return found;
      const { item, record } = found;
      const allowed = record.purpose === 'approver' ? item.meta.kind === 'approval' && (action === 'approve' || action === 'reject') : item.meta.kind === 'delay' && (action === 'cancel' || action === 'send-now');
      if (!allowed) return { ok: false as const, reason: 'wrong-action' as const };
      const tokens = (item.state.hold?.tokens ?? []).map((t) => (t.hash === record.hash ? { ...t, usedAt: this.now().toISOString() } : t));
      item.state = { ...item.state, hold: { ...item.state.hold, tokens } };
      await this.spool.setState(item.header.id, item.state);
      const by: Actor = { via: 'lan', address: record.address };
      const outcome: Outcome = action === 'approve' ? 'approved' : action === 'reject' ? 'rejected' : action === 'cancel' ? 'cancelled' : 'sent-now';
      const queueId = await this.decideNow(item, outcome, by, action === 'reject' ? reason : undefined);
      return queueId ? { ok: true as const, id: item.header.id, queueId } : { ok: true as const, id: item.header.id };
    });
  }

  // ---- timers ----

  /** Looks at the timers again now (after the clock moved: a resume from sleep, a test clock). */
  wake(): void {
    this.arm();
  }

  private arm(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    let next = Infinity;
    for (const i of this.items.values()) {
      const t = i.state.hold?.decision ? (i.retryAt ?? Infinity) : Date.parse(i.meta.until);
      next = Math.min(next, t);
    }
    if (next === Infinity) return;
    const delay = Math.min(Math.max(0, next - this.now().getTime()), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.serial(() => this.due()).catch((err: Error) => this.logError(`held queue: ${err.message}`));
    }, delay);
    this.timer.unref();
  }

  private async due(): Promise<void> {
    const now = this.now().getTime();
    for (const item of [...this.items.values()]) {
      if (this.closed) return;
      if (item.state.hold?.decision) {
        if ((item.retryAt ?? Infinity) > now) continue;
        item.retryAt = undefined;
        await this.finish(item, new Set()).catch((err: Error) => this.failed(item, err));
      } else if (Date.parse(item.meta.until) <= now) {
        await this.decideNow(item, item.meta.kind === 'delay' ? 'released' : 'expired', { via: 'timer' }).catch(() => undefined);
      }
    }
    this.arm();
  }

  private failed(item: Item, err: Error): void {
    item.retryAt = this.now().getTime() + RETRY_MS;
    this.logError(`held queue: ${item.header.id}: sending on the decision failed, retried in ${RETRY_MS / 1000} s: ${err.message}`);
    this.arm();
  }

  private logError(error: string): void {
    this.deps.logReceive({ ts: this.now().toISOString(), event: 'error', session: '', clientIp: '', tls: false, error });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.chain.catch(() => undefined);
    await this.spool.close();
  }
}

/** A notice of ours, or mail that says it is automatic (Auto-Submitted other than `no`). */
export function isAutomatic(body: Buffer): boolean {
  for (const line of headerLines(body)) {
    if (/^x-gatehouse-notice\s*:/i.test(line)) return true;
    const m = /^auto-submitted\s*:\s*([^\s;(]*)/i.exec(line);
    if (m && m[1]!.toLowerCase() !== 'no') return true;
  }
  return false;
}

function noticeEnvelope(to: string[], session: string): SpoolEnvelope {
  return { sender: '', recipients: [...to], clientIp: '127.0.0.1', session, trusted: true };
}
