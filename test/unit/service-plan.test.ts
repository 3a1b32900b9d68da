/*
 * The Windows service as data (main/core/service): the wrapper's XML read back with a real XML
 * parser and checked element by element (the app's own Gatehouse.exe as Node through
 * ELECTRON_RUN_AS_NODE, serve --service on %ProgramData%\Gatehouse, restart on failure, a
 * LocalService account and never LocalSystem, log rotation, a stop timeout above the delivery
 * runner's own), and the install / uninstall / start / stop plans step by step: the folder ACL
 * before the data moves in, the firewall rule for the SMTP port on domain and private profiles
 * only, the service SID, the administering user's rights. Also the Windows quoting and the
 * service SID computation against a SID Windows itself prints.
 */
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { appLayout, installDirOf, serviceDataDir, SERVICE_NAME } from '../../main/core/service/layout.js';
import { wrapperXml, serviceArguments, STOP_TIMEOUT_S } from '../../main/core/service/wrapper-config.js';
import { describeStep, installPlan, servicePrincipals, serviceSddl, startPlan, stopPlan, uninstallPlan, type Step } from '../../main/core/service/plan.js';
import { commandLine, serviceSid, winQuote } from '../../main/core/service/windows-commands.js';
import { GATEWAY_NODE_FLAGS } from '../../main/core/node-flags.js';

const ENV = { ProgramData: 'C:\\ProgramData', ProgramFiles: 'C:\\Program Files', SystemRoot: 'C:\\Windows' };
const DATA = serviceDataDir(ENV);
const LAYOUT = appLayout(installDirOf('/usr/bin/node', ENV), DATA);
const ADMIN = { name: 'OFFICE\\kanri', sid: 'S-1-5-21-1111111111-2222222222-3333333333-1001' };

function parse(xml: string) {
  const errors: string[] = [];
  const fail = (msg: string) => void errors.push(msg);
  // xmldom reports a mismatched tag only as a warning: any complaint at all fails the test.
  const doc = new DOMParser({ errorHandler: { warning: fail, error: fail, fatalError: fail } }).parseFromString(xml, 'text/xml');
  expect(errors).toEqual([]);
  const root = doc.documentElement!;
  const kids = (name: string) => Array.from(root.childNodes as unknown as ArrayLike<Element>).filter((n) => n.nodeType === 1 && n.nodeName === name);
  const text = (name: string) => {
    const all = kids(name);
    expect(all, `<${name}> once`).toHaveLength(1);
    return all[0]!.textContent;
  };
  return { doc, root, kids, text };
}

