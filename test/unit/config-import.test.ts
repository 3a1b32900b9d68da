/*
 * Import/export formats: E-Post's Gateway.dat (routes) and the accounts CSV Excel users edit.
 * Both are all-or-nothing: a bad line is reported with its number and nothing is imported.
 */
import { describe, expect, it } from 'vitest';

import {
  accountsToCsv,
  decodeCsvBytes,
  parseAccountsCsv,
  parseGatewayDat,
  routesToGatewayDat,
  validateConfig,
} from '../../main/core/config/index.js';
import type { Account, Route } from '../../main/shared/types.js';

describe('Gateway.dat', () => {
  const routes: Route[] = [
    {
      domain: 'test.jp',
      hosts: [
        { host: '192.168.0.102', port: 25 },
        { host: '192.168.0.104', port: 2525 },
      ],
    },
    { domain: 'part.test.jp', hosts: [{ host: 'mail.part.test.jp', port: 587 }] },
    { domain: 'v6.test.jp', hosts: [{ host: 'fd00::25', port: 25 }] },
  ];

  it('round-trips, CRLF like the Windows original', () => {
    const text = routesToGatewayDat(routes);
    expect(text).toBe(
      'test.jp, 192.168.0.102, 25\r\n' +
        'test.jp, 192.168.0.104, 2525\r\n' +
        'part.test.jp, mail.part.test.jp, 587\r\n' +
        'v6.test.jp, fd00::25, 25\r\n',
    );
    expect(parseGatewayDat(text)).toMatchObject({ ok: true, routes, senderRoutes: [] });
    // Byte for byte back.
    expect(routesToGatewayDat((parseGatewayDat(text) as { routes: Route[] }).routes)).toBe(text);
    expect(routesToGatewayDat([])).toBe('');
  });

  it('takes spaces or none, comments, blank lines, LF, BOM, upper case domains', () => {
    const text =
      '\uFEFF# routes of the office\n' +
      'test.jp,192.168.0.102,25\n' +
      '\n' +
      '; E-Post style comment\n' +
      '  Part.Test.JP ,\t192.168.0.102 ,  25  \n' +
      'test.jp ,192.168.0.104, 2525';
    const r = parseGatewayDat(text);
    expect(r).toMatchObject({
      ok: true,
      routes: [
        {
          domain: 'test.jp',
          hosts: [
            { host: '192.168.0.102', port: 25 },
            { host: '192.168.0.104', port: 2525 },
          ],
        },
        { domain: 'part.test.jp', hosts: [{ host: '192.168.0.102', port: 25 }] },
      ],
    });
  });

  it('keeps failover order as the lines give it, interleaved or not', () => {
    const r = parseGatewayDat('a.jp, 10.0.0.3, 25\nb.jp, 10.0.0.9, 25\na.jp, 10.0.0.1, 25\na.jp, 10.0.0.2, 25\n');
    expect(r.ok && r.routes.map((x) => [x.domain, x.hosts.map((h) => h.host)])).toEqual([
      ['a.jp', ['10.0.0.3', '10.0.0.1', '10.0.0.2']],
      ['b.jp', ['10.0.0.9']],
    ]);
    // And the result is a valid config as is.
    expect(r.ok && validateConfig({ routes: r.routes }, 'linux').ok).toBe(true);
  });

  it('reports every bad line with its number and imports nothing', () => {
    const text = [
      'test.jp, 192.168.0.102, 25', // 1 fine
      'test.jp, 192.168.0.102', // 2 missing port
      'bad_domain!.jp, 192.168.0.102, 25', // 3 bad domain
      'test.jp, 192.168.0.300, 25', // 4 bad host
      'test.jp, 192.168.0.102, 70000', // 5 bad port
      '# fine comment', // 6
      'test.jp, 192.168.0.102, 25', // 7 duplicate of line 1
      'test.jp., 192.168.0.105, 2x5', // 8 two problems on one line
      'test.jp, , 25', // 9 empty field
    ].join('\r\n');
    const r = parseGatewayDat(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    // One issue per problem: line 8 has two.
    expect(r.errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 7, 8, 8, 9]);
    expect(r.errors.map((e) => e.code)).toEqual(['dat_fields', 'dat_value', 'dat_value', 'dat_port', 'dat_twice', 'dat_value', 'dat_port', 'dat_fields']);
    expect(r.errors[0]!.message).toBe("expected 'domain, server IP, port' (or 'domain|sender, server, port, options'), got 'test.jp, 192.168.0.102'");
    expect(r.errors[1]!.message).toMatch(/^domain 'bad_domain!\.jp' has an invalid label/);
    expect(r.errors[2]!.message).toMatch(/^server '192\.168\.0\.300' must be an IP address or a host name/);
    expect(r.errors[3]!.message).toBe("port '70000' must be an integer 1-65535");
    expect(r.errors[4]!.message).toBe('192.168.0.102:25 is already listed for test.jp on line 1');
    expect(r.errors[5]!.message).toMatch(/^domain 'test\.jp\.' must not end with a dot/);
    expect(r.errors[5]!.params).toMatchObject({ reason: 'domain_dot', suggest: 'test.jp' });
    expect(r.errors[6]!.message).toBe("port '2x5' must be an integer 1-65535");
    expect(r.errors[6]!.path).toBe('line 8');
    expect(r).not.toHaveProperty('routes');
  });
});

