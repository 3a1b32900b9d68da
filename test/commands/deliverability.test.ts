/*
 * The deliverability commands on a real gateway and data folder, through the dispatcher (the
 * one way in for every transport):
 *  - secrets (DKIM private keys, a route's password, the OAuth client secret) are sealed in
 *    config.json and the audit trail and never in a view; omitted passwords are kept;
 *  - routes with sender conditions: set, import (merge keeps logins; a sender condition on an
 *    operated domain is refused by line), `routes.which`, config.set of delivery keeps them;
 *  - the XOAUTH2 login end to end against a provider stand-in on loopback and an SMTP server
 *    that takes only XOAUTH2: mail waits (deferred, never bounced) until the admin signs in;
 *    the browser sign-in comes back to the gateway's loopback redirect, the device code is
 *    shown and polled; the refresh token is sealed in its own file and its rotation makes no
 *    audit entry; a refresh failure defers the mail and goes out as an 'oauth' event.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';

import { createCommands, createDispatcher, gatewayPorts } from '../../main/core/commands/index.js';
import { Gateway } from '../../main/core/gateway.js';
import type { ApiResult, ArgsOf, CommandName, OAuthStatus, ResultOf } from '../../main/shared/contract.js';
import type { SenderLogEntry } from '../../main/shared/types.js';
import { NO_DNS, officeConfig, tempDir } from '../helpers/gateway.js';

type Call = <C extends CommandName>(command: C, args?: ArgsOf<C>) => Promise<ApiResult<ResultOf<C>>>;

async function open(patch?: Parameters<typeof officeConfig>[0]): Promise<{ gw: Gateway; dir: string; call: Call; ok: <C extends CommandName>(c: C, a?: ArgsOf<C>) => Promise<ResultOf<C>> }> {
  const dir = await tempDir('gatehouse-deliv-cmd-');
  const gw = await Gateway.open({ dataDir: dir, createWith: officeConfig(patch), resolver: NO_DNS });
  const dispatch = createDispatcher(createCommands(gatewayPorts(gw)));
  const call: Call = (c, a) => dispatch(c, a, { via: 'ui' }) as never;
  const ok = async <C extends CommandName>(c: C, a?: ArgsOf<C>) => {
    const r = await call(c, a);
    if (!r.ok) throw new Error(`${c}: ${r.error.code} ${r.error.message}`);
    return r.value;
  };
  return { gw, dir, call, ok };
}

describe('deliverability settings through the command layer', () => {
  let env: Awaited<ReturnType<typeof open>>;
  beforeAll(async () => {
    env = await open((c) => void (c.internalDomains = ['test.jp', 'part.test.jp']));
  });
  afterAll(async () => {
    await env.gw.close();
    await fs.rm(env.dir, { recursive: true, force: true });
  });

  it('seals every secret at rest and shows only flags', async () => {
    const { ok, dir } = env;
    const key = await ok('dkim.generate', { domain: 'Test.JP', selector: 's1' });
    expect(key).toMatchObject({ domain: 'test.jp', selector: 's1', algorithm: 'rsa', record: { name: 's1._domainkey.test.jp' } });
    expect(key.record.value).toMatch(/^v=DKIM1; k=rsa; p=MII/);
    expect(key).not.toHaveProperty('privateKey');
    const ed = await ok('dkim.generate', { domain: 'test.jp', selector: 'e1', algorithm: 'ed25519' });
    expect(ed.record.value).toMatch(/^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
    await ok('routes.set', {
      routes: [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: 9 }], tls: 'required' }],
      senderRoutes: [{ destination: '*', sender: 'ceo@test.jp', hosts: [{ host: '127.0.0.5', port: 587 }], auth: 'password', user: 'ceo', password: 'route-pass-1' }],
    });
    await ok('oauth.set', { provider: 'microsoft', clientId: 'app-1', clientSecret: 'client-secret-1', user: 'mailbox@test.jp', tenant: 'test.jp' });

    const files = await Promise.all(['config.json', 'config.last-good.json', 'audit.jsonl'].map((f) => fs.readFile(path.join(dir, f), 'utf8')));
    for (const text of files) {
      expect(text).not.toMatch(/BEGIN PRIVATE KEY/);
      expect(text).not.toContain('route-pass-1');
      expect(text).not.toContain('client-secret-1');
    }
    const stored = JSON.parse(files[0]!);
    expect(stored.dkim.keys[0].privateKey).toMatch(/^enc:v1:file:/);
    expect(stored.delivery.senderRoutes[0].password).toMatch(/^enc:v1:file:/);
    expect(stored.delivery.oauth.clientSecret).toMatch(/^enc:v1:file:/);

    const view = await ok('config.get');
    const text = JSON.stringify(view);
    expect(text).not.toMatch(/enc:v1|PRIVATE KEY|route-pass-1|client-secret-1/);
    expect(view.dkim.keys.map((k) => [k.selector, k.record.name])).toEqual([['s1', 's1._domainkey.test.jp'], ['e1', 'e1._domainkey.test.jp']]);
    expect(view.delivery.senderRoutes[0]).toMatchObject({ user: 'ceo', hasPassword: true });
    expect(view.delivery.oauth).toMatchObject({ clientId: 'app-1', hasClientSecret: true });
    expect(view.routes[0]!.tls).toBe('required');
    // History views carry no secret either.
    expect(JSON.stringify(await ok('history.list'))).not.toMatch(/enc:v1|PRIVATE KEY/);
  });

  it('keeps a password that is not sent again; a new user needs it again; refusals name the field', async () => {
    const { ok, call } = env;
    const before = JSON.parse(await fs.readFile(path.join(env.dir, 'config.json'), 'utf8')).delivery.senderRoutes[0].password;
    await ok('routes.set', {
      routes: [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: 9 }] }],
      senderRoutes: [{ destination: '*', sender: 'ceo@test.jp', hosts: [{ host: '127.0.0.5', port: 587 }, { host: '127.0.0.6', port: 587 }], auth: 'password', user: 'ceo' }],
    });
    let stored = JSON.parse(await fs.readFile(path.join(env.dir, 'config.json'), 'utf8')).delivery.senderRoutes[0];
    expect(stored.password).toBe(before);
    expect(stored.hosts).toHaveLength(2);
    await ok('routes.set', { routes: [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: 9 }] }], senderRoutes: [{ destination: '*', sender: 'ceo@test.jp', hosts: [{ host: '127.0.0.5', port: 587 }], auth: 'password', user: 'someone-else' }] });
    stored = JSON.parse(await fs.readFile(path.join(env.dir, 'config.json'), 'utf8')).delivery.senderRoutes[0];
    expect(stored.password).toBeUndefined();

    const bad = await call('routes.set', {
      routes: [],
      senderRoutes: [
        { destination: 'test.jp', sender: 'a@test.jp', hosts: [{ host: '127.0.0.5', port: 25 }] },
        { destination: '*', sender: 'not an address@', hosts: [{ host: '127.0.0.5', port: 25 }] },
        { destination: '*', hosts: [{ host: '127.0.0.5', port: 25 }], tls: 'always' as never },
      ],
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.error.issues?.map((i) => `${i.path} ${i.code}`)).toEqual(['senderRoutes[1].sender address', 'senderRoutes[2].tls one_of']);
    const internal = await call('routes.set', { routes: [], senderRoutes: [{ destination: 'test.jp', sender: 'a@test.jp', hosts: [{ host: '127.0.0.5', port: 25 }] }] });
    expect(internal.ok ? [] : internal.error.issues?.map((i) => `${i.path} ${i.code}`)).toEqual(['delivery.senderRoutes[0].destination sender_route_internal']);

    // config.set of delivery (the settings form) cannot drop what it never saw.
    const cfg = await ok('config.get');
    const { smarthost: _s, senderRoutes: _r, oauth: _o, ...rest } = cfg.delivery;
    await ok('config.set', { key: 'delivery', value: { ...rest, dnsServers: ['127.0.0.1:5353'] } });
    const after = await ok('config.get');
    expect(after.delivery.senderRoutes).toHaveLength(1);
    expect(after.delivery.oauth).toMatchObject({ clientId: 'app-1', hasClientSecret: true });
    expect(after.delivery.dnsServers).toEqual(['127.0.0.1:5353']);
    const dnsBad = await call('config.set', { key: 'delivery', value: { ...rest, dnsServers: ['dns.example'] } });
    expect(dnsBad.ok ? [] : dnsBad.error.issues?.map((i) => `${i.path} ${i.code}`)).toEqual(['delivery.dnsServers[0] dns_server']);
  });

  it('imports extended Gateway.dat lines: merge keeps other routes and stored logins; by line when a condition targets an operated domain', async () => {
    const { ok, call } = env;
    await ok('routes.set', {
      routes: [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: 9 }] }],
      senderRoutes: [
        { destination: '*', sender: 'ceo@test.jp', hosts: [{ host: '127.0.0.5', port: 587 }], auth: 'password', user: 'ceo', password: 'pw-ceo-123' },
        { destination: 'bank.example', sender: 'sales.test.jp', hosts: [{ host: '127.0.0.7', port: 25 }] },
      ],
    });
    // A route for one domain, any sender, no login is a plain route: not here.
    const plain = await call('routes.set', { routes: [], senderRoutes: [{ destination: 'bank.example', hosts: [{ host: '127.0.0.7', port: 25 }] }] });
    expect(plain.ok ? [] : plain.error.issues?.map((i) => `${i.path} ${i.code}`)).toEqual(['senderRoutes[0].sender sender_route_plain']);
    const r = await ok('routes.import', { text: '*|ceo@test.jp,127.0.0.8,587,auth=password,tls=required\r\n*|test.jp,smtp.office365.com,587,XOAUTH2\r\npart.test.jp,127.0.0.2,25\r\n', mode: 'merge' });
    expect(r.imported).toBe(3);
    expect(r.senderRoutes.map((s) => [s.destination, s.sender, s.hosts[0]!.host, s.auth, s.tls, s.user, s.hasPassword])).toEqual([
      ['bank.example', 'sales.test.jp', '127.0.0.7', undefined, undefined, undefined, false],
      ['*', 'ceo@test.jp', '127.0.0.8', 'password', 'required', 'ceo', true],
      ['*', 'test.jp', 'smtp.office365.com', 'xoauth2', undefined, undefined, false],
    ]);
    expect(r.routes.map((x) => x.domain)).toEqual(['test.jp', 'part.test.jp']);
    const text = (await ok('routes.export')).text;
    expect(text).toBe(
      'test.jp, 127.0.0.1, 9\r\npart.test.jp, 127.0.0.2, 25\r\nbank.example|sales.test.jp,127.0.0.7,25\r\n*|ceo@test.jp,127.0.0.8,587,auth=password,tls=required\r\n*|test.jp,smtp.office365.com,587,XOAUTH2\r\n',
    );
    const refused = await call('routes.import', { text: 'test.jp, 127.0.0.1, 25\r\ntest.jp|boss@test.jp,127.0.0.9,25\r\n', mode: 'merge' });
    expect(refused.ok ? [] : refused.error.issues?.map((i) => `${i.path} ${i.code}`)).toEqual(['line 2 sender_route_internal']);
    const garbled = await call('routes.import', { text: '*|a@test.jp,127.0.0.1,25,kerberos\r\n', mode: 'merge' });
    expect(garbled.ok ? [] : garbled.error.issues?.map((i) => `${i.path} ${i.code}`)).toEqual(['line 1 dat_option']);
  });

  it('routes.which answers what delivery would choose', async () => {
    const { ok } = env;
    expect(await ok('routes.which', { sender: 'ceo@test.jp', recipient: 'x@gmail.example' })).toEqual({
      via: 'sender-route', domain: 'gmail.example', internal: false, hosts: [{ host: '127.0.0.8', port: 587 }], senderRoute: { destination: '*', sender: 'ceo@test.jp' }, tls: 'required', auth: 'password',
    });
    expect(await ok('routes.which', { sender: 'bob@test.jp', recipient: 'x@gmail.example' })).toMatchObject({ via: 'sender-route', senderRoute: { destination: '*', sender: 'test.jp' }, auth: 'xoauth2' });
    expect(await ok('routes.which', { sender: 'bob@sales.test.jp', recipient: 'x@bank.example' })).toMatchObject({ via: 'sender-route', hosts: [{ host: '127.0.0.7', port: 25 }] });
    expect(await ok('routes.which', { sender: 'bob@other.jp', recipient: 'x@bank.example' })).toMatchObject({ via: 'mx' });
    expect(await ok('routes.which', { sender: '<>', recipient: 'x@gmail.example' })).toMatchObject({ via: 'mx', domain: 'gmail.example', tls: 'mta-sts' });
    expect(await ok('routes.which', { sender: 'bob@test.jp', recipient: 'alice@test.jp' })).toMatchObject({ via: 'route', internal: true, hosts: [{ host: '127.0.0.1', port: 9 }] });
    // A subdomain is not the operated domain: external, so the sender's route applies.
    expect(await ok('routes.which', { sender: 'bob@test.jp', recipient: 'alice@nowhere.test.jp' })).toMatchObject({ via: 'sender-route', domain: 'nowhere.test.jp', internal: false });
  });

  it('dkim.show and dkim.remove; doctor.run without a gateway-only part', async () => {
    const { ok, call } = env;
    // The gateway was given a resolver (NO_DNS): DKIM's lookups ask it too and fail: a DNS error, not a crash, nothing sent out.
    const shown = await ok('dkim.show', { domain: 'test.jp' });
    expect(shown.keys.map((k) => [k.selector, k.published.status])).toEqual([['s1', 'dns-error'], ['e1', 'dns-error']]);
    expect((await call('dkim.remove', { domain: 'test.jp', selector: 'nope' })).ok).toBe(false);
    const v = await ok('dkim.remove', { domain: 'test.jp', selector: 'e1' });
    expect(v.dkim.keys.map((k) => k.selector)).toEqual(['s1']);
  });
});

// ---- XOAUTH2 end to end ----

interface Idp {
  url: string;
  issued: Set<string>;
  refreshToken: string;
  failRefresh: string | null;
  expiresIn: number;
  rotate: boolean;
  close(): Promise<void>;
}

async function startIdp(): Promise<Idp> {
  let n = 0;
  const challenges = new Map<string, string>();
  let polls = 0;
  const idp: Idp = { url: '', issued: new Set(), refreshToken: 'rt-1', failRefresh: null, expiresIn: 3600, rotate: false, close: async () => undefined };
  const issue = () => {
    const t = `at-${++n}`;
    idp.issued.add(t);
    return t;
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && u.pathname === '/authorize') {
      // The admin consents at once; the provider sends the browser back to the loopback redirect.
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
      if (f.get('client_id') !== 'app-1' || f.get('client_secret') !== 'client-secret-1') return json(res, 400, { error: 'invalid_client' });
      if (u.pathname === '/devicecode') return json(res, 200, { device_code: 'dev-1', user_code: 'ABCD-EFGH', verification_uri: 'https://login.example/device', expires_in: 60, interval: 0.05 });
      const grant = f.get('grant_type');
      if (grant === 'refresh_token') {
        if (idp.failRefresh) return json(res, 400, { error: idp.failRefresh, error_description: 'AADSTS70000: the refresh token was revoked' });
        if (f.get('refresh_token') !== idp.refreshToken) return json(res, 400, { error: 'invalid_grant', error_description: 'unknown refresh token' });
        const out: Record<string, unknown> = { access_token: issue(), expires_in: idp.expiresIn };
        if (idp.rotate) out.refresh_token = idp.refreshToken = `${idp.refreshToken}+`;
        return json(res, 200, out);
      }
      if (grant === 'authorization_code') {
        const challenge = challenges.get(f.get('code') ?? '');
        if (!challenge || crypto.createHash('sha256').update(f.get('code_verifier') ?? '').digest('base64url') !== challenge) return json(res, 400, { error: 'invalid_grant' });
        return json(res, 200, { access_token: issue(), refresh_token: idp.refreshToken, expires_in: idp.expiresIn });
      }
      if (grant === 'urn:ietf:params:oauth:grant-type:device_code') {
        if (++polls < 3) return json(res, 400, { error: 'authorization_pending' });
        return json(res, 200, { access_token: issue(), refresh_token: idp.refreshToken, expires_in: idp.expiresIn });
      }
      return json(res, 400, { error: 'unsupported_grant_type' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  idp.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  idp.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return idp;
}

describe('the XOAUTH2 login through the gateway', { timeout: 60_000 }, () => {
  let idp: Idp;
  let smtp: SMTPServer;
  let smtpPort = 0;
  const delivered: string[] = [];
  let env: Awaited<ReturnType<typeof open>>;
  const events: OAuthStatus[] = [];
  const sent: SenderLogEntry[] = [];

  beforeAll(async () => {
    idp = await startIdp();
    smtp = new SMTPServer({
      logger: false,
      disableReverseLookup: true,
      authMethods: ['XOAUTH2'],
      allowInsecureAuth: true,
      hideSTARTTLS: true,
      onAuth(auth, _s, cb) {
        if (auth.method !== 'XOAUTH2' || auth.username !== 'mailbox@test.jp' || !idp.issued.has(String(auth.accessToken))) return cb(null, { data: { status: '401', schemes: 'bearer' } });
        cb(null, { user: auth.username });
      },
      onData(stream, session, cb) {
        stream.resume();
        stream.on('end', () => {
          delivered.push(`${session.user} ${session.envelope.mailFrom ? session.envelope.mailFrom.address : ''}`);
          cb(null);
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    smtpPort = (smtp.server.address() as AddressInfo).port;
    env = await open((c) => {
      c.trustedNetworks = ['127.0.0.0/8'];
      c.delivery.retrySchedule = [3600];
    });
    env.gw.on('oauth', (s) => events.push(s));
    env.gw.on('senderlog', (e) => sent.push(e));
    await env.gw.start();
  });
  afterAll(async () => {
    await env?.gw.close();
    await new Promise<void>((r) => smtp.close(() => r()));
    await idp?.close();
    if (env) await fs.rm(env.dir, { recursive: true, force: true });
  });

  const relay = async (to: string) => {
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: env.gw.status().listen!.port, secure: false, ignoreTLS: true });
    try {
      await t.sendMail({ from: 'alice@test.jp', to, subject: 'x', text: 'hello' });
    } finally {
      t.close();
    }
  };

  it('refuses a sign-in before the app is registered, and the device code for Google', async () => {
    const r = await env.call('oauth.start', { flow: 'browser' });
    expect(r.ok ? '' : `${r.error.code} ${r.error.issues?.[0]?.code}`).toBe('validation oauth_not_configured');
    await env.ok('oauth.set', { provider: 'google', clientId: 'app-1', user: 'mailbox@test.jp' });
    const g = await env.call('oauth.start', { flow: 'device' });
    expect(g.ok ? '' : `${g.error.issues?.[0]?.path} ${g.error.issues?.[0]?.code}`).toBe('flow oauth_flow_unsupported');
    const bad = await env.call('oauth.set', { provider: 'custom', clientId: 'app-1', user: 'mailbox@test.jp', tokenUrl: 'http://idp.example/token' });
    expect(bad.ok ? [] : bad.error.issues?.map((i) => `${i.path} ${i.code}`)).toEqual(['delivery.oauth.tokenUrl oauth_endpoint']);
  });

  it('mail waits (deferred, not bounced) until the admin signs in; then it leaves with XOAUTH2', async () => {
    await env.ok('config.setSmarthost', { host: '127.0.0.1', port: smtpPort, security: 'none', auth: 'xoauth2' });
    await env.ok('oauth.set', {
      provider: 'microsoft',
      clientId: 'app-1',
      clientSecret: 'client-secret-1',
      user: 'mailbox@test.jp',
      tokenUrl: `${idp.url}/token`,
      authorizeUrl: `${idp.url}/authorize`,
      deviceCodeUrl: `${idp.url}/devicecode`,
    });
    expect(await env.ok('oauth.status')).toMatchObject({ configured: true, inUse: true, signedIn: false, flow: null, user: 'mailbox@test.jp' });
    await relay('x@gmail.example');
    await expect.poll(() => sent.length, { timeout: 10_000 }).toBe(1);
    expect(sent[0]).toMatchObject({ outcome: 'deferred', via: 'smarthost' });
    expect(sent[0]!.reply).toMatch(/XOAUTH2 login for mailbox@test\.jp: cannot get an access token \(the XOAUTH2 login for mailbox@test\.jp has no consent yet/);
    expect(delivered).toEqual([]);

    // Sign in: the window opens the URL in the system browser; here fetch is the browser.
    const started = await env.ok('oauth.start', { flow: 'browser' });
    expect(started.flow).toMatchObject({ kind: 'browser' });
    const url = new URL((started.flow as { url: string }).url);
    expect(url.origin + url.pathname).toBe(`${idp.url}/authorize`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const page = await fetch(url, { redirect: 'follow' });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/Sign-in finished/);
    await expect.poll(() => events.at(-1)?.signedIn, { timeout: 5000 }).toBe(true);
    expect(events.some((e) => e.flow?.kind === 'browser')).toBe(true);
    const tokenFile = await fs.readFile(path.join(env.dir, 'oauth-token.json'), 'utf8');
    expect(tokenFile).toMatch(/"refreshToken": "enc:v1:file:/);
    expect(tokenFile).not.toContain('rt-1');

    // Short-lived tokens from now on (every attempt refreshes), and the provider rotates.
    idp.expiresIn = 1;
    idp.rotate = true;
    const audit = async () => (await fs.readFile(path.join(env.dir, 'audit.jsonl'), 'utf8')).trim().split('\n').length;
    const entries = await audit();
    await env.ok('queue.retry');
    await expect.poll(() => delivered.length, { timeout: 10_000 }).toBe(1);
    expect(delivered[0]).toBe('mailbox@test.jp alice@test.jp');
    expect(await env.ok('oauth.status')).toMatchObject({ signedIn: true, token: { ok: true } });
    // The rotated refresh token replaced the stored one, sealed, and the audit trail did not move.
    const rotated = await fs.readFile(path.join(env.dir, 'oauth-token.json'), 'utf8');
    expect(rotated).not.toBe(tokenFile);
    expect(rotated).toMatch(/"refreshToken": "enc:v1:file:/);
    expect(rotated).not.toContain('rt-1+');
    expect(JSON.parse(rotated).signedInAt).toBe(JSON.parse(tokenFile).signedInAt);
    expect(await audit()).toBe(entries);
  });

  it('a refresh failure defers the mail (no bounce) and goes out as an oauth event; the same app keeps the sign-in', async () => {
    // The registration saved again without its secret (the form never has it): same app, still signed in.
    await env.ok('oauth.set', {
      provider: 'microsoft',
      clientId: 'app-1',
      user: 'mailbox@test.jp',
      tokenUrl: `${idp.url}/token`,
      authorizeUrl: `${idp.url}/authorize`,
      deviceCodeUrl: `${idp.url}/devicecode`,
    });
    expect(await env.ok('oauth.status')).toMatchObject({ signedIn: true });
    expect((await env.ok('config.get')).delivery.oauth).toMatchObject({ hasClientSecret: true });
    idp.failRefresh = 'invalid_grant';
    const seen = sent.length;
    await relay('z@gmail.example');
    await expect.poll(() => sent.length, { timeout: 10_000 }).toBe(seen + 1);
    expect(sent.at(-1)).toMatchObject({ outcome: 'deferred', via: 'smarthost' });
    expect(sent.at(-1)!.reply).toMatch(/invalid_grant/);
    await expect.poll(() => events.at(-1)?.token?.ok, { timeout: 5000 }).toBe(false);
    expect(events.at(-1)!.token).toMatchObject({ errorCode: 'invalid_grant' });
    expect((await env.ok('queue.list')).map((q) => q.state)).toEqual(['deferred']);
    idp.failRefresh = null;
  });

  it('the device code: shown, polled until the admin finishes at the provider', async () => {
    const started = await env.ok('oauth.start', { flow: 'device' });
    expect(started.flow).toMatchObject({ kind: 'device', userCode: 'ABCD-EFGH', verificationUri: 'https://login.example/device' });
    await expect.poll(() => events.at(-1)?.flow === null && events.at(-1)?.signedIn, { timeout: 10_000 }).toBe(true);
    // And a cancel in the middle of another leaves it signed in (the stored token stays).
    await env.ok('oauth.start', { flow: 'browser' });
    const c = await env.ok('oauth.cancel');
    expect(c).toMatchObject({ flow: null, signedIn: true, flowError: { code: 'cancelled' } });
  });
});
