/*
 * One log view (receivelog or senderlog): the lines of one day matching the filter, newest
 * last. "Live" (day = null) is today's file plus every new line from the event stream,
 * appended at once; a past day is a fixed file. Lines are kept in a plain array (not a deep
 * $state proxy: a million proxied objects would crawl) and `version` ticks on every change,
 * so the virtual list re-renders only the rows on screen. Paging backwards (`loadOlder`)
 * prepends older lines; `onShift` tells the list how many rows moved so the view stays put.
 * Load errors land in `error`; nothing throws.
 */
import type { ApiError, LogFilter, LogKind } from '../../../../main/shared/contract.js';
import { asApiError, call, on, onReconnect } from '../api.js';
import { localDay } from '../i18n/index.svelte.js';
import { cleanFilter, matchesFilter, type AnyLogEntry } from '../logfilter.js';

/** Lines fetched per page (first load and each step back). */
export const PAGE = 2000;
/** Most lines kept in memory; past it the oldest are dropped in chunks. */
export const MAX_LINES = 1_000_000;
const DROP_CHUNK = 50_000;

export class LogStore {
  readonly kind: LogKind;
  /** The lines, oldest first. Read through `version` for reactivity. */
  lines: AnyLogEntry[] = [];
  version = $state(0);
  count = $state(0);
  /** null = live (today + new lines). */
  day = $state<string | null>(null);
  filter = $state<LogFilter>({});
  days = $state.raw<string[]>([]);
  loading = $state(false);
  loadingOlder = $state(false);
  error = $state.raw<ApiError | null>(null);
  nextBefore = $state<number | null>(null);
  following = $state(true);
  newWhilePaused = $state(0);
  /** Set by the list: rows were inserted (+) or dropped (-) before the visible ones. */
  onShift: ((rows: number) => void) | null = null;

  #pending: AnyLogEntry[] | null = null;
  #gen = 0;
  #started = false;

  constructor(kind: LogKind) {
    this.kind = kind;
  }

  get live(): boolean {
    return this.day === null;
  }

  init(): void {
    if (this.#started) return;
    this.#started = true;
    on(this.kind === 'receive' ? 'receivelog' : 'senderlog', (e) => this.onLine(e));
    onReconnect(() => {
      if (this.live) void this.reload();
    });
    void this.reload();
    void this.loadDays();
  }

  async loadDays(): Promise<void> {
    try {
      this.days = await call('log.days', { kind: this.kind });
    } catch (err) {
      this.error = asApiError(err);
    }
  }

  setDay(day: string | null): void {
    this.day = day === localDay() ? null : day;
    void this.reload();
  }

  setFilter(f: LogFilter): void {
    this.filter = { ...f };
    void this.reload();
  }

  /** Loads the newest page of the chosen day with the current filter. */
  async reload(): Promise<void> {
    const gen = ++this.#gen;
    this.loading = true;
    this.error = null;
    this.#pending = [];
    try {
      const page = await call('log.page', {
        kind: this.kind,
        day: this.day ?? localDay(),
        limit: PAGE,
        filter: cleanFilter(this.filter),
      });
      if (gen !== this.#gen) return;
      const entries = page.entries as AnyLogEntry[];
      // Lines that arrived while the page loaded: keep those the page does not have yet.
      const recent = new Set(entries.slice(-2000).map((e) => JSON.stringify(e)));
      const extra = (this.#pending ?? []).filter((e) => !recent.has(JSON.stringify(e)));
      this.lines = entries.concat(extra);
      this.nextBefore = page.nextBefore;
      this.newWhilePaused = 0;
      this.following = true;
      this.touch();
    } catch (err) {
      if (gen === this.#gen) {
        this.error = asApiError(err);
        this.lines = [];
        this.nextBefore = null;
        this.touch();
      }
    } finally {
      if (gen === this.#gen) {
        this.loading = false;
        this.#pending = null;
      }
    }
  }

  /** Prepends the page before the oldest loaded line; resolves to the number of lines added. */
  async loadOlder(): Promise<number> {
    if (this.nextBefore === null || this.loadingOlder || this.loading) return 0;
    const gen = this.#gen;
    this.loadingOlder = true;
    try {
      const page = await call('log.page', {
        kind: this.kind,
        day: this.day ?? localDay(),
        before: this.nextBefore,
        limit: PAGE,
        filter: cleanFilter(this.filter),
      });
      if (gen !== this.#gen) return 0;
      const older = page.entries as AnyLogEntry[];
      this.nextBefore = page.nextBefore;
      if (older.length) {
        this.lines = older.concat(this.lines);
        this.touch();
        this.onShift?.(older.length);
      }
      return older.length;
    } catch (err) {
      this.error = asApiError(err);
      return 0;
    } finally {
      this.loadingOlder = false;
    }
  }

  private onLine(e: AnyLogEntry): void {
    if (!this.live) return;
    if (!matchesFilter(e, cleanFilter(this.filter))) return;
    if (this.#pending) {
      this.#pending.push(e);
      return;
    }
    this.lines.push(e);
    if (this.lines.length > MAX_LINES + DROP_CHUNK) {
      const drop = this.lines.length - MAX_LINES;
      this.lines.splice(0, drop);
      // The byte offset of the old start no longer matches: open the day to page further.
      this.nextBefore = null;
      this.onShift?.(-drop);
    }
    if (!this.following) this.newWhilePaused++;
    this.touch();
  }

  private touch(): void {
    this.count = this.lines.length;
    this.version++;
  }

  resume(): void {
    this.following = true;
    this.newWhilePaused = 0;
  }

  pause(): void {
    this.following = false;
  }

  /** Test and demo hook: replace the lines (used by the virtual-list performance test). */
  replaceLines(lines: AnyLogEntry[]): void {
    this.#gen++;
    this.lines = lines;
    this.nextBefore = null;
    this.touch();
  }
}

export const receiveLog = new LogStore('receive');
export const sendLog = new LogStore('send');
