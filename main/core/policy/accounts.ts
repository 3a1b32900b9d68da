/*
 * Account index: finds the account that governs a sender address. An exact address beats
 * every pattern; among `*` patterns the most specific wins (most literal characters, then the
 * longer literal domain part, then config order). Exact accounts sit in a Map keyed by the
 * lowercased address; patterns with a literal domain sit in a Map keyed by that domain, those
 * with `*` in the domain are keyed by the dot-suffix their domain must end with
 * (`*@*.test.jp` and `*@*xb.test.jp` -> ".test.jp"), the rest (`*@test.*`, `role*@*`) sit in
 * a short list. Each list is sorted most specific first, so a lookup stops early. Each pattern
 * is precompiled to prefix/suffix/indexOf checks (no RegExp per call). find() returns the
 * Account or undefined and never throws;
 * compileAccounts trusts its input (validatePattern / validateAllowEntry are for the config
 * layer and return an error message or null).
 */
import type { Account } from '../../shared/types.js';
import { addressKey, checkAddressSyntax, checkDomainSyntax, lowerAscii } from './address.js';

export interface AccountIndex {
  /** The account governing `address` (any case), or undefined. */
  find(address: string): Account | undefined;
  /** True when `recipient` is on the account's allow-list (domain exactly, or address). */
  allows(account: Account, recipient: string): boolean;
  readonly size: number;
}

type Matcher = (s: string) => boolean;

interface CompiledPattern {
  account: Account;
  order: number;
  /** Pattern length without the `*`s. */
  literals: number;
  /** Literal characters in the domain part. */
  domainLiterals: number;
  matchLocal: Matcher;
  /** ANY for a literal domain (its bucket already matched it). */
  matchDomain: Matcher;
}

const ANY: Matcher = () => true;

/** Compile a `*` glob (any run of characters, possibly empty) into plain string checks. */
export function compileGlob(pattern: string): Matcher {
  const segs = pattern.split('*');
  if (segs.length === 1) return (s) => s === pattern;
  const pre = segs[0]!;
  const suf = segs[segs.length - 1]!;
  const mids = segs.slice(1, -1).filter((m) => m !== '');
  const min = pre.length + suf.length + mids.reduce((n, m) => n + m.length, 0);
  if (mids.length === 0) {
    if (min === 0) return ANY;
    if (suf === '') return (s) => s.startsWith(pre);
    if (pre === '') return (s) => s.endsWith(suf);
    return (s) => s.length >= min && s.startsWith(pre) && s.endsWith(suf);
  }
  return (s) => {
    if (s.length < min || !s.startsWith(pre) || !s.endsWith(suf)) return false;
    const end = s.length - suf.length;
    let pos = pre.length;
    for (const m of mids) {
      const i = s.indexOf(m, pos);
      if (i < 0 || i + m.length > end) return false;
      pos = i + m.length;
    }
    return true;
  };
}

/** Ordering: most specific first, then longer literal domain, then config order. */
function bySpecificity(a: CompiledPattern, b: CompiledPattern): number {
  return b.literals - a.literals || b.domainLiterals - a.domainLiterals || a.order - b.order;
}

/**
 * Scan a specificity-sorted list; return its first match if it beats `best`, else `best`.
 * Stops as soon as the entries are less specific than `best`.
 */
function scan(
  list: CompiledPattern[] | undefined,
  local: string,
  domain: string,
  best: CompiledPattern | undefined,
): CompiledPattern | undefined {
  if (!list) return best;
  for (const p of list) {
    if (best && bySpecificity(p, best) > 0) return best;
    if (p.matchDomain(domain) && p.matchLocal(local)) return p;
  }
  return best;
}

function countStars(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 42) n++;
  return n;
}

function push<K>(map: Map<K, CompiledPattern[]>, key: K, p: CompiledPattern): void {
  const list = map.get(key);
  if (list) list.push(p);
  else map.set(key, [p]);
}

function allowSet(account: Account): Set<string> {
  return new Set(account.allow.map((e) => lowerAscii(e.trim())).filter((e) => e !== ''));
}

