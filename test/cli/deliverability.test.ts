/*
 * Deliverability through a running `gatehouse serve` and the CLI, with real sinks and a real
 * DNS server on loopback (Knot) that the gateway asks through its settings
 * (delivery.dnsServers):
 *  - a Gateway.dat with `*|sender@x.test,127.0.0.1,PORT` imported with the CLI sends that
 *    sender's external mail to that host while other senders take the default route (the
 *    smarthost); `routes export` gives the file back unchanged; `routes list` and `check`
 *    name the route a pair takes;
 *  - `dkim generate test.jp --selector s1` prints the TXT record; once the DNS serves it,
 *    `dkim show` says it matches, and mail from someone@test.jp to an external address
 *    reaches the sink with a DKIM-Signature that dkimpy (an independent verifier) accepts;
 *  - `doctor` reports each check against a good and a bad domain, with the records to
 *    publish, and exits 1 because something fails.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../main/shared/contract.js';
import { dkimpyVerify, dkimVerifierSkipReason } from '../helpers/dkim-verify.js';
import { dnsSkipReason, ptrName, startDnsServer, type DnsRecord, type DnsServer } from '../helpers/dns-server.js';
import { tempDir } from '../helpers/gateway.js';
import { send, startServe, startSink, type Serve, type Sink } from '../e2e/serve.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'gatehouse.js');
const skip = dnsSkipReason() || dkimVerifierSkipReason();
if (skip) console.log(skip);

let dir = '';
let dns: DnsServer;
let serve: Serve;
let office: Sink;
let provider: Sink;
let relay: Sink;

/** The CLI, asynchronously: the sinks live in this process and must keep answering meanwhile. */
function gh(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args, '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, err });
    });
  });
}

const testJp: DnsRecord[] = [
  { name: '@', type: 'TXT', value: 'v=spf1 ip4:127.0.0.1 -all' },
  { name: '@', type: 'MX', value: '10 gw.test.jp' },
  { name: '_dmarc', type: 'TXT', value: 'v=DMARC1; p=quarantine; rua=mailto:dmarc@test.jp' },
  { name: 'gw', type: 'A', value: '127.0.0.53' },
];

