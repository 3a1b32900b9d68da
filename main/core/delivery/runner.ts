/*
 * The delivery runner (Postfix's qmgr + bounce in one): keeps every spooled message in an
 * in-memory map id -> {header, state}, the ones waiting in a heap by due time (due-heap.ts)
 * with one unref'd timer for the earliest, and the counts by state kept as they change, so
 * a queue of 100,000 costs O(log n) per attempt, not a scan. Recipients, senders and the last
 * error are kept once per distinct text (a queue after an outage repeats them), and a fresh
 * message's pending list is its header's. It starts attempts up to maxConnectionsTotal at a
 * time (attempt.ts does the SMTP), and after each attempt applies the per-recipient results
 * in this order:
 *   1. a bounce (DSN) for the recipients that failed for good is written to the spool
 *      (durable) and only then are they taken off `pending` (a DSN that cannot be written
 *      leaves them pending: nothing is dropped silently);
 *   2. the new state is persisted with spool.setState;
 *   3. only when nothing is pending is the message removed from the spool.
 * A crash anywhere repeats at most a delivery or a DSN (at-least-once), never loses one.
 * Queue control (list/show/retryNow/hold/release/remove/bounceNow), route health and stats
 * are the admin API. stop() starts nothing new, lets attempts finish up to a timeout, then
 * cuts the sessions (those recipients stay pending and are due at once after a restart).
 * Public methods reject only for an unknown queue id (Error 'no message <id> in the queue')
 * or a spool I/O failure the caller should see.
 */
import type { GatehouseConfig, QueueItem, SenderLogEntry } from '../../shared/types.js';
import type { QueueDetail, RouteHealth } from '../../shared/contract.js';
import { runAttempt, type AttemptResult } from './attempt.js';
import { delayWarningDue, isExpired, nextAttemptTime } from './backoff.js';
import { buildDsn, dsnEnvelope, headerBlock, mayBounce, type DsnRecipient } from './dsn.js';
import { HealthBook } from './health.js';
import { attemptLine, noteLine } from './log-lines.js';
import { configuredHops, systemResolver } from './next-hop.js';
import { createResolver } from '../dns/resolver.js';
import type { OutboundOptions } from './outbound.js';
import { matches, queueItem, type QueueFilter } from './queue-view.js';
import { dsnRecipient, nextState, sortResults } from './settle-plan.js';
import type { Transport } from './transport-pool.js';
import { ThreadedTransport } from './transport-thread.js';
import { DueHeap } from './due-heap.js';
import type { MxResolver, QueuedHeader, SpoolHeader, SpoolLike, SpoolState } from './types.js';

export interface DeliveryDeps {
  spool: SpoolLike;
  config(): GatehouseConfig;
  log(e: SenderLogEntry): void;
  /** DNS for MX / host lookups; default: `dnsServers`, else node:dns (the system's). */
  resolver?: MxResolver;
  /** DNS servers (`ip:port`) to ask instead of the system's, when no `resolver` is given. */
  dnsServers?: readonly string[];
  now?(): Date;
  /** The queue changed (for the UI). */
  onChange?(): void;
  /** How long stop() lets attempts run before cutting sessions. Default 10 s. */
  stopTimeoutMs?: number;
  /** Idle SMTP sessions are closed after this long. Default 15 s. */
  poolIdleMs?: number;
  /** Socket silence allowed, incl. the wait for the final reply after DATA. Default 10 min. */
  socketTimeoutMs?: number;
  /** Port of MX hosts. Default 25; tests, which cannot bind 25, set their sink's port. */
  mxPort?: number;
  /** Last changes before sending (DKIM keys; long-line folding, on unless turned off), read per attempt. */
  outbound?(): OutboundOptions;
  /** The admin's pause and held domains (control.ts): nothing starts while paused. */
  control?: { isPaused(): boolean; isHeld(recipient: string): boolean };
}

export interface QueueShow extends QueueDetail {
  header: SpoolHeader;
  state: SpoolState;
}

export interface DeliveryStats {
  total: number;
  queued: number;
  active: number;
  deferred: number;
  hold: number;
  connections: number;
  waitingForConnection: number;
}

type Kind = 'queued' | 'active' | 'deferred' | 'hold';

