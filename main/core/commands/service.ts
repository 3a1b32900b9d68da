/*
 * The Windows service commands: status, install, uninstall, start, stop, and moving the
 * firewall rule to a new SMTP port. They act on the machine the command arrives at (the
 * desktop app, the CLI), never through a running gateway's admin API (the service cannot
 * install or remove itself). Every one takes dryRun: the plan (plan.ts) as text, on any OS.
 * Off Windows the real thing is ApiError 'unsupported'. Without administrator rights install,
 * uninstall and the firewall run this program's own CLI again through a UAC prompt (a
 * declined prompt is 'elevation-declined'); start and stop ask for it only when the user
 * lacks the right (control.ts). A failed step is 'service-failed' naming the step and its
 * output. install moves the desktop data in (data-move.ts, the password sealed again for the
 * machine), uninstall moves it back (sealed again for the user) unless keepData.
 * install with fromInstaller is the NSIS installer's own call, made elevated right after it
 * copied the files (often silently, `/S /service`, with nobody to answer a prompt): it never
 * hands off to UAC (not elevated, it refuses with 'elevation-required' and changes nothing),
 * and the data move is audited as the installer's.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiError, type CommandHandlers, type ServicePlanResult } from '../../shared/contract.js';
import type { GatehouseConfig } from '../../shared/types.js';
import { resealFor } from '../config/index.js';
import { moveDataFolder } from '../data-move.js';
import { serviceControl } from '../service/control.js';
import { ELEVATION_CANCELLED, runElevated, whoAmI } from '../service/elevate.js';
import type { ServiceHost } from '../service/host.js';
import { appLayout, serviceDataDir } from '../service/layout.js';
import { describeStep, firewallSteps, installPlan, refreshPlan, startPlan, stopPlan, uninstallPlan, type ServiceAdmin, type Step } from '../service/plan.js';
import { PlanError, queryService, runPlan, runWindowsCommand } from '../service/run-plan.js';
import { readServiceFile } from '../service/service-file.js';
import { wrapperXml } from '../service/wrapper-config.js';
import { processServiceHost } from '../service/host.js';
import type { CommandPorts } from './context.js';

type Names = 'service.status' | 'service.install' | 'service.uninstall' | 'service.start' | 'service.stop' | 'service.firewall';

const exists = (p: string) => fs.access(p).then(() => true, () => false);

async function smtpPortOf(...dirs: (string | null)[]): Promise<number> {
  for (const d of dirs) {
    if (!d) continue;
    try {
      const cfg = JSON.parse(await fs.readFile(path.join(d, 'config.json'), 'utf8')) as GatehouseConfig;
      if (Number.isInteger(cfg.listener?.port) && cfg.listener.port > 0) return cfg.listener.port;
    } catch {
      /* none there */
    }
  }
  return 25;
}

function planResult(steps: Step[], dryRun: boolean, extra: Partial<ServicePlanResult> = {}): ServicePlanResult {
  return { dryRun, steps: steps.map(describeStep), done: [], notes: [], ...extra };
}

function unsupported(verb: string): ApiError {
  return new ApiError(`gatehouse service ${verb} works on Windows only (--dry-run shows what it would do)`, 'unsupported');
}

