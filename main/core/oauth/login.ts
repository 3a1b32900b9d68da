/*
 * The XOAUTH2 login as the gateway runs it: the app registration from the settings
 * (`delivery.oauth`, its client secret sealed), the refresh token from token-store.ts, one
 * XOAuth2TokenClient for delivery (rebuilt when either changes; a rotated refresh token is
 * sealed and stored at once), and at most one sign-in in progress: the browser flow (a
 * loopback redirect on 127.0.0.1 that the provider's page comes back to; the window opens the
 * URL in the system browser) or the device code (a code the admin types at the provider's
 * page). status() says all of it as the contract's OAuthStatus; `onChange` hears every change
 * that a window should show (a sign-in started, finished or failed; access tokens failing or
 * working again). start() rejects with an OAuthError ('oauth_not_configured',
 * 'oauth_flow_unsupported', or the provider's code) when a sign-in cannot begin; delivery's
 * token() rejects with one when no token can be had, and the mail waits.
 */
import type { OAuthFlowView, OAuthStatus } from '../../shared/contract.js';
import type { OAuthSettings } from '../../shared/deliverability.js';
import type { GatehouseConfig } from '../../shared/types.js';
import { openSecret } from '../config/secrets.js';
import type { XOAuth2Source } from '../delivery/types.js';
import { OAuthError, XOAuth2TokenClient, startAuthCodeFlow, startDeviceCode, type TokenSet } from './token-client.js';
import { TokenStore, loginId, type StoredToken } from './token-store.js';

export interface OAuthLoginOptions {
  dataDir: string;
  config(): GatehouseConfig;
  onChange?(status: OAuthStatus): void;
  /** Tests: the provider stand-in's fetch; default global fetch. */
  fetch?: typeof fetch;
  /** How long a browser sign-in waits for the redirect. Default 10 min. */
  browserWaitMs?: number;
}

interface Flow {
  login: string;
  view: OAuthFlowView;
  cancel(): void;
}

/** The registration with its client secret opened, ready for the token endpoint. */
function opened(s: OAuthSettings): OAuthSettings {
  return s.clientSecret ? { ...s, clientSecret: openSecret(s.clientSecret) } : s;
}

export class OAuthLogin {
  readonly store: TokenStore;
  private stored: StoredToken | null | undefined;
  private client: { key: string; client: XOAuth2TokenClient } | null = null;
  private flow: Flow | null = null;
  private flowError: OAuthStatus['flowError'];
  private lastSignal = '';

  /** Access tokens for delivery (the smarthost, routes with auth xoauth2); its id follows the login. */
  readonly source: XOAuth2Source;

  constructor(private readonly o: OAuthLoginOptions) {
    this.store = new TokenStore(o.dataDir);
    const self = this;
    this.source = {
      get id(): string {
        return self.sourceId();
      },
      token: (force?: boolean) => self.accessToken(force ?? false),
    };
  }

  private settings(): OAuthSettings | null {
    return this.o.config().delivery.oauth;
  }

  private token(): StoredToken | null {
    if (this.stored === undefined) this.stored = this.store.read();
    return this.stored;
  }

  /** The stored token, when it belongs to the registration in force. */
  private current(): { s: OAuthSettings; t: StoredToken } | null {
    const s = this.settings();
    const t = this.token();
    return s && t && t.login === loginId(s) ? { s, t } : null;
  }

  /** The smarthost or a route with a sender condition logs in with XOAUTH2. */
  private inUse(): boolean {
    const d = this.o.config().delivery;
    return d.smarthost?.auth === 'xoauth2' || d.senderRoutes.some((r) => r.auth === 'xoauth2');
  }

  status(): OAuthStatus {
    const s = this.settings();
    const cur = this.current();
    const out: OAuthStatus = { configured: !!s, inUse: this.inUse(), signedIn: !!cur, flow: this.flow?.view ?? null };
    if (s) {
      out.provider = s.provider;
      out.user = s.user;
    }
    if (cur) out.signedInAt = cur.t.signedInAt;
    if (this.flowError) out.flowError = this.flowError;
    const c = cur && this.client?.key === this.clientKey(cur.s, cur.t) ? this.client.client.status() : null;
    if (c && (c.expiresAt || c.lastError)) {
      out.token = { ok: c.ok };
      if (c.expiresAt) out.token.expiresAt = c.expiresAt;
      if (c.lastRefreshAt) out.token.lastRefreshAt = c.lastRefreshAt;
      if (c.lastError) out.token.error = c.lastError;
      if (c.lastErrorCode) out.token.errorCode = c.lastErrorCode;
    }
    return out;
  }

  /** Tell the window when what it shows changed (not on every token handed out). */
  private changed(): void {
    const s = this.status();
    const signal = JSON.stringify([s.configured, s.inUse, s.signedIn, s.signedInAt, s.flow, s.flowError, s.token?.ok, s.token?.error]);
    if (signal === this.lastSignal) return;
    this.lastSignal = signal;
    this.o.onChange?.(s);
  }

