/*
 * The rules the core and the window share (main/shared): isIP answers as node:net does for
 * any string (property test plus the awkward cases), the UTF-8 length matches Buffer's, the
 * punycode hint matches node:url, and every field problem carries a code with its English
 * message built from the same template the window translates.
 */
import { isIP as nodeIsIP } from 'node:net';
import { domainToASCII } from 'node:url';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { octets } from '../../main/shared/address.js';
import { isIP, parseCidr } from '../../main/shared/ip.js';
import { ISSUE_EN, fillTemplate } from '../../main/shared/issues.js';
import { domainProblem, hostProblem, patternProblem } from '../../main/shared/rules.js';

describe('isIP', () => {
  it('agrees with node:net on hand-picked cases', () => {
    for (const s of ['1.2.3.4', '01.2.3.4', '256.1.1.1', '::1', '::', 'fe80::1%eth0', 'fe80::1%', '::ffff:1.2.3.4', '1::2::3',
      '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '[::1]', '1.2.3.4%x', '', ' 1.2.3.4', 'a::b:c', '1:2:3:4:5:6:1.2.3.4', '::1.2.3']) {
      expect(isIP(s), s).toBe(nodeIsIP(s));
    }
  });

  it('agrees with node:net on random address-like strings', () => {
    const chars = fc.constantFrom(...'0123456789abcdefABCDEF:.%z'.split(''));
    fc.assert(fc.property(fc.string({ unit: chars, maxLength: 45 }), (s) => isIP(s) === nodeIsIP(s)), { numRuns: 20000 });
    fc.assert(fc.property(fc.ipV4(), (s) => isIP(s) === 4));
    fc.assert(fc.property(fc.ipV6(), (s) => isIP(s) === 6));
  });

  it('parses networks, and refuses /0', () => {
    expect(parseCidr('192.168.0.0/24')).toEqual({ address: '192.168.0.0', prefix: 24, family: 'ipv4' });
    expect(parseCidr('::/0')).toMatchObject({ code: 'cidr_open', message: '::/0 would trust every address (open relay)' });
  });
});

describe('shared rules', () => {
  it('octets() is the UTF-8 byte length', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => octets(s) === Buffer.byteLength(s, 'utf8')));
  });

  it('suggests the punycode form node:url gives', () => {
    for (const d of ['例え.jp', 'bücher.example', 'ﾃｽﾄ.jp']) {
      expect(domainProblem(d)).toMatchObject({ code: 'domain_ascii', params: { suggest: domainToASCII(d) } });
    }
  });

  it('every problem has a code whose template makes its message', () => {
    for (const p of [domainProblem('Test.JP'), hostProblem('192.168.0.300'), patternProblem('a%b@test.jp'), patternProblem('a@Test.JP.')]) {
      expect(p).not.toBeNull();
      expect(p!.message).toBe(fillTemplate(ISSUE_EN[p!.code], p!.params));
    }
    expect(hostProblem('192.168.0.300')).toMatchObject({ code: 'host', params: { reason: 'domain_numeric' } });
  });
});
