/*
 * OAuth 2.0 for XOAUTH2 smarthost logins (Microsoft 365, Google Workspace, or any provider
 * with the standard endpoints). Three ways to get a refresh token once, with the admin:
 *   - startAuthCodeFlow(): authorization code + PKCE (S256) with a loopback redirect
 *     (http://127.0.0.1:<port>/callback) for the system browser; resolves with the tokens
 *     when the browser comes back with the code (state checked), or rejects on denial/timeout;
 *   - startDeviceCode(): the device-code flow (a code to type at the provider's page), polling
 *     at the provider's interval until the admin finishes, declines or the code expires;
 *   - a refresh token pasted or kept from before.
 * Then XOAuth2TokenClient hands out access tokens for delivery: cached, refreshed when less
 * than `refreshMarginSeconds` (default 300) remain, one refresh at a time, a rotated refresh
 * token reported through onRefreshToken (so the caller can seal and store it). Every failure
 * is an OAuthError with the provider's error code (`invalid_grant`, ...) or `network` /
 * `timeout` / `bad_response`; delivery turns it into a temporary failure (the mail waits),
 * never a bounce. Endpoints and scopes per provider come from endpointsFor().
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OAuthSettings } from '../../shared/deliverability.js';

export interface OAuthEndpoints {
  tokenUrl: string;
  authorizeUrl: string;
  deviceCodeUrl: string;
  scope: string;
}

export function endpointsFor(s: Pick<OAuthSettings, 'provider' | 'tenant' | 'tokenUrl' | 'authorizeUrl' | 'deviceCodeUrl' | 'scope'>): OAuthEndpoints {
  let e: OAuthEndpoints;
  if (s.provider === 'microsoft') {
    const base = `https://login.microsoftonline.com/${encodeURIComponent(s.tenant || 'organizations')}/oauth2/v2.0`;
    // SMTP.Send on Exchange Online; offline_access for the refresh token.
    e = { tokenUrl: `${base}/token`, authorizeUrl: `${base}/authorize`, deviceCodeUrl: `${base}/devicecode`, scope: 'https://outlook.office.com/SMTP.Send offline_access' };
  } else if (s.provider === 'google') {
    // Google's device flow does not allow the mail scope: use the browser (auth code) flow there.
    e = { tokenUrl: 'https://oauth2.googleapis.com/token', authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth', deviceCodeUrl: 'https://oauth2.googleapis.com/device/code', scope: 'https://mail.google.com/' };
  } else {
    e = { tokenUrl: '', authorizeUrl: '', deviceCodeUrl: '', scope: '' };
  }
  if (s.tokenUrl) e.tokenUrl = s.tokenUrl;
  if (s.authorizeUrl) e.authorizeUrl = s.authorizeUrl;
  if (s.deviceCodeUrl) e.deviceCodeUrl = s.deviceCodeUrl;
  if (s.scope) e.scope = s.scope;
  return e;
}

export class OAuthError extends Error {
  constructor(
    /** The provider's `error` (invalid_grant, access_denied, ...) or network / timeout / bad_response / state_mismatch. */
    readonly code: string,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'OAuthError';
  }
}

export interface TokenSet {
  accessToken: string;
  /** Absent when the provider did not send one (keep the old refresh token then). */
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface FlowOptions {
  /** Injected for tests; default global fetch. */
  fetch?: typeof fetch;
  now?(): number;
  /** Per HTTP request. Default 15 s. */
  timeoutMs?: number;
}

type Client = Pick<OAuthSettings, 'provider' | 'clientId' | 'clientSecret' | 'tenant' | 'tokenUrl' | 'authorizeUrl' | 'deviceCodeUrl' | 'scope'>;

async function postForm(url: string, form: Record<string, string>, o: FlowOptions): Promise<{ status: number; body: Record<string, unknown> }> {
  if (!url) throw new OAuthError('bad_config', 'no token endpoint configured');
  const f = o.fetch ?? fetch;
  let res: Response;
  try {
    res = await f(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
      redirect: 'error',
    });
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') throw new OAuthError('timeout', `no answer from ${new URL(url).host} within ${o.timeoutMs ?? 15_000} ms`);
    throw new OAuthError('network', `cannot reach ${new URL(url).host}: ${(err as { cause?: { code?: string } })?.cause?.code ?? (err as Error).message}`);
  }
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new OAuthError('bad_response', `${new URL(url).host} answered HTTP ${res.status} without JSON`, res.status);
  }
  return { status: res.status, body };
}

function providerError(r: { status: number; body: Record<string, unknown> }): OAuthError {
  const code = typeof r.body.error === 'string' ? r.body.error : `http_${r.status}`;
  const desc = typeof r.body.error_description === 'string' ? r.body.error_description.split(/\r?\n/)[0] : '';
  return new OAuthError(code, desc ? `${code}: ${desc}` : code, r.status);
}