  /** The settings changed (or may have): drop what no longer fits and tell the window. */
  configChanged(): void {
    const s = this.settings();
    if (this.flow && (!s || this.flow.login !== loginId(s))) this.cancelFlow('cancelled', 'the XOAUTH2 settings changed during the sign-in');
    this.changed();
  }

  private clientKey(s: OAuthSettings, t: StoredToken): string {
    return JSON.stringify([loginId(s), s.clientSecret ?? '', s.authorizeUrl ?? '', s.scope ?? '', t.refreshToken]);
  }

  private tokenClient(): XOAuth2TokenClient | null {
    const cur = this.current();
    if (!cur) return null;
    const key = this.clientKey(cur.s, cur.t);
    if (this.client?.key === key) return this.client.client;
    const { s, t } = cur;
    const client = new XOAuth2TokenClient(
      { ...opened(s), refreshToken: openSecret(t.refreshToken) },
      {
        fetch: this.o.fetch,
        onRefreshToken: async (rotated) => {
          this.stored = await this.store.write(t.login, rotated, t.signedInAt);
          // The client already uses the rotated token: keep it under the new key.
          if (this.client?.client === client) this.client = { key: this.clientKey(s, this.stored), client };
        },
      },
    );
    this.client = { key, client };
    return client;
  }


  /** Sessions are reused per login: a new registration or token must not ride an old session. */
  sourceId(): string {
    const cur = this.current();
    return cur ? `xoauth2|${loginId(cur.s)}|${cur.t.signedInAt}` : 'xoauth2|none';
  }

  private async accessToken(force: boolean): Promise<string> {
    const s = this.settings();
    if (!s) throw new OAuthError('oauth_not_configured', 'no XOAUTH2 login is set up (register the app on the deliverability page)');
    const client = this.tokenClient();
    if (!client) throw new OAuthError('not_signed_in', `the XOAUTH2 login for ${s.user} has no consent yet: sign in on the deliverability page`);
    try {
      return await client.token(force);
    } finally {
      this.changed();
    }
  }

  /** The mailbox the login is for (XOAUTH2 `user=`). */
  user(): string {
    return this.settings()?.user ?? '';
  }

  async start(kind: 'browser' | 'device'): Promise<OAuthStatus> {
    const s = this.settings();
    if (!s) throw new OAuthError('oauth_not_configured', 'no XOAUTH2 login is set up: register the app first (client id, mailbox)');
    if (kind === 'device' && s.provider === 'google') throw new OAuthError('oauth_flow_unsupported', "Google's device-code sign-in does not allow the mail scope; use the browser sign-in");
    this.cancelFlow();
    this.flowError = undefined;
    const login = loginId(s);
    const client = opened(s);
    let result: Promise<TokenSet>;
    if (kind === 'browser') {
      const f = await startAuthCodeFlow(client, { fetch: this.o.fetch, waitMs: this.o.browserWaitMs ?? 10 * 60_000 });
      this.flow = { login, view: { kind: 'browser', url: f.url, expiresAt: new Date(Date.now() + (this.o.browserWaitMs ?? 10 * 60_000)).toISOString() }, cancel: () => f.close() };
      result = f.result;
    } else {
      const f = await startDeviceCode(client, { fetch: this.o.fetch });
      const view: OAuthFlowView = { kind: 'device', userCode: f.userCode, verificationUri: f.verificationUri, expiresAt: new Date(f.expiresAt).toISOString() };
      if (f.message) view.message = f.message;
      this.flow = { login, view, cancel: () => f.cancel() };
      result = f.result;
    }
    const mine = this.flow;
    result.then(
      async (t) => {
        if (this.flow !== mine) return;
        this.flow = null;
        if (!t.refreshToken) {
          this.flowError = { code: 'no_refresh_token', message: 'the provider sent no refresh token (is offline access in the scope?)' };
        } else {
          try {
            this.stored = await this.store.write(login, t.refreshToken, new Date().toISOString());
          } catch (err) {
            this.flowError = { code: 'storage', message: `the token could not be stored: ${(err as Error).message}` };
          }
        }
        this.changed();
      },
      (err: unknown) => {
        if (this.flow !== mine) return;
        this.flow = null;
        const e = err instanceof OAuthError ? err : new OAuthError('bad_response', String(err));
        this.flowError = { code: e.code, message: e.message };
        this.changed();
      },
    );
    this.changed();
    return this.status();
  }

  private cancelFlow(code?: string, message?: string): void {
    const f = this.flow;
    if (!f) return;
    this.flow = null;
    f.cancel();
    if (code) this.flowError = { code, message: message ?? code };
  }

  cancel(): OAuthStatus {
    this.cancelFlow('cancelled', 'sign-in cancelled');
    this.changed();
    return this.status();
  }

  /** Stop a sign-in in progress (the gateway is closing). */
  close(): void {
    this.cancelFlow();
  }
}