describe('accounts CSV', () => {
  const accounts: Account[] = [
    { pattern: 'baito@test.jp', blockExternal: true, allow: [], note: 'アルバイト（外部送信禁止）' },
    {
      pattern: '*@part.test.jp',
      blockExternal: true,
      allow: ['partner.example', 'sato@client.example'],
      note: 'Part office, Osaka: "temporary", until 3月',
    },
    { pattern: 'boss@test.jp', blockExternal: false, allow: [], note: 'line one\nline two' },
    { pattern: 'intern*@test.jp', blockExternal: false, allow: [], note: '' },
  ];

  it('round-trips quotes, commas, line breaks and Japanese; BOM and CRLF for Excel', () => {
    const csv = accountsToCsv(accounts);
    expect(csv.startsWith('\uFEFFpattern,blockExternal,allow,note,mode,delayMinutes,approvers,standIn,expireHours,bcc\r\n')).toBe(true);
    expect(csv).toContain('*@part.test.jp,true,partner.example;sato@client.example,"Part office, Osaka: ""temporary"", until 3月",block,,,,,\r\n');
    expect(csv).toContain('boss@test.jp,false,,"line one\nline two",relay,,,,,\r\n');
    expect(parseAccountsCsv(csv)).toEqual({ ok: true, accounts });
    // What Excel or a text editor hands back: no BOM, LF only.
    expect(parseAccountsCsv(csv.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n'))).toEqual({ ok: true, accounts });
    // Bytes: UTF-8 with BOM as written, and Shift_JIS as Excel's plain "CSV" saves it.
    expect(decodeCsvBytes(new TextEncoder().encode(csv))).toBe(csv.replace(/^\uFEFF/, ''));
    const sjis = Buffer.from([0x70, 0x61, 0x74, 0x74, 0x65, 0x72, 0x6e, 0x2c, 0x6e, 0x6f, 0x74, 0x65, 0x0d, 0x0a,
      0x61, 0x40, 0x74, 0x65, 0x73, 0x74, 0x2e, 0x6a, 0x70, 0x2c, 0x83, 0x65, 0x83, 0x58, 0x83, 0x67]);
    expect(parseAccountsCsv(decodeCsvBytes(sjis))).toEqual({
      ok: true,
      accounts: [{ pattern: 'a@test.jp', blockExternal: false, allow: [], note: 'テスト' }],
    });
  });

  it('accepts true/false/1/0/yes/no, any column order, padded rows, blank lines', () => {
    const csv = [
      'Note,PATTERN,blockexternal,allow',
      'a,a@test.jp,TRUE,',
      'b,b@test.jp,0,',
      '',
      'c,c@test.jp,yes,Partner.Example ; x@partner.example',
      'd,d@Test.JP,No,,,',
      ',,,',
      'e,e@test.jp,,',
    ].join('\n');
    const r = parseAccountsCsv(csv);
    expect(r.ok && r.accounts.map((a) => [a.pattern, a.blockExternal, a.allow.join(';'), a.note])).toEqual([
      ['a@test.jp', true, '', 'a'],
      ['b@test.jp', false, '', 'b'],
      ['c@test.jp', true, 'partner.example;x@partner.example', 'c'],
      ['d@test.jp', false, '', 'd'],
      ['e@test.jp', false, '', 'e'],
    ]);
  });

  it('reports bad lines with their numbers and imports nothing', () => {
    const csv = [
      'pattern,blockExternal,allow,note', // 1
      'ok@test.jp,true,,fine', // 2
      'bad%hack@test.jp,true,,', // 3 relay trick in pattern
      'x@test.jp,maybe,,', // 4 bad boolean
      'y@test.jp,true,partner.example;not a domain,', // 5 bad allow entry
      '"multi@test.jp",false,,"a note', // 6 quoted note spanning lines
      'still the note"', // 7
      'ok@test.jp,false,,again', // 8 duplicate of line 2
      'z@test.jp,true,,note,extra', // 9 too many fields
      'q@test.jp,tr"ue,,', // 10 stray quote
    ].join('\r\n');
    const r = parseAccountsCsv(csv);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.line)).toEqual([3, 4, 5, 8, 9, 10]);
    expect(r.errors[0]!.message).toMatch(/^pattern 'bad%hack@test\.jp' not a valid/);
    expect(r.errors[1]!.message).toBe("blockExternal 'maybe' must be true/false, 1/0 or yes/no");
    expect(r.errors[2]!.message).toMatch(/^allow 'not a domain' /);
    expect(r.errors[3]!.message).toBe("pattern 'ok@test.jp' is already on line 2");
    expect(r.errors[4]!.message).toBe('5 fields, but the header has 4');
    expect(r.errors[5]!.message).toMatch(/a " inside a field that is not quoted as a whole/);
    expect(r.errors[5]!.code).toBe('csv_syntax');
  });

  it('needs the header, and reports an unclosed quote where it starts', () => {
    const noHeader = parseAccountsCsv('baito@test.jp,true,,\n');
    expect(noHeader.ok).toBe(false);
    expect(noHeader).toEqual({
      ok: false,
      errors: [{ path: 'line 1', line: 1, code: 'csv_header', params: { columns: 'pattern,blockExternal,allow,note,mode,delayMinutes,approvers,standIn,expireHours,bcc' }, message: 'the first line must be the header pattern,blockExternal,allow,note,mode,delayMinutes,approvers,standIn,expireHours,bcc' }],
    });
    expect(parseAccountsCsv('pattern,blocked\n')).toMatchObject({
      ok: false,
      errors: [{ line: 1, code: 'csv_column', message: "unknown column 'blocked' (expected pattern,blockExternal,allow,note,mode,delayMinutes,approvers,standIn,expireHours,bcc)" }],
    });
    const open = parseAccountsCsv('pattern,note\na@test.jp,fine\nb@test.jp,"never closed\nmore\n');
    expect(open).toMatchObject({ ok: false, errors: [{ line: 3, code: 'csv_quote', message: 'a quoted field is never closed (a " is missing)' }] });
    expect(open.ok || open.errors).toHaveLength(1);
    expect(parseAccountsCsv('\uFEFF')).toEqual({ ok: true, accounts: [] });
  });
});
