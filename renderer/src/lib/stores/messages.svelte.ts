/*
 * The live log as messages: today's receivelog and senderlog lines (or a past day's), grouped
 * by the same MessageBook the core uses (main/shared/messages.ts), one row per message, kept
 * live by the event stream; older lines page in from both logs. `search(text, days)` asks
 * the core to search every retained day (`messages.search`) and shows those results instead
 * until `clearSearch()`. `rows` is the filtered list, newest first; `version` ticks on every
 * change. Errors land in `error`; nothing throws.
 */
import type { ApiError, MessageSearchResult } from '../../../../main/shared/contract.js';
import { MessageBook, type MessageSummary } from '../../../../main/shared/messages.js';
import type { ReceiveLogEntry, SenderLogEntry } from '../../../../main/shared/types.js';
import { asApiError, call, on, onReconnect } from '../api.js';
import { localDay } from '../i18n/index.svelte.js';

const PAGE = 2000;
/** Most lines of one page grouped (a core answers PAGE; more would only slow the window). */
const MAX_PAGE_LINES = 10_000;

export type OutcomeFilter = '' | 'problem' | 'rejected' | 'delivered' | 'waiting';

export class MessageLogStore {
  book = new MessageBook();
  version = $state(0);
  day = $state<string | null>(null);
  text = $state('');
  outcome = $state<OutcomeFilter>('');
  loading = $state(false);
  loadingOlder = $state(false);
  error = $state.raw<ApiError | null>(null);
  nextBefore = $state<{ receive: number | null; send: number | null }>({ receive: null, send: null });
  /** Results of a search over the retained days (null: showing the day's messages). */
  searched = $state.raw<(MessageSearchResult & { text: string }) | null>(null);
  searching = $state(false);
  #gen = 0;
  #started = false;
  #pending: (ReceiveLogEntry | SenderLogEntry)[] | null = null;

  get live(): boolean {
    return this.day === null;
  }

  init(): void {
    if (this.#started) return;
    this.#started = true;
    on('receivelog', (e) => this.onLine(e));
    on('senderlog', (e) => this.onLine(e));
    onReconnect(() => {
      if (this.live) void this.reload();
    });
    void this.reload();
  }

  private onLine(e: ReceiveLogEntry | SenderLogEntry): void {
    if (!this.live) return;
    if (this.#pending) {
      this.#pending.push(e);
      return;
    }
    this.book.add(e);
    this.version++;
  }

  setDay(day: string | null): void {
    this.day = day === localDay() ? null : day;
    void this.reload();
  }

  async reload(): Promise<void> {
    const gen = ++this.#gen;
    this.loading = true;
    this.error = null;
    this.#pending = [];
    try {
      const day = this.day ?? localDay();
      const [r, s] = await Promise.all([call('log.page', { kind: 'receive', day, limit: PAGE }), call('log.page', { kind: 'send', day, limit: PAGE })]);
      if (gen !== this.#gen) return;
      const book = new MessageBook();
      const seen = new Set<string>();
      for (const e of merge(r.entries.slice(-MAX_PAGE_LINES), s.entries.slice(-MAX_PAGE_LINES))) {
        seen.add(JSON.stringify(e));
        book.add(e);
      }
      for (const e of this.#pending ?? []) if (!seen.has(JSON.stringify(e))) book.add(e);
      this.book = book;
      this.nextBefore = { receive: r.nextBefore, send: s.nextBefore };
      this.version++;
    } catch (err) {
      if (gen === this.#gen) this.error = asApiError(err);
    } finally {
      if (gen === this.#gen) {
        this.loading = false;
        this.#pending = null;
      }
    }
  }

  /** Older lines of both logs (the book regroups them with what is loaded). */
  async loadOlder(): Promise<void> {
    const nb = this.nextBefore;
    if ((nb.receive === null && nb.send === null) || this.loadingOlder) return;
    const gen = this.#gen;
    this.loadingOlder = true;
    try {
      const day = this.day ?? localDay();
      const [r, s] = await Promise.all([
        nb.receive === null ? null : call('log.page', { kind: 'receive', day, before: nb.receive, limit: PAGE }),
        nb.send === null ? null : call('log.page', { kind: 'send', day, before: nb.send, limit: PAGE }),
      ]);
      if (gen !== this.#gen) return;
      // Regroup from scratch: older lines belong before the ones loaded.
      const all = merge((r?.entries ?? []).slice(-MAX_PAGE_LINES), (s?.entries ?? []).slice(-MAX_PAGE_LINES));
      const book = new MessageBook();
      for (const e of all) book.add(e);
      for (const m of this.book.list()) for (const l of this.book.get(m.ref)?.lines ?? []) book.add(l);
      this.book = book;
      this.nextBefore = { receive: r ? r.nextBefore : null, send: s ? s.nextBefore : null };
      this.version++;
    } catch (err) {
      this.error = asApiError(err);
    } finally {
      this.loadingOlder = false;
    }
  }

  async search(text: string, days?: number): Promise<void> {
    this.searching = true;
    this.error = null;
    try {
      const r = await call('messages.search', { text, ...(days ? { days } : {}) });
      this.searched = { ...r, text };
    } catch (err) {
      this.error = asApiError(err);
    } finally {
      this.searching = false;
    }
  }

  clearSearch(): void {
    this.searched = null;
  }

  /** The messages shown, newest first. */
  rows(): MessageSummary[] {
    void this.version;
    // Copies: the book updates its summaries in place, and a row re-renders only for a new object.
    const list = this.searched ? this.searched.messages : this.book.list().reverse().map((m) => ({ ...m, recipients: [...m.recipients] }));
    const needle = this.searched ? '' : this.text.trim().toLowerCase();
    return list.filter((m) => {
      if (this.outcome === 'rejected' && m.outcome !== 'rejected' && m.rejected === 0) return false;
      if (this.outcome === 'problem' && !(m.rejected > 0 || ['rejected', 'deferred', 'bounced', 'expired', 'partial'].includes(m.outcome))) return false;
      if (this.outcome === 'delivered' && m.outcome !== 'delivered') return false;
      if (this.outcome === 'waiting' && m.outcome !== 'queued' && m.outcome !== 'deferred') return false;
      if (!needle) return true;
      const hay = [m.sender, m.subject ?? '', m.queueId ?? '', m.messageId ?? '', m.clientIp ?? '', ...m.recipients.map((r) => r.address)].join(' ').toLowerCase();
      return hay.includes(needle);
    });
  }

  /** The lines of one message (for its SMTP steps). */
  lines(ref: string): (ReceiveLogEntry | SenderLogEntry)[] {
    void this.version;
    return this.book.get(ref)?.lines ?? [];
  }
}

function merge(a: (ReceiveLogEntry | SenderLogEntry)[], b: (ReceiveLogEntry | SenderLogEntry)[]): (ReceiveLogEntry | SenderLogEntry)[] {
  return [...a, ...b].sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 'event' in x === 'event' in y ? 0 : 'event' in x ? -1 : 1));
}

export const messageLog = new MessageLogStore();
