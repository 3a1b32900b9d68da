/*
 * The settings store: `<dataDir>/config.json` through lowdb (private-json-file.ts writes a temp
 * file and renames it, atomic but never fsync'd: fine for settings, which are also kept as
 * `config.last-good.json` after every successful save; a rename held off by a virus scanner is
 * retried with bounded backoff and told to `onNotice`), plus the audit trail
 * `<dataDir>/audit.jsonl`, one AuditEntry per line, appended with fsync, `n` counting from 1.
 * get() hands out a deep-frozen snapshot; update()/replace()/restore() validate a new config and
 * either save it (file, last-good, audit line, 'change' event) or throw ConfigError and keep the
 * old one. The store is the only writer of its data folder while a gateway runs (the CLI sends
 * its changes to the running gateway instead of opening a second store), so watch() follows
 * only hand edits of config.json: it tells its own saves apart by the file's identity (inode,
 * size, mtime) without reading them back, adopts a valid edit (audited via 'file'), or emits
 * 'error' naming the field and keeps the last good settings. A file that fails at start is replaced by the last-good copy when there is
 * one (see `startupProblem`); without one, open() throws ConfigError naming file and fields.
 * Whatever content is refused is copied to `config.rejected.json` first, so no edit is lost.
 */
import { sealSecrets } from './secret-fields.js';
import { EventEmitter } from 'node:events';
import { watch as fsWatch, type FSWatcher, type Stats } from 'node:fs';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

import { Low } from 'lowdb';
// Owner-only files (0600) and folder (0700): config.json holds password hashes.
import { PrivateJSONFile as JSONFile } from './private-json-file.js';
import { PRIVATE_FILE_MODE, copyPrivateFile as copyFile, makePrivateDir } from '../private-files.js';
import { HELD_RETRY_DELAYS_MS, heldRetryText, retryWhileHeld } from '../fs-retry.js';

import { issueAt, problem } from '../../shared/issues.js';
import type { AuditEntry, ChangeVia, GatehouseConfig } from '../../shared/types.js';
import { auditWhat, type AuditWhat } from '../../shared/audit.js';

/** The audit entry's `what` (English) and, when given, its code and parameters. */
function whatFields(said: string | AuditWhat): Pick<AuditEntry, 'what' | 'whatCode' | 'whatParams'> {
  return typeof said === 'string' ? { what: said } : { what: said.text, whatCode: said.code, whatParams: said.params };
}
import {
  ConfigError,
  type ConfigIssue,
  deepFreeze,
  defaultConfig,
  formatIssues,
  sameConfig,
  validateConfig,
} from './schema.js';

export const CONFIG_FILE = 'config.json';
export const LAST_GOOD_FILE = 'config.last-good.json';
export const REJECTED_FILE = 'config.rejected.json';
export const AUDIT_FILE = 'audit.jsonl';

export interface ConfigStoreOptions {
  /** Content for a data dir that has no config.json yet (setup wizard, demo); default: defaults. */
  createWith?: GatehouseConfig;
  /** watch() debounce in ms (editors write in bursts). */
  debounceMs?: number;
  /** Platform for defaults (tests); default process.platform. */
  platform?: NodeJS.Platform;
  /**
   * One line when a save waits for a file another program holds (a virus scanner, the search
   * indexer), and when it got through or gave up. Default: a process warning.
   */
  onNotice?: (text: string) => void;
  /** Waits between attempts while a file is held (fs-retry.ts; tests shorten them). */
  heldRetryDelaysMs?: readonly number[];
}

export interface ConfigStoreEvents {
  change: [config: GatehouseConfig, entry: AuditEntry];
  error: [error: Error];
}

type Parsed = { ok: true; config: GatehouseConfig } | { ok: false; errors: ConfigIssue[]; json: boolean };

/** Node's JSON error says "at position 123"; a person editing the file wants line and column. */
function jsonIssue(text: string, err: unknown): ConfigIssue {
  const msg = err instanceof Error ? err.message : String(err);
  const m = /position (\d+)/.exec(msg);
  if (!m) return issueAt('', { ...problem('json_unreadable'), message: `not valid JSON: ${msg}` });
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  const p = problem('json', { line, column });
  return issueAt('', { ...p, message: `${p.message}: ${msg}` });
}

