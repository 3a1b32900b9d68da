/*
 * Narrow patches to smtp-server's connection class, applied once at import.
 *
 * 1. Greeting delay: smtp-server waits a fixed 100 ms before every 220 to catch early
 *    talkers. That caps a one-message-per-connection client (the office server) at
 *    ~10 msg/s. A server created with `skipGreetingDelay(ip) === true` greets that client
 *    at once; everyone else keeps the wait.
 * 2. Enhanced status codes: our replies carry their own code (`5.7.1 ...`). smtp-server
 *    would prefix its generic one (550 -> 5.1.1), so a reply text that already starts with
 *    an enhanced code is sent as is. Replies smtp-server makes itself (bad sequence,
 *    declared SIZE too big, ...) are reported through `onProtocolReply` so the receivelog
 *    holds every refusal, not only ours.
 *
 * 3. AUTH before STARTTLS: smtp-server advertises AUTH on a plaintext connection and only
 *    refuses it later (538). With `hideAuthBeforeTls`, the EHLO reply lists AUTH only once the
 *    session is encrypted (RFC 4954 section 4: no plaintext mechanisms before TLS).
 * 4. Command deadline: smtp-server's socketTimeout is an idle timer, reset by every byte, so a
 *    client trickling one byte a second can hold a session (and a maxClients slot) forever.
 *    With `commandDeadline`, a complete command line must arrive within socketTimeout of our
 *    last reply (Postfix's smtpd_per_record_deadline), else 421 and close. Not during DATA,
 *    which has its own total deadline (receiver.ts); server-side work (a slow onRcptTo) does
 *    not count, the clock starts when the reply is sent.
 *
 * 5. Session setup: for every accepted socket smtp-server draws a session id from
 *    `crypto.randomBytes(10)` (a getpid and an OpenSSL call each time) and then waits one
 *    event-loop turn (setImmediate) before the session starts, even when no PROXY header is
 *    expected. On the reject path (one short session per refused message) the id alone was
 *    ~2% of the gateway's CPU in a profile, and every 220 waited a loop turn. Sockets without a PROXY header now
 *    start at once, with an id of the same form (16 base-32 characters, 80 random bits) cut
 *    from a pooled random buffer. Sockets that expect a PROXY header take upstream's path.
 *
 * The hooks are options on the server object; servers without them behave as upstream.
 * Fails loudly at import if the patched methods are gone (an smtp-server upgrade changed
 * its internals), rather than silently running without the fixes.
 */
import { randomFillSync } from 'node:crypto';
import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPServerSession } from 'smtp-server';

export interface PatchedServerOptions {
  skipGreetingDelay?: (remoteAddress: string) => boolean;
  onProtocolReply?: (session: SMTPServerSession, code: number, text: string) => void;
  hideAuthBeforeTls?: boolean;
  commandDeadline?: boolean;
  socketTimeout?: number;
}

interface ConnectionInternals {
  _server: { options: PatchedServerOptions };
  remoteAddress: string;
  secure: boolean;
  session: SMTPServerSession;
  _setListeners(cb: () => void): void;
  connectionReady(): void;
  init(): void;
  send(code: number, data?: unknown, context?: unknown): void;
  _onCommand(command: Buffer, callback?: () => void): void;
  _onClose(): void;
  close(): void;
  _dataStream: unknown;
  _closing: boolean;
  _closed: boolean;
}

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;
const proto = SMTPConnection.prototype as unknown as ConnectionInternals;
const PATCHED = Symbol.for('gatehouse.smtp-server.patched');

if (typeof proto.init !== 'function' || typeof proto.send !== 'function' || typeof proto._setListeners !== 'function') {
  throw new Error('smtp-server internals changed: cannot apply the greeting/reply patches');
}

