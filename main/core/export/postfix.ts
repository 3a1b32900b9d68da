/*
 * `gatehouse export postfix`: the same policy as a Postfix configuration, for an office that
 * outgrows one PC (or wants a second opinion from a well-known MTA). Pure: exportPostfix()
 * takes a GatehouseConfig and returns the main.cf lines plus the lookup tables they name
 * (file name -> text, to be placed in Postfix's config_directory and, for the hash: ones,
 * run through postmap), and a list of warnings for what Postfix cannot express the same way.
 * postfixReadme() says how to install them. Nothing here does I/O; nothing throws for a
 * config that validateConfig() accepted.
 *
 * The translation, rule by rule (the decision rules in ARCHITECTURE.md):
 * - trusted networks -> mynetworks; relay-denied -> smtpd_relay_restrictions
 *   (permit_mynetworks, reject_unauth_destination).
 * - internal domains -> relay_domains; routes -> transport_maps (`smtp:[host]:port`, failover
 *   hosts as a nexthop list, Postfix >= 3.5); an internal domain without a route -> 451 from an
 *   access table (Gatehouse's no-route).
 * - accounts -> restriction classes (Postfix's RESTRICTION_CLASS_README pattern): the sender
 *   is looked up in check_sender_access; a blocked account maps to its own class, which permits
 *   internal domains and the account's allow-list and rejects everything else with 550 5.7.1.
 *   Exact addresses go in a hash: table (fast at 100,000 entries). Wildcard patterns go in a
 *   regexp: table, because hash (and every other key/value) table only matches whole keys and
 *   cannot do wildcards; regexp takes the first match, so patterns are written most specific
 *   first (the same order Gatehouse's account index uses). pcre: would do too, but Debian ships
 *   it as the separate postfix-pcre package and regexp: is always there.
 * - smarthost -> relayhost + a TLS policy entry for it (+ SASL with a placeholder password:
 *   Gatehouse never writes its secrets out); transport overrides -> transport_maps entries;
 *   `tls: required` on a route -> a `secure` TLS policy entry per host; routes with sender
 *   conditions for every destination (`*|sender`) -> sender_dependent_relayhost_maps (+ SASL
 *   per sender); others, XOAUTH2 logins, DKIM keys, MTA-STS and DNS servers -> warnings.
 * - inbound STARTTLS -> smtpd_tls_security_level = may with cert/key files the admin puts in
 *   place (the key never leaves Gatehouse), smtpd_tls_auth_only = yes (Gatehouse offers AUTH
 *   only after STARTTLS).
 * - SMTP AUTH -> smtpd_sasl_auth_enable + permit_sasl_authenticated in the relay
 *   restrictions; the users must be made in a SASL backend (Dovecot or Cyrus) by hand, since
 *   Gatehouse keeps only scrypt hashes, which no Postfix SASL backend reads: one warning per
 *   user. Sender-login binding -> smtpd_sender_login_maps (exact addresses in hash:, patterns in
 *   regexp:) + reject_authenticated_sender_login_mismatch.
 * - limits, retry schedule, lifetime -> the nearest Postfix parameters; trusted networks are
 *   exempt from the per-address connection limit in both.
 * - approval mode -> a restriction class ending in HOLD (Postfix's hold queue: `postsuper -H`
 *   releases, `postsuper -d` deletes); automatic Bcc -> sender_bcc_maps (one address each).
 * Not translated (reported in `warnings`, one per thing): delayed sending, Bcc conversion,
 * per-sender limits, approval's notices and expiry, the header-From rule (Postfix checks
 * headers without knowing the recipients), the sender-login check on From:, the AUTH users'
 * passwords, the STARTTLS key, the DATA deadline.
 */
import { isIP } from 'node:net';
import type { Account, GatehouseConfig, HostPort } from '../../shared/types.js';
import { DEFAULT_REPLIES } from '../policy/defaults.js';
import { compileGlob } from '../policy/index.js';
import { externalMode, outboundRule } from '../../shared/outbound.js';

export interface PostfixExport {
  /** Lines for main.cf (append to the existing one; later lines win in Postfix). */
  mainCf: string;
  /** File name (inside config_directory) -> content. hash: tables need `postmap` afterwards. */
  files: Record<string, string>;
  /** Names of the hash: tables among `files` (postmap each). */
  hashTables: string[];
  /** What could not be carried over exactly. */
  warnings: string[];
  /** STARTTLS: the host name its certificate should name (null: STARTTLS off). */
  tlsHostname: string | null;
  /** SMTP AUTH users to create in the SASL backend (empty: no SMTP AUTH). */
  saslUsers: { username: string; addresses: string[] }[];
}

