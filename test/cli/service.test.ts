/*
 * `gatehouse service ...` from the command line: --dry-run prints the wrapper's XML (exactly
 * what the plan writes, and well-formed) and every command it would run, on this Linux machine
 * as on Windows; the real actions exit 2 with one line saying they are for Windows; a missing
 * or bad argument is exit 2 too; every verb is in --help.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { appLayout, installDirOf, serviceDataDir } from '../../main/core/service/layout.js';
import { wrapperXml } from '../../main/core/service/wrapper-config.js';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'gatehouse.js');
// Windows reads environment names case-insensitively: drop the machine's own spellings first.
const OURS = { ProgramData: 'C:\\ProgramData', ProgramFiles: 'C:\\Program Files', SystemRoot: 'C:\\Windows', USERDOMAIN: 'OFFICE' };
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !Object.keys(OURS).some((o) => o.toLowerCase() === k.toLowerCase()))), ...OURS };

function gh(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, env: ENV });
  // Wine sets its own SystemRoot (C:\windows) in every process it starts.
  return { code: r.status ?? -1, out: r.stdout.replace(/C:\\windows\\/g, 'C:\\Windows\\'), err: r.stderr };
}

describe('gatehouse service', () => {
  it('install --dry-run prints the wrapper XML and every command, in order, changing nothing', () => {
    const r = gh('service', 'install', '--dry-run', '--admin-user', 'OFFICE\\kanri', '--admin-sid', 'S-1-5-21-1-2-3-1001');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [xmlPart, stepsPart] = r.out.split('# gatehouse service install would run, in this order (dry run: nothing was changed):\n');
    const xml = xmlPart!.replace('# The service wrapper configuration (GatehouseService.xml):\n', '').trim();
    const expected = wrapperXml({ layout: appLayout(installDirOf('/usr/bin/node', ENV), serviceDataDir(ENV)), dataDir: serviceDataDir(ENV) });
    expect(xml).toBe(expected.trim().replace(/\r\n/g, '\n'));
    const complaints: string[] = [];
    const doc = new DOMParser({ errorHandler: { warning: (m: string) => void complaints.push(m), error: (m: string) => void complaints.push(m), fatalError: (m: string) => void complaints.push(m) } }).parseFromString(xml, 'text/xml');
    expect(complaints).toEqual([]);
    expect(doc.getElementsByTagName('executable')[0]!.textContent).toBe('C:\\Program Files\\Gatehouse\\Gatehouse.exe');
    expect([...Array.from(doc.getElementsByTagName('env') as unknown as ArrayLike<Element>)].map((e) => `${e.getAttribute('name')}=${e.getAttribute('value')}`)).toContain('ELECTRON_RUN_AS_NODE=1');
    expect(doc.getElementsByTagName('onfailure')[0]!.getAttribute('action')).toBe('restart');
    expect(doc.getElementsByTagName('user')[0]!.textContent).toBe('LocalService');
    const commands = stepsPart!.split('\n').filter((l) => /^(run|write|mkdir|move)\s/.test(l));
    expect(commands.map((l) => l.split(/\s+/).slice(0, 2).join(' ').replace(/"/g, ''))).toEqual([
      'mkdir C:\\ProgramData\\Gatehouse',
      'run C:\\Windows\\System32\\icacls.exe',
      'write C:\\ProgramData\\Gatehouse\\service.json',
      'write C:\\Program',
      'run C:\\Program',
      'run C:\\Windows\\System32\\sc.exe',
      'run C:\\Windows\\System32\\sc.exe',
      'run C:\\Windows\\System32\\sc.exe',
      'run C:\\Windows\\System32\\netsh.exe',
      'run C:\\Windows\\System32\\netsh.exe',
      'run C:\\Windows\\System32\\sc.exe',
    ]);
    expect(stepsPart).toContain('sc.exe sdset Gatehouse D:(A;;CCLCSWRPWPDTLOCRRC;;;SY)');
    expect(stepsPart).toContain('(A;;CCLCSWRPWPDTLOCRRC;;;S-1-5-21-1-2-3-1001)');
    expect(stepsPart).toContain('netsh.exe advfirewall firewall add rule name="Gatehouse SMTP" dir=in action=allow protocol=TCP localport=25 profile=domain,private');
    expect(stepsPart).toContain('# OFFICE\\kanri administers the service');
  });

  it('uninstall, start, stop and firewall --dry-run print their steps', () => {
    const u = gh('service', 'uninstall', '--dry-run', '--to', 'C:\\Users\\kanri\\AppData\\Roaming\\Gatehouse', '--admin-user', 'OFFICE\\kanri', '--admin-sid', 'S-1-5-21-1-2-3-1001');
    expect(u.code).toBe(0);
    expect(u.out).toContain('sc.exe stop Gatehouse');
    expect(u.out).toContain('GatehouseService.exe" uninstall');
    expect(u.out).toContain('netsh.exe advfirewall firewall delete rule name="Gatehouse SMTP"');
    expect(u.out).toContain('move   C:\\ProgramData\\Gatehouse -> C:\\Users\\kanri\\AppData\\Roaming\\Gatehouse');
    expect(gh('service', 'uninstall', '--dry-run', '--keep-data').out).not.toMatch(/^move /m);
    expect(gh('service', 'start', '--dry-run').out).toContain('run    C:\\Windows\\System32\\sc.exe start Gatehouse');
    expect(gh('service', 'stop', '--dry-run').out).toContain('wait   until Gatehouse has stopped');
    expect(gh('service', 'firewall', '--port', '2525', '--dry-run').out).toContain('localport=2525 profile=domain,private');
  });

  it.skipIf(process.platform === 'win32')('the real actions are Windows-only: one line, exit 2, nothing done', () => {
    for (const verb of ['install', 'uninstall', 'start', 'stop']) {
      const r = gh('service', verb);
      expect(r.code, verb).toBe(2);
      expect(r.err, verb).toBe(`gatehouse: gatehouse service ${verb} works on Windows only (--dry-run shows what it would do)\n`);
      expect(r.out).toBe('');
    }
    const s = gh('service', 'status');
    expect(s.code).toBe(0);
    expect(s.out).toContain('Gatehouse service: Windows only (not available on this OS)');
  });

  it('bad input is exit 2 with the reason; every verb has help', () => {
    expect(gh('service').code).toBe(2);
    expect(gh('service', 'reinstall').err).toContain('usage: gatehouse service <install|uninstall|start|stop|status|firewall>');
    const fw = gh('service', 'firewall', '--port', 'x', '--dry-run');
    expect(fw.code).toBe(2);
    expect(fw.err).toContain('port');
    const help = gh('service', '--help');
    expect(help.code).toBe(0);
    for (const w of ['install', 'uninstall', 'start, stop', 'status', 'firewall', '--dry-run', '--keep-data', '--no-start']) expect(help.out).toContain(w);
    expect(gh('serve', '--help').out).toContain('--service');
  });
});