function tokenSet(body: Record<string, unknown>, now: number): TokenSet {
  if (typeof body.access_token !== 'string' || body.access_token === '') throw new OAuthError('bad_response', 'the token answer has no access_token');
  const expiresIn = Number(body.expires_in);
  const t: TokenSet = { accessToken: body.access_token, expiresAt: now + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600) * 1000 };
  if (typeof body.refresh_token === 'string' && body.refresh_token) t.refreshToken = body.refresh_token;
  return t;
}

function clientFields(c: Client): Record<string, string> {
  const f: Record<string, string> = { client_id: c.clientId };
  if (c.clientSecret) f.client_secret = c.clientSecret;
  return f;
}

/** The refresh_token grant, once. */
export async function refreshAccessToken(c: Client, refreshToken: string, o: FlowOptions = {}): Promise<TokenSet> {
  const e = endpointsFor(c);
  const r = await postForm(e.tokenUrl, { ...clientFields(c), grant_type: 'refresh_token', refresh_token: refreshToken, scope: e.scope }, o);
  if (r.status !== 200) throw providerError(r);
  return tokenSet(r.body, (o.now ?? Date.now)());
}

// ---- device code ----

export interface DeviceCodeStart {
  userCode: string;
  verificationUri: string;
  /** The provider's own sentence (e.g. "To sign in, use a web browser to open ..."). */
  message?: string;
  expiresAt: number;
  /** Polls until the admin finishes (tokens), declines or the code expires (OAuthError). */
  result: Promise<TokenSet>;
  cancel(): void;
}

export async function startDeviceCode(c: Client, o: FlowOptions & { minIntervalMs?: number } = {}): Promise<DeviceCodeStart> {
  const e = endpointsFor(c);
  const now = o.now ?? Date.now;
  const r = await postForm(e.deviceCodeUrl, { ...clientFields(c), scope: e.scope }, o);
  if (r.status !== 200) throw providerError(r);
  const b = r.body;
  const deviceCode = String(b.device_code ?? '');
  const userCode = String(b.user_code ?? '');
  const verificationUri = String(b.verification_uri ?? b.verification_url ?? '');
  if (!deviceCode || !userCode || !verificationUri) throw new OAuthError('bad_response', 'the device-code answer lacks device_code, user_code or verification_uri');
  const expiresAt = now() + (Number(b.expires_in) > 0 ? Number(b.expires_in) : 900) * 1000;
  let intervalMs = Math.max(o.minIntervalMs ?? 1000, (Number(b.interval) > 0 ? Number(b.interval) : 5) * 1000);
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((res) => {
      wake = res;
      timer = setTimeout(res, ms);
    });
  const result = (async (): Promise<TokenSet> => {
    for (;;) {
      await sleep(intervalMs);
      if (cancelled) throw new OAuthError('cancelled', 'sign-in cancelled');
      if (now() > expiresAt) throw new OAuthError('expired_token', 'the code expired before sign-in finished');
      const p = await postForm(e.tokenUrl, { ...clientFields(c), grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode }, o);
      if (p.status === 200) return tokenSet(p.body, now());
      const err = providerError(p);
      if (err.code === 'authorization_pending') continue;
      if (err.code === 'slow_down') {
        intervalMs += 5000;
        continue;
      }
      throw err;
    }
  })();
  result.catch(() => undefined);
  const out: DeviceCodeStart = {
    userCode,
    verificationUri,
    expiresAt,
    result,
    cancel() {
      cancelled = true;
      clearTimeout(timer);
      wake?.();
    },
  };
  if (typeof b.message === 'string') out.message = b.message;
  return out;
}

// ---- authorization code + PKCE, loopback redirect ----

export interface AuthCodeFlow {
  /** Open this in the system browser. */
  url: string;
  redirectUri: string;
  result: Promise<TokenSet>;
  /** Stop listening (also done when the flow ends). */
  close(): void;
}

const DONE_PAGE = (ok: boolean) =>
  `<!doctype html><meta charset="utf-8"><title>Gatehouse</title><p>${ok ? 'サインインが終わりました。このウィンドウを閉じてください。<br>Sign-in finished. You can close this window.' : 'サインインできませんでした。Gatehouse の画面をご確認ください。<br>Sign-in failed. See the Gatehouse window.'}</p>`;