interface Entry {
  header: QueuedHeader;
  state: SpoolState;
  /** The attempt (or exclusive admin operation) in progress. */
  running: Promise<void> | null;
  /** An admin operation waits for the entry: the scheduler leaves it alone. */
  locked: boolean;
  /** Admin asked to delete it while an attempt was running. */
  removeRequested: boolean;
  /** Serialises setState calls so the last write is the latest state (null: none yet). */
  writes: Promise<void> | null;
  /** state.nextAttemptAt in ms (0: due now), kept by refresh(). */
  due: number;
  /** Position in the due heap (due-heap.ts); -1 when not waiting there. */
  heapAt: number;
  /** What stats() counts it as; null once it left the queue. */
  kind: Kind | null;
  /** Recovered at start: waits until the recovery has handed over the whole queue. */
  parked: boolean;
  /** Due, but every pending recipient is in a domain the admin holds: waits for controlChanged(). */
  domainHeld: boolean;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const ADMIN_BOUNCE = 'bounced by administrator';
/** Distinct texts kept shared (see Texts); past this the table starts over. */
const TEXTS_MAX = 20_000;
/** The empty list every fresh state shares (frozen: nothing adds to a state's lists in place). */
const NONE = Object.freeze([]) as unknown as never[];

/**
 * One copy of each sender, recipient and error text in the queue: after an outage thousands of
 * messages carry the same few, and a string per message per field was most of a queue entry's
 * memory. The table is bounded; texts still in use stay alive in their entries either way.
 */
class Texts {
  private readonly m = new Map<string, string>();
  one(s: string): string {
    const had = this.m.get(s);
    if (had !== undefined) return had;
    if (this.m.size >= TEXTS_MAX) this.m.clear();
    this.m.set(s, s);
    return s;
  }
  all(xs: readonly string[]): string[] {
    return xs.map((x) => this.one(x));
  }
}

function dedupe(xs: readonly string[]): string[] {
  return new Set(xs).size === xs.length ? [...xs] : [...new Set(xs)];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function notFound(id: string): Error {
  return new Error(`no message ${id} in the queue`);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class DeliveryRunner {
  private readonly entries = new Map<string, Entry>();
  /** Entries waiting for their time (not running, not locked, not on hold). */
  private readonly waiting = new DueHeap<Entry>((a, b) => a.due - b.due || cmp(a.header.receivedAt, b.header.receivedAt) || cmp(a.header.id, b.header.id));
  private readonly counts: Record<Kind, number> = { queued: 0, active: 0, deferred: 0, hold: 0 };
  private readonly texts = new Texts();
  private changePending = false;
  private readonly pool: Transport;
  private readonly health = new HealthBook();
  private readonly resolver: MxResolver;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private active = 0;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private loading: Promise<void> = Promise.resolve();

  constructor(private readonly deps: DeliveryDeps) {
    this.resolver = deps.resolver ?? (deps.dnsServers && deps.dnsServers.length > 0 ? createResolver({ dnsServers: deps.dnsServers }) : systemResolver);
    // Outbound SMTP runs on its own thread (transport-thread.ts): the second core sends while this one receives and settles.
    this.pool = new ThreadedTransport({
      caps: () => {
        const d = this.deps.config().delivery;
        return { perHop: d.maxConnectionsPerHop, total: d.maxConnectionsTotal };
      },
      idleMs: deps.poolIdleMs,
      socketTimeoutMs: deps.socketTimeoutMs,
    });
  }

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /** Tells onChange once per turn of the event loop, however many changes the turn made. */
  private changed(): void {
    if (this.changePending || !this.deps.onChange) return;
    this.changePending = true;
    setImmediate(() => {
      this.changePending = false;
      try {
        this.deps.onChange?.();
      } catch {
        // a UI listener's failure is not delivery's problem
      }
    });
  }

  private log(e: SenderLogEntry): void {
    try {
      this.deps.log(e);
    } catch {
      // the log sink reports its own errors; delivery goes on
    }
  }

  // ---- feeding the queue ----

  /** Take over the messages the spool recovered at open(); their states are read from disk. */
  start(recovered: SpoolHeader[]): void {
    this.loading = this.loading.then(async () => {
      for (const h of recovered) {
        if (this.entries.has(h.id)) continue;
        let state: SpoolState | null;
        try {
          state = await this.deps.spool.getState(h.id);
        } catch (err) {
          state = { ...this.freshState(h), lastError: `state unreadable: ${errText(err)}` };
        }
        this.add(h, state);
      }
    });
    void this.loading.then(() => {
      this.changed();
      this.pump();
    });
  }

  /**
   * Messages the spool's background recovery verified (Spool.openInBackground), each with its
   * saved state (null: fresh). They are in the queue (list, stats) at once and are scheduled
   * when the recovery is through (loaded()), oldest first: so a kill during the recovery
   * finds no delivery of theirs half done, and cannot make one go out twice. Mail received
   * meanwhile is delivered as usual.
   */
  load(batch: readonly { header: SpoolHeader; state: SpoolState | null }[]): void {
    for (const m of batch) if (!this.entries.has(m.header.id)) this.add(m.header, m.state, true);
    this.changed();
  }

  /** `done` settles when the recovery has handed over everything: then the parked messages are scheduled. */
  loaded(done: Promise<unknown>): void {
    const release = (): void => {
      for (const e of this.entries.values()) {
        if (!e.parked) continue;
        e.parked = false;
        this.refresh(e);
      }
      this.changed();
      this.pump();
    };
    this.loading = this.loading.then(() => done.then(release, release));
  }

  private add(h: SpoolHeader, saved: SpoolState | null, parked = false): void {
    const header = this.keep(h);
    const state = saved ? this.compact(header, saved) : this.freshState(header);
    if (state.pending.length === 0) {
      // Crashed between the last setState and remove: everything was done or bounced.
      void this.deps.spool.remove(h.id).catch(() => undefined);
      return;
    }
    const e = this.newEntry(header, state);
    e.parked = parked;
    this.entries.set(h.id, e);
    this.refresh(e);
  }

  /** A message the SMTP layer just spooled (or a DSN this runner wrote). */
  enqueue(h: SpoolHeader): void {
    if (this.entries.has(h.id)) return;
    const header = this.keep(h);
    const e = this.newEntry(header, this.freshState(header));
    this.entries.set(h.id, e);
    this.refresh(e);
    this.changed();
    this.pump();
  }

  /** What an entry keeps of a header: its texts shared (see Texts), no checksum (QueuedHeader). */
  private keep(h: SpoolHeader): QueuedHeader {
    // `out` is a fresh copy (the rest of the spread): its texts are swapped in place, one object per message.
    const { sha256: _checkedOnRead, ...out } = h;
    out.sender = this.texts.one(h.sender);
    out.recipients = this.texts.all(h.recipients);
    out.clientIp = this.texts.one(h.clientIp);
    if (h.helo !== undefined) out.helo = this.texts.one(h.helo);
    if (h.authUser !== undefined) out.authUser = this.texts.one(h.authUser);
    return out;
  }

  private freshState(h: QueuedHeader): SpoolState {
    // A fresh message's pending list is its header's (no copy) unless it names one twice.
    const pending = new Set(h.recipients).size === h.recipients.length ? h.recipients : dedupe(h.recipients);
    return { pending, done: NONE, failed: NONE, attempts: 0 };
  }

  /** A saved state with its texts shared (see Texts). */
  private compact(h: QueuedHeader, s: SpoolState): SpoolState {
    const pending = dedupe(s.pending);
    const out: SpoolState = {
      ...s,
      pending: sameList(pending, h.recipients) ? h.recipients : this.texts.all(pending),
      done: s.done.length === 0 ? NONE : this.texts.all(s.done),
      failed: s.failed.length === 0 ? NONE : s.failed,
    };
    if (s.lastError !== undefined) out.lastError = this.texts.one(s.lastError);
    return out;
  }

  private newEntry(header: QueuedHeader, state: SpoolState): Entry {
    return { header, state, running: null, locked: false, removeRequested: false, writes: null, due: 0, heapAt: -1, kind: null, parked: false, domainHeld: false };
  }

  // ---- scheduling ----

  private dueAt(s: SpoolState): number {
    const t = s.nextAttemptAt ? Date.parse(s.nextAttemptAt) : 0;
    return Number.isNaN(t) ? 0 : t;
  }

  /**
   * After any change to an entry (its state, running, locked, or it left the queue): its count
   * in stats(), its due time, and whether it waits in the heap. O(log n).
   */
  private refresh(e: Entry): void {
    const present = this.entries.get(e.header.id) === e;
    const kind: Kind | null = !present ? null : e.state.held ? 'hold' : e.running ? 'active' : e.state.attempts > 0 ? 'deferred' : 'queued';
    if (kind !== e.kind) {
      if (e.kind) this.counts[e.kind]--;
      if (kind) this.counts[kind]++;
      e.kind = kind;
    }
    if (present && !e.running && !e.locked && !e.state.held && !e.parked && !e.domainHeld) {
      e.due = this.dueAt(e.state);
      this.waiting.set(e);
    } else {
      this.waiting.delete(e);
    }
  }

  /**
   * Start what is due (earliest first, up to the cap) and arm the one timer for the next due
   * message. Messages left over when the cap is reached start when a running attempt ends (it
   * pumps again).
   */
  private pump(): void {
    if (this.stopping) return;
    // Paused by the admin: receiving goes on, nothing is sent until resume() pumps again.
    if (this.deps.control?.isPaused()) return;
    let free = Math.max(1, this.deps.config().delivery.maxConnectionsTotal) - this.active;
    const now = this.now().getTime();
    for (let top = this.waiting.peek(); top && top.due <= now && free > 0; top = this.waiting.peek()) {
      if (this.sendable(top).length === 0) {
        // Every pending recipient is in a domain the admin holds: out of the heap until a release.
        top.domainHeld = true;
        this.refresh(top);
        continue;
      }
      this.begin(top);
      free--;
    }
    const top = this.waiting.peek();
    this.arm(top && top.due > now ? top.due : Infinity);
  }

  private arm(at: number): void {
    if (at === this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = at;
    if (at === Infinity) return;
    const delay = Math.min(Math.max(0, at - this.now().getTime()), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.pump();
    }, delay);
    this.timer.unref();
  }

  private begin(e: Entry): void {
    this.active++;
    e.running = this.attempt(e)
      .catch((err) => {
        // Unexpected (a bug or the spool failing): keep the message, try later.
        e.state = { ...e.state, lastError: `delivery error: ${errText(err)}`, nextAttemptAt: this.later(e) };
      })
      .finally(() => {
        this.active--;
        e.running = null;
        this.refresh(e);
        this.changed();
        this.pump();
      });
    this.refresh(e);
    this.changed();
  }

  /** Pending recipients not in a domain the admin holds. */
  private sendable(e: Entry): string[] {
    const c = this.deps.control;
    return c ? e.state.pending.filter((r) => !c.isHeld(r)) : e.state.pending;
  }

  /** The admin resumed delivery or released a domain: start what is due. */
  controlChanged(): void {
    for (const e of this.entries.values()) {
      if (!e.domainHeld) continue;
      e.domainHeld = false;
      this.refresh(e);
    }
    this.changed();
    this.pump();
  }

  private later(e: Entry): string {
    const d = this.deps.config().delivery;
    return new Date(nextAttemptTime(this.now().getTime(), d.retrySchedule, Math.max(1, e.state.attempts), e.header.receivedAt, d.maxLifetimeSeconds)).toISOString();
  }

  // ---- one attempt ----

  private async attempt(e: Entry): Promise<void> {
    const id = e.header.id;
    const cfg = this.deps.config();
    const attemptNo = e.state.attempts + 1;
    let raw: Buffer;
    try {
      raw = await this.deps.spool.readBody(id);
    } catch (err) {
      return this.unreadable(e, err);
    }
    const result = await runAttempt(e.header, this.sendable(e), raw, cfg, {
      pool: this.pool,
      resolver: this.resolver,
      health: this.health,
      now: () => this.now(),
      stopping: () => this.stopping,
      mxPort: this.deps.mxPort,
      outbound: this.deps.outbound?.(),
    });
    await this.settle(e, result, attemptNo, raw, cfg);
  }

  private async unreadable(e: Entry, err: unknown): Promise<void> {
    const id = e.header.id;
    const code = (err as { code?: string })?.code;
    const corrupt = (err as Error)?.name === 'SpoolCorruptError' || code === 'ESPOOLCORRUPT';
    if (corrupt || code === 'ENOENT') {
      // Never send bytes that fail their checksum; the admin finds them in quarantine/.
      this.entries.delete(id);
      this.refresh(e);
      if (corrupt) {
        await this.deps.spool.quarantine(id, errText(err)).catch(() => undefined);
        this.log(noteLine(e.header, e.state.attempts, this.now(), 'bounced', [], `spool file corrupt, moved to quarantine (no bounce): ${errText(err)}`));
      }
      this.changed();
      return;
    }
    e.state = { ...e.state, lastError: `cannot read the message: ${errText(err)}`, nextAttemptAt: this.later(e) };
    await this.persist(e).catch(() => undefined);
  }

  private async settle(e: Entry, result: AttemptResult, attemptNo: number, raw: Buffer, cfg: GatehouseConfig): Promise<void> {
    const now = this.now();
    const nowMs = now.getTime();
    const h = e.header;
    const d = cfg.delivery;
    const counted = result.tries.length > 0;
    const sorted = sortResults(e.state.pending, result.results, counted && isExpired(nowMs, h.receivedAt, d.maxLifetimeSeconds));
    let { deferred, expired } = sorted;
    let failing = [...sorted.bounced, ...expired];
    const lines: SenderLogEntry[] = [];
    // 1. The bounce goes to disk before anyone is taken off pending.
    let bounceLost: string | undefined;
    let dsnId: string | undefined;
    let delayDsnId: string | undefined;
    if (failing.length > 0 && !e.removeRequested) {
      if (mayBounce(h.sender)) {
        try {
          dsnId = await this.spoolDsn(e, raw, failing.map((r) => dsnRecipient(r, 'failed', h.receivedAt, d.maxLifetimeSeconds)), now);
        } catch (err) {
          bounceLost = `cannot queue the bounce: ${errText(err)}`;
        }
      } else {
        lines.push(noteLine(h, attemptNo, now, 'bounced', failing, 'null sender: no bounce sent, failed recipients dropped'));
      }
    }
    if (bounceLost) {
      // Not dropped: they stay pending and bounce on a later attempt, when the disk has room.
      deferred = [...deferred, ...failing];
      failing = [];
      expired = [];
    }
    // Delay warning: once per message, to a sender that may get DSNs.
    let warnedAt = e.state.warnedAt;
    if (deferred.length > 0 && !e.removeRequested && mayBounce(h.sender) && delayWarningDue(nowMs, h.receivedAt, d.delayWarningSeconds, warnedAt)) {
      try {
        delayDsnId = await this.spoolDsn(e, raw, deferred.map((r) => dsnRecipient(r, 'delayed', h.receivedAt, d.maxLifetimeSeconds)), now);
        warnedAt = now.toISOString();
      } catch {
        // no warning this time; the next attempt tries again
      }
    }
    // 2. New state from the current one (read after the awaits: a hold set meanwhile stays).
    const attempts = counted ? e.state.attempts + 1 : e.state.attempts;
    const next = nextState(e.state, {
      delivered: sorted.delivered,
      failing,
      counted,
      warnedAt,
      lastError: bounceLost ?? (deferred[0] ? `${deferred[0].recipient}: ${deferred[0].reply}` : undefined),
      // Cut short by stop(): no date, so it is due at once after a restart.
      nextAttemptAt: this.stopping
        ? undefined
        : new Date(nextAttemptTime(nowMs, d.retrySchedule, Math.max(1, attempts), h.receivedAt, d.maxLifetimeSeconds)).toISOString(),
    });
    if (next.lastError !== undefined) next.lastError = this.texts.one(next.lastError);
    e.state = next;
    let persisted = true;
    try {
      // Nothing pending (every DSN is already spooled): removing the message is the durable
      // record; a state write first would only cost two more fsyncs per delivered message.
      if (next.pending.length > 0 || e.removeRequested) await this.persist(e);
    } catch (err) {
      persisted = false;
      // Kept in memory (no second delivery from this process); retried later, not in a loop.
      e.state = { ...e.state, lastError: `cannot save the queue state: ${errText(err)}`, nextAttemptAt: this.later(e) };
    }
    // 3. Remove only once the saved state says nothing is pending (or the admin deleted it).
    if (persisted && (next.pending.length === 0 || e.removeRequested)) {
      await this.dropEntry(e);
    }
    const still = new Set(next.pending);
    lines.unshift(...result.tries.map((t) => attemptLine(h, attemptNo, t, still, next.nextAttemptAt)));
    if (expired.length > 0) {
      lines.push(noteLine(h, attemptNo, now, 'expired', expired, `message expired after ${d.maxLifetimeSeconds} s in the queue${mayBounce(h.sender) ? '; bounce sent' : ''}`));
    }
    // The bounce and the warning are messages of their own: the lines name them (timeline).
    for (const l of lines) {
      if (dsnId && (l.outcome === 'bounced' || l.outcome === 'expired' || l.outcome === 'partial')) l.dsn = dsnId;
      if (delayDsnId && (l.outcome === 'deferred' || l.outcome === 'partial')) l.delayDsn = delayDsnId;
    }
    for (const l of lines) this.log(l);
  }

  /** Write a DSN to the spool (durable on return) and queue it like any message; resolves to its queue id. */
  private async spoolDsn(e: Entry, raw: Buffer | null, recipients: DsnRecipient[], now: Date): Promise<string> {
    const cfg = this.deps.config();
    const body = buildDsn({
      reportingMta: cfg.hostname,
      queueId: e.header.id,
      sender: e.header.sender,
      arrivalDate: new Date(e.header.receivedAt),
      recipients,
      originalHeaders: raw ? headerBlock(raw) : '',
      now,
    });
    const dsn = await this.deps.spool.write(dsnEnvelope(e.header.sender, e.header.id), body);
    // Queued after this settles (enqueue pumps; fine even mid-attempt, it is another entry).
    this.enqueue(dsn);
    return dsn.id;
  }

  private persist(e: Entry): Promise<void> {
    const write = () => this.deps.spool.setState(e.header.id, structuredClone(e.state));
    const p = e.writes ? e.writes.then(write) : write();
    const tail = p.catch(() => undefined);
    e.writes = tail;
    void tail.then(() => {
      if (e.writes === tail) e.writes = null;
    });
    return p;
  }

  private async dropEntry(e: Entry): Promise<void> {
    if (e.writes) await e.writes;
    await this.deps.spool.remove(e.header.id);
    this.entries.delete(e.header.id);
    this.refresh(e);
    this.changed();
  }

  // ---- admin API ----

  async list(filter?: QueueFilter): Promise<QueueItem[]> {
    await this.loading;
    return [...this.entries.values()]
      .map((e) => queueItem(e.header, e.state, e.running !== null))
      .filter((i) => matches(i, filter))
      .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  }

  async show(id: string): Promise<QueueShow> {
    await this.loading;
    const e = this.entries.get(id);
    if (!e) throw notFound(id);
    const body = await this.deps.spool.readBody(id);
    // The file's own header: the queue keeps no checksum (QueuedHeader).
    const header = await this.deps.spool.readHeader(id);
    return {
      item: queueItem(e.header, e.state, e.running !== null),
      headers: headerBlock(body).toString('utf8'),
      failed: e.state.failed.map((f) => ({ ...f })),
      header,
      state: structuredClone(e.state),
    };
  }

  /** Make one message (or every one not on hold) due now. */
  async retryNow(id?: string): Promise<void> {
    await this.loading;
    const targets = id === undefined ? [...this.entries.values()] : [this.entries.get(id)];
    if (id !== undefined && !targets[0]) throw notFound(id);
    for (const e of targets) {
      if (e && !e.state.held) {
        delete e.state.nextAttemptAt;
        this.refresh(e);
      }
    }
    this.changed();
    this.pump();
  }

  async hold(id: string): Promise<void> {
    await this.setHeld(id, true);
  }

  async release(id: string): Promise<void> {
    await this.setHeld(id, false);
    this.pump();
  }

  private async setHeld(id: string, held: boolean): Promise<void> {
    await this.loading;
    const e = this.entries.get(id);
    if (!e) throw notFound(id);
    // Written at once (a hold must survive a restart); a running attempt's own write comes
    // later in the same chain and carries the flag too.
    e.state = { ...e.state, held };
    if (!held) delete e.state.held;
    this.refresh(e);
    this.changed();
    await this.persist(e);
  }

  /** Delete without a bounce. A running attempt ends first (and sends no bounce either). */
  async remove(id: string): Promise<void> {
    await this.exclusive(
      id,
      async (e) => {
        await this.dropEntry(e);
      },
      true,
    );
  }

  /** Bounce every pending recipient now ("bounced by administrator"), then delete. */
  async bounceNow(id: string): Promise<void> {
    await this.exclusive(id, async (e) => {
      const now = this.now();
      const h = e.header;
      let dsnId: string | undefined;
      const failing = e.state.pending.map((recipient) => ({ recipient, reply: ADMIN_BOUNCE }));
      if (failing.length > 0 && mayBounce(h.sender)) {
        const raw = await this.deps.spool.readBody(h.id).catch(() => null);
        const recipients: DsnRecipient[] = failing.map((f) => ({ recipient: f.recipient, action: 'failed', status: '5.0.0', diagnostic: ADMIN_BOUNCE, smtp: false, lastAttemptAt: now }));
        dsnId = await this.spoolDsn(e, raw, recipients, now);
      }
      e.state = {
        ...e.state,
        pending: [],
        failed: [...e.state.failed, ...failing.map((f) => ({ rcpt: f.recipient, reply: ADMIN_BOUNCE }))],
      };
      delete e.state.nextAttemptAt;
      await this.persist(e);
      await this.dropEntry(e);
      const note = mayBounce(h.sender) ? `${ADMIN_BOUNCE}; bounce sent` : `${ADMIN_BOUNCE}; null sender, no bounce`;
      const line = noteLine(h, e.state.attempts, now, 'bounced', failing, note);
      if (dsnId) line.dsn = dsnId;
      this.log(line);
    });
  }

  /** Run `fn` on the entry with no attempt running and none starting meanwhile. */
  private async exclusive(id: string, fn: (e: Entry) => Promise<void>, removing = false): Promise<void> {
    await this.loading;
    const e = this.entries.get(id);
    if (!e) throw notFound(id);
    if (e.locked) throw new Error(`message ${id} is busy with another admin operation`);
    e.locked = true;
    this.refresh(e);
    try {
      if (e.running) {
        // The attempt sees this when it settles: no DSN, and it removes the message itself.
        if (removing) e.removeRequested = true;
        await e.running;
      }
      if (!this.entries.has(id)) return; // the attempt finished it
      await fn(e);
    } finally {
      e.locked = false;
      this.refresh(e);
      this.changed();
      this.pump();
    }
  }

  routeHealth(): RouteHealth[] {
    return this.health.list(configuredHops(this.deps.config()));
  }

  stats(): DeliveryStats {
    const c = this.counts;
    const p = this.pool.stats();
    return { total: this.entries.size, queued: c.queued, active: c.active, deferred: c.deferred, hold: c.hold, connections: p.connections, waitingForConnection: p.waiting };
  }

  // ---- stop ----

  /** Start nothing new; let attempts finish up to stopTimeoutMs, then cut their sessions. */
  stop(): Promise<void> {
    if (!this.stopped) this.stopped = this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Not waiting for `loading`: that may be a recovery of the whole queue, which the spool's
    // close() cuts short; nothing starts from here on anyway (pump() checks `stopping`).
    const limit = this.deps.stopTimeoutMs ?? 10_000;
    const settledIn = async (ms: number): Promise<boolean> => {
      const running = [...this.entries.values()].map((e) => e.running).filter((p): p is Promise<void> => p !== null);
      if (running.length === 0) return true;
      let t: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((r) => {
        t = setTimeout(() => r(false), ms);
      });
      const done = await Promise.race([Promise.allSettled(running).then(() => true as const), timeout]);
      clearTimeout(t);
      return done;
    };
    if (!(await settledIn(limit))) {
      // Cut the sessions: those sends fail, the attempts record them as deferred and save.
      this.pool.close(true);
      await settledIn(5_000);
    }
    this.pool.close(true);
    await this.pool.dispose?.();
    await Promise.allSettled([...this.entries.values()].map((e) => e.writes ?? undefined));
    this.changed();
  }
}
