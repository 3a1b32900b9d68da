/*
 * Moves a Gatehouse data folder to another place: the desktop app's folder to the Windows
 * service's (%APPDATA%\Gatehouse -> %ProgramData%\Gatehouse) when the service is installed, and
 * back when it is removed. `moveDataFolder(from, to)` takes two folder paths and resolves to a
 * report (files, bytes, secrets re-sealed), or rejects with a MoveError saying why nothing was
 * moved. Nothing is lost on any path:
 *
 *   - it refuses while a gateway runs on either folder (admin.json with a live process), and
 *     when `to` already holds settings or queued mail (it never merges two queues);
 *   - every file is copied (written, flushed), every copy read back and compared (SHA-256)
 *     with what was written, every source with what was read, and only then is the source removed, file by
 *     file. A crash before that leaves both copies and the next attempt refuses (the
 *     destination holds settings) until an admin looks; a crash after it leaves the complete
 *     destination;
 *   - the files are copied, not renamed, so each new file gets the destination folder's access
 *     list (a rename keeps the old folder's, which names the desktop user);
 *   - every secret (config/secret-fields.ts: the smarthost password, route passwords, the
 *     OAuth client secret, DKIM keys; and the XOAUTH2 refresh token in oauth-token.json) is
 *     opened with the old seal and sealed with the new one (`reseal`, e.g. DPAPI user scope ->
 *     machine scope) in config.json, its last good copy and every audit line; a value that
 *     cannot be opened is kept as it was and reported (the admin enters it again);
 *   - the move itself becomes a line of the destination's audit trail (via 'service').
 *
 * Left behind: Electron's own browser profile (browser/, not Gatehouse data), a stale admin.json
 * and temp files; and a MOVED.txt note saying where the data went.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AuditEntry, GatehouseConfig } from '../shared/types.js';
import { fsyncDir } from './spool/fsync.js';
import { mapSecrets } from './config/secret-fields.js';
import { OAUTH_TOKEN_FILE } from './oauth/token-store.js';
import { makePrivateDir, PRIVATE_FILE_MODE } from './private-files.js';

export class MoveError extends Error {}

export interface MoveOptions {
  /** Seals a stored secret for the destination; identity when the seal stays the same. */
  reseal?: (stored: string) => string;
  /** Says who moved it and why (the audit line's text starts with this). */
  reason?: string;
  now?: () => Date;
  /** Is this process alive? (tests) */
  alive?: (pid: number) => boolean;
}

export interface MoveReport {
  from: string;
  to: string;
  files: number;
  bytes: number;
  /** Files (and audit lines) whose secrets were sealed again for the destination. */
  resealed: number;
  /** Things an admin should know (a password that could not be re-sealed, a file left behind). */
  notes: string[];
}

/** Not data: left where they are. */
const SKIP_TOP = new Set(['browser', 'admin.json', 'MOVED.txt']);
const SETTINGS_FILES = new Set(['config.json', 'config.last-good.json', 'config.rejected.json']);
const AUDIT = 'audit.jsonl';

function defaultAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/** Relative paths of the files to move (folders implied), in a stable order. */
async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? path.join(rel, e.name) : e.name;
      if (!rel && SKIP_TOP.has(e.name)) continue;
      if (e.name.endsWith('.tmp')) continue;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  await walk('');
  return out;
}

async function runningGateway(dir: string, alive: (pid: number) => boolean): Promise<number | null> {
  try {
    const info = JSON.parse(await fs.readFile(path.join(dir, 'admin.json'), 'utf8')) as { pid?: unknown };
    return typeof info.pid === 'number' && alive(info.pid) ? info.pid : null;
  } catch {
    return null;
  }
}

/** What in `to` would be overwritten or mixed: settings, an audit trail, queued mail. */
async function conflicts(to: string): Promise<string[]> {
  const found: string[] = [];
  for (const f of ['config.json', AUDIT]) if (await exists(path.join(to, f))) found.push(f);
  const spool = await listFiles(path.join(to, 'spool')).catch(() => []);
  if (spool.length) found.push(`spool (${spool.length} files)`);
  return found;
}

type Resealer = (stored: string) => { value: string; changed: boolean; problem?: string };

function resealer(reseal: MoveOptions['reseal']): Resealer {
  return (stored) => {
    if (!reseal || !stored) return { value: stored, changed: false };
    try {
      const value = reseal(stored);
      return { value, changed: value !== stored };
    } catch (err) {
      return { value: stored, changed: false, problem: (err as Error).message };
    }
  };
}

