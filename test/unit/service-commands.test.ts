/*
 * The service commands (main/core/commands/service.ts) through the dispatcher, on a Windows
 * described to them (platform, sc.exe and whoami answers, the elevation recorded): without
 * administrator rights install hands the whole command, with who administers it and the data
 * folder to move, to this program's CLI run through UAC, after letting go of the desktop's
 * gateway and before the app relaunches; a declined prompt is 'elevation-declined' and the
 * app comes back in its old mode; an installed service gets the upgrade plan (XML, firewall,
 * start) instead of a new registration; a gateway never changes the service. The plans' own
 * content is checked in service-plan.test.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigStore } from '../../main/core/config/index.js';
import { tempDir } from '../helpers/gateway.js';
import { createDispatcher } from '../../main/core/commands/dispatch.js';
import { serviceCommands } from '../../main/core/commands/service.js';
import type { CommandPorts } from '../../main/core/commands/context.js';
import type { ServiceHost } from '../../main/core/service/host.js';
import type { CommandHandlers } from '../../main/shared/contract.js';

const SC_RUNNING = 'SERVICE_NAME: Gatehouse\r\n        STATE              : 4  RUNNING\r\n';

function windowsHost(opts: { installed?: boolean; elevated?: boolean; elevateCode?: number; answeredBy?: ServiceHost['answeredBy']; over?: Partial<ServiceHost> } = {}) {
  const events: string[] = [];
  const elevated: { file: string; args: readonly string[]; setEnv: Record<string, string> }[] = [];
  const host: ServiceHost = {
    answeredBy: opts.answeredBy ?? 'desktop',
    platform: 'win32',
    env: { SystemRoot: 'C:\\Windows', ProgramData: 'C:\\ProgramData', ProgramFiles: 'C:\\Program Files' },
    self: { file: 'C:\\Program Files\\Gatehouse\\Gatehouse.exe', args: ['C:\\Program Files\\Gatehouse\\resources\\app.asar\\dist\\main\\cli\\run.js'], setEnv: { ELECTRON_RUN_AS_NODE: '1' } },
    installDir: 'C:\\Program Files\\Gatehouse',
    desktopDataDir: 'C:\\Users\\kanri\\AppData\\Roaming\\Gatehouse',
    run: async (file, args) => {
      events.push(`run ${file.split('\\').pop()} ${args.join(' ')}`);
      if (file.endsWith('whoami.exe')) return { code: 0, output: args[0] === '/user' ? '"office\\kanri","S-1-5-21-1-2-3-1001"' : `"Mandatory Label\\X","Label","S-1-16-${opts.elevated ? 12288 : 8192}",""` };
      if (file.endsWith('sc.exe') && args[0] === 'query') return opts.installed ? { code: 0, output: SC_RUNNING } : { code: 1060, output: '' };
      return { code: 0, output: '' };
    },
    elevate: async (file, args, setEnv) => {
      events.push('elevate');
      elevated.push({ file, args, setEnv });
      return { code: opts.elevateCode ?? 0, output: 'registered\r\nstarted' };
    },
    beforeSwitch: async () => void events.push('beforeSwitch'),
    afterSwitch: async (ok) => void events.push(`afterSwitch ${ok}`),
    ...opts.over,
  };
  const dispatch = createDispatcher(serviceCommands({ service: host } as unknown as CommandPorts) as unknown as CommandHandlers);
  return { dispatch, events, elevated };
}

describe('service commands on Windows', () => {
  it('install without administrator rights: the CLI again through UAC, between letting go and relaunching', async () => {
    const { dispatch, events, elevated } = windowsHost();
    const r = await dispatch('service.install', {}, { via: 'ui' });
    expect(r).toMatchObject({ ok: true, value: { dryRun: false, done: ['registered', 'started'] } });
    expect(events.filter((e) => !e.startsWith('run'))).toEqual(['beforeSwitch', 'elevate', 'afterSwitch true']);
    expect(elevated).toEqual([
      {
        file: 'C:\\Program Files\\Gatehouse\\Gatehouse.exe',
        args: ['C:\\Program Files\\Gatehouse\\resources\\app.asar\\dist\\main\\cli\\run.js', 'service', 'install', '--admin-user', 'office\\kanri', '--admin-sid', 'S-1-5-21-1-2-3-1001'],
        setEnv: { ELECTRON_RUN_AS_NODE: '1' },
      },
    ]);
  });

  it('a declined UAC prompt changes nothing and brings the app back in its old mode', async () => {
    const { dispatch, events } = windowsHost({ elevateCode: 1223 });
    const r = await dispatch('service.install', {}, { via: 'ui' });
    expect(r).toMatchObject({ ok: false, error: { code: 'elevation-declined' } });
    expect(events.filter((e) => !e.startsWith('run'))).toEqual(['beforeSwitch', 'elevate', 'afterSwitch false']);
  });

  it('on an installed service install is the upgrade plan; uninstall moves the data back unless kept', async () => {
    const { dispatch } = windowsHost({ installed: true });
    const r = await dispatch('service.install', { dryRun: true }, { via: 'cli' });
    expect(r.ok).toBe(true);
    const steps = (r as { value: { steps: string[] } }).value.steps.map((s) => s.split('\n')[0]);
    expect(steps).toEqual([
      'write  C:\\Program Files\\Gatehouse\\resources\\service\\GatehouseService.xml',
      'run    C:\\Windows\\System32\\netsh.exe advfirewall firewall delete rule name="Gatehouse SMTP"',
      expect.stringContaining('netsh.exe advfirewall firewall add rule name="Gatehouse SMTP" dir=in action=allow protocol=TCP localport=25 profile=domain,private'),
      'run    C:\\Windows\\System32\\sc.exe start Gatehouse',
    ]);
    const st = await dispatch('service.status', undefined, { via: 'ui' });
    expect(st).toMatchObject({ ok: true, value: { supported: true, state: 'running', answeredBy: 'desktop' } });
  });

  it('install --from-installer without administrator rights: refused, no UAC prompt, nothing changed', async () => {
    const { dispatch, events, elevated } = windowsHost();
    const r = await dispatch('service.install', { fromInstaller: true }, { via: 'cli' });
    expect(r).toMatchObject({ ok: false, error: { code: 'elevation-required', message: expect.stringContaining('never asks for them') } });
    expect(elevated).toEqual([]);
    // Only the questions (whoami, sc query): no step of the plan ran.
    expect(events.every((e) => /^run (whoami\.exe|sc\.exe query)/.test(e)), events.join('\n')).toBe(true);
    // The same install from Settings or a shell does hand off to UAC.
    expect((await windowsHost().dispatch('service.install', {}, { via: 'cli' })).ok).toBe(true);
  });

  // Real folders with Windows paths: the lane (npm run test:windows) runs it as win32.
  it.runIf(process.platform === 'win32')('install --from-installer, elevated: the plan runs here (no UAC, no desktop hooks) and the move is audited as the installer\'s', async () => {
    const root = await tempDir('gatehouse-installer-');
    try {
      const desktop = path.join(root, 'AppData', 'Roaming', 'Gatehouse');
      const store = await ConfigStore.open(desktop);
      await store.close();
      const { dispatch, events, elevated } = windowsHost({
        elevated: true,
        over: { env: { SystemRoot: 'C:\\Windows', ProgramData: path.join(root, 'ProgramData') }, installDir: path.join(root, 'Program Files', 'Gatehouse'), desktopDataDir: desktop },
      });
      const r = await dispatch('service.install', { fromInstaller: true }, { via: 'cli' });
      expect(r).toMatchObject({ ok: true, value: { dryRun: false } });
      expect(elevated).toEqual([]);
      expect(events).not.toContain('beforeSwitch');
      const ran = events.filter((e) => e.startsWith('run') && !/whoami|sc\.exe query/.test(e));
      expect(ran.map((e) => e.split(' ').slice(0, 2).join(' '))).toEqual([
        'run icacls.exe',
        'run GatehouseService.exe',
        'run sc.exe',
        'run sc.exe',
        'run sc.exe',
        'run netsh.exe',
        'run netsh.exe',
        'run sc.exe',
      ]);
      const serviceData = path.join(root, 'ProgramData', 'Gatehouse');
      const trail = (await fs.readFile(path.join(serviceData, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { what: string });
      expect(trail.at(-1)!.what).toMatch(/^switch to service mode \(by the installer\): /);
      await expect(fs.access(path.join(desktop, 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });

  it('a gateway (serve, the service itself) refuses to change the service', async () => {
    const { dispatch, events } = windowsHost({ answeredBy: 'gateway' });
    const r = await dispatch('service.install', {}, { via: 'api' });
    expect(r).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    expect(events).not.toContain('elevate');
    expect(events).not.toContain('beforeSwitch');
  });
});
