/*
 * The one place that reaches into smtp-server's internals. The package is pinned to an exact
 * version (package.json) and test/smtp/smtp-server-contract.test.ts checks every member named
 * below, failing with the member's name when an upgrade changes it; move the pin only after
 * that test passes. Everything else in Gatehouse uses smtp-server's public options and hooks.
 *
 * createSmtpServer(options, hooks) returns a subclass of SMTPServer whose connections are a
 * subclass of SMTPConnection; a plain `new SMTPServer()` elsewhere (test sinks) is untouched.
 * It adds, when the hooks ask for it:
 * 1. Greeting wait: smtp-server waits a fixed 100 ms before every 220 to catch early talkers,
 *    which caps a one-message-per-connection client (the office server) at ~10 msg/s. A client
 *    for which `skipGreetingDelay(ip)` is true is greeted at once; everyone else keeps the wait.
 * 2. Protocol replies: a 4xx/5xx that smtp-server makes itself (bad sequence, declared SIZE
 *    too big, a command it does not know, ...) is reported to `onProtocolReply`, so the
 *    receivelog holds every refusal. Our own replies carry an enhanced code (`5.7.1 ...`) and
 *    are logged where they are decided, so those are not reported a second time.
 * 3. Command deadline: socketTimeout is an idle timer, reset by every byte, so a client
 *    trickling one byte a second can hold a session (and a connection slot) forever. With
 *    `commandDeadline`, a complete command line must arrive within socketTimeout of our last
 *    reply (Postfix's smtpd_per_record_deadline), else 421 and close. Not during DATA, which
 *    has its own total deadline (receiver.ts); server-side work (a slow onRcptTo) does not
 *    count, the clock starts when the reply is sent.
 * 4. Session setup: for every accepted socket smtp-server draws a session id from
 *    `crypto.randomBytes(10)` (a getpid and an OpenSSL call each time) and waits one
 *    event-loop turn (setImmediate) before the session starts, even when no PROXY header is
 *    expected. On the reject path the id alone was ~2% of the gateway's CPU in a profile.
 *    Sockets without a PROXY header now start at once, with an id of the same form (16
 *    base-32 digits, 80 random bits) cut from a pooled random buffer; sockets that expect a
 *    PROXY header take upstream's path.
 * and two operations for the receiver: closeSession() (the DATA deadline) and setLimits()
 * (limits changed while running).
 *
 * Done with upstream options instead of patches: AUTH is hidden before STARTTLS with
 * `session.disabledCommands` (smtp-server 3.21, set by the receiver in onConnect/onSecure);
 * smtp-server adds no enhanced status code of its own to our replies because
 * `hideENHANCEDSTATUSCODES` is forced on here (its default).
 *
 * Members touched (the contract test has one check per line):
 *   SMTPServer.connect               replaced: the same five lines, building our connection class
 *   SMTPServer.connections           read/added to: find a session (closeSession), as connect does
 *   SMTPServer._onError              called from connect, as upstream's connect does
 *   SMTPServer._onClientConnect      called from connect, as upstream's connect does
 *   SMTPServer._handleProxy          replaced for sockets without a PROXY header (4)
 *   SMTPServer._expectsProxyHeader   called: which sockets keep upstream's _handleProxy (4)
 *   SMTPServer.options               read (ignoredHosts, maxClients, socketTimeout), written by setLimits (size, socketTimeout)
 *   SMTPConnection.init              replaced when skipGreetingDelay says so: upstream's init minus the 100 ms timer (1)
 *   SMTPConnection._setListeners     called by that init, as upstream's init does (1)
 *   SMTPConnection.connectionReady   called by that init, as upstream's timer does (1)
 *   SMTPConnection.send              wrapped: report protocol replies (2), arm the command deadline (3)
 *   SMTPConnection._onCommand        wrapped: a complete command line stops the deadline (3)
 *   SMTPConnection._onClose          wrapped: clear the deadline timer (3)
 *   SMTPConnection.close             called by closeSession (DATA deadline)
 *   SMTPConnection._server           read: the server's options and hooks
 *   SMTPConnection.id                read: which connection is a session (closeSession)
 *   SMTPConnection.remoteAddress     read: the client address for skipGreetingDelay (1)
 *   SMTPConnection.session           read: handed to onProtocolReply (2)
 *   SMTPConnection._dataStream       read: the command deadline does not run during DATA (3)
 *   SMTPConnection._closing          read: no deadline once closing (3)
 *   SMTPConnection._closed           read: no deadline once closed (3)
 *
 * Fails loudly at import if a replaced or wrapped method is gone, rather than silently
 * running without the fixes.
 */
import { randomFillSync } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';

/** What the adapter adds to a server; every hook is optional (absent = upstream behaviour). */
export interface AdapterHooks {
  /** Greet this client at once, without the 100 ms early-talker wait. */
  skipGreetingDelay?: (remoteAddress: string) => boolean;
  /** A 4xx/5xx reply smtp-server made itself (ours carry an enhanced code and are not reported). */
  onProtocolReply?: (session: SMTPServerSession, code: number, text: string) => void;
  /** A complete command line within socketTimeout of our last reply, else 421. */
  commandDeadline?: boolean;
}

/** The server the receiver works with: smtp-server's public API plus two operations. */
export interface AdaptedServer extends SMTPServer {
  /** Sends `421 <text>` to the session with this id and closes it; false when it is gone. */
  closeSession(sessionId: string, text: string): boolean;
  /** Applies new limits to the running server: size from the next command, socketTimeout for new sessions. */
  setLimits(limits: { size: number; socketTimeout: number }): void;
}

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;
const DEFAULT_SOCKET_TIMEOUT = 60_000;