/** What to tell the admin about a secret that could not be sealed for the new place. */
function unsealedNote(where: string, problem: string): string {
  if (where === 'delivery.smarthost.password') return `the smarthost password could not be sealed for the new place (${problem}); enter it again in Settings`;
  if (where.startsWith('dkim.keys')) return `the DKIM key ${where} could not be sealed for the new place (${problem}); make a new key for its domain`;
  if (where === OAUTH_TOKEN_FILE) return `the XOAUTH2 sign-in could not be sealed for the new place (${problem}); sign in again on the Deliverability tab`;
  return `${where} could not be sealed for the new place (${problem}); enter it again`;
}

/** A config object with every secret re-sealed (a copy; the input is not changed). */
function resealConfig(cfg: GatehouseConfig | null, r: Resealer, notes: Set<string>): { cfg: GatehouseConfig | null; changed: boolean } {
  if (!cfg || typeof cfg !== 'object') return { cfg, changed: false };
  const out = structuredClone(cfg);
  let changed = false;
  mapSecrets(out, (value, where) => {
    const o = r(value);
    if (o.problem) notes.add(unsealedNote(where, o.problem));
    if (o.changed) changed = true;
    return o.value;
  });
  return changed ? { cfg: out, changed } : { cfg, changed: false };
}

/** The bytes to write for one file, re-sealed where it holds settings. */
function transform(rel: string, data: Buffer, r: Resealer, notes: Set<string>): { data: Buffer; resealed: number } {
  const name = path.basename(rel);
  if (path.dirname(rel) !== '.') return { data, resealed: 0 };
  if (SETTINGS_FILES.has(name)) {
    let cfg: GatehouseConfig;
    try {
      cfg = JSON.parse(data.toString('utf8')) as GatehouseConfig;
    } catch {
      return { data, resealed: 0 }; // a refused or torn file is moved as it is
    }
    const out = resealConfig(cfg, r, notes);
    return out.changed ? { data: Buffer.from(JSON.stringify(out.cfg, null, 2) + '\n'), resealed: 1 } : { data, resealed: 0 };
  }
  if (name === OAUTH_TOKEN_FILE) {
    let t: { refreshToken?: unknown };
    try {
      t = JSON.parse(data.toString('utf8')) as { refreshToken?: unknown };
    } catch {
      return { data, resealed: 0 };
    }
    if (typeof t.refreshToken !== 'string' || !t.refreshToken) return { data, resealed: 0 };
    const o = r(t.refreshToken);
    if (o.problem) notes.add(unsealedNote(OAUTH_TOKEN_FILE, o.problem));
    return o.changed ? { data: Buffer.from(`${JSON.stringify({ ...t, refreshToken: o.value }, null, 2)}\n`), resealed: 1 } : { data, resealed: 0 };
  }
  if (name === AUDIT) {
    let resealed = 0;
    const lines = data.toString('utf8').split('\n').map((line) => {
      if (!line.trim()) return line;
      let e: AuditEntry;
      try {
        e = JSON.parse(line) as AuditEntry;
      } catch {
        return line; // a torn line stays as it was
      }
      const before = resealConfig(e.before, r, notes);
      const after = resealConfig(e.after, r, notes);
      if (!before.changed && !after.changed) return line;
      resealed++;
      return JSON.stringify({ ...e, before: before.cfg, after: after.cfg });
    });
    return resealed ? { data: Buffer.from(lines.join('\n')), resealed } : { data, resealed: 0 };
  }
  return { data, resealed: 0 };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Writes a new file and flushes it (a queued message must be on disk before its source goes). */
async function writeDurably(file: string, data: Buffer): Promise<void> {
  const fh = await fs.open(file, 'wx', PRIVATE_FILE_MODE);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Removes a file, patiently: a virus scanner may hold it open for a moment on Windows. */
async function removePatiently(file: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await fs.rm(file, { force: true });
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (i >= 8 || !['EPERM', 'EBUSY', 'EACCES'].includes(code ?? '')) throw err;
      await new Promise((r) => setTimeout(r, 50 * 2 ** i));
    }
  }
}