const PREFIX = 'gatehouse_';
const CD = '${config_directory}';
/** Where the admin puts the STARTTLS certificate and key on the Postfix host. */
export const SMTPD_CERT = `${PREFIX}smtpd_cert.pem`;
export const SMTPD_KEY = `${PREFIX}smtpd_key.pem`;

function lower(s: string): string {
  return s.trim().toLowerCase().replace(/\.+$/, '');
}

/** `[host]:port` as the SMTP client wants it: brackets = no MX lookup; IPv6 gets `ipv6:`. */
export function nexthop(h: HostPort): string {
  const host = isIP(h.host) === 6 ? `ipv6:${h.host}` : h.host;
  return `[${host}]:${h.port}`;
}

/** A mynetworks entry: IPv6 networks are written `[addr]/len`. */
function network(cidr: string): string {
  const c = cidr.trim();
  const slash = c.indexOf('/');
  const addr = slash < 0 ? c : c.slice(0, slash);
  if (isIP(addr) !== 6) return c;
  return `[${addr}]${slash < 0 ? '' : c.slice(slash)}`;
}

/** Escape a literal for a POSIX extended regex inside Postfix's /.../ delimiters. */
function reLiteral(s: string): string {
  return s.replace(/[.[\]()*+?{}|^$\\/]/g, (c) => `\\${c}`);
}

/** Gatehouse glob (`*` = any run of characters) -> anchored regexp (case-insensitive by default in Postfix). */
export function globToRegexp(pattern: string): string {
  return `/^${pattern.split('*').map(reLiteral).join('.*')}$/`;
}

/** A reply text for a Postfix table result: printable ASCII, `$` doubled (regexp substitution). */
function replyText(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').replace(/\$/g, '$$$$');
}

function countStars(s: string): number {
  return s.split('*').length - 1;
}

/** Most specific first, exactly like compileAccounts' ordering (literal chars, literal domain chars, config order). */
function bySpecificity(a: { p: string; order: number }, b: { p: string; order: number }): number {
  const lit = (s: string) => s.length - countStars(s);
  const dom = (s: string) => {
    const d = s.slice(s.lastIndexOf('@') + 1);
    return d.length - countStars(d);
  };
  return lit(b.p) - lit(a.p) || dom(b.p) - dom(a.p) || a.order - b.order;
}

