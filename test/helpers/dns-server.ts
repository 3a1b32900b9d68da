/*
 * A real DNS server for tests: Knot DNS (Debian's `knot`, the `knotd` daemon) serving
 * generated zone files, authoritative only, on 127.0.0.1 and a free port. startDnsServer()
 * writes one RFC 1035 zone file per zone (SOA and NS added), starts knotd with a config in a
 * temp folder, waits until every zone answers its SOA, and returns the `ip:port` to hand to
 * a resolver (Node's Resolver#setServers, dnspython). setZone() rewrites or adds a zone and
 * reloads it (knotc, blocking), so a test can change answers mid-way; stop() ends the process
 * and removes the folder. Names outside every zone get REFUSED (resolvers report EREFUSED),
 * names inside a zone that do not exist get NXDOMAIN, existing names without the asked type
 * NODATA. TXT values longer than 255 octets are split into several strings, as a zone file
 * must carry a DKIM key. It throws DnsServerMissing when knotd is not installed: tests then
 * skip with one line naming the install command (dnsSkipReason()).
 *
 * Why Knot: it reads plain zone files (every record type, multi-string TXT, PTR zones as
 * written), starts in well under a second, runs from any folder on a high port without root,
 * answers thousands of records without tuning, and reloads a zone on command.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import dns from 'node:dns';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const KNOTD = ['/usr/sbin/knotd', '/usr/bin/knotd'].find((p) => existsSync(p)) ?? 'knotd';
export const KNOTC = ['/usr/sbin/knotc', '/usr/bin/knotc'].find((p) => existsSync(p)) ?? 'knotc';
export const DNS_INSTALL = 'apt-get install -y knot';

export type RecordType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'PTR' | 'CNAME' | 'NS';

export interface DnsRecord {
  /** '@' (the zone itself), a name relative to the zone, or a full name inside it (with or without the final dot). */
  name: string;
  type: RecordType;
  /** A/AAAA: the address; MX: `10 mx.test.jp` (or `0 .` for a null MX); TXT: the text, unquoted; PTR/CNAME/NS: a name. */
  value: string;
  ttl?: number;
}

/** zone name -> records. */
export type Zones = Record<string, DnsRecord[]>;

export interface DnsServer {
  host: string;
  port: number;
  /** `127.0.0.1:PORT`, for Resolver#setServers and the core's dnsServers. */
  server: string;
  /** Replace (or add) one zone and wait until knotd serves it. */
  setZone(zone: string, records: DnsRecord[]): Promise<void>;
  stop(): Promise<void>;
}

export class DnsServerMissing extends Error {
  constructor() {
    super(`knotd not found (${DNS_INSTALL})`);
  }
}

let knotChecked: boolean | undefined;

/** True when knotd runs here. */
export function dnsServerAvailable(): boolean {
  if (knotChecked === undefined) knotChecked = spawnSync(KNOTD, ['--version'], { stdio: 'ignore' }).status === 0;
  return knotChecked;
}

/** '' when the DNS server can run, else the one line a skipped test prints. */
export function dnsSkipReason(): string {
  return dnsServerAvailable() ? '' : `skipped: no DNS server for tests (${DNS_INSTALL})`;
}

/** The reverse name of an IPv4 address (`127.0.0.5` -> `5.0.0.127.in-addr.arpa`). */
export function ptrName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

function absolute(name: string, zone: string): string {
  const n = name.replace(/\.$/, '').toLowerCase();
  const z = zone.replace(/\.$/, '').toLowerCase();
  if (name === '@' || n === z) return `${z}.`;
  if (n.endsWith(`.${z}`)) return `${n}.`;
  return `${n}.${z}.`;
}

/** One zone-file TXT value: 255-octet strings, quoted, `"` and `\` escaped. */
export function txtStrings(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  const parts: string[] = [];
  for (let i = 0; i < bytes.length || parts.length === 0; i += 255) {
    const chunk = bytes.subarray(i, i + 255);
    let s = '';
    for (const b of chunk) {
      if (b === 0x22 || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
      else if (b < 0x20 || b > 0x7e) s += `\\${String(b).padStart(3, '0')}`;
      else s += String.fromCharCode(b);
    }
    parts.push(`"${s}"`);
  }
  return parts.join(' ');
}

function rdata(r: DnsRecord): string {
  switch (r.type) {
    case 'TXT':
      return txtStrings(r.value);
    case 'MX': {
      const [pref, host] = r.value.trim().split(/\s+/);
      return `${pref} ${host === '.' || host.endsWith('.') ? host : `${host}.`}`;
    }
    case 'PTR':
    case 'CNAME':
    case 'NS':
      return r.value.endsWith('.') ? r.value : `${r.value}.`;
    default:
      return r.value;
  }
}

export function zoneText(zone: string, records: readonly DnsRecord[], serial: number): string {
  const z = `${zone.replace(/\.$/, '')}.`;
  const lines = [
    `$ORIGIN ${z}`,
    '$TTL 60',
    `@ IN SOA ns.${z} hostmaster.${z} ${serial} 60 60 600 1`,
    `@ IN NS ns.${z}`,
  ];
  for (const r of records) lines.push(`${absolute(r.name, zone)} ${r.ttl ?? 60} IN ${r.type} ${rdata(r)}`);
  return `${lines.join('\n')}\n`;
}

async function freePort(host: string): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const srv = net.createServer();
    await new Promise<void>((r, j) => srv.once('error', j).listen(0, host, () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      udp.once('error', () => r(false));
      udp.bind(port, host, () => r(true));
    });
    await new Promise<void>((r) => udp.close(() => r()));
    if (ok) return port;
  }
  throw new Error('no free port for the DNS server');
}