/** Parse and validate file text. Notepad on Windows may add a BOM; JSON.parse would choke on it. */
function parseConfigText(text: string, platform: NodeJS.Platform): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    return { ok: false, errors: [jsonIssue(text, e)], json: false };
  }
  const r = validateConfig(raw, platform);
  return r.ok ? r : { ok: false, errors: r.errors, json: true };
}

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * readText for the watcher. On Windows a file being replaced by another process can answer
 * EBUSY/EPERM/EACCES for a moment; that is not a broken config, so look again before failing.
 */
async function readTextPatiently(file: string, waitMs: number): Promise<string | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readText(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (attempt >= 5 || (code !== 'EBUSY' && code !== 'EPERM' && code !== 'EACCES')) throw e;
      await new Promise((res) => setTimeout(res, waitMs));
    }
  }
}

/** Which file a name points at, and in which state: changes with every save, rename or edit. */
async function fileIdentity(file: string): Promise<string | null> {
  let st: Stats;
  try {
    st = await stat(file);
  } catch {
    return null;
  }
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** The last non-empty line of a file, read from the end (the audit trail only grows). */
async function readLastLine(file: string): Promise<string | null> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    let pos = (await fh.stat()).size;
    let buf = Buffer.alloc(0);
    while (pos > 0) {
      const len = Math.min(65536, pos);
      pos -= len;
      const chunk = Buffer.alloc(len);
      await fh.read(chunk, 0, len, pos);
      buf = Buffer.concat([chunk, buf]);
      let end = buf.length;
      while (end > 0 && (buf[end - 1] === 0x0a || buf[end - 1] === 0x0d)) end--;
      if (end === 0) continue;
      const nl = buf.lastIndexOf(0x0a, end - 1);
      if (nl >= 0) return buf.subarray(nl + 1, end).toString('utf8');
    }
    const all = buf.toString('utf8').trim();
    return all === '' ? null : all;
  } finally {
    await fh.close();
  }
}

function parseAuditLine(line: string): AuditEntry | null {
  try {
    const e = JSON.parse(line) as AuditEntry;
    return typeof e === 'object' && e !== null && Number.isInteger(e.n) && typeof e.after === 'object' ? e : null;
  } catch {
    return null; // a line torn by a crash mid-append
  }
}

export class ConfigStore extends EventEmitter<ConfigStoreEvents> {
  readonly dataDir: string;
  readonly file: string;
  readonly lastGoodFile: string;
  readonly rejectedFile: string;
  readonly auditFile: string;
  /** Set when open() could not use config.json as it was; says what it did instead. */
  startupProblem: string | null = null;

  #current: GatehouseConfig;
  #db: Low<GatehouseConfig>;
  #lastGood: Low<GatehouseConfig>;
  #platform: NodeJS.Platform;
  #debounceMs: number;
  #notice: (text: string) => void;
  #heldDelays: readonly number[];
  #queue: Promise<unknown> = Promise.resolve();
  #watcher: FSWatcher | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  /** config.json as our last save left it: a watch event on that same file is our own echo. */
  #ownWrite: string | null = null;

  private constructor(dataDir: string, initial: GatehouseConfig, opts: ConfigStoreOptions) {
    super();
    this.dataDir = dataDir;
    this.file = join(dataDir, CONFIG_FILE);
    this.lastGoodFile = join(dataDir, LAST_GOOD_FILE);
    this.rejectedFile = join(dataDir, REJECTED_FILE);
    this.auditFile = join(dataDir, AUDIT_FILE);
    this.#current = deepFreeze(initial);
    this.#notice = (text) => {
      try {
        if (opts.onNotice) opts.onNotice(`config: ${text}`);
        else process.emitWarning(`config: ${text}`, { code: 'GATEHOUSE_CONFIG' });
      } catch {
        // Logging must not turn into a failed save.
      }
    };
    this.#heldDelays = opts.heldRetryDelaysMs ?? HELD_RETRY_DELAYS_MS;
    const files = { heldRetryDelaysMs: this.#heldDelays, onNotice: this.#notice };
    this.#db = new Low(new JSONFile<GatehouseConfig>(this.file, files), initial);
    this.#lastGood = new Low(new JSONFile<GatehouseConfig>(this.lastGoodFile, files), initial);
    this.#platform = opts.platform ?? process.platform;
    this.#debounceMs = opts.debounceMs ?? 100;
  }