describe('the service wrapper configuration (WinSW XML)', () => {
  const xml = wrapperXml({ layout: LAYOUT, dataDir: DATA });
  const { doc, root, kids, text } = parse(xml);

  it('begins with <service> itself (WinSW 1.x reads stoptimeout under the first node)', () => {
    expect(xml.startsWith('<service>')).toBe(true);
    expect(doc.firstChild!.nodeName).toBe('service');
    expect(root.nodeName).toBe('service');
  });

  it('runs the app executable as Node with ELECTRON_RUN_AS_NODE, serve --service on the service folder', () => {
    expect(text('id')).toBe('Gatehouse');
    expect(text('executable')).toBe('C:\\Program Files\\Gatehouse\\Gatehouse.exe');
    expect(kids('argument').map((a) => a.textContent)).toEqual([
      ...GATEWAY_NODE_FLAGS,
      'C:\\Program Files\\Gatehouse\\resources\\app.asar\\dist\\main\\cli\\run.js',
      'serve',
      '--service',
      '--data',
      'C:\\ProgramData\\Gatehouse',
    ]);
    expect(kids('arguments')).toHaveLength(0);
    const env = Object.fromEntries(kids('env').map((e) => [e.getAttribute('name'), e.getAttribute('value')]));
    expect(env).toEqual({ ELECTRON_RUN_AS_NODE: '1', GATEHOUSE_DATA: 'C:\\ProgramData\\Gatehouse' });
    expect(text('workingdirectory')).toBe(DATA);
    expect(text('startmode')).toBe('Automatic');
  });

  it('restarts on failure, every time, and resets the count after an hour', () => {
    const actions = kids('onfailure').map((e) => [e.getAttribute('action'), e.getAttribute('delay')]);
    expect(actions).toEqual([
      ['restart', '10 sec'],
      ['restart', '30 sec'],
      ['restart', '60 sec'],
    ]);
    expect(text('resetfailure')).toBe('1 hour');
  });

  it('gives the gateway longer to stop than the delivery runner needs (10 s), and signals the main process first', () => {
    expect(text('stoptimeout')).toBe(`${STOP_TIMEOUT_S} sec`);
    expect(STOP_TIMEOUT_S).toBeGreaterThan(10);
    expect(text('stopparentprocessfirst')).toBe('true');
  });

  it('rotates its logs in the data folder', () => {
    expect(text('logpath')).toBe('C:\\ProgramData\\Gatehouse\\service-logs');
    const log = kids('log')[0]!;
    expect(log.getAttribute('mode')).toBe('roll-by-size');
    expect(log.getElementsByTagName('sizeThreshold')[0]!.textContent).toBe('10240');
    expect(log.getElementsByTagName('keepFiles')[0]!.textContent).toBe('8');
  });

  it('runs as LocalService, not LocalSystem', () => {
    const acct = kids('serviceaccount');
    expect(acct).toHaveLength(1);
    const domain = acct[0]!.getElementsByTagName('domain')[0]!.textContent;
    const user = acct[0]!.getElementsByTagName('user')[0]!.textContent;
    expect(`${domain}\\${user}`).toBe('NT AUTHORITY\\LocalService');
    expect(xml).not.toMatch(/LocalSystem/i);
    expect(acct[0]!.getElementsByTagName('password')).toHaveLength(0);
  });

  it('the parser used here does refuse broken XML (so the checks above mean something)', () => {
    for (const broken of ['<service><id>x</service>', '<service><id>x</id>']) {
      const errors: string[] = [];
      const fail = (m: string) => void errors.push(m);
      new DOMParser({ errorHandler: { warning: fail, error: fail, fatalError: fail } }).parseFromString(broken, 'text/xml');
      expect(errors.length, broken).toBeGreaterThan(0);
    }
  });

  it('escapes what XML needs escaped', () => {
    const odd = appLayout('D:\\Apps & Tools\\<Gatehouse>', 'D:\\Data "x"');
    const p = parse(wrapperXml({ layout: odd, dataDir: 'D:\\Data "x"' }));
    expect(p.text('executable')).toBe('D:\\Apps & Tools\\<Gatehouse>\\Gatehouse.exe');
    expect(p.kids('env').find((e) => e.getAttribute('name') === 'GATEHOUSE_DATA')!.getAttribute('value')).toBe('D:\\Data "x"');
  });

  it('serviceArguments are the XML arguments (the remote-mode test starts serve with them)', () => {
    expect(kids('argument').map((a) => a.textContent)).toEqual(serviceArguments({ layout: LAYOUT, dataDir: DATA }));
  });
});