function config(dir: string, host: string, port: number, zones: readonly string[]): string {
  return [
    'server:',
    `    rundir: "${dir}"`,
    `    listen: ${host}@${port}`,
    '    udp-workers: 1',
    '    tcp-workers: 1',
    '    background-workers: 1',
    'control:',
    `    listen: "${path.join(dir, 'knot.sock')}"`,
    'database:',
    `    storage: "${dir}"`,
    'log:',
    '  - target: stderr',
    '    any: warning',
    'template:',
    '  - id: default',
    `    storage: "${dir}"`,
    '    file: "%s.zone"',
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    '    journal-content: none',
    '    semantic-checks: off',
    'zone:',
    ...zones.map((z) => `  - domain: "${z}."`),
    '',
  ].join('\n');
}

async function soaAnswers(server: string, zone: string): Promise<boolean> {
  const r = new dns.promises.Resolver({ timeout: 200, tries: 1 });
  r.setServers([server]);
  try {
    const soa = await r.resolveSoa(zone);
    return soa !== null;
  } catch {
    return false;
  }
}

function knotc(dir: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(KNOTC, ['-c', path.join(dir, 'knot.conf'), '-b', '-t', '10', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (c) => (out += c));
    p.stderr!.on('data', (c) => (out += c));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`knotc ${args.join(' ')} failed (${code}): ${out.trim()}`))));
  });
}

export async function startDnsServer(o: { zones: Zones; host?: string }): Promise<DnsServer> {
  if (!dnsServerAvailable()) throw new DnsServerMissing();
  const host = o.host ?? '127.0.0.1';
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gatehouse-dns-'));
  const zones = new Map<string, number>(); // zone -> serial
  const writeZone = async (zone: string, records: readonly DnsRecord[]) => {
    const z = zone.replace(/\.$/, '').toLowerCase();
    const serial = (zones.get(z) ?? 0) + 1;
    zones.set(z, serial);
    await fs.writeFile(path.join(dir, `${z}.zone`), zoneText(z, records, serial));
  };
  for (const [zone, records] of Object.entries(o.zones)) await writeZone(zone, records);

  let proc: ChildProcess | null = null;
  let port = 0;
  let stderr = '';
  for (let attempt = 0; attempt < 3 && !proc; attempt++) {
    port = await freePort(host);
    await fs.writeFile(path.join(dir, 'knot.conf'), config(dir, host, port, [...zones.keys()]));
    const p = spawn(KNOTD, ['-c', path.join(dir, 'knot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    stderr = '';
    p.stderr!.on('data', (c) => (stderr += c));
    let exited = false;
    p.on('exit', () => (exited = true));
    const server = `${host}:${port}`;
    const until = Date.now() + 10_000;
    let ready = false;
    while (!exited && Date.now() < until) {
      const answers = await Promise.all([...zones.keys()].map((z) => soaAnswers(server, z)));
      if (answers.every(Boolean)) {
        ready = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 30));
    }
    if (ready) proc = p;
    else {
      p.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (!proc) {
    await fs.rm(dir, { recursive: true, force: true });
    throw new Error(`knotd did not start: ${stderr.trim()}`);
  }
  const child = proc;
  const server = `${host}:${port}`;
  return {
    host,
    port,
    server,
    async setZone(zone, records) {
      const z = zone.replace(/\.$/, '').toLowerCase();
      const isNew = !zones.has(z);
      await writeZone(z, records);
      if (isNew) {
        await fs.writeFile(path.join(dir, 'knot.conf'), config(dir, host, port, [...zones.keys()]));
        await knotc(dir, ['reload']);
      } else {
        await knotc(dir, ['zone-reload', `${z}.`]);
      }
      const serial = zones.get(z)!;
      const until = Date.now() + 10_000;
      for (;;) {
        const r = new dns.promises.Resolver({ timeout: 200, tries: 1 });
        r.setServers([server]);
        const soa = await r.resolveSoa(z).catch(() => null);
        if (soa && soa.serial === serial) return;
        if (Date.now() > until) throw new Error(`zone ${z} not reloaded`);
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await gone;
        clearTimeout(t);
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