  /** Open (or create) the settings in `dataDir`. Throws ConfigError if nothing usable is there. */
  static async open(dataDir: string, opts: ConfigStoreOptions = {}): Promise<ConfigStore> {
    const platform = opts.platform ?? process.platform;
    await makePrivateDir(dataDir);
    const file = join(dataDir, CONFIG_FILE);
    const text = await readText(file);
    const parsed = text === null ? null : parseConfigText(text, platform);

    if (parsed?.ok) {
      const store = new ConfigStore(dataDir, parsed.config, opts);
      await store.#auditEditWhileStopped();
      await store.#refreshLastGood();
      return store;
    }

    const lastGoodText = await readText(join(dataDir, LAST_GOOD_FILE));
    const lastGood = lastGoodText === null ? null : parseConfigText(lastGoodText, platform);

    if (text === null && !lastGood?.ok) {
      // A new data dir: the first audit entry records where the settings came from.
      let initial = defaultConfig(platform);
      let what = auditWhat('created-defaults');
      if (opts.createWith) {
        const r = validateConfig(opts.createWith, platform);
        if (!r.ok) throw new ConfigError(r.errors, { summary: 'The initial settings given are invalid' });
        initial = r.config;
        what = auditWhat('created');
      }
      const store = new ConfigStore(dataDir, initial, opts);
      await store.#save(initial);
      await store.#appendAudit({ via: 'default', ...whatFields(what), before: null, after: initial });
      return store;
    }

    if (!lastGood?.ok) {
      // parsed is a failure here: text exists and was refused, and there is no fallback.
      const errors = parsed && !parsed.ok ? parsed.errors : [];
      throw new ConfigError(errors, {
        file,
        summary: `Cannot start: ${file} is invalid and there is no last good copy (${LAST_GOOD_FILE}) to fall back on; fix these fields`,
      });
    }

    const store = new ConfigStore(dataDir, lastGood.config, opts);
    if (text === null) {
      // Someone removed config.json; starting over from defaults would silently drop every rule.
      await store.#save(lastGood.config);
      store.startupProblem = `${file} was missing; restored it from ${store.lastGoodFile}.`;
    } else {
      const problems = parsed && !parsed.ok ? parsed.errors : [];
      await copyFile(file, store.rejectedFile);
      store.startupProblem =
        `${file} is invalid, so Gatehouse started with the last good settings from ${store.lastGoodFile}. ` +
        `Problems:\n  ${formatIssues(problems).replace(/\n/g, '\n  ')}\n` +
        `A copy of the refused file is in ${store.rejectedFile}; the next saved change overwrites ${file}.`;
    }
    return store;
  }

  /** The current settings: a deep-frozen snapshot, replaced (never mutated) on every change. */
  get(): GatehouseConfig {
    return this.#current;
  }

