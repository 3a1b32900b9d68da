/*
 * Does the smarthost let us log in? probeLogin() opens one session the way delivery does
 * (nodemailer's SMTPConnection: TLS mode, certificate check, EHLO name, password or XOAUTH2),
 * logs in, and quits without sending anything. Resolves with the stage that failed
 * (connect, tls, auth) and the server's reply, or ok with the TLS facts; never rejects.
 * The deliverability check (`gatehouse doctor`) uses it.
 */
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import tls from 'node:tls';
import type { ConnectSettings } from './transport-pool.js';
import type { TlsInfo } from './types.js';

export type LoginProbe =
  | { ok: true; method: string; tls?: TlsInfo }
  | { ok: false; stage: 'connect' | 'tls' | 'auth'; code?: number; reply: string; tls?: TlsInfo };

interface ErrLike {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/** Certificate and handshake failures come as ETLS, ESOCKET or node's own codes: tell them by what they say. */
function isTlsFailure(err: ErrLike): boolean {
  return err.code === 'ETLS' || /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/.test(String(err.code ?? '')) || /certificate|TLS|SSL|self[- ]signed|altnames/i.test(String(err.message ?? ''));
}

export async function probeLogin(s: ConnectSettings, timeoutMs = 15_000): Promise<LoginProbe> {
  // Loaded when a check runs: delivery's sessions live on their own thread
  // (transport-thread.ts), so the gateway's thread otherwise keeps no SMTP client in memory.
  const [{ default: Connection }, { tlsInfoOf, xoauth2Adapter }] = await Promise.all([import('nodemailer/lib/smtp-connection'), import('./transport-pool.js')]);
  return new Promise((resolve) => {
    let settled = false;
    const conn = new Connection({
      host: s.host,
      port: s.port,
      secure: s.security === 'tls',
      requireTLS: s.security === 'starttls',
      ignoreTLS: s.security === 'none',
      opportunisticTLS: s.security === 'opportunistic',
      name: s.name,
      connectionTimeout: s.connectTimeoutMs,
      greetingTimeout: s.connectTimeoutMs,
      socketTimeout: timeoutMs,
      tls: { rejectUnauthorized: s.rejectUnauthorized, ...(s.servername ? { servername: s.servername } : {}), ...(s.ca && s.ca.length > 0 ? { ca: [...tls.rootCertificates, ...s.ca] } : {}) },
      logger: false,
    });
    const finish = (r: LoginProbe) => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      try {
        if (r.ok) conn.quit();
        else conn.close();
      } catch {
        // already closed
      }
      resolve(r);
    };
    const fail = (stage: 'connect' | 'tls' | 'auth', err: ErrLike) => {
      const r: LoginProbe = { ok: false, stage, reply: String(err.response ?? err.message ?? err.code ?? err).replace(/[\r\n]+/g, ' ').slice(0, 300) };
      if (err.responseCode) r.code = err.responseCode;
      const t = tlsInfoOf(conn);
      if (t) r.tls = t;
      finish(r);
    };
    const guard = setTimeout(() => fail('connect', { code: 'ETIMEDOUT', message: `no answer within ${timeoutMs} ms` }), timeoutMs);
    guard.unref();
    conn.on('error', (err: ErrLike) => fail(isTlsFailure(err) ? 'tls' : 'connect', err));
    conn.connect((err?: ErrLike | null) => {
      if (err) return fail(isTlsFailure(err) ? 'tls' : 'connect', err);
      const info = tlsInfoOf(conn);
      const auth = s.auth;
      const done = (method: string) => finish({ ok: true, method, ...(info ? { tls: info } : {}) });
      if (!auth) return done('none');
      const cb = (e: ErrLike | null) => (e ? fail('auth', e) : done('pass' in auth ? 'password' : 'XOAUTH2'));
      if ('pass' in auth) conn.login({ user: auth.user, pass: auth.pass, credentials: { user: auth.user, pass: auth.pass } }, cb);
      else conn.login({ user: auth.user, method: 'XOAUTH2', oauth2: xoauth2Adapter(auth.user, auth.xoauth2) } as unknown as SMTPConnection.AuthenticationCredentials, cb);
    });
  });
}
