// DKIM: keys (RSA 2048, Ed25519), the TXT record, the published-key check against a real DNS
// server, and signing in the real delivery path: mail relayed from someone@test.jp reaches a
// real SMTP sink (found by MX through the DNS server) with a DKIM-Signature that dkimpy
// (Debian's python3-dkim) verifies against the zone's record. Internal mail is not signed.
import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkPublishedKey } from '../../main/core/dkim/check.js';
import { dkimRecord, generateDkimKey, publicKeyTag } from '../../main/core/dkim/keys.js';
import { selectorProblem } from '../../main/shared/rules.js';
import { signMessage } from '../../main/core/dkim/sign.js';
import { createResolver } from '../../main/core/dns/resolver.js';
import type { DkimKey } from '../../main/shared/deliverability.js';
import { dkimpyVerify, dkimVerifierSkipReason } from '../helpers/dkim-verify.js';
import { dnsSkipReason, startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { harness, message, startSink, testConfig, waitFor, type Harness, type Sink } from './helpers.js';

const skip = dnsSkipReason() || dkimVerifierSkipReason();
if (skip) console.log(skip);

const rsa = generateDkimKey('rsa');
const ed = generateDkimKey('ed25519');
const keyOf = (domain: string, selector: string, g: typeof rsa): DkimKey => ({ domain, selector, algorithm: g.algorithm, privateKey: g.privateKey, publicKey: g.publicKey, createdAt: new Date().toISOString() });

describe('DKIM keys and records', () => {
  it('RSA 2048 and Ed25519 keys, PEM, with the p= value DNS publishes', () => {
    const r = crypto.createPrivateKey(rsa.privateKey);
    expect(r.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(rsa.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(Buffer.from(ed.publicKey, 'base64').length).toBe(32);
    expect(publicKeyTag(ed.privateKey)).toEqual({ algorithm: 'ed25519', publicKey: ed.publicKey });
  });

  it('the TXT record: name, one-string value, zone line in 255-octet strings', () => {
    const rec = dkimRecord('test.jp', 's1', rsa.privateKey);
    expect(rec.name).toBe('s1._domainkey.test.jp');
    expect(rec.value).toBe(`v=DKIM1; k=rsa; p=${rsa.publicKey}`);
    const strings = [...rec.zoneLine.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    expect(strings.length).toBeGreaterThan(1);
    expect(strings.every((s) => s.length <= 255)).toBe(true);
    expect(strings.join('')).toBe(rec.value);
    expect(rec.zoneLine).toMatch(/^s1\._domainkey\.test\.jp\. IN TXT \( "/);
    expect(dkimRecord('test.jp', 'e1', ed.privateKey).value).toBe(`v=DKIM1; k=ed25519; p=${ed.publicKey}`);
  });

  it('selectors are DNS labels', () => {
    expect(selectorProblem('s1')).toBeNull();
    expect(selectorProblem('gh-2026.mail')).toBeNull();
    expect(selectorProblem('bad_selector')?.code).toBe('dkim_selector');
    expect(selectorProblem('')?.code).toBe('dkim_selector');
  });
});

describe.skipIf(!!skip)('DKIM against a real DNS server', () => {
  let dns: DnsServer;
  const other = generateDkimKey('rsa');
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    dns = await startDnsServer({
      zones: {
        'test.jp': [
          { name: 's1._domainkey', type: 'TXT', value: dkimRecord('test.jp', 's1', rsa.privateKey).value },
          { name: 'e1._domainkey', type: 'TXT', value: dkimRecord('test.jp', 'e1', ed.privateKey).value },
          { name: 'old._domainkey', type: 'TXT', value: dkimRecord('test.jp', 'old', other.privateKey).value },
          { name: 'gone._domainkey', type: 'TXT', value: 'v=DKIM1; k=rsa; p=' },
        ],
        'remote.example': [
          { name: '@', type: 'MX', value: '10 mx.remote.example' },
          { name: 'mx', type: 'A', value: '127.0.0.7' },
        ],
      },
    });
  });
  afterAll(async () => {
    await dns?.stop();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('checks the published key: match, another key, revoked, missing', async () => {
    const r = createResolver({ dnsServers: [dns.server] });
    expect(await checkPublishedKey('test.jp', 's1', rsa, r)).toMatchObject({ status: 'match' });
    expect(await checkPublishedKey('test.jp', 'e1', ed, r)).toMatchObject({ status: 'match' });
    expect(await checkPublishedKey('test.jp', 'old', rsa, r)).toMatchObject({ status: 'mismatch' });
    expect(await checkPublishedKey('test.jp', 'e1', rsa, r)).toMatchObject({ status: 'mismatch' });
    expect(await checkPublishedKey('test.jp', 'gone', rsa, r)).toMatchObject({ status: 'revoked' });
    expect(await checkPublishedKey('test.jp', 'none', rsa, r)).toMatchObject({ status: 'missing' });
  });

  it('signMessage: relaxed/relaxed, dkimpy accepts RSA and Ed25519; a changed body fails', async () => {
    for (const [sel, g, a] of [
      ['s1', rsa, 'rsa-sha256'],
      ['e1', ed, 'ed25519-sha256'],
    ] as const) {
      const raw = message('someone@test.jp', ['x@remote.example'], '', 'Body line.\r\n');
      const s = await signMessage(raw, [keyOf('test.jp', sel, g)]);
      expect(s.signed).toBe(`d=test.jp s=${sel}`);
      const v = await dkimpyVerify(s.raw, dns.host, dns.port);
      expect(v.results).toEqual([expect.objectContaining({ ok: true, d: 'test.jp', s: sel, a, c: 'relaxed/relaxed' })]);
      const tampered = Buffer.from(s.raw.toString('latin1').replace('Body line.', 'Body line!'), 'latin1');
      expect((await dkimpyVerify(tampered, dns.host, dns.port)).ok).toBe(false);
    }
    // No key for the From: domain: left as it was.
    const raw = message('someone@other.jp', ['x@remote.example']);
    expect(await signMessage(raw, [keyOf('test.jp', 's1', rsa)])).toEqual({ raw });
  });

  async function sinkOf(host: string): Promise<Sink> {
    const s = await startSink({ host });
    cleanups.push(() => s.close());
    return s;
  }
  async function harnessOf(...args: Parameters<typeof harness>): Promise<Harness> {
    const h = await harness(...args);
    cleanups.push(() => h.close());
    return h;
  }

  it('the delivery path signs relayed external mail per From: domain; dkimpy verifies it at the sink (RSA, Ed25519)', async () => {
    for (const [sel, g] of [
      ['s1', rsa],
      ['e1', ed],
    ] as const) {
      const mx = await sinkOf('127.0.0.7');
      const office = await sinkOf('127.0.0.1');
      const cfg = testConfig((c) => {
        c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }];
      });
      const h = await harnessOf(cfg, { dnsServers: [dns.server], mxPort: mx.port, outbound: () => ({ dkimKeys: [keyOf('test.jp', sel, g)] }) });
      await h.send('someone@test.jp', ['friend@remote.example', 'colleague@test.jp']);
      await waitFor(() => mx.messages.length === 1 && office.messages.length === 1, 8000, 'delivery');
      const sent = mx.messages[0].raw;
      expect(sent.toString('latin1')).toMatch(/^DKIM-Signature: /);
      const v = await dkimpyVerify(sent, dns.host, dns.port);
      expect(v).toMatchObject({ ok: true, signatures: 1 });
      expect(v.results[0]).toMatchObject({ d: 'test.jp', s: sel, c: 'relaxed/relaxed' });
      // The office copy is internal: not signed, bytes as spooled.
      expect(office.messages[0].raw.toString('latin1')).not.toMatch(/DKIM-Signature/i);
      await waitFor(() => h.log.length === 2, 5000, 'senderlog');
      expect(h.log.find((l) => l.via === 'mx')).toMatchObject({ outcome: 'delivered', dkim: `d=test.jp s=${sel}` });
      expect(h.log.find((l) => l.via === 'route')?.dkim).toBeUndefined();
    }
  });

  it('a key that cannot sign: the mail goes out unsigned and the senderlog says why', async () => {
    const mx = await sinkOf('127.0.0.7');
    const broken: DkimKey = { ...keyOf('test.jp', 's1', rsa), privateKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' };
    const h = await harnessOf(testConfig(), { dnsServers: [dns.server], mxPort: mx.port, outbound: () => ({ dkimKeys: [broken] }) });
    await h.send('someone@test.jp', ['friend@remote.example']);
    await waitFor(() => h.log.length === 1, 8000, 'attempt');
    expect(mx.messages.length).toBe(1);
    expect(mx.messages[0].raw.toString('latin1')).not.toMatch(/DKIM-Signature/i);
    expect(h.log[0].dkim).toMatch(/^error: DKIM signing failed/);
  });
});
