/*
 * CLI verbs for deliverability: `dkim generate|show|remove`, `doctor`, and the route a
 * sender/recipient pair takes (printed by `routes list --sender S --recipient R` and by
 * `check`). Thin calls over the command layer; the texts of the check come from
 * main/shared/deliverability-messages.ts in English and Japanese. Exit codes: `doctor` 0 when
 * nothing fails (warnings allowed), 1 when a check fails; `dkim show` 0 when every key is
 * published and matches, 1 otherwise; bad input 2 (index.ts).
 */
import type { DkimKeyCheck, DoctorReport, RouteChoice } from '../shared/contract.js';
import { CHECK_TITLES, renderCheckMessage } from '../shared/deliverability-messages.js';
import type { CheckResult, DkimRecord } from '../shared/deliverability.js';
import type { HostPort } from '../shared/types.js';
import { UsageError, type ParsedArgs } from './args.js';
import type { Client } from './client.js';
import { print, printJson } from './output.js';

const hp = (h: HostPort) => (h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`);

/** One line saying where the pair's mail goes next and how (login, TLS). */
export function describeRoute(r: RouteChoice): string {
  const extras = (auth: string, tls: string) => [auth !== 'none' ? `login ${auth}` : '', tls === 'required' ? 'TLS required' : ''].filter(Boolean).join(', ');
  const tail = (s: string) => (s ? `; ${s}` : '');
  switch (r.via) {
    case 'invalid':
      return 'none: the recipient has no domain';
    case 'no-route':
      return `none: ${r.domain} is an operated domain without a route (its mail waits until one is added)`;
    case 'route':
      return `${r.domain} -> ${r.hosts.map(hp).join(', ')} (routing table, in failover order${tail(extras(r.auth, r.tls))})`;
    case 'override':
      return `${r.domain} -> ${r.hosts.map(hp).join(', ')} (transport override${tail(extras(r.auth, r.tls))})`;
    case 'sender-route': {
      const sr = r.senderRoute!;
      return `${sr.destination}${sr.sender ? `|${sr.sender}` : ''} -> ${r.hosts.map(hp).join(', ')} (route with a sender condition${tail(extras(r.auth, r.tls))})`;
    }
    case 'smarthost':
      return `smarthost ${r.hosts.map(hp).join(', ')}${extras(r.auth, r.tls) ? ` (${extras(r.auth, r.tls)})` : ''}`;
    case 'mx':
      return `MX of ${r.domain} (direct delivery${r.tls === 'mta-sts' ? '; MTA-STS applies when the domain publishes it' : ''})`;
  }
}

function printRecord(rec: DkimRecord | { name: string; type: string; value: string; zoneLine: string }, indent = '  '): void {
  print(`${indent}name:  ${rec.name}`);
  if ('type' in rec) print(`${indent}type:  ${rec.type}`);
  else print(`${indent}type:  TXT`);
  print(`${indent}value: ${rec.value}`);
  print(`${indent}zone file line:`);
  print(`${indent}  ${rec.zoneLine}`);
}

const PUBLISHED: Record<DkimKeyCheck['published']['status'], string> = {
  'match': 'published, matches',
  'missing': 'NOT PUBLISHED',
  'mismatch': 'PUBLISHED KEY DIFFERS',
  'revoked': 'REVOKED in DNS (p= empty)',
  'invalid': 'RECORD BROKEN',
  'dns-error': 'DNS ERROR',
};

export async function cmdDkim(c: Client, a: ParsedArgs): Promise<number> {
  const sub = a.positionals[0];
  const domain = a.positionals[1];
  if (!sub) throw new UsageError('missing <generate|show|remove>; see gatehouse dkim --help');
  if (!domain) throw new UsageError(`dkim ${sub} needs a <domain>`);
  switch (sub) {
    case 'generate': {
      const selector = a.flags.selector;
      if (typeof selector !== 'string') throw new UsageError('dkim generate needs --selector S (e.g. --selector s1)');
      const algorithm = a.flags.algorithm ?? 'rsa';
      if (algorithm !== 'rsa' && algorithm !== 'ed25519') throw new UsageError('--algorithm must be rsa or ed25519');
      const k = await c.call('dkim.generate', { domain, selector, algorithm });
      if (a.flags.json) return printJson(k), 0;
      print(`Made a DKIM key for ${k.domain} (selector ${k.selector}, ${k.algorithm === 'rsa' ? 'RSA 2048' : 'Ed25519'}).`);
      print(`Mail from ${k.domain} to the outside is signed with it from the next message on.`);
      print(`Publish this TXT record in the DNS of ${k.domain}:`);
      printRecord(k.record);
      print(`Then check it: gatehouse dkim show ${k.domain}`);
      return 0;
    }
    case 'show': {
      const r = await c.call('dkim.show', { domain });
      if (a.flags.json) return printJson(r), 0;
      if (r.keys.length === 0) {
        print(`${r.domain} has no DKIM key. Make one: gatehouse dkim generate ${r.domain} --selector s1`);
        return 1;
      }
      for (const k of r.keys) {
        print(`${k.record.name}  ${k.algorithm}  made ${k.createdAt}  ${PUBLISHED[k.published.status]}${k.published.detail ? ` (${k.published.detail})` : ''}`);
        printRecord(k.record);
      }
      return r.keys.every((k) => k.published.status === 'match') ? 0 : 1;
    }
    case 'remove': {
      const selector = a.flags.selector;
      if (typeof selector !== 'string') throw new UsageError('dkim remove needs --selector S');
      await c.call('dkim.remove', { domain, selector });
      print(`removed the DKIM key ${selector}._domainkey.${domain} (mail from ${domain} is no longer signed with it)`);
      return 0;
    }
    default:
      throw new UsageError(`unknown dkim command "${sub}" (generate, show, remove)`);
  }
}

const MARK: Record<CheckResult['status'], string> = { ok: '[OK]  ', warn: '[WARN]', fail: '[FAIL]' };

export function printDoctor(report: DoctorReport): void {
  print(`Deliverability check, ${report.ranAt} (DNS: ${report.dns || 'the system resolver'})`);
  for (const r of report.results) {
    const title = CHECK_TITLES[r.check];
    print('');
    print(`${MARK[r.status]} ${title.en}${r.domain ? ` — ${r.domain}` : ''}`);
    print(`       ${title.ja}`);
    print(`       ${renderCheckMessage(r.code, r.params, 'en')}`);
    print(`       ${renderCheckMessage(r.code, r.params, 'ja')}`);
    if (r.record) {
      print('       Publish / 公開するレコード:');
      printRecord(r.record, '         ');
    }
  }
  const count = (s: CheckResult['status']) => report.results.filter((r) => r.status === s).length;
  print('');
  print(`Summary: ${count('ok')} ok, ${count('warn')} warnings, ${count('fail')} failing`);
}

export async function cmdDoctor(c: Client, a: ParsedArgs): Promise<number> {
  if (a.positionals.length > 0) throw new UsageError(`doctor takes no arguments (got "${a.positionals[0]}")`);
  const report = await c.call('doctor.run');
  if (a.flags.json) printJson(report);
  else printDoctor(report);
  return report.results.some((r) => r.status === 'fail') ? 1 : 0;
}
