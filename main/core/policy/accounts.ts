/*
 * Account index: finds the account that governs a sender address. An exact address beats
 * every pattern; among `*` patterns the most specific wins (most literal characters, then the
 * longer literal domain part, then config order). Exact accounts sit in a Map keyed by the
 * lowercased address; patterns with a literal domain sit in a Map keyed by that domain, those
 * with `*` in the domain are keyed by the dot-suffix their domain must end with
 * (`*@*.test.jp` and `*@*xb.test.jp` -> ".test.jp"), the rest (`*@test.*`, `role*@*`) sit in
 * a short list. Within a literal domain and in that short list, patterns are further keyed by
 * the literal start of their local part (`staff12*` -> "staff12"), so a domain with hundreds of
 * `name*@` patterns costs a few Map lookups, not a scan of all of them. Each list is sorted
 * most specific first, so a lookup stops early. Each pattern is precompiled to
 * prefix/suffix/indexOf checks (no RegExp per call). find() returns the Account or undefined
 * and never throws; lookup() returns it with its allow-list set, for the decision's hot path;
 * compileAccounts trusts its input (validatePattern / validateAllowEntry are for the config
 * layer and return an error message or null).
 */
import type { Account } from '../../shared/types.js';
import { addressKey, lowerAscii } from '../../shared/address.js';
import { policyAllowProblem, policyPatternProblem } from '../../shared/rules.js';

export interface AccountIndex {
  /** The account governing `address` (any case), or undefined. */
  find(address: string): Account | undefined;
  /** Like find(), with the account's allow-list compiled (see onAllowList). */
  lookup(address: string): Governing | undefined;
  /** True when `recipient` is on the account's allow-list (domain exactly, or address). */
  allows(account: Account, recipient: string): boolean;
  readonly size: number;
}

/** An account as the index holds it: its allow-list lowercased into a set, once. */
export interface Governing {
  readonly account: Account;
  readonly allow: ReadonlySet<string>;
}

type Matcher = (s: string) => boolean;

interface CompiledPattern extends Governing {
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

/**
 * Patterns keyed by the literal start of their local part (`staff12*x` -> "staff12", `*x` ->
 * ""). A local part can only match patterns keyed by one of its own prefixes, and only the
 * prefix lengths some pattern uses are tried.
 */
class ByLocalPrefix {
  private readonly lists = new Map<string, CompiledPattern[]>();
  /** Distinct key lengths, ascending. */
  private lengths: number[] = [];

  add(local: string, p: CompiledPattern): void {
    const star = local.indexOf('*');
    push(this.lists, star < 0 ? local : local.slice(0, star), p);
  }

  /** Sort each list most specific first; call once, after the last add. */
  seal(): void {
    for (const list of this.lists.values()) list.sort(bySpecificity);
    this.lengths = [...new Set([...this.lists.keys()].map((k) => k.length))].sort((a, b) => a - b);
  }

  get size(): number {
    return this.lists.size;
  }

  scan(local: string, domain: string, best: CompiledPattern | undefined): CompiledPattern | undefined {
    for (const n of this.lengths) {
      if (n > local.length) break;
      best = scan(this.lists.get(n === local.length ? local : local.slice(0, n)), local, domain, best);
    }
    return best;
  }
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

/** Shared by the (many) accounts without an allow-list; never modified. */
const NO_ALLOW: ReadonlySet<string> = new Set<string>();

function allowSet(account: Account): ReadonlySet<string> {
  if (account.allow.length === 0) return NO_ALLOW;
  return new Set(account.allow.map((e) => lowerAscii(e.trim())).filter((e) => e !== ''));
}

/** True when `recipient` (any case) is on the allow-list: as an address, or by its domain. */
export function onAllowList(allow: ReadonlySet<string>, recipient: string): boolean {
  if (allow.size === 0) return false;
  const key = addressKey(recipient);
  const domain = key.slice(key.lastIndexOf('@') + 1);
  return allow.has(key) || allow.has(domain);
}

export function compileAccounts(accounts: readonly Account[]): AccountIndex {
  const exact = new Map<string, Governing>();
  const byDomain = new Map<string, ByLocalPrefix>();
  const bySuffix = new Map<string, CompiledPattern[]>();
  // Patterns with no literal domain tail (`temp*@*`): keyed by the literal start of their
  // local part, so a lookup scans only the lists its own local part could match.
  const other = new ByLocalPrefix();
  const allowSets = new Map<Account, ReadonlySet<string>>();

  accounts.forEach((account, order) => {
    const allow = allowSet(account);
    allowSets.set(account, allow);
    const pattern = lowerAscii(account.pattern.trim());
    if (!pattern.includes('*')) {
      if (!exact.has(pattern)) exact.set(pattern, { account, allow }); // first in config order wins
      return;
    }
    const at = pattern.lastIndexOf('@');
    if (at < 0) return; // not a valid pattern; validatePattern reports it
    const local = pattern.slice(0, at);
    const domain = pattern.slice(at + 1);
    const domainStars = countStars(domain);
    const p: CompiledPattern = {
      account,
      allow,
      order,
      literals: pattern.length - countStars(pattern),
      domainLiterals: domain.length - domainStars,
      matchLocal: compileGlob(local),
      matchDomain: domainStars === 0 ? ANY : compileGlob(domain),
    };
    if (domainStars === 0) {
      let bucket = byDomain.get(domain);
      if (!bucket) byDomain.set(domain, (bucket = new ByLocalPrefix()));
      bucket.add(local, p);
      return;
    }
    // The domain must end with the literal tail after its last '*'; from the tail's first dot
    // on, that is one of the address domain's dot-suffixes, which lookup() tries.
    const tail = domain.slice(domain.lastIndexOf('*') + 1);
    const dot = tail.indexOf('.');
    if (dot >= 0) push(bySuffix, tail.slice(dot), p);
    else other.add(local, p);
  });
  for (const bucket of byDomain.values()) bucket.seal();
  for (const list of bySuffix.values()) list.sort(bySpecificity);
  other.seal();

  function lookup(address: string): Governing | undefined {
    if (typeof address !== 'string' || address === '') return undefined;
    const key = addressKey(address);
    const hit = exact.get(key);
    if (hit) return hit;
    const at = key.lastIndexOf('@');
    if (at <= 0) return undefined;
    const local = key.slice(0, at);
    const domain = key.slice(at + 1);
    let best = byDomain.get(domain)?.scan(local, domain, undefined);
    if (bySuffix.size > 0) {
      for (let i = domain.indexOf('.'); i >= 0; i = domain.indexOf('.', i + 1)) {
        best = scan(bySuffix.get(domain.slice(i)), local, domain, best);
      }
    }
    if (other.size > 0) best = other.scan(local, domain, best);
    return best;
  }

  return {
    size: accounts.length,
    lookup,
    find: (address: string): Account | undefined => lookup(address)?.account,
    allows: (account: Account, recipient: string): boolean =>
      onAllowList(allowSets.get(account) ?? allowSet(account), recipient),
  };
}

/** Error message for a bad account pattern, or null. `*` is any run of characters. */
export function validatePattern(pattern: string): string | null {
  return policyPatternProblem(pattern)?.message ?? null;
}

/** Error message for a bad allow-list entry (a domain, or an address), or null. */
export function validateAllowEntry(entry: string): string | null {
  return policyAllowProblem(entry)?.message ?? null;
}