const connProto = SMTPConnection.prototype as unknown as Record<string, unknown>;
const serverProto = SMTPServer.prototype as unknown as Record<string, unknown>;
for (const [owner, proto, names] of [
  ['SMTPConnection', connProto, ['init', '_setListeners', 'connectionReady', 'send', '_onCommand', '_onClose', 'close']],
  ['SMTPServer', serverProto, ['connect', '_onError', '_onClientConnect', '_handleProxy', '_expectsProxyHeader']],
] as const) {
  for (const name of names) {
    if (typeof proto[name] !== 'function') {
      throw new Error(`smtp-server internals changed: ${owner}.${name} is gone (see main/core/smtp/smtp-server-adapter.ts)`);
    }
  }
}

/** Random bytes drawn 8 KB at a time; each session id takes 10 of them. */
const idPool = Buffer.alloc(8190);
let idOffset = idPool.length;

/**
 * A session id as smtp-server makes it: 80 random bits as 16 base-32 digits (0-9a-v). Two
 * 40-bit halves, each exact in a double, so no BigInt is needed.
 */
export function sessionId(): string {
  if (idOffset + 10 > idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const b = idPool;
  const o = idOffset;
  idOffset += 10;
  const hi = b[o] * 2 ** 32 + b.readUInt32BE(o + 1);
  const lo = b[o + 5] * 2 ** 32 + b.readUInt32BE(o + 6);
  return hi.toString(32).padStart(8, '0') + lo.toString(32).padStart(8, '0');
}

class GatehouseConnection extends SMTPConnection {
  /** The command deadline (3): one timer per connection, re-armed with refresh(). */
  #deadline: NodeJS.Timeout | null = null;
  #deadlineMs = 0;
  /** A reply went out and no command line has come since. */
  #awaitingCommand = false;

  private get hooks(): AdapterHooks {
    return (this._server as unknown as GatehouseServer).hooks;
  }

  override init(): void {
    const skip = this.hooks.skipGreetingDelay;
    if (!skip || !skip(this.remoteAddress)) return super.init();
    // Upstream's init() without the 100 ms timer.
    this._setListeners(() => {
      const max = this._server.options.maxClients;
      if (max && this._server.connections.size > max) {
        return this.send(421, this.name + ' Too many connected clients, try again in a moment', false);
      }
      this.connectionReady();
    });
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    const hooks = this.hooks;
    if (code >= 400 && hooks.onProtocolReply && this.session) {
      const text = typeof data === 'string' ? data : String(data ?? '');
      if (!ENHANCED.test(text)) hooks.onProtocolReply(this.session, code, text);
    }
    super.send(code, data, context);
    if (hooks.commandDeadline) this.#armDeadline();
  }

  override _onCommand(command: Buffer, callback?: () => void): void {
    this.#awaitingCommand = false;
    super._onCommand(command, callback);
  }

  override _onClose(): void {
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#deadline = null;
    this.#awaitingCommand = false;
    super._onClose();
  }

  #idle(): boolean {
    return !this._dataStream && !this._closing && !this._closed;
  }

  #armDeadline(): void {
    if (!this.#idle()) {
      this.#awaitingCommand = false;
      return;
    }
    this.#awaitingCommand = true;
    const ms = Number(this._server.options.socketTimeout) || DEFAULT_SOCKET_TIMEOUT;
    if (this.#deadline && this.#deadlineMs === ms) {
      // Restarts (or re-activates, after it fired) the same timer: no allocation per reply.
      this.#deadline.refresh();
      return;
    }
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#deadlineMs = ms;
    this.#deadline = setTimeout(() => this.#onDeadline(), ms);
    this.#deadline.unref();
  }

  #onDeadline(): void {
    // A command came after the reply (it is being worked on) or the session moved on.
    if (!this.#awaitingCommand || !this.#idle()) return;
    // 421 closes the connection (smtp-server); onProtocolReply logs it.
    this.send(421, `Error: no complete command within ${Math.round(this.#deadlineMs / 100) / 10} s, closing connection`);
  }
}

class GatehouseServer extends SMTPServer implements AdaptedServer {
  readonly hooks: AdapterHooks;

  constructor(options: SMTPServerOptions, hooks: AdapterHooks) {
    // Our replies carry their own enhanced codes; smtp-server must not add its generic ones.
    super({ ...options, hideENHANCEDSTATUSCODES: true });
    this.hooks = hooks;
  }

  /** Upstream's connect(), building our connection class. */
  override connect(socket: Socket | TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    const connection = new GatehouseConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data: Parameters<SMTPServer['_onClientConnect']>[0]) => this._onClientConnect(data));
    connection.init();
  }

  override _handleProxy(socket: Socket, callback: (err: Error | null, socketOptions?: SMTPConnectionOptions & { id: string }) => void): void {
    if (this._expectsProxyHeader(socket)) return super._handleProxy(socket, callback);
    const ignored = this.options.ignoredHosts;
    callback(null, { id: sessionId(), ignore: Boolean(ignored && ignored.includes(socket.remoteAddress ?? '')) });
  }

  closeSession(id: string, text: string): boolean {
    for (const conn of this.connections) {
      if (conn.id !== id) continue;
      conn.send(421, text);
      conn.close();
      return true;
    }
    return false;
  }

  setLimits(limits: { size: number; socketTimeout: number }): void {
    this.options.size = limits.size;
    this.options.socketTimeout = limits.socketTimeout;
  }
}

/** An smtp-server with the hooks above. `options` is copied, never modified. */
export function createSmtpServer(options: SMTPServerOptions, hooks: AdapterHooks = {}): AdaptedServer {
  return new GatehouseServer(options, hooks);
}
