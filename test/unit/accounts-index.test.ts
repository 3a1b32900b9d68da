/*
 * The account index: precedence (exact beats pattern, most specific pattern wins, ties by
 * literal domain length then config order), glob semantics, a fast-check cross-check against a
 * naive RegExp reference, pattern validation, and a perf print (100k exact + 1k patterns;
 * prints the median ns per lookup, asserts nothing about time).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  compileAccounts,
  compileGlob,
  validateAllowEntry,
  validatePattern,
} from '../../main/core/policy/index.js';
import type { Account } from '../../main/shared/types.js';

const acct = (pattern: string, blockExternal = true, allow: string[] = []): Account => ({
  pattern,
  blockExternal,
  allow,
  note: '',
});

const patternOf = (accounts: Account[], address: string) => compileAccounts(accounts).find(address)?.pattern;

describe('precedence', () => {
  const accounts = [
    acct('*@test.jp'),
    acct('*@*.test.jp'),
    acct('baito*@test.jp'),
    acct('baito@test.jp'),
    acct('*@part.test.jp'),
    acct('*@test.*'),
    acct('verylongprefix*@*'),
  ];
  it.each([
    ['baito@test.jp', 'baito@test.jp'], // exact beats patterns listed before it
    ['BAITO@TEST.JP', 'baito@test.jp'],
    ['baito2@test.jp', 'baito*@test.jp'],
    ['someone@test.jp', '*@test.jp'],
    ['someone@part.test.jp', '*@part.test.jp'], // literal domain beats *.test.jp
    ['someone@sales.test.jp', '*@*.test.jp'],
    ['someone@a.b.test.jp', '*@*.test.jp'], // * crosses dots
    ['someone@test.com', '*@test.*'],
    ['verylongprefix1@test.jp', 'verylongprefix*@*'], // 16 literals beat 8
    ['verylongprefix1@elsewhere.example', 'verylongprefix*@*'],
    ['someone@eviltest.jp', undefined],
    ['someone@test.jp.example.com', '*@test.*'],
    ['', undefined],
    ['no-at-sign', undefined],
    ['@test.jp', undefined],
  ] as const)('%j -> %j', (address, expected) => {
    expect(patternOf(accounts, address)).toBe(expected);
  });

  it('tie on literals: longer literal domain wins, then config order', () => {
    // both have 11 literal characters; the second has 10 of them in the domain
    expect(patternOf([acct('ab*@*.test.jp'), acct('*@*xb.test.jp')], 'ab@axb.test.jp')).toBe('*@*xb.test.jp');
    expect(patternOf([acct('a*@test.jp'), acct('*a@test.jp')], 'aba@test.jp')).toBe('a*@test.jp');
    expect(patternOf([acct('*a@test.jp'), acct('a*@test.jp')], 'aba@test.jp')).toBe('*a@test.jp');
  });

  it('duplicate exact accounts: the first in config order wins', () => {
    const a = [acct('x@test.jp', true), acct('X@Test.JP', false)];
    expect(compileAccounts(a).find('x@test.jp')).toBe(a[0]);
  });

  it('allows: domain exactly, or address, case-insensitive', () => {
    const a = acct('*@part.test.jp', true, ['partner.example', 'Friend@Gmail.Example']);
    const idx = compileAccounts([a]);
    expect(idx.allows(a, 'x@partner.example')).toBe(true);
    expect(idx.allows(a, 'x@PARTNER.example')).toBe(true);
    expect(idx.allows(a, 'x@sub.partner.example')).toBe(false);
    expect(idx.allows(a, 'x@partner.example.evil')).toBe(false);
    expect(idx.allows(a, 'friend@gmail.example')).toBe(true);
    expect(idx.allows(a, 'enemy@gmail.example')).toBe(false);
    expect(idx.allows(acct('z@test.jp'), 'x@partner.example')).toBe(false);
  });
});

describe('compileGlob', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['*', '', true],
    ['a*', 'a', true],
    ['*c', 'abc', true],
    ['a*c', 'ac', true],
    ['a*c', 'abc', true],
    ['a*c', 'abd', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['a*bc*bc', 'abcbc', true],
    ['a*aa', 'aa', false], // prefix and suffix must not overlap
    ['*.test.jp', '.test.jp', true],
    ['*.test.jp', 'test.jp', false],
  ] as const)('%j ~ %j = %s', (p, s, expected) => {
    expect(compileGlob(p)(s)).toBe(expected);
  });
});

/** Naive reference: RegExp per pattern, sort every match. */
function reference(accounts: Account[], address: string): Account | undefined {
  const key = address.toLowerCase();
  const exact = accounts.find((a) => !a.pattern.includes('*') && a.pattern.toLowerCase() === key);
  if (exact) return exact;
  const at = key.lastIndexOf('@');
  if (at <= 0) return undefined;
  const [local, domain] = [key.slice(0, at), key.slice(at + 1)];
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\*/g, '.*');
  const hits = accounts
    .map((a, order) => ({ a, order, p: a.pattern.toLowerCase() }))
    .filter(({ p }) => p.includes('*'))
    .filter(({ p }) => {
      const pa = p.lastIndexOf('@');
      return new RegExp(`^${esc(p.slice(0, pa))}$`, 's').test(local) && new RegExp(`^${esc(p.slice(pa + 1))}$`, 's').test(domain);
    })
    .map((h) => {
      const d = h.p.slice(h.p.lastIndexOf('@') + 1);
      return { ...h, lit: h.p.replaceAll('*', '').length, dlit: d.replaceAll('*', '').length };
    })
    .sort((x, y) => y.lit - x.lit || y.dlit - x.dlit || x.order - y.order);
  return hits[0]?.a;
}