export function serviceCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  const host = (): ServiceHost => p.service ?? processServiceHost('gateway');
  const runner = (h: ServiceHost) => h.run ?? runWindowsCommand;
  const onWindows = (h: ServiceHost) => h.platform === 'win32';

  /** Who administers: given, else the user running this (a placeholder SID in a dry run off Windows). */
  async function adminOf(h: ServiceHost, given?: ServiceAdmin): Promise<ServiceAdmin> {
    if (given) return given;
    if (onWindows(h)) {
      const me = await whoAmI(runner(h), h.env);
      if (me) return { name: me.name, sid: me.sid };
    }
    const user = os.userInfo().username;
    return { name: h.env.USERDOMAIN ? `${h.env.USERDOMAIN}\\${user}` : user, sid: null };
  }

  /** Runs this program's CLI again, elevated, for `verbArgs`; its output becomes `done`. */
  async function elevatedCli(h: ServiceHost, verbArgs: string[]): Promise<ServicePlanResult> {
    const log = path.join(os.tmpdir(), `gatehouse-service-${process.pid}-${Date.now()}.log`);
    const r = await (h.elevate ?? runElevated)(h.self.file, [...h.self.args, ...verbArgs], h.self.setEnv, log, h.env);
    if (r.code === ELEVATION_CANCELLED) throw new ApiError('administrator rights are needed and the prompt (UAC) was declined; nothing was changed', 'elevation-declined');
    if (r.code !== 0) throw new ApiError(`gatehouse ${verbArgs.slice(0, 2).join(' ')} (as administrator) failed with exit code ${r.code}${r.output ? `:\n${r.output}` : ''}`, 'service-failed');
    return { dryRun: false, steps: [], done: r.output ? r.output.split(/\r?\n/) : [], notes: [] };
  }

  async function carryOut(h: ServiceHost, steps: Step[], mode: 'service' | 'desktop', reason: string): Promise<{ done: string[]; notes: string[] }> {
    const notes: string[] = [];
    try {
      const done = await runPlan(steps, {
        run: runner(h),
        env: h.env,
        moveData: async (from, to) => {
          const r = await moveDataFolder(from, to, { reseal: resealFor(mode, h.platform), reason });
          notes.push(...r.notes);
          return `${r.files} files, ${r.bytes} bytes, ${r.resealed} sealed again`;
        },
      });
      return { done, notes };
    } catch (err) {
      if (err instanceof PlanError) throw new ApiError(err.message, 'service-failed');
      throw err;
    }
  }

  const elevated = async (h: ServiceHost) => (await whoAmI(runner(h), h.env))?.elevated ?? false;

  /** A gateway (serve, the service itself) never changes the service: it would pull its own plug. */
  function notFromGateway(h: ServiceHost, verb: string): void {
    if (h.answeredBy === 'gateway') throw new ApiError(`the service cannot be ${verb} through the admin API; use the desktop app's Settings or 'gatehouse service ${verb === 'installed' ? 'install' : verb === 'removed' ? 'uninstall' : 'firewall'}' as an administrator`, 'unsupported');
  }

  return {
    'service.status': async () => {
      const h = host();
      const dataDir = serviceDataDir(h.env);
      const state = onWindows(h) ? await queryService(runner(h), h.env) : 'not-installed';
      const file = state === 'not-installed' ? null : await readServiceFile(dataDir);
      return { supported: onWindows(h), state, dataDir, answeredBy: h.answeredBy, administrators: (file?.administrators ?? []).map((a) => a.name) };
    },

    'service.install': async (args) => {
      const a = args ?? { dryRun: false, noStart: false, fromInstaller: false };
      const h = host();
      const dataDir = serviceDataDir(h.env);
      const layout = appLayout(h.installDir, dataDir);
      const installed = onWindows(h) && (await queryService(runner(h), h.env)) !== 'not-installed';
      let moveFrom: string | null = a.from ?? null;
      if (!moveFrom && onWindows(h) && (await exists(path.join(h.desktopDataDir, 'config.json'))) && !(await exists(path.join(dataDir, 'config.json')))) moveFrom = h.desktopDataDir;
      const smtpPort = await smtpPortOf(moveFrom, onWindows(h) ? dataDir : null);
      const admin = await adminOf(h, a.admin);
      const steps = installed
        ? refreshPlan({ layout, dataDir, smtpPort, env: h.env, start: !a.noStart })
        : installPlan({ layout, dataDir, smtpPort, admin, moveFrom, env: h.env });
      const xml = wrapperXml({ layout, dataDir });
      if (a.dryRun) return planResult(steps, true, { wrapperXml: xml });
      if (!onWindows(h)) throw unsupported('install');
      notFromGateway(h, 'installed');
      if (!(await elevated(h))) {
        if (a.fromInstaller) {
          throw new ApiError(
            'gatehouse service install --from-installer needs administrator rights and never asks for them (the installer runs it elevated, often with nobody to answer a prompt); nothing was changed. Install Gatehouse for all users (as an administrator), or turn the service on in Settings',
            'elevation-required',
          );
        }
        const verb = ['service', 'install', '--admin-user', admin.name, ...(admin.sid ? ['--admin-sid', admin.sid] : []), ...(moveFrom ? ['--from', moveFrom] : []), ...(a.noStart ? ['--no-start'] : [])];
        await h.beforeSwitch?.();
        try {
          const r = await elevatedCli(h, verb);
          await h.afterSwitch?.(true);
          return { ...r, steps: steps.map(describeStep), wrapperXml: xml };
        } catch (err) {
          await h.afterSwitch?.(false);
          throw err;
        }
      }
      // The installer runs with the app closed: there is no desktop gateway to let go of.
      const hooks = !a.fromInstaller;
      if (hooks) await h.beforeSwitch?.();
      try {
        const r = await carryOut(h, steps, 'service', a.fromInstaller ? 'switch to service mode (by the installer)' : 'switch to service mode');
        if (hooks) await h.afterSwitch?.(true);
        return planResult(steps, false, { ...r, wrapperXml: xml });
      } catch (err) {
        if (hooks) await h.afterSwitch?.(false);
        throw err;
      }
    },

    'service.uninstall': async (args) => {
      const a = args ?? { dryRun: false, keepData: false };
      const h = host();
      const dataDir = serviceDataDir(h.env);
      const layout = appLayout(h.installDir, dataDir);
      const admin = await adminOf(h, a.admin);
      const moveTo = a.keepData ? null : (a.to ?? h.desktopDataDir);
      const steps = uninstallPlan({ layout, dataDir, moveTo, admin, env: h.env });
      if (a.dryRun) return planResult(steps, true);
      if (!onWindows(h)) throw unsupported('uninstall');
      notFromGateway(h, 'removed');
      if ((await queryService(runner(h), h.env)) === 'not-installed') throw new ApiError('the Gatehouse service is not installed', 'not-found');
      if (!(await elevated(h))) {
        const verb = ['service', 'uninstall', '--admin-user', admin.name, ...(admin.sid ? ['--admin-sid', admin.sid] : []), ...(moveTo ? ['--to', moveTo] : ['--keep-data'])];
        await h.beforeSwitch?.();
        try {
          const r = await elevatedCli(h, verb);
          await h.afterSwitch?.(true);
          return { ...r, steps: steps.map(describeStep) };
        } catch (err) {
          await h.afterSwitch?.(false);
          throw err;
        }
      }
      await h.beforeSwitch?.();
      try {
        const r = await carryOut(h, steps, 'desktop', 'back to desktop mode');
        await h.afterSwitch?.(true);
        return planResult(steps, false, r);
      } catch (err) {
        await h.afterSwitch?.(false);
        throw err;
      }
    },

    'service.start': async (args) => {
      const h = host();
      const steps = startPlan(h.env);
      if (args?.dryRun) return planResult(steps, true);
      if (!onWindows(h)) throw unsupported('start');
      await serviceControl({ platform: h.platform, run: h.run, env: h.env }).start();
      return planResult(steps, false, { done: steps.map((s) => describeStep(s).split('\n')[0]!) });
    },

    'service.stop': async (args) => {
      const h = host();
      const steps = stopPlan(h.env);
      if (args?.dryRun) return planResult(steps, true);
      if (!onWindows(h)) throw unsupported('stop');
      await serviceControl({ platform: h.platform, run: h.run, env: h.env }).stop();
      return planResult(steps, false, { done: steps.map((s) => describeStep(s).split('\n')[0]!) });
    },

    'service.firewall': async (args) => {
      const h = host();
      const layout = appLayout(h.installDir, serviceDataDir(h.env));
      const steps = firewallSteps(args.port, layout, h.env);
      if (args.dryRun) return planResult(steps, true);
      if (!onWindows(h)) throw unsupported('firewall');
      notFromGateway(h, 'changed');
      if (!(await elevated(h))) return { ...(await elevatedCli(h, ['service', 'firewall', '--port', String(args.port)])), steps: steps.map(describeStep) };
      return planResult(steps, false, await carryOut(h, steps, 'service', 'firewall'));
    },
  };
}