function table(lines: string[], header: string): string {
  return `# ${header}\n# Generated by 'gatehouse export postfix'; edit Gatehouse and export again rather than editing here.\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
}

export function exportPostfix(cfg: GatehouseConfig): PostfixExport {
  const files: Record<string, string> = {};
  const hashTables: string[] = [];
  const warnings: string[] = [];
  const main: string[] = [];
  const put = (name: string, content: string, hash: boolean) => {
    files[name] = content;
    if (hash) hashTables.push(name);
  };
  const replies = { ...DEFAULT_REPLIES, ...cfg.replies };

  main.push(
    '# ---- Gatehouse policy (generated by `gatehouse export postfix`) ----',
    `myhostname = ${cfg.hostname}`,
    '# A pure gateway: nothing is delivered on this host.',
    'mydestination =',
    'local_recipient_maps =',
    '# Gatehouse matches domains exactly (test.jp does not cover sub.test.jp): so do these tables.',
    'parent_domain_matches_subdomains = debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,qmqpd_authorized_clients',
    '',
    '# Trusted networks (中継を許可するネットワーク): only these may relay to external domains.',
    `mynetworks = ${cfg.trustedNetworks.map(network).join(', ')}`,
  );

  // ---- internal domains and routes ----
  const routes = new Map<string, HostPort[]>();
  for (const r of cfg.routes) routes.set(lower(r.domain), [...(routes.get(lower(r.domain)) ?? []), ...r.hosts]);
  const internal = [...new Set(cfg.internalDomains.map(lower))];
  const internalLines: string[] = [];
  for (const d of internal) {
    if ((routes.get(d) ?? []).length > 0) internalLines.push(`${d}\tOK`);
    else internalLines.push(`${d}\t451 4.3.5 ${replyText(replies.noRoute.replace(/\{recipient\}/g, `user@${d}`))}`);
  }
  put(`${PREFIX}internal_domains`, table(internalLines, 'Internal (operated) domains: OK when routed, 451 (no-route) when not. Lookup: check_recipient_access.'), true);
  main.push(
    '',
    '# Internal (operated) domains (運用ドメイン): mail for them is accepted from anyone and routed.',
    `relay_domains = ${internal.join(', ')}`,
  );

  const transport: string[] = [];
  for (const d of internal) {
    const hosts = routes.get(d) ?? [];
    if (hosts.length === 0) continue;
    // Postfix >= 3.5 takes a list of nexthops and tries them in order (Gateway.dat failover).
    // On an older Postfix keep only the first and put the rest in smtp_fallback_relay
    // (which then applies to every destination, not just this one).
    transport.push(`${d}\tsmtp:${hosts.map(nexthop).join(', ')}`);
    if (hosts.length > 1) warnings.push(`route ${d}: ${hosts.length} hosts written as a nexthop list (Postfix >= 3.5); older Postfix: keep the first, list the rest in smtp_fallback_relay`);
  }
  const routedElsewhere = cfg.routes.filter((r) => !internal.includes(lower(r.domain)));
  for (const r of routedElsewhere) warnings.push(`route ${r.domain} is not an internal domain; Gatehouse ignores it, so does this export`);
  for (const o of cfg.delivery.transportOverrides) {
    if (o.hosts.length === 0) continue;
    transport.push(`${lower(o.domain)}\tsmtp:${o.hosts.map(nexthop).join(', ')}`);
  }
  put(`${PREFIX}transport`, table(transport, 'Routes (振り分け設定, Gateway.dat) and transport overrides: domain -> nexthop(s) in failover order.'), true);
  main.push(
    '',
    '# Routes (振り分け設定) and transport overrides.',
    `transport_maps = hash:${CD}/${PREFIX}transport`,
  );

  // ---- smarthost, routes with sender conditions, TLS per route ----
  const sh = cfg.delivery.smarthost;
  const tlsPolicy: string[] = [];
  const relayLogins: string[] = [];
  main.push('');
  if (sh) {
    const hop = nexthop(sh);
    main.push('# Smarthost (送信に使う中継サーバ): everything external goes through it.', `relayhost = ${hop}`);
    tlsPolicy.push(`${hop}\t${sh.security === 'none' ? 'none' : 'encrypt'}`);
    if (sh.security === 'tls') main.push('# Implicit TLS (port 465).', 'smtp_tls_wrappermode = yes');
    if (sh.auth === 'xoauth2') {
      warnings.push(`smarthost login with XOAUTH2 (${cfg.delivery.oauth?.user ?? 'no login set up'}): Postfix needs the sasl-xoauth2 plugin and its own sign-in; nothing exported for it`);
    } else if (sh.user) {
      relayLogins.push(`${hop}\t${sh.user}:CHANGE-ME`);
      warnings.push(`smarthost login for ${sh.user}: the password is not exported; fill it into ${PREFIX}sasl_passwd`);
    }
  } else {
    main.push('# No smarthost: external mail goes directly to the recipient domain\'s MX.', 'relayhost =');
  }
  // `tls: required` = TLS with a verified certificate: Postfix's `secure` level.
  for (const r of [...cfg.routes.filter((x) => internal.includes(lower(x.domain))), ...cfg.delivery.transportOverrides]) {
    if (r.tls !== 'required') continue;
    for (const h of r.hosts) tlsPolicy.push(`${nexthop(h)}\tsecure`);
    if (r.hosts.some((h) => isIP(h.host) !== 0)) warnings.push(`route ${r.domain} requires TLS on an IP address: Postfix's secure level matches the certificate against the nexthop name, so give the host by name or add match= to its ${PREFIX}tls_policy line`);
  }
  // Sender-dependent relays: Postfix chooses a relay by sender for every destination, or by
  // destination (transport_maps), not by both.
  const byRelay: string[] = [];
  for (const r of cfg.delivery.senderRoutes) {
    const name = `${r.destination}${r.sender ? `|${r.sender}` : ''}`;
    if (r.destination !== '*' || !r.sender) {
      warnings.push(`route ${name} has no Postfix equivalent (Postfix picks a relay by sender or by destination, not by both); not exported`);
      continue;
    }
    const key = r.sender.includes('@') ? lower(r.sender) : `@${lower(r.sender)}`;
    const hops = r.hosts.map(nexthop).join(', ');
    byRelay.push(`${key}\t${hops}`);
    if (r.hosts.length > 1) warnings.push(`route ${name}: ${r.hosts.length} hosts written as a relay list (Postfix >= 3.5)`);
    if (r.tls === 'required') for (const h of r.hosts) tlsPolicy.push(`${nexthop(h)}\tsecure`);
    if (r.auth === 'password') {
      relayLogins.push(`${key}\t${r.user ?? 'CHANGE-ME'}:CHANGE-ME`);
      warnings.push(`route ${name} logs in as ${r.user ?? '(no user yet)'}: the password is not exported; fill it into ${PREFIX}sasl_passwd`);
    }
    if (r.auth === 'xoauth2') warnings.push(`route ${name} logs in with XOAUTH2: Postfix needs the sasl-xoauth2 plugin and its own sign-in; nothing exported for it`);
  }
  if (byRelay.length > 0) {
    put(`${PREFIX}sender_relay`, table(byRelay, 'Routes with sender conditions (E-Post\'s extended Gateway.dat, *|sender): sender or @domain -> relay.'), true);
    main.push('# Routes with sender conditions: external mail of these senders goes to their relay.', `sender_dependent_relayhost_maps = hash:${CD}/${PREFIX}sender_relay`);
  }
  if (tlsPolicy.length > 0) {
    put(`${PREFIX}tls_policy`, table(tlsPolicy, 'TLS policy per nexthop: encrypt = TLS, secure = TLS with a verified certificate (tls: required).'), true);
    main.push(`smtp_tls_policy_maps = hash:${CD}/${PREFIX}tls_policy`);
  }
  if (relayLogins.length > 0) {
    put(`${PREFIX}sasl_passwd`, table(relayLogins, 'Logins to relays. Gatehouse never exports its passwords: replace CHANGE-ME, then chmod 600 and postmap.'), true);
    main.push('smtp_sasl_auth_enable = yes', `smtp_sasl_password_maps = hash:${CD}/${PREFIX}sasl_passwd`, 'smtp_sasl_security_options = noanonymous');
    if (byRelay.length > 0 && relayLogins.some((l) => l.startsWith('@') || /^[^[\s]+@/.test(l))) main.push('smtp_sender_dependent_authentication = yes');
  }
  // What Postfix does with other programs, or not at all.
  const dkimDomains = [...new Set(cfg.dkim.keys.map((k) => k.domain))];
  if (dkimDomains.length > 0) {
    warnings.push(`DKIM signing (${cfg.dkim.keys.map((k) => `${k.selector}._domainkey.${k.domain}`).join(', ')}): Postfix signs through a milter such as OpenDKIM; the private keys are not exported (make new ones there and publish their records)`);
  }
  if (cfg.delivery.mtaSts.enabled && !sh) warnings.push('MTA-STS for direct delivery: Postfix needs an MTA-STS resolver (postfix-mta-sts-resolver) as smtp_tls_policy_maps');
  if (cfg.delivery.dnsServers.length > 0) warnings.push(`DNS servers ${cfg.delivery.dnsServers.join(', ')}: Postfix asks the system's resolver (/etc/resolv.conf)`);
  if (cfg.delivery.tlsCa.length > 0) warnings.push(`${cfg.delivery.tlsCa.length} extra trusted certificate(s): add them to smtp_tls_CAfile`);

  // ---- inbound STARTTLS and SMTP AUTH ----
  const tlsOn = cfg.tls.mode !== 'off';
  main.push('');
  if (tlsOn) {
    main.push(
      '# STARTTLS for clients, offered and not required (as Gatehouse). Put a certificate and key',
      `# for ${cfg.hostname} at these paths: the key never leaves Gatehouse (README.txt says how).`,
      'smtpd_tls_security_level = may',
      `smtpd_tls_cert_file = ${CD}/${SMTPD_CERT}`,
      `smtpd_tls_key_file = ${CD}/${SMTPD_KEY}`,
      '# SMTP AUTH only once the session is encrypted.',
      'smtpd_tls_auth_only = yes',
    );
    warnings.push(
      cfg.tls.mode === 'files'
        ? `STARTTLS: the certificate and key are not exported; copy ${cfg.tls.certFile} and ${cfg.tls.keyFile} from the Gatehouse PC to /etc/postfix/${SMTPD_CERT} and /etc/postfix/${SMTPD_KEY} (until then Postfix offers no STARTTLS)`
        : `STARTTLS: Gatehouse's self-signed certificate and its key are not exported; make a certificate for ${cfg.hostname} at /etc/postfix/${SMTPD_CERT} and /etc/postfix/${SMTPD_KEY} (README.txt, until then Postfix offers no STARTTLS)`,
    );
  } else {
    main.push('# No STARTTLS for clients (Gatehouse has it off).', 'smtpd_tls_security_level = none');
  }
  const sasl = cfg.auth.enabled && tlsOn && cfg.auth.users.length > 0;
  if (cfg.auth.enabled && !tlsOn) warnings.push('SMTP AUTH is on but STARTTLS is off: Gatehouse offers AUTH only over TLS, so it offers none, and neither does this export');
  const senderRestrictions: string[] = [];
  if (sasl) {
    main.push(
      '',
      '# SMTP AUTH: logins relay like trusted networks. Postfix needs a SASL backend: set',
      '# smtpd_sasl_type / smtpd_sasl_path (Dovecot: dovecot, private/auth; or Cyrus) and create',
      '# the users README.txt lists there; their passwords cannot be carried over.',
      'smtpd_sasl_auth_enable = yes',
      'smtpd_sasl_security_options = noanonymous',
      'smtpd_sasl_tls_security_options = noanonymous',
    );
    for (const u of cfg.auth.users) {
      warnings.push(`SMTP AUTH user ${u.username} (may send as ${u.addresses.join(', ') || 'no address'}): create it in the SASL backend with its password; Gatehouse keeps only a scrypt hash, which no Postfix SASL backend reads`);
    }
    // Sender-login binding: address (or pattern) -> the logins that may use it.
    const exactOwners = new Map<string, Set<string>>();
    const patternOwners = new Map<string, { p: string; order: number; owners: Set<string> }>();
    let order = 0;
    for (const u of cfg.auth.users) {
      for (const raw of u.addresses) {
        const a = lower(raw);
        if (a.includes('*')) {
          const e = patternOwners.get(a) ?? { p: a, order: order++, owners: new Set<string>() };
          e.owners.add(u.username);
          patternOwners.set(a, e);
        } else {
          exactOwners.set(a, (exactOwners.get(a) ?? new Set()).add(u.username));
        }
      }
    }
    // Gatehouse lets a login use an address when ANY of its patterns matches; a Postfix lookup
    // stops at the first key found. So an exact entry also names the logins whose patterns match it.
    for (const [a, owners] of exactOwners) {
      for (const e of patternOwners.values()) if (compileGlob(e.p)(a)) for (const o of e.owners) owners.add(o);
    }
    const patterns = [...patternOwners.values()].sort(bySpecificity);
    const loginLines = [...exactOwners].map(([a, owners]) => `${a}	${[...owners].join(', ')}`);
    const loginPatternLines = patterns.map((e) => `${globToRegexp(e.p)}	${[...e.owners].join(', ')}`);
    put(`${PREFIX}sender_logins`, table(loginLines, 'SMTP AUTH: sender address -> the logins that may use it. Lookup: smtpd_sender_login_maps.'), true);
    put(`${PREFIX}sender_login_patterns`, table(loginPatternLines, 'SMTP AUTH: sender patterns -> the logins that may use them, most specific first (first match wins).'), false);
    const owners = new Set(patterns.flatMap((e) => [...e.owners]));
    if (owners.size > 1) {
      warnings.push(`sender login patterns of several logins (${[...owners].join(', ')}): where two overlap, Postfix lets only the first match's logins use the address, Gatehouse any login with a matching pattern`);
    }
    main.push(
      '',
      '# Sender-login binding: a login may use only its own addresses in MAIL FROM. Authenticated',
      '# clients only: reject_sender_login_mismatch would also refuse the trusted office server',
      '# sending unauthenticated from an address a login owns, which Gatehouse accepts.',
      `smtpd_sender_login_maps = hash:${CD}/${PREFIX}sender_logins, regexp:${CD}/${PREFIX}sender_login_patterns`,
    );
    senderRestrictions.push('reject_authenticated_sender_login_mismatch');
    warnings.push('the sender-login check on the From: header (sender-login-mismatch after DATA) has no Postfix equivalent; MAIL FROM is checked');
  } else if (cfg.auth.enabled && tlsOn) {
    warnings.push('SMTP AUTH is on with no users: nothing to translate');
  }
  main.push(`smtpd_sender_restrictions = ${senderRestrictions.join(', ')}`.trimEnd());

  // ---- accounts: restriction classes ----
  const exact = new Map<string, { a: Account; order: number }>();
  const patterns: { a: Account; p: string; order: number }[] = [];
  cfg.accounts.forEach((a, order) => {
    const p = lower(a.pattern);
    if (!p.includes('*')) {
      if (!exact.has(p)) exact.set(p, { a, order });
    } else patterns.push({ a, p, order });
  });
  patterns.sort(bySpecificity);
  const classes: string[] = [];
  const classOf = new Map<Account, string>();
  const classLines: string[] = [];
  for (const { a } of [...exact.values(), ...patterns]) {
    const mode = externalMode(a);
    if (mode === 'delay') warnings.push(`account ${a.pattern}: delayed sending (${outboundRule(a).delayMinutes} min, cancel / send now) has no Postfix equivalent; exported as relay`);
    if (mode === 'approval' && !classOf.has(a)) {
      // HOLD puts the whole message in Postfix's hold queue for `postsuper -H` (release) or
      // `postsuper -d` (delete): the nearest thing to an approval Postfix has.
      const n = classes.length + 1;
      const name = `${PREFIX}hold_${n}`;
      classes.push(name);
      classOf.set(a, name);
      const steps = [`check_recipient_access hash:${CD}/${PREFIX}internal_domains`];
      const allow = [...new Set(a.allow.map(lower).filter((x) => x !== ''))];
      if (allow.length > 0) {
        put(`${PREFIX}allow_${n}`, table(allow.map((x) => `${x}\tOK`), `Allow-list of ${a.pattern}: external domains / addresses it may still reach at once.`), true);
        steps.push(`check_recipient_access hash:${CD}/${PREFIX}allow_${n}`);
      }
      const r = outboundRule(a);
      put(`${PREFIX}hold_${n}`, table([`/^(.*)$/\tHOLD external mail of ${replyText(a.pattern)} held for approval`], `Final step of ${name}: external mail of ${a.pattern} goes to the hold queue.`), false);
      steps.push(`check_recipient_access regexp:${CD}/${PREFIX}hold_${n}`);
      classLines.push(`# ${a.pattern}: external mail held for approval (上長承認) by ${[...r.approvers, ...(r.standIn ? [r.standIn] : [])].join(', ') || '-'}; release with postsuper -H, delete with postsuper -d`, `${name} = ${steps.join(', ')}`);
      warnings.push(`account ${a.pattern}: approval is exported as Postfix's HOLD, which holds the whole message (colleagues too) until an admin runs postsuper -H; no approver notices, no expiry after ${r.expireHours} h, no DSN with a reason`);
      continue;
    }
    if (!a.blockExternal || classOf.has(a)) continue;
    const n = classes.length + 1;
    const name = `${PREFIX}block_${n}`;
    classes.push(name);
    classOf.set(a, name);
    const steps = [`check_recipient_access hash:${CD}/${PREFIX}internal_domains`];
    const allow = [...new Set(a.allow.map(lower).filter((x) => x !== ''))];
    if (allow.length > 0) {
      put(`${PREFIX}allow_${n}`, table(allow.map((x) => `${x}\tOK`), `Allow-list of ${a.pattern}: external domains / addresses it may still reach.`), true);
      steps.push(`check_recipient_access hash:${CD}/${PREFIX}allow_${n}`);
    }
    const text = replyText(replies.blockExternal.replace(/\{account\}/g, a.pattern).replace(/\{sender\}/g, a.pattern)).replace(/\{recipient\}/g, '$1');
    const reply = /^[245]\.\d{1,3}\.\d{1,3} /.test(text) ? text : `5.7.1 ${text}`;
    put(`${PREFIX}reject_${n}`, table([`/^(.*)$/\t550 ${reply}`], `Final step of ${name}: the block-external reply for ${a.pattern}.`), false);
    steps.push(`check_recipient_access regexp:${CD}/${PREFIX}reject_${n}`);
    classLines.push(`# ${a.pattern}: external sending blocked (外部への送信を禁止)${a.note ? ` - ${a.note.replace(/[\r\n]+/g, ' ')}` : ''}`, `${name} = ${steps.join(', ')}`);
  }
  // Blocked -> its class; not blocked -> OK (an exact address or a more specific pattern that
  // is NOT blocked must win over a blocked pattern; DUNNO would fall through to the pattern table).
  const action = (a: Account) => classOf.get(a) ?? 'OK';
  // Automatic Bcc: sender_bcc_maps takes one address per sender, and adds it to every
  // message, not only to external ones.
  const bccExact: string[] = [];
  const bccPatterns: string[] = [];
  for (const { a } of [...exact.values(), ...patterns]) {
    const bcc = a.bcc ?? [];
    if (bcc.length === 0) continue;
    const p = lower(a.pattern);
    if (p.includes('*')) bccPatterns.push(`${globToRegexp(p)}\t${bcc[0]}`);
    else bccExact.push(`${p}\t${bcc[0]}`);
    if (bcc.length > 1) warnings.push(`account ${a.pattern}: automatic Bcc to ${bcc.join(', ')}: sender_bcc_maps takes one address; exported ${bcc[0]} only (make it an alias for the others)`);
  }
  if (bccExact.length + bccPatterns.length > 0) {
    put(`${PREFIX}sender_bcc`, table(bccExact, 'Automatic Bcc (BCC自動追加) by sender address. Lookup: sender_bcc_maps.'), true);
    put(`${PREFIX}sender_bcc_patterns`, table(bccPatterns, 'Automatic Bcc by sender pattern, most specific first.'), false);
    main.push('', '# Automatic Bcc (BCC自動追加); Postfix adds it to internal mail too.', `sender_bcc_maps = hash:${CD}/${PREFIX}sender_bcc, regexp:${CD}/${PREFIX}sender_bcc_patterns`);
    warnings.push('automatic Bcc: Gatehouse adds it only to messages with an external recipient; sender_bcc_maps adds it to every message of the sender');
  }
  if (cfg.outbound.bccConvertOver > 0) warnings.push(`Bcc conversion (To/Cc with more than ${cfg.outbound.bccConvertOver} external addresses turned into undisclosed-recipients) has no Postfix equivalent`);
  const sl = cfg.outbound.senderLimits;
  if (sl.enabled) warnings.push(`per-sender limits (${sl.messagesPerHour} messages, ${sl.externalRecipientsPerHour} external recipients per hour, then frozen) have no Postfix equivalent (smtpd_client_*_rate_limit count per client, not per sender; a policy service such as postfwd can)`);
  const senderLines = [...exact.entries()].map(([p, { a }]) => `${p}\t${action(a)}`);
  const patternLines = patterns.map(({ a, p }) => `${globToRegexp(p)}\t${action(a)}`);
  put(`${PREFIX}senders`, table(senderLines, 'Accounts given as exact addresses -> restriction class (blocked) or OK. Lookup: check_sender_access.'), true);
  put(`${PREFIX}sender_patterns`, table(patternLines, 'Accounts given as wildcard patterns, most specific first (first match wins). regexp, because hash tables cannot match wildcards.'), false);

  main.push(
    '',
    '# Relay restrictions (中継の制限): trusted networks relay anywhere; others only to internal domains.',
    `smtpd_relay_restrictions = permit_mynetworks, ${sasl ? 'permit_sasl_authenticated, ' : ''}reject_unauth_destination${cfg.delivery.verifyRecipients ? ', reject_unverified_recipient' : ''}`,
  );
  if (cfg.delivery.verifyRecipients) {
    main.push('# Recipient verification against the office mail server, for untrusted clients only.', 'unverified_recipient_reject_code = 550', `address_verify_positive_expire_time = ${cfg.delivery.verifyPositiveTtlSeconds}s`, `address_verify_negative_expire_time = ${cfg.delivery.verifyNegativeTtlSeconds}s`);
  }
  const rcpt = [`check_recipient_access hash:${CD}/${PREFIX}internal_domains`];
  if (senderLines.length > 0) rcpt.push(`check_sender_access hash:${CD}/${PREFIX}senders`);
  if (patternLines.length > 0) rcpt.push(`check_sender_access regexp:${CD}/${PREFIX}sender_patterns`);
  rcpt.push('permit');
  main.push(
    '',
    '# Accounts blocked from external sending (外部への送信を禁止): one restriction class each,',
    '# decided per recipient, so a mixed message keeps its allowed recipients.',
    `smtpd_restriction_classes = ${classes.join(', ')}`,
    ...classLines,
    `smtpd_recipient_restrictions = ${rcpt.join(', ')}`,
  );

  // ---- address syntax and smuggling (rules 1 and 5) ----
  main.push(
    '',
    '# Relay tricks and SMTP smuggling (address-syntax, bad-line-endings).',
    'allow_percent_hack = no',
    'swap_bangpath = no',
    'allow_untrusted_routing = no',
    'smtpd_forbid_bare_newline = normalize',
    'smtpd_forbid_bare_newline_exclusions =',
    'smtpd_forbid_unauth_pipelining = yes',
  );

  // ---- limits ----
  const L = cfg.limits;
  main.push(
    '',
    '# Limits.',
    `message_size_limit = ${L.maxMessageSize}`,
    `smtpd_recipient_limit = ${L.maxRecipients}`,
    `smtpd_client_connection_count_limit = ${L.maxConnectionsPerIp}`,
    '# Trusted networks are exempt from the per-address limit, in Gatehouse as in Postfix.',
    'smtpd_client_event_limit_exceptions = $mynetworks',
    `smtpd_timeout = ${Math.max(1, Math.round(L.idleTimeoutMs / 1000))}s`,
    `# maxClients ${L.maxClients}: set the maxproc column of the smtpd line in master.cf to ${L.maxClients}.`,
  );

  // ---- delivery ----
  const D = cfg.delivery;
  const sched = D.retrySchedule;
  main.push(
    '',
    '# Delivery: retries, lifetime, connections.',
    `minimal_backoff_time = ${sched[0]}s`,
    `maximal_backoff_time = ${Math.max(...sched)}s`,
    `maximal_queue_lifetime = ${D.maxLifetimeSeconds}s`,
    `bounce_queue_lifetime = ${D.maxLifetimeSeconds}s`,
    `delay_warning_time = ${D.delayWarningSeconds}s`,
    `default_destination_concurrency_limit = ${D.maxConnectionsPerHop}`,
    `# maxConnectionsTotal ${D.maxConnectionsTotal}: set the maxproc column of the smtp line in master.cf.`,
    `smtp_connect_timeout = ${Math.max(1, Math.round(D.connectTimeoutMs / 1000))}s`,
  );

  warnings.push('the header-From rule (block-external-header-from) has no Postfix equivalent: header_checks cannot see the recipients');
  if (L.dataTimeoutMs) warnings.push(`the DATA deadline (${L.dataTimeoutMs} ms) has no exact Postfix equivalent (smtpd_timeout is per read)`);

  const tableList = Object.keys(files).sort();
  return {
    mainCf: `${main.join('\n')}\n# ---- end of Gatehouse policy; tables: ${tableList.join(', ')} ----\n`,
    files,
    hashTables: hashTables.sort(),
    warnings,
    tlsHostname: tlsOn ? cfg.hostname : null,
    saslUsers: sasl ? cfg.auth.users.map((u) => ({ username: u.username, addresses: [...u.addresses] })) : [],
  };
}