describe('cross-check against a naive reference', () => {
  const chars = fc.constantFrom('a', 'b', '.', 'x');
  const part = (withStar: boolean) =>
    fc.array(withStar ? fc.oneof(chars, fc.constant('*')) : chars, { minLength: 1, maxLength: 5 }).map((a) => a.join('').replace(/\*+/g, '*'));
  const pattern = fc.tuple(part(true), part(true)).map(([l, d]) => `${l}@${d}`);
  const address = fc.tuple(part(false), part(false)).map(([l, d]) => `${l}@${d}`);
  it('find() agrees with the reference', () => {
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 12 }), fc.array(address, { minLength: 1, maxLength: 10 }), (patterns, addresses) => {
        const accounts = patterns.map((p) => acct(p));
        const idx = compileAccounts(accounts);
        for (const a of addresses) expect(idx.find(a)).toBe(reference(accounts, a));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('validation', () => {
  it.each([
    ['baito@test.jp', null],
    ['*@part.test.jp', null],
    ['baito*@test.jp', null],
    ['*@*.test.jp', null],
    ['*@*', null],
    ['ユーザー@test.jp', null],
    ['**@test.jp', 'use a single * for any run of characters'],
    ['baito', 'not a valid address: missing @domain'],
    ['*', 'not a valid pattern: missing @domain'],
    ['*@', 'not a valid pattern: missing domain'],
    ['*@test.jp.', 'not a valid pattern: trailing dot in domain'],
    ['a%b@test.jp', "not a valid address: percent hack ('%') not accepted"],
    [' baito@test.jp', 'leading or trailing space in pattern'],
  ] as const)('validatePattern(%j) -> %j', (p, expected) => {
    expect(validatePattern(p)).toBe(expected);
  });
  it.each([
    ['partner.example', null],
    ['a@partner.example', null],
    ['*.partner.example', 'wildcards are not supported in the allow-list'],
    ['partner.example.', 'not a valid domain or address: trailing dot in domain'],
    ['[1.2.3.4]', 'not a valid domain or address: IP literal domain not accepted'],
  ] as const)('validateAllowEntry(%j) -> %j', (e, expected) => {
    expect(validateAllowEntry(e)).toBe(expected);
  });
});

describe('performance sanity (prints, does not assert time)', () => {
  it('100k exact + 1k patterns: median ns per lookup', () => {
    const accounts: Account[] = [];
    for (let i = 0; i < 100_000; i++) accounts.push(acct(`user${i}@dept${i % 200}.example.jp`));
    // 1k patterns: mostly `prefix*@domain`, some `*@*.sub.domain`, a few catch-all-domain ones
    for (let j = 0; j < 1000; j++) {
      if (j % 100 < 70) accounts.push(acct(`team${j}*@dept${j % 200}.example.jp`));
      else if (j % 100 < 95) accounts.push(acct(`*@*.branch${j}.example.jp`));
      else if (j % 100 < 99) accounts.push(acct(`*@shop${j}.example.jp`));
      else accounts.push(acct(`role${j}*@*`));
    }
    const t0 = process.hrtime.bigint();
    const idx = compileAccounts(accounts);
    const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;

    const probes: string[] = [];
    for (let k = 0; k < 10_000; k++) {
      const r = k % 10;
      if (r < 5) {
        const u = (k * 7919) % 100_000;
        probes.push(`User${u}@Dept${u % 200}.example.jp`); // exact, mixed case
      }
      else if (r < 7) probes.push(`team${(k * 37) % 70}x@dept${((k * 37) % 70) % 200}.example.jp`);
      else if (r < 8) probes.push(`someone@a.branch${(k % 25) + 70}.example.jp`);
      else if (r < 9) probes.push(`role${(k % 10) * 100 + 99}zz@anywhere.example`);
      else probes.push(`nobody${k}@unknown${k}.example`); // miss
    }
    let found = 0;
    for (const p of probes) if (idx.find(p)) found++; // warm up
    const batch = 1000;
    let sink = 0; // keeps the timed calls from being optimised away
    const samples: number[] = [];
    for (let round = 0; round < 30; round++) {
      for (let off = 0; off < probes.length; off += batch) {
        const s = process.hrtime.bigint();
        for (let i = off; i < off + batch; i++) if (idx.find(probes[i]!)) sink++;
        samples.push(Number(process.hrtime.bigint() - s) / batch);
      }
    }
    samples.sort((a, b) => a - b);
    const median = samples[samples.length >> 1]!;
    // Baseline on this machine: a bare Map.get of the lowercased key over the same 100k accounts.
    const bare = new Map(accounts.map((a) => [a.pattern.toLowerCase(), a]));
    const base: number[] = [];
    for (let round = 0; round < 30; round++) {
      for (let off = 0; off < probes.length; off += batch) {
        const s = process.hrtime.bigint();
        for (let i = off; i < off + batch; i++) if (bare.get(probes[i]!.toLowerCase())) sink++;
        base.push(Number(process.hrtime.bigint() - s) / batch);
      }
    }
    base.sort((a, b) => a - b);
    console.log(
      `[policy] accounts index: ${accounts.length} accounts compiled in ${compileMs.toFixed(0)} ms; ` +
        `${found}/${probes.length} probes matched; median ${median.toFixed(0)} ns per lookup ` +
        `(p90 ${samples[Math.floor(samples.length * 0.9)]!.toFixed(0)} ns; ` +
        `bare Map.get baseline ${base[base.length >> 1]!.toFixed(0)} ns)`,
    );
    expect(found).toBeGreaterThan(probes.length / 2);
    expect(sink).toBeGreaterThan(0);
  });
});