describe('install / uninstall / start / stop plans', () => {
  const runs = (steps: Step[]) => steps.filter((s): s is Extract<Step, { kind: 'run' }> => s.kind === 'run');
  const sid = serviceSid(SERVICE_NAME);

  it('install: ACL before the data moves in, then XML, wrapper, SID, rights, firewall, start', () => {
    const steps = installPlan({ layout: LAYOUT, dataDir: DATA, smtpPort: 25, admin: ADMIN, moveFrom: 'C:\\Users\\kanri\\AppData\\Roaming\\Gatehouse', now: new Date('2025-01-01T00:00:00Z'), env: ENV });
    expect(steps.map((s) => (s.kind === 'run' ? `${s.file.split('\\').pop()} ${s.args[0]}` : s.kind))).toEqual([
      'mkdir',
      'icacls.exe C:\\ProgramData\\Gatehouse',
      'move-data',
      'write',
      'write',
      'GatehouseService.exe install',
      'sc.exe sidtype',
      'sc.exe sdset',
      'sc.exe failureflag',
      'netsh.exe advfirewall',
      'netsh.exe advfirewall',
      'sc.exe start',
    ]);
    const [acl] = runs(steps);
    expect(acl!.file).toBe('C:\\Windows\\System32\\icacls.exe');
    expect(acl!.args).toEqual([DATA, '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F', `*${sid}:(OI)(CI)F`]);
    const move = steps.find((s) => s.kind === 'move-data')!;
    expect(move).toMatchObject({ from: 'C:\\Users\\kanri\\AppData\\Roaming\\Gatehouse', to: DATA });
    const [svcFile, xml] = steps.filter((s) => s.kind === 'write') as Extract<Step, { kind: 'write' }>[];
    expect(svcFile!.path).toBe('C:\\ProgramData\\Gatehouse\\service.json');
    expect(JSON.parse(svcFile!.content)).toEqual({ version: 1, service: 'Gatehouse', installedAt: '2025-01-01T00:00:00.000Z', administrators: [ADMIN] });
    expect(xml!.path).toBe('C:\\Program Files\\Gatehouse\\resources\\service\\GatehouseService.xml');
    expect(xml!.content).toBe(wrapperXml({ layout: LAYOUT, dataDir: DATA }));
    const byFirst = (a: string) => runs(steps).find((s) => s.args[0] === a)!;
    expect(byFirst('sidtype').args).toEqual(['sidtype', 'Gatehouse', 'unrestricted']);
    expect(byFirst('sdset').args[2]).toContain(`(A;;CCLCSWRPWPDTLOCRRC;;;${ADMIN.sid})`);
    expect(byFirst('sdset').args[2]).toBe(serviceSddl(ADMIN));
    expect(byFirst('failureflag').args).toEqual(['failureflag', 'Gatehouse', '1']);
  });

  it('install: the firewall rule is inbound TCP on the SMTP port, domain and private profiles only', () => {
    const steps = installPlan({ layout: LAYOUT, dataDir: DATA, smtpPort: 2525, admin: ADMIN, moveFrom: null, env: ENV });
    expect(steps.some((s) => s.kind === 'move-data')).toBe(false);
    const fw = runs(steps).filter((s) => s.file.endsWith('netsh.exe'));
    expect(fw[0]!.args).toEqual(['advfirewall', 'firewall', 'delete', 'rule', 'name=Gatehouse SMTP']);
    expect(fw[0]!.okExitCodes).toEqual([0, 1]);
    const add = Object.fromEntries(fw[1]!.args.slice(4).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    expect(fw[1]!.args.slice(0, 4)).toEqual(['advfirewall', 'firewall', 'add', 'rule']);
    expect(add).toMatchObject({ name: 'Gatehouse SMTP', dir: 'in', action: 'allow', protocol: 'TCP', localport: '2525', profile: 'domain,private', program: LAYOUT.exe });
    expect(add.profile).not.toMatch(/public|any/);
    // What Windows gets: the value quoted, the key not.
    expect(commandLine(fw[1]!.file, fw[1]!.args)).toContain(' name="Gatehouse SMTP" dir=in action=allow protocol=TCP localport=2525 profile=domain,private program="C:\\Program Files\\Gatehouse\\Gatehouse.exe" ');
  });

  it('uninstall: stop and wait, unregister, rule removed, data back to the desktop folder for its user', () => {
    const steps = uninstallPlan({ layout: LAYOUT, dataDir: DATA, moveTo: 'C:\\Users\\kanri\\AppData\\Roaming\\Gatehouse', admin: ADMIN, env: ENV });
    expect(steps.map((s) => (s.kind === 'run' ? `${s.file.split('\\').pop()} ${s.args.slice(0, 3).join(' ')}` : s.kind))).toEqual([
      'sc.exe stop Gatehouse',
      'wait-stopped',
      'GatehouseService.exe uninstall',
      'netsh.exe advfirewall firewall delete',
      'move-data',
      'icacls.exe C:\\Users\\kanri\\AppData\\Roaming\\Gatehouse /inheritance:r /grant:r',
      'remove',
    ]);
    expect(runs(steps).at(-1)!.args.slice(3)).toEqual([`*${ADMIN.sid}:(OI)(CI)F`, '*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F']);
    const kept = uninstallPlan({ layout: LAYOUT, dataDir: DATA, moveTo: null, admin: ADMIN, env: ENV });
    expect(kept.some((s) => s.kind === 'move-data')).toBe(false);
  });

  it('start and stop use sc.exe; "already running" and "not started" are not errors', () => {
    expect(startPlan(ENV)).toEqual([expect.objectContaining({ file: 'C:\\Windows\\System32\\sc.exe', args: ['start', 'Gatehouse'], okExitCodes: [0, 1056] })]);
    const stop = stopPlan(ENV);
    expect(stop[0]).toMatchObject({ args: ['stop', 'Gatehouse'], okExitCodes: [0, 1060, 1062] });
    expect(stop[1]).toMatchObject({ kind: 'wait-stopped', service: 'Gatehouse' });
  });

  it('every step prints as one command line with its reason', () => {
    const steps = installPlan({ layout: LAYOUT, dataDir: DATA, smtpPort: 25, admin: { name: 'OFFICE\\kanri', sid: null }, moveFrom: null, env: ENV });
    const text = steps.map(describeStep).join('\n');
    expect(text).toContain('run    C:\\Windows\\System32\\sc.exe sidtype Gatehouse unrestricted\n       # ');
    expect(text).toContain('(A;;CCLCSWRPWPDTLOCRRC;;;<SID of OFFICE\\kanri>)');
    expect(text).toContain('run    "C:\\Program Files\\Gatehouse\\resources\\service\\GatehouseService.exe" install');
  });
});

describe('Windows helpers', () => {
  it('computes service SIDs as Windows does', () => {
    // `sc.exe showsid TrustedInstaller` on any Windows prints this SID.
    expect(serviceSid('TrustedInstaller')).toBe('S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464');
    expect(serviceSid('gatehouse')).toBe(serviceSid('Gatehouse'));
    expect(servicePrincipals()).toEqual(['*S-1-5-18', '*S-1-5-32-544', `*${serviceSid('Gatehouse')}`]);
  });

  it('quotes arguments the way the C runtime reads them', () => {
    expect(winQuote('plain')).toBe('plain');
    expect(winQuote('')).toBe('""');
    expect(winQuote('C:\\Program Files\\x')).toBe('"C:\\Program Files\\x"');
    expect(winQuote('C:\\dir with space\\')).toBe('"C:\\dir with space\\\\"');
    expect(winQuote('say "hi"')).toBe('"say \\"hi\\""');
    expect(winQuote('name=Gatehouse SMTP')).toBe('name="Gatehouse SMTP"');
  });

  it('knows an installed Gatehouse.exe from a Node run from a checkout', () => {
    expect(installDirOf('D:\\Apps\\Gatehouse\\Gatehouse.exe', ENV)).toBe('D:\\Apps\\Gatehouse');
    expect(installDirOf('/usr/bin/node', ENV)).toBe('C:\\Program Files\\Gatehouse');
  });
});

describe('carrying out a plan (run-plan.ts) and elevation (elevate.ts)', async () => {
  const { runPlan, parseScQuery, PlanError } = await import('../../main/core/service/run-plan.js');
  const { elevatedCommand, parseWhoamiElevated, parseWhoamiUser, ELEVATION_CANCELLED } = await import('../../main/core/service/elevate.js');
  const SC_RUNNING = 'SERVICE_NAME: Gatehouse\r\n        TYPE               : 10  WIN32_OWN_PROCESS\r\n        STATE              : 4  RUNNING\r\n';
  const SC_STOPPED = SC_RUNNING.replace('4  RUNNING', '1  STOPPED');

  it('reads sc.exe query by its numbers (the words are translated)', () => {
    expect(parseScQuery({ code: 0, output: SC_RUNNING })).toBe('running');
    expect(parseScQuery({ code: 0, output: SC_STOPPED.replace('STOPPED', '停止') })).toBe('stopped');
    expect(parseScQuery({ code: 0, output: SC_RUNNING.replace('4  RUNNING', '3  STOP_PENDING') })).toBe('stop-pending');
    expect(parseScQuery({ code: 1060, output: '[SC] EnumQueryServicesStatus:OpenService FAILED 1060:' })).toBe('not-installed');
  });

  it('runs the steps in order, waits for the stop, and stops at the first failure naming it', async () => {
    const seen: string[] = [];
    let queries = 0;
    const run = async (file: string, args: readonly string[]) => {
      seen.push(commandLine(file, args));
      if (args[0] === 'query') return { code: 0, output: ++queries < 3 ? SC_RUNNING.replace('4  RUNNING', '3  STOP_PENDING') : SC_STOPPED };
      if (args[0] === 'stop') return { code: 1062, output: 'not started' };
      if (args[0] === 'uninstall') return { code: 5, output: 'Access is denied.' };
      return { code: 0, output: '' };
    };
    const steps = uninstallPlan({ layout: LAYOUT, dataDir: DATA, moveTo: null, admin: ADMIN, env: ENV });
    const err = await runPlan(steps, { run, moveData: async () => '', sleep: async () => undefined, env: ENV }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect((err as Error).message).toContain('GatehouseService.exe" uninstall\nfailed with exit code 5:\nAccess is denied.');
    const sc = 'C:\\Windows\\System32\\sc.exe';
    expect(seen).toEqual([`${sc} stop Gatehouse`, `${sc} query Gatehouse`, `${sc} query Gatehouse`, `${sc} query Gatehouse`, '"C:\\Program Files\\Gatehouse\\resources\\service\\GatehouseService.exe" uninstall']);
  });

  it('knows the user, the SID and whether it runs elevated', () => {
    expect(parseWhoamiUser('"office\\kanri","S-1-5-21-1-2-3-1001"\r\n')).toEqual({ name: 'office\\kanri', sid: 'S-1-5-21-1-2-3-1001' });
    expect(parseWhoamiElevated('"Mandatory Label\\High Mandatory Level","Label","S-1-16-12288",""')).toBe(true);
    expect(parseWhoamiElevated('"Mandatory Label\\Medium Mandatory Level","Label","S-1-16-8192",""')).toBe(false);
  });

  it('elevates through UAC with the environment set inside and the output in a log file', () => {
    const cmd = elevatedCommand(LAYOUT.exe, [LAYOUT.cliScript, 'service', 'install'], { ELECTRON_RUN_AS_NODE: '1' }, 'C:\\Users\\kanri\\AppData\\Local\\Temp\\gh-1.log', ENV);
    expect(cmd.file).toBe('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    const script = Buffer.from(cmd.args.at(-1)!, 'base64').toString('utf16le');
    expect(script).toContain("Start-Process -FilePath 'C:\\Windows\\System32\\cmd.exe' -ArgumentList '/d /s /c \"set ELECTRON_RUN_AS_NODE=1&& \"C:\\Program Files\\Gatehouse\\Gatehouse.exe\" \"C:\\Program Files\\Gatehouse\\resources\\app.asar\\dist\\main\\cli\\run.js\" service install > \"C:\\Users\\kanri\\AppData\\Local\\Temp\\gh-1.log\" 2>&1\"' -Verb RunAs -Wait -PassThru");
    expect(script).toContain('exit $p.ExitCode');
    expect(script).toContain(`exit ${ELEVATION_CANCELLED}`);
  });
});
