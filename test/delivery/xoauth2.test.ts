// XOAUTH2 smarthosts: the token client against a local token endpoint (node:http on
// loopback: refresh grant, auth code + PKCE through a loopback redirect, device code), and
// the real delivery transport logging in to a local smtp-server that accepts only XOAUTH2
// and checks the user and token it decoded from the base64 XOAUTH2 string. Access tokens are
// refreshed before they expire; a refresh failure defers the mail (never a bounce).
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OAuthError, XOAuth2TokenClient, endpointsFor, startAuthCodeFlow, startDeviceCode } from '../../main/core/oauth/token-client.js';
import type { OAuthSettings } from '../../main/shared/deliverability.js';
import { harness, testConfig, waitFor, type Harness } from './helpers.js';

interface Idp {
  url: string;
  /** Tokens issued, with their expiry (epoch ms, by the idp's clock = the test clock). */
  issued: Map<string, number>;
  grants: string[];
  refreshToken: string;
  /** Next refresh answers this error instead. */
  failRefresh: string | null;
  expiresIn: number;
  rotate: boolean;
  close(): Promise<void>;
}

let clock = Date.parse('2026-03-01T09:00:00Z');
const now = () => clock;

async function startIdp(): Promise<Idp> {
  let n = 0;
  const challenges = new Map<string, string>(); // code -> challenge
  let devicePolls = 0;
  const idp: Idp = { url: '', issued: new Map(), grants: [], refreshToken: 'rt-1', failRefresh: null, expiresIn: 3600, rotate: false, close: async () => undefined };
  const issue = () => {
    const token = `at-${++n}`;
    idp.issued.set(token, now() + idp.expiresIn * 1000);
    return token;
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && u.pathname === '/authorize') {
      // The "browser": the admin consents at once; back to the loopback redirect.
      const code = `code-${crypto.randomBytes(4).toString('hex')}`;
      challenges.set(code, u.searchParams.get('code_challenge') ?? '');
      const back = new URL(u.searchParams.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', u.searchParams.get('state') ?? '');
      return res.writeHead(302, { location: back.toString() }).end();
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const f = new URLSearchParams(body);
      if (f.get('client_id') !== 'app-1') return json(res, 400, { error: 'invalid_client' });
      if (u.pathname === '/devicecode') return json(res, 200, { device_code: 'dev-1', user_code: 'ABCD-EFGH', verification_uri: 'https://login.example/device', expires_in: 60, interval: 0.05, message: 'Go and type ABCD-EFGH' });
      if (u.pathname !== '/token') return json(res, 404, { error: 'not_found' });
      const grant = f.get('grant_type') ?? '';
      idp.grants.push(grant);
      if (grant === 'refresh_token') {
        if (idp.failRefresh) return json(res, 400, { error: idp.failRefresh, error_description: 'AADSTS70000: The refresh token was revoked.\r\nTrace ID: x' });
        if (f.get('refresh_token') !== idp.refreshToken) return json(res, 400, { error: 'invalid_grant', error_description: 'unknown refresh token' });
        if (!/SMTP\.Send|test-scope/.test(f.get('scope') ?? '')) return json(res, 400, { error: 'invalid_scope' });
        const out: Record<string, unknown> = { token_type: 'Bearer', access_token: issue(), expires_in: idp.expiresIn };
        if (idp.rotate) {
          idp.refreshToken = `${idp.refreshToken}+`;
          out.refresh_token = idp.refreshToken;
        }
        return json(res, 200, out);
      }
      if (grant === 'authorization_code') {
        const challenge = challenges.get(f.get('code') ?? '');
        const verifier = f.get('code_verifier') ?? '';
        if (!challenge || crypto.createHash('sha256').update(verifier).digest('base64url') !== challenge) return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE check failed' });
        return json(res, 200, { access_token: issue(), refresh_token: idp.refreshToken, expires_in: idp.expiresIn });
      }
      if (grant === 'urn:ietf:params:oauth:grant-type:device_code') {
        if (++devicePolls < 3) return json(res, 400, { error: 'authorization_pending' });
        return json(res, 200, { access_token: issue(), refresh_token: idp.refreshToken, expires_in: idp.expiresIn });
      }
      return json(res, 400, { error: 'unsupported_grant_type' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  idp.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  idp.close = () => new Promise<void>((r) => server.close(() => r()));
  return idp;
}

const settings = (idp: Idp, over: Partial<OAuthSettings & { refreshToken: string }> = {}): OAuthSettings & { refreshToken: string } => ({
  provider: 'microsoft',
  clientId: 'app-1',
  tenant: 'tenant.example',
  user: 'mailbox@test.jp',
  refreshToken: idp.refreshToken,
  tokenUrl: `${idp.url}/token`,
  authorizeUrl: `${idp.url}/authorize`,
  deviceCodeUrl: `${idp.url}/devicecode`,
  ...over,
});

describe('endpoints', () => {
  it('Microsoft 365 and Google Workspace defaults', () => {
    expect(endpointsFor({ provider: 'microsoft', tenant: 'contoso.onmicrosoft.com' })).toEqual({
      tokenUrl: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
      authorizeUrl: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize',
      deviceCodeUrl: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode',
      scope: 'https://outlook.office.com/SMTP.Send offline_access',
    });
    expect(endpointsFor({ provider: 'google' })).toMatchObject({ tokenUrl: 'https://oauth2.googleapis.com/token', scope: 'https://mail.google.com/' });
  });
});

describe('token client against a local token endpoint', () => {
  let idp: Idp;
  beforeAll(async () => {
    idp = await startIdp();
  });
  afterAll(async () => {
    await idp.close();
  });

  it('auth code + PKCE through the loopback redirect; a wrong state is refused', async () => {
    const flow = await startAuthCodeFlow(settings(idp), { now });
    const u = new URL(flow.url);
    expect(u.searchParams.get('code_challenge_method')).toBe('S256');
    expect(u.searchParams.get('redirect_uri')).toBe(flow.redirectUri);
    expect(flow.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    // What the system browser would do: follow the provider's redirect back to us.
    const consent = await fetch(flow.url, { redirect: 'manual' });
    const back = await fetch(consent.headers.get('location')!);
    expect(await back.text()).toContain('Sign-in finished');
    const t = await flow.result;
    expect(t).toMatchObject({ refreshToken: 'rt-1' });
    expect(idp.issued.has(t.accessToken)).toBe(true);

    const other = await startAuthCodeFlow(settings(idp), { now });
    const bad = await fetch(`${other.redirectUri}?code=x&state=forged`);
    expect(bad.status).toBe(400);
    await expect(other.result).rejects.toMatchObject({ code: 'state_mismatch' });
  });

  it('device code: pending, then tokens', async () => {
    const d = await startDeviceCode(settings(idp), { now, minIntervalMs: 10 });
    expect(d).toMatchObject({ userCode: 'ABCD-EFGH', verificationUri: 'https://login.example/device', message: 'Go and type ABCD-EFGH' });
    const t = await d.result;
    expect(idp.issued.has(t.accessToken)).toBe(true);
  });

  it('access tokens: cached, refreshed before expiry, one refresh for concurrent callers, rotation reported', async () => {
    idp.expiresIn = 3600;
    idp.rotate = true;
    const rotated: string[] = [];
    const c = new XOAuth2TokenClient(settings(idp), { now, onRefreshToken: (t) => void rotated.push(t) });
    const before = idp.grants.length;
    const [a, b] = await Promise.all([c.token(), c.token()]);
    expect(a).toBe(b);
    expect(idp.grants.length).toBe(before + 1);
    clock += 3000 * 1000; // 600 s left: still outside the 300 s margin
    expect(await c.token()).toBe(a);
    clock += 400 * 1000; // 200 s left: refreshed before it expires
    const a2 = await c.token();
    expect(a2).not.toBe(a);
    expect(rotated).toEqual(['rt-1+', 'rt-1++']);
    expect(c.status()).toMatchObject({ ok: true, user: 'mailbox@test.jp' });
    idp.rotate = false;
  });

  it('a refresh failure is an OAuthError with the provider code, shown in status()', async () => {
    const c = new XOAuth2TokenClient(settings(idp, { refreshToken: 'wrong' }), { now });
    await expect(c.token()).rejects.toBeInstanceOf(OAuthError);
    expect(c.status()).toMatchObject({ ok: false, lastErrorCode: 'invalid_grant' });
    const down = new XOAuth2TokenClient(settings(idp, { tokenUrl: 'http://127.0.0.1:9/token' }), { now });
    await expect(down.token()).rejects.toMatchObject({ code: 'network' });
  });
});

describe('XOAUTH2 through the real delivery transport', () => {
  let idp: Idp;
  let smtp: SMTPServer;
  let port = 0;
  const received: { user: string; token: string }[] = [];
  const authTries: string[] = [];
  let revoked = new Set<string>();
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    idp = await startIdp();
    smtp = new SMTPServer({
      logger: false,
      disableReverseLookup: true,
      authMethods: ['XOAUTH2'],
      allowInsecureAuth: true,
      hideSTARTTLS: true,
      closeTimeout: 200,
      onAuth(auth, _s, cb) {
        // smtp-server decoded the base64 `user=...^Aauth=Bearer ...^A^A` string for us.
        authTries.push(`${auth.method} ${auth.username} ${auth.accessToken}`);
        const exp = idp.issued.get(String(auth.accessToken));
        if (auth.method !== 'XOAUTH2' || auth.username !== 'mailbox@test.jp' || !exp || exp < now() || revoked.has(String(auth.accessToken))) {
          // RFC 7628 style failure: a 334 challenge with the error, then 535.
          return cb(null, { data: { status: '401', schemes: 'bearer', scope: 'https://outlook.office.com/SMTP.Send' } });
        }
        cb(null, { user: auth.username });
      },
      onData(stream, session, cb) {
        stream.resume();
        stream.on('end', () => {
          received.push({ user: String(session.user), token: '' });
          cb(null);
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    port = (smtp.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => smtp.close(() => r()));
    await idp.close();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  async function gateway(client: XOAuth2TokenClient): Promise<Harness> {
    const cfg = testConfig((c) => {
      c.delivery.smarthost = { host: '127.0.0.1', port, security: 'none', user: '', password: '', allowInvalidCert: true };
      c.delivery.retrySchedule = [60];
    });
    const h = await harness(cfg, {
      now: () => new Date(now()),
      poolIdleMs: 20,
      outbound: () => ({ credentials: (t) => (t.via === 'smarthost' ? { user: client.user, xoauth2: client } : undefined) }),
    });
    cleanups.push(() => h.close());
    return h;
  }

  it('logs in with XOAUTH2, refreshes before expiry, and gets a new token when the server refuses the old one', async () => {
    idp.expiresIn = 3600;
    idp.failRefresh = null;
    const client = new XOAuth2TokenClient(settings(idp), { now });
    const h = await gateway(client);
    await h.send('alice@test.jp', ['x@gmail.example']);
    await waitFor(() => received.length === 1, 8000, 'first delivery');
    const first = authTries.at(-1)!;
    expect(first).toMatch(/^XOAUTH2 mailbox@test\.jp at-\d+$/);
    // Near expiry: the next attempt refreshes first and logs in with the new token.
    clock += 3500 * 1000;
    await new Promise((r) => setTimeout(r, 60)); // the idle session closes (poolIdleMs)
    await h.send('alice@test.jp', ['y@gmail.example']);
    await waitFor(() => received.length === 2, 8000, 'second delivery');
    const second = authTries.at(-1)!;
    expect(second).not.toBe(first);
    // The server stops taking the current token: nodemailer asks for a fresh one and retries.
    revoked = new Set([second.split(' ')[2]]);
    await new Promise((r) => setTimeout(r, 60));
    await h.send('alice@test.jp', ['z@gmail.example']);
    await waitFor(() => received.length === 3, 8000, 'third delivery');
    expect(authTries.at(-2)).toBe(second);
    expect(authTries.at(-1)).not.toBe(second);
    await waitFor(() => h.log.length === 3, 5000, 'senderlog');
    expect(h.log.filter((l) => l.via === 'smarthost').map((l) => l.outcome)).toEqual(['delivered', 'delivered', 'delivered']);
  });

  it('a refresh failure defers the mail with a clear status and never reaches the server; no bounce', async () => {
    idp.failRefresh = 'invalid_grant';
    const client = new XOAuth2TokenClient(settings(idp), { now });
    const h = await gateway(client);
    const triesBefore = authTries.length;
    const id = await h.send('alice@test.jp', ['x@gmail.example']);
    await waitFor(() => h.log.some((l) => l.queueId === id), 8000, 'attempt');
    const line = h.log.find((l) => l.queueId === id)!;
    expect(line).toMatchObject({ via: 'smarthost', outcome: 'deferred' });
    expect(line.reply).toMatch(/XOAUTH2 login for mailbox@test\.jp: cannot get an access token \(invalid_grant: AADSTS70000: The refresh token was revoked\.\)/);
    expect(authTries.length).toBe(triesBefore);
    const [item] = await h.runner.list();
    expect(item).toMatchObject({ id, state: 'deferred', pending: ['x@gmail.example'] });
    expect(h.log.some((l) => l.outcome === 'bounced')).toBe(false);
    expect(client.status()).toMatchObject({ ok: false, lastErrorCode: 'invalid_grant' });
    idp.failRefresh = null;
  });
});