export async function moveDataFolder(from: string, to: string, opts: MoveOptions = {}): Promise<MoveReport> {
  const src = path.resolve(from);
  const dst = path.resolve(to);
  const alive = opts.alive ?? defaultAlive;
  if (src === dst) throw new MoveError(`${src} is already the data folder`);
  if (!(await exists(path.join(src, 'config.json')))) throw new MoveError(`${src} holds no Gatehouse data (no config.json); nothing to move`);
  for (const dir of [src, dst]) {
    const pid = await runningGateway(dir, alive);
    if (pid !== null) throw new MoveError(`a gateway (process ${pid}) is running on ${dir}; stop it first`);
  }
  const clash = await conflicts(dst);
  if (clash.length) throw new MoveError(`${dst} already holds Gatehouse data (${clash.join(', ')}); move or remove it first, nothing was moved`);

  const files = await listFiles(src);
  const notes = new Set<string>();
  const r = resealer(opts.reseal);
  let bytes = 0;
  let resealed = 0;
  let finalConfig: GatehouseConfig | null = null;
  await makePrivateDir(dst);
  const madeDirs = new Set<string>();
  const hashes = new Map<string, { source: string; written: string }>();
  // Copy and flush.
  for (const rel of files) {
    const source = await fs.readFile(path.join(src, rel));
    const out = transform(rel, source, r, notes);
    hashes.set(rel, { source: sha(source), written: sha(out.data) });
    const target = path.join(dst, rel);
    const dir = path.dirname(target);
    if (!madeDirs.has(dir)) {
      await makePrivateDir(dir);
      madeDirs.add(dir);
    }
    await writeDurably(target, out.data);
    bytes += out.data.length;
    resealed += out.resealed;
    if (rel === 'config.json') finalConfig = JSON.parse(out.data.toString('utf8')) as GatehouseConfig;
  }
  for (const dir of [dst, ...madeDirs]) await fsyncDir(dir).catch(() => undefined);
  // Read every copy back, and every source again, before anything is removed.
  for (const rel of files) {
    const [a, b] = await Promise.all([fs.readFile(path.join(src, rel)), fs.readFile(path.join(dst, rel))]);
    const h = hashes.get(rel)!;
    if (sha(a) !== h.source) throw new MoveError(`${path.join(src, rel)} changed during the move (is a gateway running?); nothing was removed from ${src}`);
    if (sha(b) !== h.written) throw new MoveError(`the copy of ${rel} in ${dst} differs from what was written; nothing was removed from ${src}`);
  }
  // The move in the destination's audit trail.
  const at = (opts.now ?? (() => new Date()))();
  if (finalConfig) await appendAudit(dst, finalConfig, `${opts.reason ?? 'data folder moved'}: ${src} -> ${dst} (${files.length} files: settings, queue, logs)`, at);
  // Only now: the source goes, file by file.
  for (const rel of files) {
    try {
      await removePatiently(path.join(src, rel));
    } catch (err) {
      notes.add(`${path.join(src, rel)} could not be removed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); it is a copy, delete it by hand`);
    }
  }
  await removeEmptyFolders(src);
  await fs.writeFile(path.join(src, 'MOVED.txt'), `Gatehouse's data moved to ${dst} at ${at.toISOString()}.\r\n`).catch(() => undefined);
  await fs.rm(path.join(dst, 'MOVED.txt'), { force: true });
  return { from: src, to: dst, files: files.length, bytes, resealed, notes: [...notes] };
}

async function appendAudit(dir: string, cfg: GatehouseConfig, what: string, at: Date): Promise<void> {
  const file = path.join(dir, AUDIT);
  let last = 0;
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    try {
      const n = (JSON.parse(line) as AuditEntry).n;
      if (Number.isInteger(n)) last = Math.max(last, n);
    } catch {
      /* torn or empty line */
    }
  }
  const entry: AuditEntry = { n: last + 1, at: at.toISOString(), via: 'service', what, before: cfg, after: cfg };
  const prefix = text === '' || text.endsWith('\n') ? '' : '\n';
  const fh = await fs.open(file, 'a', PRIVATE_FILE_MODE);
  try {
    await fh.writeFile(prefix + JSON.stringify(entry) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Removes the folders the move emptied (deepest first); the top folder stays. */
async function removeEmptyFolders(root: string): Promise<void> {
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory() || (dir === root && SKIP_TOP.has(e.name))) continue;
      const sub = path.join(dir, e.name);
      await walk(sub);
      await fs.rmdir(sub).catch(() => undefined);
    }
  };
  await walk(root);
}