if (!(proto as unknown as Record<symbol, boolean>)[PATCHED]) {
  (proto as unknown as Record<symbol, boolean>)[PATCHED] = true;
  const originalInit = proto.init;
  proto.init = function (this: ConnectionInternals) {
    const skip = this._server.options.skipGreetingDelay;
    if (skip && skip(this.remoteAddress)) {
      // Same as upstream init() minus the 100 ms timer; maxClients is enforced in onConnect.
      this._setListeners(() => this.connectionReady());
      return;
    }
    originalInit.call(this);
  };

  const originalSend = proto.send;
  proto.send = function (this: ConnectionInternals, code: number, data?: unknown, context?: unknown) {
    if (code === 250 && Array.isArray(data) && !this.secure && this._server.options.hideAuthBeforeTls) {
      data = data.filter((line) => !/^AUTH /i.test(String(line)));
    }
    if (context === undefined && typeof data === 'string' && ENHANCED.test(data)) {
      return originalSend.call(this, code, data, false);
    }
    if (code >= 400 && this._server.options.onProtocolReply && this.session) {
      this._server.options.onProtocolReply(this.session, code, typeof data === 'string' ? data : String(data ?? ''));
    }
    return originalSend.call(this, code, data, context);
  };

  if (typeof proto._onCommand !== 'function' || typeof proto._onClose !== 'function' || typeof proto.close !== 'function') {
    throw new Error('smtp-server internals changed: cannot apply the command deadline patch');
  }
  const deadlines = new WeakMap<ConnectionInternals, NodeJS.Timeout>();
  const clearDeadline = (conn: ConnectionInternals): void => {
    const t = deadlines.get(conn);
    if (t) clearTimeout(t);
    deadlines.delete(conn);
  };
  const idle = (conn: ConnectionInternals): boolean => !conn._dataStream && !conn._closing && !conn._closed;
  const armDeadline = (conn: ConnectionInternals): void => {
    clearDeadline(conn);
    const opts = conn._server.options;
    if (!opts.commandDeadline || !idle(conn)) return;
    const ms = Number(opts.socketTimeout) || 60_000;
    const t = setTimeout(() => {
      deadlines.delete(conn);
      if (!idle(conn)) return;
      // 421 closes the connection (smtp-server); onProtocolReply logs it.
      conn.send(421, `Error: no complete command within ${Math.round(ms / 100) / 10} s, closing connection`);
    }, ms);
    t.unref();
    deadlines.set(conn, t);
  };
  const sendWithReplies = proto.send;
  proto.send = function (this: ConnectionInternals, code: number, data?: unknown, context?: unknown) {
    const r = sendWithReplies.call(this, code, data, context);
    armDeadline(this);
    return r;
  };
  const originalOnCommand = proto._onCommand;
  proto._onCommand = function (this: ConnectionInternals, command: Buffer, callback?: () => void) {
    clearDeadline(this);
    return originalOnCommand.call(this, command, callback);
  };
  const originalOnClose = proto._onClose;
  proto._onClose = function (this: ConnectionInternals) {
    clearDeadline(this);
    return originalOnClose.call(this);
  };
}

interface SocketOptions {
  id: string;
  ignore?: boolean;
}

interface ServerInternals {
  options: { ignoredHosts?: string[] };
  _expectsProxyHeader(socket: Socket): boolean;
  _handleProxy(socket: Socket, callback: (err: Error | null, options?: SocketOptions) => void): void;
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

const serverProto = SMTPServer.prototype as unknown as ServerInternals;
const SERVER_PATCHED = Symbol.for('gatehouse.smtp-server.server-patched');
if (typeof serverProto._handleProxy !== 'function' || typeof serverProto._expectsProxyHeader !== 'function') {
  throw new Error('smtp-server internals changed: cannot apply the session setup patch');
}
if (!(serverProto as unknown as Record<symbol, boolean>)[SERVER_PATCHED]) {
  (serverProto as unknown as Record<symbol, boolean>)[SERVER_PATCHED] = true;
  const originalHandleProxy = serverProto._handleProxy;
  serverProto._handleProxy = function (this: ServerInternals, socket, callback) {
    if (this._expectsProxyHeader(socket)) return originalHandleProxy.call(this, socket, callback);
    const ignored = this.options.ignoredHosts;
    callback(null, { id: sessionId(), ignore: Boolean(ignored && ignored.includes(socket.remoteAddress ?? '')) });
  };
}