describe.skipIf(!!skip)('deliverability through gatehouse serve and the CLI', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    [office, provider, relay] = await Promise.all([startSink(), startSink(), startSink()]);
    dns = await startDnsServer({
      zones: {
        'test.jp': testJp,
        // The bad domain: no SPF, no DMARC, no key.
        'bad.jp': [{ name: '@', type: 'A', value: '127.0.0.1' }],
        // Not 127.0.0.1: the hosts file answers its reverse lookup first.
        '127.in-addr.arpa': [{ name: ptrName('127.0.0.53'), type: 'PTR', value: 'gw.test.jp' }],
      },
    });
    dir = await tempDir('gatehouse-deliverability-');
    await fs.writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({
        hostname: 'gw.test.jp',
        internalDomains: ['test.jp', 'bad.jp'],
        trustedNetworks: ['127.0.0.0/8'],
        routes: [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }],
        delivery: {
          smarthost: { host: '127.0.0.1', port: provider.port, security: 'none' },
          dnsServers: [dns.server],
          retrySchedule: [5],
        },
        // Port 25 is tried against a server that greets (the provider sink stands in).
        deliverability: { publicIp: '127.0.0.1', port25Target: { host: '127.0.0.1', port: provider.port } },
      }),
    );
    serve = await startServe(dir);
  }, 120_000);

  afterAll(async () => {
    await serve?.stop();
    await dns?.stop();
    await Promise.all([office?.close(), provider?.close(), relay?.close()]);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('imports `*|sender@x.test,127.0.0.1,PORT`: that sender goes to that host, others take the smarthost; exports unchanged', async () => {
    const dat = `test.jp, 127.0.0.1, ${office.port}\r\n*|sender@x.test,127.0.0.1,${relay.port}\r\n`;
    const file = path.join(dir, 'Gateway.dat');
    await fs.writeFile(file, dat);
    const imp = await gh('routes', 'import', file, '--replace');
    expect(imp.code, imp.err).toBe(0);
    expect(imp.out).toMatch(/imported 2 route/);
    // The running gateway did the import (it is the one writer) and says so in its trail.
    expect((await gh('history')).out).toMatch(/cli\s+import Gateway\.dat \(1 domains, 1 routes with sender conditions, replace\)/);
    const exp = await gh('routes', 'export');
    expect(exp.code).toBe(0);
    expect(exp.out).toBe(dat);

    const list = await gh('routes', 'list');
    expect(list.out).toMatch(/\*\s+sender@x\.test\s+127\.0\.0\.1:\d+\s+none\s+opportunistic/);
    const which = await gh('routes', 'list', '--sender', 'sender@x.test', '--recipient', 'bob@remote.example');
    expect(which.out).toBe(`sender@x.test -> bob@remote.example: *|sender@x.test -> 127.0.0.1:${relay.port} (route with a sender condition)\n`);
    const other = await gh('routes', 'list', '--sender', 'other@x.test', '--recipient', 'bob@remote.example', '--json');
    expect(JSON.parse(other.out)).toMatchObject({ via: 'smarthost', hosts: [{ host: '127.0.0.1', port: provider.port }] });
    const checked = await gh('check', 'sender@x.test', 'bob@remote.example');
    expect(checked.code).toBe(0);
    expect(checked.out).toMatch(/route\s+\*\|sender@x\.test -> 127\.0\.0\.1:\d+ \(route with a sender condition\)/);
    expect((await gh('check', 'a@test.jp', 'b@test.jp')).out).toMatch(/route\s+test\.jp -> 127\.0\.0\.1:\d+ \(routing table/);

    const port = serve.smtpPort!;
    expect(await send(port, 'sender@x.test', 'bob@remote.example', 'via the sender route')).toMatchObject({ ok: true });
    expect(await send(port, 'other@x.test', 'bob@remote.example', 'via the smarthost')).toMatchObject({ ok: true });
    await expect.poll(() => relay.messages.length + provider.messages.length, { timeout: 15_000 }).toBe(2);
    expect(relay.messages.map((m) => m.from)).toEqual(['sender@x.test']);
    expect(provider.messages.map((m) => m.from)).toEqual(['other@x.test']);
  });

  it('dkim generate prints the record; once published, dkimpy accepts the signature on relayed mail', async () => {
    const gen = await gh('dkim', 'generate', 'test.jp', '--selector', 's1');
    expect(gen.code, gen.err).toBe(0);
    expect(gen.out).toMatch(/^ {2}name: {2}s1\._domainkey\.test\.jp$/m);
    const value = /^ {2}value: (v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+)$/m.exec(gen.out)?.[1];
    expect(value).toBeDefined();
    expect(gen.out).toMatch(/^ {4}s1\._domainkey\.test\.jp\. IN TXT \( "v=DKIM1; k=rsa; p=[^"]{1,245}" "[^"]+" \)$/m);
    // Same selector again: refused, nothing changes.
    const again = await gh('dkim', 'generate', 'test.jp', '--selector', 's1');
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/selector s1 already exists/);
    expect((await gh('dkim', 'generate', 'test.jp', '--selector', 'bad_selector')).code).toBe(2);

    const before = await gh('dkim', 'show', 'test.jp');
    expect(before.code).toBe(1);
    expect(before.out).toMatch(/s1\._domainkey\.test\.jp\s+rsa\s+made \S+\s+NOT PUBLISHED/);

    await dns.setZone('test.jp', [...testJp, { name: 's1._domainkey', type: 'TXT', value: value! }]);
    const shown = await gh('dkim', 'show', 'test.jp');
    expect(shown.code, shown.out).toBe(0);
    expect(shown.out).toMatch(/published, matches/);

    provider.messages.length = 0;
    expect(await send(serve.smtpPort!, 'someone@test.jp', 'friend@remote.example', 'signed')).toMatchObject({ ok: true });
    await expect.poll(() => provider.messages.length, { timeout: 15_000 }).toBe(1);
    const raw = provider.messages[0]!.data;
    expect(raw).toMatch(/^DKIM-Signature: .*d=test\.jp/m);
    const verdict = await dkimpyVerify(Buffer.from(raw, 'utf8'), dns.host, dns.port);
    expect(verdict).toMatchObject({ ok: true, signatures: 1 });
    expect(verdict.results[0]).toMatchObject({ ok: true, d: 'test.jp', s: 's1' });
    // The senderlog says it was signed.
    const log = await gh('log', 'tail', '--senderlog', '--json', '-n', '50');
    expect(log.out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { dkim?: string }).some((e) => e.dkim === 'd=test.jp s=s1')).toBe(true);
  });

  it('doctor reports every check for the good and the bad domain, with the records to publish; exit 1', async () => {
    const r = await gh('doctor');
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(new RegExp(`DNS: ${dns.server.replace(/\./g, '\\.')}`));
    expect(r.out).toMatch(/\[OK\] {3}SPF \(which servers may send your mail\) — test\.jp\n {7}SPF（送信を許可するサーバの宣言）\n {7}test\.jp's SPF allows mail sent through this gateway \(127\.0\.0\.1\)\.\n {7}test\.jp の SPF は/);
    expect(r.out).toMatch(/\[FAIL\] SPF \(which servers may send your mail\) — bad\.jp[\s\S]*?value: v=spf1 ip4:127\.0\.0\.1 -all/);
    expect(r.out).toMatch(/\[FAIL\] DMARC record — bad\.jp[\s\S]*?name: {2}_dmarc\.bad\.jp[\s\S]*?value: v=DMARC1; p=none; rua=mailto:postmaster@bad\.jp/);
    expect(r.out).toMatch(/Summary: \d+ ok, \d+ warnings, [1-9]\d* failing/);

    const json = await gh('doctor', '--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out) as DoctorReport;
    const by = (check: string, domain?: string) => report.results.filter((x) => x.check === check && x.domain === domain).map((x) => `${x.status} ${x.code}`);
    expect(by('spf', 'test.jp')).toEqual(['ok spf.ok']);
    expect(by('spf', 'bad.jp')).toEqual(['fail spf.missing']);
    expect(by('dkim', 'test.jp')).toEqual(['ok dkim.ok']);
    expect(by('dkim', 'bad.jp')).toEqual(['warn dkim.no-key']);
    expect(by('dmarc', 'test.jp')).toEqual(['ok dmarc.ok']);
    expect(by('dmarc', 'bad.jp')).toEqual(['fail dmarc.missing']);
    expect(by('mta-sts', 'test.jp')).toEqual(['warn mta-sts.none']);
    expect(by('fcrdns')).toEqual(['ok fcrdns.ok']);
    expect(by('port25')).toEqual(['ok port25.ok']);
    expect(by('smarthost-login')).toEqual(['ok smarthost-login.ok']);
  });

  it('has --help for dkim and doctor; bad input is exit code 2', async () => {
    for (const c of ['dkim', 'doctor']) {
      const h = await gh(c, '--help');
      expect(h.code).toBe(0);
      expect(h.out).toMatch(/Usage: gatehouse/);
    }
    expect((await gh('dkim', 'generate', 'test.jp')).code).toBe(2);
    expect((await gh('dkim', 'generate', 'test.jp', '--selector', 's2', '--algorithm', 'dsa')).code).toBe(2);
    expect((await gh('dkim', 'show')).code).toBe(2);
    expect((await gh('routes', 'list', '--sender', 'a@test.jp')).code).toBe(2);
  });
});
