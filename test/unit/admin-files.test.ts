/*
 * Every file an admin opens in Notepad or Excel on Windows: the accounts CSV export, the
 * Gateway.dat export and the window's log CSV export end lines with CRLF; the CSV files start
 * with a UTF-8 BOM (Excel reads a CSV without one as Shift_JIS and garbles Japanese) and
 * quote any field holding a line break, so a note over two lines stays one row. The imports
 * take CRLF or LF, with or without a BOM, and Shift_JIS from Excel's plain "CSV". The CLI
 * writes the same bytes to a file.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { accountsToCsv, parseAccountsCsv, parseGatewayDat, routesToGatewayDat } from '../../main/core/config/index.js';
import { decodeText } from '../../main/shared/csv.js';
import type { Account, ReceiveLogEntry, SenderLogEntry } from '../../main/shared/types.js';
import { receiveCsv, senderCsv } from '../../renderer/src/lib/logcsv.js';
import { officeConfig, tempDir } from '../helpers/gateway.js';

const BOM = '\uFEFF';
/** Every line break is CRLF: no bare LF or CR outside a quoted field's own text. */
function crlfOnly(text: string): boolean {
  const outsideQuotes = text.replace(/"(?:[^"]|"")*"/g, '""');
  return !/\r(?!\n)|(?<!\r)\n/.test(outsideQuotes) && outsideQuotes.endsWith('\r\n');
}

const accounts: Account[] = [
  { pattern: 'baito@test.jp', blockExternal: true, allow: [], note: 'アルバイト（外部送信禁止）' },
  { pattern: '*@part.test.jp', blockExternal: true, allow: ['partner.example'], note: '大阪営業所, "臨時"\n4月から' },
];

describe('files for Notepad and Excel', () => {
  it('accounts CSV: BOM, CRLF, a multi-line note quoted; it reads back from CRLF, LF, BOM or not', () => {
    const csv = accountsToCsv(accounts);
    expect(csv.startsWith(BOM + 'pattern,blockExternal,allow,note,mode,delayMinutes,approvers,standIn,expireHours,bcc\r\n')).toBe(true);
    expect(crlfOnly(csv)).toBe(true);
    expect(csv).toContain('"大阪営業所, ""臨時""\n4月から"');
    for (const variant of [csv, csv.slice(1), csv.replace(/\r\n/g, '\n'), csv.slice(1).replace(/\r\n/g, '\n')]) {
      expect(parseAccountsCsv(variant)).toEqual({ ok: true, accounts });
    }
    // Excel's plain "CSV" on a Japanese system: Shift_JIS, CRLF, no BOM.
    const sjis = new Uint8Array([...Buffer.from('pattern,note\r\nbaito@test.jp,', 'latin1'), 0x83, 0x65, 0x83, 0x58, 0x83, 0x67, 0x0d, 0x0a]);
    expect(parseAccountsCsv(decodeText(sjis))).toEqual({ ok: true, accounts: [{ pattern: 'baito@test.jp', blockExternal: false, allow: [], note: 'テスト' }] });
  });

  it('Gateway.dat: CRLF as E-Post writes it (no BOM, E-Post reads it back); read from LF or with a BOM too', () => {
    const routes = [{ domain: 'test.jp', hosts: [{ host: '192.168.0.102', port: 25 }, { host: '192.168.0.104', port: 25 }] }];
    const dat = routesToGatewayDat(routes);
    expect(dat).toBe('test.jp, 192.168.0.102, 25\r\ntest.jp, 192.168.0.104, 25\r\n');
    for (const variant of [dat, dat.replace(/\r\n/g, '\n'), BOM + dat]) expect(parseGatewayDat(variant)).toMatchObject({ ok: true, routes, senderRoutes: [] });
  });

  it('log CSV from the window: BOM, CRLF, formulas guarded, the same writer as the accounts export', () => {
    const r: ReceiveLogEntry = { ts: '2025-04-01T09:00:00.000Z', event: 'rcpt', session: 's1', clientIp: '192.168.0.102', tls: false, sender: '=cmd@evil.example', recipient: 'x@example.com', decision: 'reject', rule: 'block-external', reply: '550 5.7.1 no,\r\nnot you' };
    const s: SenderLogEntry = { ts: '2025-04-01T09:00:01.000Z', queueId: 'Q1', attempt: 1, sender: 'a@test.jp', recipients: ['b@example.com', 'c@example.com'], hop: 'mx:25', via: 'mx', tls: true, outcome: 'delivered', durationMs: 12 };
    const rc = receiveCsv([r, s], ['時刻', 'イベント']);
    expect(rc.startsWith(BOM + '時刻,イベント\r\n')).toBe(true);
    expect(crlfOnly(rc)).toBe(true);
    expect(rc).toContain(",'=cmd@evil.example,");
    expect(rc).toContain('"550 5.7.1 no,\r\nnot you"');
    const sc = senderCsv([r, s], ['time']);
    expect(sc).toBe(`${BOM}time\r\n2025-04-01T09:00:01.000Z,Q1,1,a@test.jp,b@example.com c@example.com,mx:25,mx,yes,delivered,,,12,\r\n`);
  });
});

describe('the CLI writes the same bytes', () => {
  const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  let dir = '';
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('accounts export and routes export to a file: BOM + CRLF for the CSV, CRLF for Gateway.dat', async () => {
    dir = await tempDir();
    const cfg = officeConfig();
    cfg.accounts = accounts;
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(cfg));
    const gh = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gatehouse.js'), ...args, '--data', dir], { encoding: 'utf8', timeout: 30_000 });
    expect(gh('accounts', 'export', path.join(dir, 'a.csv')).status).toBe(0);
    const csv = await fs.readFile(path.join(dir, 'a.csv'));
    expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(csv.toString('utf8')).toBe(accountsToCsv(accounts));
    expect(gh('routes', 'export', path.join(dir, 'Gateway.dat')).status).toBe(0);
    const dat = await fs.readFile(path.join(dir, 'Gateway.dat'), 'utf8');
    expect(crlfOnly(dat)).toBe(true);
    // And an edited copy saved by Notepad (BOM, CRLF) goes back in.
    await fs.writeFile(path.join(dir, 'edited.csv'), BOM + 'pattern,blockExternal,allow,note\r\nsato@test.jp,yes,,受付\r\n');
    expect(gh('accounts', 'import', path.join(dir, 'edited.csv')).status).toBe(0);
    expect(JSON.parse(gh('accounts', 'list', '--json', '--search', 'sato').stdout)).toMatchObject([{ pattern: 'sato@test.jp', blockExternal: true, note: '受付' }]);
  });
});
