/*
 * SMTP connections per next hop, reused across messages, with a cap per hop and overall.
 * Built on nodemailer's SMTPConnection (the client inside its pooled transport) rather than
 * the pooled transport itself, because delivery needs what that transport hides: whether
 * this very session ran TLS (senderlog), no silent requeue of a message onto another
 * connection (which could send it twice), and a forced close of the busy sessions at stop.
 * nodemailer sets TCP_NODELAY on every socket itself (SMTPConnection._onConnect); the raw
 * message is handed over as a Buffer with an explicit envelope, never re-encoded.
 *
 * send() never rejects: every failure (cap wait aborted by close, connect, TLS, AUTH, the
 * transaction) comes back as a normalised Transaction (outcome.ts) with the TLS flag.
 * Idle sessions are closed after `idleMs`; a session the server drops while idle is
 * forgotten at once. Timers are unref'd.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import tls from 'node:tls';
import type { Hop } from './next-hop.js';
import { fromConnectError, fromSendError, fromSendInfo, type SendErrorLike, type Transaction } from './outcome.js';
import type { HopAuth, TlsInfo, XOAuth2Source } from './types.js';

export interface ConnectSettings {
  host: string;
  port: number;
  security: Hop['security'];
  servername?: string;
  rejectUnauthorized: boolean;
  auth?: HopAuth;
  /** Extra trust anchors (PEM) besides Node's default CAs. */
  ca?: readonly string[];
  /** EHLO name. */
  name: string;
  connectTimeoutMs: number;
}

export interface SendOutcome {
  transaction: Transaction;
  tls: boolean;
  /** The session's TLS handshake, when it ran one. */
  tlsInfo?: TlsInfo;
  /** The session had carried a message before (connection reuse). */
  reused: boolean;
  durationMs: number;
}

export interface PoolOptions {
  /** Read on every grant, so config changes apply to the next connection. */
  caps(): { perHop: number; total: number };
  /** Close a session idle this long. Default 15 s. */
  idleMs?: number;
  /** Sessions carry at most this many messages. Default 100. */
  maxMessagesPerConnection?: number;
  /** Silence allowed on a socket, including the wait for the reply after DATA. Default 10 min (RFC 5321 4.5.3.2). */
  socketTimeoutMs?: number;
  /** Told when the last session is gone and nobody waits for one. */
  onEmpty?(): void;
}

export interface PoolStats {
  connections: number;
  busy: number;
  idle: number;
  waiting: number;
}

class Session {
  messages = 0;
  dead = false;
  tlsInfo: TlsInfo | undefined;
  idleTimer: NodeJS.Timeout | null = null;
  /** Set while an operation waits on this session: a death ends that operation. */
  onDead: ((err: SendErrorLike) => void) | null = null;
  constructor(
    readonly key: string,
    readonly conn: SMTPConnection,
  ) {}
}

class HopSlots {
  readonly idle: Session[] = [];
  readonly busy = new Set<Session>();
  opening = 0;
  count(): number {
    return this.idle.length + this.busy.size + this.opening;
  }
}

type Grant = { kind: 'reuse'; session: Session } | { kind: 'open' } | { kind: 'closed' };

interface Waiter {
  key: string;
  grant(g: Grant): void;
}

/** The TLS facts of a connected session (nodemailer keeps its socket in `_socket`). */
export function tlsInfoOf(conn: SMTPConnection): TlsInfo | undefined {
  const sock = (conn as unknown as { _socket?: unknown })._socket;
  if (!(sock instanceof tls.TLSSocket)) return undefined;
  const info: TlsInfo = { version: sock.getProtocol() ?? 'unknown', verified: sock.authorized === true };
  if (!sock.authorized && sock.authorizationError) info.verifyError = String(sock.authorizationError);
  return info;
}