/** README.txt for the export folder: how an office moves its Gatehouse policy to Postfix. */
export function postfixReadme(exp: PostfixExport): string {
  const postmaps = exp.hashTables.map((t) => `  postmap /etc/postfix/${t}`).join('\n');
  const warn = exp.warnings.length ? exp.warnings.map((w) => `  - ${w}`).join('\n') : '  (none)';
  return `Gatehouse policy for Postfix
============================

This folder holds the policy of one Gatehouse (trusted networks, internal domains, routes,
accounts blocked from external sending with their allow-lists, smarthost, limits) written as
Postfix configuration. It is for an office that outgrows one PC: the same rules on a Linux
server running Postfix, the MTA Gatehouse is modelled on.

Files
  main.cf.gatehouse   lines to append to /etc/postfix/main.cf
  gatehouse_*         lookup tables named by those lines
  README.txt          this file

Install (as root, on the Postfix host)
  1. Copy the tables next to main.cf:
       cp gatehouse_* /etc/postfix/
  2. Append the settings (later lines win in main.cf, so they override older ones):
       cat main.cf.gatehouse >> /etc/postfix/main.cf
  3. Build the hash tables (the regexp ones are read as text):
${postmaps}
${exp.tlsHostname ? `  STARTTLS: put a certificate and key for ${exp.tlsHostname} in place (Gatehouse never exports
  its key). Your own, or a self-signed one as Gatehouse makes:
       openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \\
         -subj /CN=${exp.tlsHostname} -keyout /etc/postfix/${SMTPD_KEY} -out /etc/postfix/${SMTPD_CERT}
       chmod 600 /etc/postfix/${SMTPD_KEY}
` : ''}${exp.saslUsers.length ? `  SMTP AUTH: choose a SASL backend (Dovecot: smtpd_sasl_type = dovecot, smtpd_sasl_path =
  private/auth; or Cyrus SASL) and create these logins there with their passwords. Gatehouse
  keeps only scrypt hashes, which no SASL backend reads, so each user sets a password again:
${exp.saslUsers.map((u) => `       ${u.username}  (may send as ${u.addresses.join(', ') || '-'})`).join('\n')}
` : ''}  4. Check and load:
       postfix check && postfix reload
  5. Point the office mail server's smarthost at the Postfix host instead of the Gatehouse PC,
     and the MX / port forwarding for inbound mail likewise.

Later changes: change the policy in Gatehouse (UI or CLI), run 'gatehouse export postfix
--out DIR' again, copy the tables, postmap the hash ones, 'postfix reload'. Or, once Postfix
is the gateway, edit the tables directly; the comments in each say what it does.

How the rules map
  trusted networks        mynetworks + smtpd_relay_restrictions
  internal domains        relay_domains + gatehouse_internal_domains (no route -> 451)
  routes (Gateway.dat)    transport_maps (failover = a nexthop list, Postfix 3.5 and later)
  blocked accounts        smtpd_restriction_classes: one class per account that permits
                          internal domains and its allow-list and rejects the rest (550 5.7.1)
  wildcard accounts       a regexp table (hash tables cannot match wildcards), most
                          specific pattern first, exactly as Gatehouse picks
  smarthost               relayhost (+ TLS policy, + SASL with a placeholder password)
  routes by sender (*|…)  sender_dependent_relayhost_maps (+ SASL per sender)
  TLS required (routes)   smtp_tls_policy_maps, level secure
  STARTTLS (clients)      smtpd_tls_security_level = may, smtpd_tls_auth_only = yes
  SMTP AUTH users         smtpd_sasl_auth_enable + permit_sasl_authenticated; the users
                          themselves go into the SASL backend
  sender-login binding    smtpd_sender_login_maps (gatehouse_sender_logins, and
                          gatehouse_sender_login_patterns for patterns) +
                          reject_authenticated_sender_login_mismatch
  connection limits       trusted networks exempt from the per-address limit, as in Gatehouse

Not carried over exactly
${warn}

Check a decision the way Gatehouse's 'check' command does:
  postmap -q baito@test.jp hash:/etc/postfix/gatehouse_senders
  postmap -q baito@part.test.jp regexp:/etc/postfix/gatehouse_sender_patterns
`;
}