export function compileAccounts(accounts: readonly Account[]): AccountIndex {
  const exact = new Map<string, Account>();
  const byDomain = new Map<string, CompiledPattern[]>();
  const bySuffix = new Map<string, CompiledPattern[]>();
  // Patterns with no literal domain tail (`temp*@*`): bucketed by the literal start of their
  // local part, so a lookup scans only the buckets its own local part could match.
  const other = new Map<string, CompiledPattern[]>();
  let maxPrefix = 0;
  const allowSets = new Map<Account, Set<string>>();

  accounts.forEach((account, order) => {
    allowSets.set(account, allowSet(account));
    const pattern = lowerAscii(account.pattern.trim());
    if (!pattern.includes('*')) {
      if (!exact.has(pattern)) exact.set(pattern, account); // first in config order wins
      return;
    }
    const at = pattern.lastIndexOf('@');
    if (at < 0) return; // not a valid pattern; validatePattern reports it
    const local = pattern.slice(0, at);
    const domain = pattern.slice(at + 1);
    const domainStars = countStars(domain);
    const p: CompiledPattern = {
      account,
      order,
      literals: pattern.length - countStars(pattern),
      domainLiterals: domain.length - domainStars,
      matchLocal: compileGlob(local),
      matchDomain: domainStars === 0 ? ANY : compileGlob(domain),
    };
    if (domainStars === 0) {
      push(byDomain, domain, p);
      return;
    }
    // The domain must end with the literal tail after its last '*'; from the tail's first dot
    // on, that is one of the address domain's dot-suffixes, which find() looks up.
    const tail = domain.slice(domain.lastIndexOf('*') + 1);
    const dot = tail.indexOf('.');
    if (dot >= 0) push(bySuffix, tail.slice(dot), p);
    else {
      const prefix = local.slice(0, local.indexOf('*') < 0 ? local.length : local.indexOf('*'));
      maxPrefix = Math.max(maxPrefix, prefix.length);
      push(other, prefix, p);
    }
  });
  for (const list of byDomain.values()) list.sort(bySpecificity);
  for (const list of bySuffix.values()) list.sort(bySpecificity);
  for (const list of other.values()) list.sort(bySpecificity);

  return {
    size: accounts.length,
    find(address: string): Account | undefined {
      if (typeof address !== 'string' || address === '') return undefined;
      const key = addressKey(address);
      const hit = exact.get(key);
      if (hit) return hit;
      const at = key.lastIndexOf('@');
      if (at <= 0) return undefined;
      const local = key.slice(0, at);
      const domain = key.slice(at + 1);
      let best = scan(byDomain.get(domain), local, domain, undefined);
      if (bySuffix.size > 0) {
        for (let i = domain.indexOf('.'); i >= 0; i = domain.indexOf('.', i + 1)) {
          best = scan(bySuffix.get(domain.slice(i)), local, domain, best);
        }
      }
      if (other.size > 0) {
        for (let k = Math.min(maxPrefix, local.length); k >= 0; k--) best = scan(other.get(local.slice(0, k)), local, domain, best);
      }
      return best?.account;
    },
    allows(account: Account, recipient: string): boolean {
      const set = allowSets.get(account) ?? allowSet(account);
      if (set.size === 0) return false;
      const key = addressKey(recipient);
      const domain = key.slice(key.lastIndexOf('@') + 1);
      return set.has(key) || set.has(domain);
    },
  };
}

/** Error message for a bad account pattern, or null. `*` is any run of characters. */
export function validatePattern(pattern: string): string | null {
  if (pattern.trim() !== pattern) return 'leading or trailing space in pattern';
  if (!pattern.includes('*')) {
    const err = checkAddressSyntax(pattern, { smtputf8: true });
    return err ? `not a valid address: ${err}` : null;
  }
  if (pattern.includes('**')) return 'use a single * for any run of characters';
  const err = checkAddressSyntax(pattern.replaceAll('*', 'x'), { smtputf8: true });
  return err ? `not a valid pattern: ${err}` : null;
}

/** Error message for a bad allow-list entry (a domain, or an address), or null. */
export function validateAllowEntry(entry: string): string | null {
  if (entry.trim() !== entry) return 'leading or trailing space';
  if (entry.includes('*')) return 'wildcards are not supported in the allow-list';
  const err = entry.includes('@')
    ? checkAddressSyntax(entry, { smtputf8: true })
    : checkDomainSyntax(entry, { smtputf8: true });
  return err ? `not a valid domain or address: ${err}` : null;
}