/** nodemailer's XOAUTH2 SASL asks a token generator with this shape (getToken, buildXOAuth2Token). */
export function xoauth2Adapter(user: string, src: XOAuth2Source) {
  return {
    getToken(isRetry: boolean, cb: (err: Error | null, token?: string) => void) {
      src.token(isRetry).then(
        (t) => cb(null, t),
        (err: Error) => cb(err),
      );
    },
    buildXOAuth2Token(token: string) {
      return Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`, 'utf8').toString('base64');
    },
  };
}

export function sessionKey(s: ConnectSettings): string {
  // The password is part of the identity (a changed one must not ride an old session) but
  // never appears in clear, not even in memory dumps of the key map.
  const secret = s.auth ? ('pass' in s.auth ? s.auth.pass : `xoauth2:${s.auth.xoauth2.id}`) : '';
  const pw = s.auth ? createHash('sha256').update(secret).digest('hex').slice(0, 12) : '';
  const ca = s.ca && s.ca.length > 0 ? createHash('sha256').update(s.ca.join('')).digest('hex').slice(0, 8) : '';
  return [s.host, s.port, s.security, s.servername ?? '', s.rejectUnauthorized ? 'verify' : 'any', s.auth?.user ?? '', pw, ca].join('|');
}

/** What the runner sends through: this pool in-process, or the same pool on its own thread (transport-thread.ts). */
export interface Transport {
  /** One transaction to one hop. Never rejects. */
  send(s: ConnectSettings, envelope: { from: string; to: string[] }, raw: Buffer): Promise<SendOutcome>;
  /** Stop granting; close idle sessions, and with `force` the busy ones too (their sends fail). */
  close(force?: boolean): void;
  stats(): PoolStats;
  /** After close(): free what is left (a thread). */
  dispose?(): Promise<void>;
}

export class TransportPool implements Transport {
  private readonly slots = new Map<string, HopSlots>();
  private readonly waiters: Waiter[] = [];
  private total = 0;
  private closed = false;
  private draining = false;
  private drainAgain = false;
  private readonly idleMs: number;
  private readonly maxMessages: number;
  private readonly socketTimeoutMs: number;

  constructor(private readonly opts: PoolOptions) {
    this.idleMs = opts.idleMs ?? 15_000;
    this.maxMessages = opts.maxMessagesPerConnection ?? 100;
    this.socketTimeoutMs = opts.socketTimeoutMs ?? 10 * 60_000;
  }

  stats(): PoolStats {
    let busy = 0;
    let idle = 0;
    for (const s of this.slots.values()) {
      busy += s.busy.size + s.opening;
      idle += s.idle.length;
    }
    return { connections: this.total, busy, idle, waiting: this.waiters.length };
  }

  /** One transaction to one hop. Never rejects. */
  async send(s: ConnectSettings, envelope: { from: string; to: string[] }, raw: Buffer): Promise<SendOutcome> {
    const key = sessionKey(s);
    const grant = await this.acquire(key);
    const started = Date.now();
    const done = (transaction: Transaction, session: Session | null, reused: boolean): SendOutcome => {
      const o: SendOutcome = { transaction, tls: session ? session.conn.secure : false, reused, durationMs: Date.now() - started };
      if (session?.tlsInfo) o.tlsInfo = session.tlsInfo;
      return o;
    };
    if (grant.kind === 'closed') {
      return done(fromConnectError({ code: 'ECONNECTION', message: 'delivery stopped (gateway shutting down)' }), null, false);
    }
    let session: Session;
    if (grant.kind === 'reuse') {
      session = grant.session;
    } else {
      const opened = await this.open(key, s);
      if ('error' in opened) return done(opened.error, opened.session, false);
      session = opened.session;
      if (this.closed) {
        this.discard(session);
        return done(fromConnectError({ code: 'ECONNECTION', message: 'delivery stopped (gateway shutting down)' }), session, false);
      }
    }
    const reused = session.messages > 0;
    const t = await this.transact(session, envelope, raw);
    const out = done(t, session, reused);
    await this.afterSend(session, t);
    return out;
  }

  /** Stop granting; close idle sessions, and with `force` the busy ones too (their sends fail). */
  close(force = false): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.grant({ kind: 'closed' });
    for (const slots of [...this.slots.values()]) {
      for (const s of [...slots.idle]) this.discard(s);
      if (force) {
        for (const s of [...slots.busy]) {
          s.onDead?.({ code: 'ECONNECTION', message: 'delivery stopped (gateway shutting down)' });
          this.discard(s);
        }
      }
    }
  }

  private slotsFor(key: string): HopSlots {
    let s = this.slots.get(key);
    if (!s) {
      s = new HopSlots();
      this.slots.set(key, s);
    }
    return s;
  }

  private acquire(key: string): Promise<Grant> {
    if (this.closed) return Promise.resolve({ kind: 'closed' });
    return new Promise<Grant>((resolve) => {
      this.waiters.push({ key, grant: resolve });
      this.drain();
    });
  }

  /** Hand out what fits, first come first served per hop; a full hop does not block others. */
  private drain(): void {
    // Freeing a slot (eviction) calls back in here: note it and go round once more instead.
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        for (let i = 0; i < this.waiters.length; ) {
          const w = this.waiters[i];
          const g = this.tryGrant(w.key);
          if (g) {
            this.waiters.splice(i, 1);
            w.grant(g);
          } else {
            i++;
          }
        }
      } while (this.drainAgain && this.waiters.length > 0);
    } finally {
      this.draining = false;
    }
  }

  private tryGrant(key: string): Grant | null {
    const slots = this.slotsFor(key);
    while (slots.idle.length > 0) {
      const s = slots.idle.pop()!;
      if (s.idleTimer) clearTimeout(s.idleTimer);
      s.idleTimer = null;
      if (s.dead) {
        this.forget(s);
        continue;
      }
      slots.busy.add(s);
      return { kind: 'reuse', session: s };
    }
    const caps = this.opts.caps();
    const perHop = Math.max(1, caps.perHop);
    const total = Math.max(1, caps.total);
    if (slots.count() >= perHop) return null;
    if (this.total >= total && !this.evictIdle(key)) return null;
    slots.opening++;
    this.total++;
    return { kind: 'open' };
  }

  /** Close one idle session of another hop to make room under the total cap. */
  private evictIdle(exceptKey: string): boolean {
    for (const [key, slots] of this.slots) {
      if (key === exceptKey || slots.idle.length === 0) continue;
      this.discard(slots.idle[0]);
      return true;
    }
    return false;
  }

  private async open(key: string, s: ConnectSettings): Promise<{ session: Session } | { error: Transaction; session: Session | null }> {
    const slots = this.slotsFor(key);
    let conn: SMTPConnection;
    try {
      conn = new SMTPConnection({
        host: s.host,
        port: s.port,
        secure: s.security === 'tls',
        requireTLS: s.security === 'starttls',
        ignoreTLS: s.security === 'none',
        opportunisticTLS: s.security === 'opportunistic',
        name: s.name,
        connectionTimeout: s.connectTimeoutMs,
        greetingTimeout: s.connectTimeoutMs,
        socketTimeout: this.socketTimeoutMs,
        tls: {
          rejectUnauthorized: s.rejectUnauthorized,
          ...(s.servername ? { servername: s.servername } : {}),
          // Given CAs are added to Node's, not instead of them.
          ...(s.ca && s.ca.length > 0 ? { ca: [...tls.rootCertificates, ...s.ca] } : {}),
        },
        logger: false,
      });
    } catch (err) {
      slots.opening--;
      this.total--;
      this.drain();
      return { error: fromConnectError(err as SendErrorLike), session: null };
    }
    const session = new Session(key, conn);
    // Listeners stay for the session's life: an 'error' without one would crash the process.
    conn.on('error', (err: SendErrorLike) => this.died(session, err));
    conn.on('end', () => this.died(session, { code: 'ECONNECTION', message: 'connection closed by the server' }));
    slots.opening--;
    slots.busy.add(session);
    const fail = (err: SendErrorLike) => {
      this.discard(session);
      return { error: fromConnectError(err), session };
    };
    const connected = await this.step(session, s.connectTimeoutMs * 2 + 1000, (cb) => conn.connect((err) => cb(err ?? null)));
    session.tlsInfo = tlsInfoOf(conn);
    if (connected) return fail(connected);
    const auth = s.auth;
    if (auth) {
      const authed = await this.step(session, s.connectTimeoutMs * 2 + 1000, (cb) =>
        'pass' in auth
          ? conn.login({ user: auth.user, pass: auth.pass, credentials: { user: auth.user, pass: auth.pass } }, (err) => cb(err))
          : conn.login({ user: auth.user, method: 'XOAUTH2', oauth2: xoauth2Adapter(auth.user, auth.xoauth2) } as unknown as SMTPConnection.AuthenticationCredentials, (err) => cb(err)),
      );
      if (authed) return fail({ ...authed, code: authed.code ?? 'EAUTH' });
    }
    return { session };
  }

  /** Run one callback-style step; settles once on its callback, the session's death, or the guard timer. */
  private step(session: Session, guardMs: number, run: (cb: (err: SendErrorLike | null) => void) => void): Promise<SendErrorLike | null> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (err: SendErrorLike | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        session.onDead = null;
        resolve(err);
      };
      const guard = setTimeout(() => settle({ code: 'ETIMEDOUT', message: `no answer within ${guardMs} ms` }), guardMs);
      guard.unref();
      if (session.dead) return settle({ code: 'ECONNECTION', message: 'connection closed' });
      session.onDead = (err) => settle(err);
      try {
        run(settle);
      } catch (err) {
        settle(err as SendErrorLike);
      }
    });
  }

  private transact(session: Session, envelope: { from: string; to: string[] }, raw: Buffer): Promise<Transaction> {
    const conn = session.conn;
    // 354 is the last thing heard once the message is on its way: a loss after that may
    // have delivered it (the caller must not hand it to another hop right away).
    const afterData = () => /^354/.test(String(conn.lastServerResponse || ''));
    return new Promise((resolve) => {
      let settled = false;
      const settle = (t: Transaction) => {
        if (settled) return;
        settled = true;
        clearTimeout(guard);
        session.onDead = null;
        resolve(t);
      };
      const guard = setTimeout(() => {
        settle(fromSendError({ code: 'ETIMEDOUT', message: 'no final reply in time' }, afterData()));
        this.discard(session);
      }, this.socketTimeoutMs + 5000);
      guard.unref();
      if (session.dead) return settle(fromSendError({ code: 'ECONNECTION', message: 'connection closed' }, false));
      session.onDead = (err) => settle(fromSendError(err, afterData()));
      try {
        conn.send(
          // 8BITMIME only when needed (isAscii is native: a per-byte callback cost ~0.6 ms per
          // 100 KB message); SIZE lets the server refuse early instead of after the upload.
          { from: envelope.from, to: envelope.to, size: raw.length, use8BitMime: !isAscii(raw) },
          raw,
          (err, info) => settle(err ? fromSendError(err, afterData()) : fromSendInfo(info)),
        );
      } catch (err) {
        settle(fromSendError(err as SendErrorLike, false));
      }
    });
  }

  private async afterSend(session: Session, t: Transaction): Promise<void> {
    session.messages++;
    if (session.dead || this.closed) return this.discard(session);
    if (t.kind === 'sent') return this.release(session);
    // The server refused this message but the session is fine: RSET and keep it.
    const refused = t.stage !== 'connect' && t.code !== undefined && t.code !== 421 && !t.afterData && !t.permanent;
    if (!refused) return this.discard(session);
    const err = await this.step(session, 30_000, (cb) => session.conn.reset((e) => cb(e)));
    if (err || session.dead) return this.discard(session);
    this.release(session);
  }

  private release(session: Session): void {
    const slots = this.slotsFor(session.key);
    if (this.closed || session.dead || session.messages >= this.maxMessages) return this.discard(session, true);
    slots.busy.delete(session);
    slots.idle.push(session);
    session.idleTimer = setTimeout(() => {
      if (slots.idle.includes(session)) this.discard(session, true);
    }, this.idleMs);
    session.idleTimer.unref();
    this.drain();
  }

  private died(session: Session, err: SendErrorLike): void {
    if (session.dead) return;
    session.dead = true;
    const cb = session.onDead;
    session.onDead = null;
    cb?.(err);
    // A session the server closed while idle is just forgotten; a busy one is discarded by its user.
    const slots = this.slots.get(session.key);
    if (slots?.idle.includes(session)) this.discard(session);
  }

  /** Remove from the books and free the slot. */
  private forget(session: Session): boolean {
    const slots = this.slots.get(session.key);
    if (!slots) return false;
    const i = slots.idle.indexOf(session);
    const had = i >= 0 || slots.busy.has(session);
    if (i >= 0) slots.idle.splice(i, 1);
    slots.busy.delete(session);
    if (had) this.total--;
    if (slots.count() === 0) this.slots.delete(session.key);
    if (had && this.total === 0 && this.waiters.length === 0) this.opts.onEmpty?.();
    return had;
  }

  private discard(session: Session, polite = false): void {
    if (session.idleTimer) clearTimeout(session.idleTimer);
    session.idleTimer = null;
    const had = this.forget(session);
    if (!session.dead) {
      session.dead = true;
      try {
        if (polite) {
          session.conn.quit();
          // A server that never answers QUIT must not keep the socket (and the process) around.
          setTimeout(() => session.conn.close(), 5000).unref();
        } else {
          session.conn.close();
        }
      } catch {
        // already gone
      }
    }
    if (had) this.drain();
  }
}