  /**
   * Apply `mutate` to a deep copy, validate, save. Resolves to the new snapshot (the old one when
   * nothing changed: no audit entry for a no-op). Throws ConfigError and keeps the old settings
   * when the result is invalid; an exception from `mutate` propagates the same way.
   */
  update(via: ChangeVia, what: string | AuditWhat, mutate: (draft: GatehouseConfig) => void): Promise<GatehouseConfig> {
    return this.#enqueue(async () => {
      const draft = structuredClone(this.#current); // a plain, unfrozen copy
      mutate(draft);
      return this.#commit(via, what, draft);
    });
  }

  /** Replace the whole config with `next` (validated and completed with defaults). */
  replace(via: ChangeVia, what: string | AuditWhat, next: unknown): Promise<GatehouseConfig> {
    return this.#enqueue(() => this.#commit(via, what, next));
  }

  /** Every audit entry, oldest first. Lines torn by a crash are skipped. */
  async history(): Promise<AuditEntry[]> {
    const text = await readText(this.auditFile);
    if (text === null) return [];
    const out: AuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const e = parseAuditLine(line);
      if (e) out.push(e);
    }
    return out;
  }

  /** Go back to the settings as they were after change #n (itself a new, audited change). */
  restore(n: number, via: ChangeVia = 'restore'): Promise<GatehouseConfig> {
    return this.#enqueue(async () => {
      const entry = (await this.history()).find((e) => e.n === n);
      if (!entry) {
        throw new ConfigError([issueAt('', problem('no_change', { n }))], {
          summary: 'Cannot restore',
        });
      }
      return this.#commit(via, auditWhat('restore', { n, what: entry.what }), entry.after);
    });
  }

  /** Follow edits of config.json by other processes. Idempotent. */
  watch(): void {
    if (this.#watcher || this.#closed) return;
    // Watch the directory, not the file: an atomic rename replaces the file's inode, and a
    // watch on the old inode would go deaf after the first save.
    this.#watcher = fsWatch(this.dataDir, (_event, name) => {
      if (name !== null && name !== CONFIG_FILE) return;
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#enqueue(() => this.#reloadFromFile()).catch((e: unknown) => this.#report(e));
      }, this.#debounceMs);
    });
    this.#watcher.on('error', (e) => this.#report(e));
  }

  /** Stop watching and wait for pending saves. Later updates are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#queue.catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------

  /** One change at a time: each sees the result of the one before. */
  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('ConfigStore is closed'));
    const run = this.#queue.then(job);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #commit(via: ChangeVia, said: string | AuditWhat, next: unknown): Promise<GatehouseConfig> {
    const what = typeof said === 'string' ? said : said.text;
    const r = validateConfig(next, this.#platform);
    if (!r.ok) throw new ConfigError(r.errors, { summary: `Not saved (${what}): invalid settings` });
    // No secret (passwords, DKIM keys, the OAuth client secret) reaches the file or the audit trail in clear text.
    sealSecrets(r.config, this.dataDir);
    const before = this.#current;
    if (sameConfig(before, r.config)) return before;
    const after = deepFreeze(r.config);
    // File first, then the trail: the trail must never claim a change the file does not hold.
    await this.#save(after);
    const entry = await this.#appendAudit({ via, ...whatFields(said), before, after });
    this.#adopt(after, entry);
    return after;
  }

  async #reloadFromFile(): Promise<void> {
    if (this.#ownWrite !== null && this.#ownWrite === (await fileIdentity(this.file))) return;
    let text = await readTextPatiently(this.file, this.#debounceMs);
    if (text === null) {
      this.#report(
        new ConfigError([issueAt('', problem('file_removed'))], {
          file: this.file,
          summary: `${this.file} is gone; still running with the current settings, written again on the next change`,
        }),
      );
      return;
    }
    let parsed = parseConfigText(text, this.#platform);
    if (!parsed.ok && !parsed.json) {
      // Editors that save in place (Notepad) can be caught mid-write: look once more.
      await new Promise((res) => setTimeout(res, this.#debounceMs * 2));
      const again = await readTextPatiently(this.file, this.#debounceMs);
      if (again !== null && again !== text) {
        text = again;
        parsed = parseConfigText(text, this.#platform);
      }
    }
    if (!parsed.ok) {
      await copyFile(this.file, this.rejectedFile).catch(() => undefined);
      this.#report(
        new ConfigError(parsed.errors, {
          file: this.file,
          summary: `Ignored the edit of ${this.file}, still running with the last good settings (copy kept in ${this.rejectedFile})`,
        }),
      );
      return;
    }
    const before = this.#current;
    if (sameConfig(before, parsed.config)) return; // our own write coming back, or a no-op edit
    const after = deepFreeze(parsed.config);
    const entry = await this.#appendAudit({ via: 'file', ...whatFields(auditWhat('file-edit')), before, after });
    await this.#writeLastGood(after);
    this.#adopt(after, entry);
  }

  #adopt(after: GatehouseConfig, entry: AuditEntry): void {
    this.#current = after;
    try {
      this.emit('change', after, entry);
    } catch (e) {
      // A listener's bug must not make a saved change look failed to the caller.
      this.#report(e);
    }
  }

  /**
   * config.json, then its last-good twin (each a temp file and a rename, retried while held).
   * config.json is the change: a failure there throws and nothing is adopted. The last-good
   * copy is a spare: a failure there is told and the save stands (the next save or start
   * writes it again), so the file never holds a change the store and the trail do not.
   */
  async #save(cfg: GatehouseConfig): Promise<void> {
    this.#db.data = cfg;
    await this.#db.write();
    this.#ownWrite = await fileIdentity(this.file);
    await this.#writeLastGood(cfg);
  }

  async #writeLastGood(cfg: GatehouseConfig): Promise<void> {
    this.#lastGood.data = cfg;
    try {
      await this.#lastGood.write();
    } catch (e) {
      this.#notice(`${this.lastGoodFile} not updated (${(e as Error).message}); it is written again with the next change or start`);
    }
  }

  /**
   * A hand edit made while no Gatehouse process ran is recorded at the next start, so the trail
   * explains every state the file has been in. The last entry is re-validated before comparing,
   * so fields added by a newer version do not count as an edit.
   */
  async #auditEditWhileStopped(): Promise<void> {
    const line = await readLastLine(this.auditFile);
    const last = line === null ? null : parseAuditLine(line);
    if (last) {
      const r = validateConfig(last.after, this.#platform);
      if (r.ok && sameConfig(r.config, this.#current)) return;
    }
    if (line !== null && !last) return; // a torn line: no trustworthy reference, stay quiet
    await this.#appendAudit({
      via: 'file',
      ...whatFields(auditWhat(last ? 'file-edit-stopped' : 'file-no-trail')),
      before: last ? last.after : null,
      after: this.#current,
    });
  }

  async #refreshLastGood(): Promise<void> {
    const text = await readText(this.lastGoodFile);
    const parsed = text === null ? null : parseConfigText(text, this.#platform);
    if (parsed?.ok && sameConfig(parsed.config, this.#current)) return;
    await this.#writeLastGood(this.#current);
  }

  async #appendAudit(e: Omit<AuditEntry, 'n' | 'at'>): Promise<AuditEntry> {
    // n follows the file, not a counter in memory: with no gateway running, the CLI is the
    // writer, and the next gateway (or CLI) to open the folder continues its numbering.
    const lastLine = await readLastLine(this.auditFile);
    let lastN = lastLine === null ? 0 : (parseAuditLine(lastLine)?.n ?? null);
    if (lastN === null) lastN = (await this.history()).reduce((m, x) => Math.max(m, x.n), 0);
    const entry: AuditEntry = { n: lastN + 1, at: new Date().toISOString(), ...e };
    // A scanner that opened the trail after the last append (no FILE_SHARE_WRITE) holds off
    // the open for a moment: wait it out, as the spool does, rather than fail a saved change.
    const fh: FileHandle = await retryWhileHeld('append', this.auditFile, () => open(this.auditFile, 'a+', PRIVATE_FILE_MODE), {
      delaysMs: this.#heldDelays,
      onRetry: (i) => {
        if (i.retry === 1) this.#notice(heldRetryText(i));
      },
      onRecovered: (i) => this.#notice(`appended to ${i.path} after ${i.retry} ${i.retry === 1 ? 'retry' : 'retries'} (held by another program for ${i.heldMs} ms)`),
    });
    try {
      const size = (await fh.stat()).size;
      let torn = false;
      if (size > 0) {
        const b = Buffer.alloc(1);
        await fh.read(b, 0, 1, size - 1);
        torn = b[0] !== 0x0a;
      }
      // After a crash mid-append the last line has no newline; start ours on a fresh line.
      await fh.write(`${torn ? '\n' : ''}${JSON.stringify(entry)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return entry;
  }

  /** 'error' when someone listens; otherwise a process warning (an unheard 'error' would crash). */
  #report(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(err.message, { code: 'GATEHOUSE_CONFIG' });
  }
}