export async function startAuthCodeFlow(c: Client & { user?: string }, o: FlowOptions & { waitMs?: number } = {}): Promise<AuthCodeFlow> {
  const e = endpointsFor(c);
  if (!e.authorizeUrl) throw new OAuthError('bad_config', 'no authorization endpoint configured');
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const state = crypto.randomBytes(16).toString('base64url');
  let settle!: { ok: (t: TokenSet) => void; fail: (e: OAuthError) => void };
  const result = new Promise<TokenSet>((ok, fail) => (settle = { ok, fail }));
  result.catch(() => undefined);
  let redirectUri = '';
  let finished = false;
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (u.pathname !== '/callback' || finished) {
      res.writeHead(404).end();
      return;
    }
    const fail = (err: OAuthError) => {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(DONE_PAGE(false));
      end();
      settle.fail(err);
    };
    if (u.searchParams.get('state') !== state) return fail(new OAuthError('state_mismatch', 'the browser came back with another state (not this sign-in)'));
    const error = u.searchParams.get('error');
    if (error) return fail(new OAuthError(error, `${error}: ${u.searchParams.get('error_description') ?? ''}`.trim()));
    const code = u.searchParams.get('code');
    if (!code) return fail(new OAuthError('bad_response', 'the browser came back without a code'));
    finished = true;
    postForm(e.tokenUrl, { ...clientFields(c), grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, scope: e.scope }, o)
      .then((r) => {
        if (r.status !== 200) throw providerError(r);
        return tokenSet(r.body, (o.now ?? Date.now)());
      })
      .then(
        (t) => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(DONE_PAGE(true));
          end();
          settle.ok(t);
        },
        (err: unknown) => {
          res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(DONE_PAGE(false));
          end();
          settle.fail(err instanceof OAuthError ? err : new OAuthError('bad_response', String(err)));
        },
      );
  });
  const timer = setTimeout(() => {
    end();
    settle.fail(new OAuthError('timeout', 'sign-in did not finish in time'));
  }, o.waitMs ?? 5 * 60_000);
  timer.unref();
  function end(): void {
    finished = true;
    clearTimeout(timer);
    server.close();
    server.closeAllConnections?.();
  }
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  const q = new URLSearchParams({
    client_id: c.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: e.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  if (c.provider === 'google') {
    q.set('access_type', 'offline');
    q.set('prompt', 'consent');
  }
  if (c.user) q.set('login_hint', c.user);
  return {
    url: `${e.authorizeUrl}?${q.toString()}`,
    redirectUri,
    result,
    close: () => {
      if (!finished) {
        end();
        settle.fail(new OAuthError('cancelled', 'sign-in cancelled'));
      }
    },
  };
}

// ---- access tokens for delivery ----

export interface TokenClientOptions extends FlowOptions {
  /** Refresh when fewer seconds than this remain. Default 300. */
  refreshMarginSeconds?: number;
  /** The provider rotated the refresh token: store (seal) the new one. */
  onRefreshToken?(token: string): void | Promise<void>;
}

export interface TokenStatus {
  user: string;
  ok: boolean;
  expiresAt?: string;
  lastRefreshAt?: string;
  /** The last refresh failure (`invalid_grant: ...`), cleared by a success. */
  lastError?: string;
  lastErrorCode?: string;
}

export class XOAuth2TokenClient {
  private current: TokenSet | null = null;
  private inflight: Promise<string> | null = null;
  private refreshToken: string;
  private lastRefreshAt?: number;
  private lastError?: OAuthError;
  private readonly margin: number;

  constructor(
    private readonly settings: OAuthSettings & { refreshToken: string },
    private readonly opts: TokenClientOptions = {},
  ) {
    this.refreshToken = settings.refreshToken;
    this.margin = (opts.refreshMarginSeconds ?? 300) * 1000;
  }

  get user(): string {
    return this.settings.user;
  }

  /** Identifies the login (not the token): for connection reuse. */
  get id(): string {
    return `${this.settings.provider}|${this.settings.clientId}|${this.settings.user}`;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** A valid access token; `force` refreshes even when the cached one looks fine (the server refused it). */
  token(force = false): Promise<string> {
    if (!force && this.current && this.current.expiresAt - this.margin > this.now()) return Promise.resolve(this.current.accessToken);
    if (this.inflight) return this.inflight;
    this.inflight = this.refresh().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async refresh(): Promise<string> {
    if (!this.refreshToken) {
      this.lastError = new OAuthError('no_refresh_token', 'no refresh token: complete the sign-in first');
      throw this.lastError;
    }
    try {
      const t = await refreshAccessToken(this.settings, this.refreshToken, this.opts);
      this.current = t;
      this.lastRefreshAt = this.now();
      this.lastError = undefined;
      if (t.refreshToken && t.refreshToken !== this.refreshToken) {
        this.refreshToken = t.refreshToken;
        await this.opts.onRefreshToken?.(t.refreshToken);
      }
      return t.accessToken;
    } catch (err) {
      this.lastError = err instanceof OAuthError ? err : new OAuthError('bad_response', String(err));
      throw this.lastError;
    }
  }

  status(): TokenStatus {
    const s: TokenStatus = { user: this.settings.user, ok: !this.lastError && !!this.current };
    if (this.current) s.expiresAt = new Date(this.current.expiresAt).toISOString();
    if (this.lastRefreshAt) s.lastRefreshAt = new Date(this.lastRefreshAt).toISOString();
    if (this.lastError) {
      s.lastError = this.lastError.message;
      s.lastErrorCode = this.lastError.code;
    }
    return s;
  }
}
