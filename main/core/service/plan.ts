/*
 * What `gatehouse service install|uninstall|start|stop|status` do, as a list of steps: plain
 * data that `--dry-run` prints and run-plan.ts carries out on Windows, so the test here checks
 * the very steps Windows gets. Each step is a command line (sc.exe, the wrapper, netsh, icacls),
 * a file to write or remove, the data folder move, or a wait for the service to stop; each
 * says why in one line. Building a plan cannot fail.
 *
 * install: the service folder (%ProgramData%\Gatehouse) made and limited to SYSTEM,
 *   Administrators and the service's own SID (before anything is moved into it); the desktop
 *   folder's config, queue and logs moved in (when there is one); service.json (who
 *   administers it); the wrapper's XML; the wrapper's `install` (LocalService, Automatic,
 *   restart on failure); the service SID switched on; the service's access list extended so
 *   the administering user may start and stop it without a UAC prompt; failure actions also
 *   for a non-zero exit; the inbound firewall rule for the SMTP port (domain and private
 *   profiles only); the start.
 * uninstall: stop and wait, the wrapper's `uninstall`, the firewall rule removed, the data
 *   moved back to the desktop folder (unless kept) and limited to its user again, the XML
 *   removed.
 *
 * Who administers: the Windows user who installs the service (and every Administrator, who
 * can always act elevated). Under UAC an administrator's tray runs without the Administrators
 * group, so a service only Administrators could reach would need a UAC prompt every time the
 * tray starts at logon; the installing user is named instead, on the service (start/stop) and
 * on the admin API's admin.json (read), and nobody else is. See README "Run it as a service".
 */
import path from 'node:path';
import { WINDOWS_ADMINISTRATORS, WINDOWS_SYSTEM, windowsAclArgs } from '../data-folder-access.js';
import { FIREWALL_RULE, SERVICE_FILE, SERVICE_NAME, type AppLayout } from './layout.js';
import { commandLine, serviceSid, systemTool } from './windows-commands.js';
import { wrapperXml } from './wrapper-config.js';

export type Step =
  | { kind: 'run'; file: string; args: string[]; why: string; okExitCodes?: number[] }
  | { kind: 'write'; path: string; content: string; why: string }
  | { kind: 'mkdir'; path: string; why: string }
  | { kind: 'remove'; path: string; why: string }
  | { kind: 'move-data'; from: string; to: string; why: string }
  | { kind: 'wait-stopped'; service: string; timeoutS: number; why: string };

/** The Windows user who administers the service. `sid` is null only in a dry run off Windows. */
export interface ServiceAdmin {
  name: string;
  sid: string | null;
}

/** service.json in the service's data folder. */
export interface ServiceFile {
  version: 1;
  service: string;
  installedAt: string;
  /** May read admin.json (the admin API's URL and token) and start/stop the service. */
  administrators: ServiceAdmin[];
}

export interface InstallInput {
  layout: AppLayout;
  dataDir: string;
  /** The SMTP port the firewall rule opens. */
  smtpPort: number;
  admin: ServiceAdmin;
  /** The desktop data folder to move in, or null when there is nothing to move. */
  moveFrom: string | null;
  now?: Date;
  env?: NodeJS.ProcessEnv;
}

export interface UninstallInput {
  layout: AppLayout;
  dataDir: string;
  /** Where the data goes back to (the desktop folder), or null to leave it where it is. */
  moveTo: string | null;
  admin: ServiceAdmin;
  env?: NodeJS.ProcessEnv;
}

/** The access rights the administering user gets on the service: query, start, stop, interrogate. */
export const ADMIN_SERVICE_RIGHTS = 'CCLCSWRPWPDTLOCRRC';
/** How long `stop` waits for the service to stop (the wrapper's own limit is 30 s). */
export const STOP_WAIT_S = 45;

const sidOrPlaceholder = (a: ServiceAdmin): string => a.sid ?? `<SID of ${a.name}>`;

/**
 * The service's access list: Windows' default for a new service (SYSTEM, Administrators,
 * interactive and service users may query) plus the administering user.
 */
export function serviceSddl(admin: ServiceAdmin): string {
  return (
    'D:(A;;CCLCSWRPWPDTLOCRRC;;;SY)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)(A;;CCLCSWLOCRRC;;;IU)(A;;CCLCSWLOCRRC;;;SU)' +
    `(A;;${ADMIN_SERVICE_RIGHTS};;;${sidOrPlaceholder(admin)})` +
    'S:(AU;FA;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;WD)'
  );
}

/** Who may open the service's data folder: SYSTEM, Administrators, the service itself (by SID). */
export function servicePrincipals(): string[] {
  return [WINDOWS_SYSTEM, WINDOWS_ADMINISTRATORS, `*${serviceSid(SERVICE_NAME)}`];
}

/** netsh arguments that add the inbound rule for `port`, domain and private networks only. */
export function firewallAddArgs(port: number, program: string): string[] {
  return [
    'advfirewall', 'firewall', 'add', 'rule',
    `name=${FIREWALL_RULE}`,
    'dir=in',
    'action=allow',
    'protocol=TCP',
    `localport=${port}`,
    'profile=domain,private',
    `program=${program}`,
    'description=Gatehouse SMTP gateway: mail from the office network',
  ];
}

export function firewallDeleteArgs(): string[] {
  return ['advfirewall', 'firewall', 'delete', 'rule', `name=${FIREWALL_RULE}`];
}

/** The firewall steps for a (new) SMTP port: the old rule out, the new one in. */
export function firewallSteps(port: number, layout: AppLayout, env?: NodeJS.ProcessEnv): Step[] {
  const netsh = systemTool('netsh.exe', env);
  return [
    { kind: 'run', file: netsh, args: firewallDeleteArgs(), why: 'remove an earlier Gatehouse rule (none is fine)', okExitCodes: [0, 1] },
    { kind: 'run', file: netsh, args: firewallAddArgs(port, layout.exe), why: `let the office network reach SMTP port ${port} (domain and private networks only)` },
  ];
}

export function serviceFile(admin: ServiceAdmin, now: Date): ServiceFile {
  return { version: 1, service: SERVICE_NAME, installedAt: now.toISOString(), administrators: [admin] };
}

export function installPlan(input: InstallInput): Step[] {
  const { layout, dataDir, env } = input;
  const sc = systemTool('sc.exe', env);
  const icacls = systemTool('icacls.exe', env);
  const steps: Step[] = [
    { kind: 'mkdir', path: dataDir, why: 'make the service data folder (kept when it exists)' },
    { kind: 'run', file: icacls, args: windowsAclArgs(dataDir, servicePrincipals()), why: 'only SYSTEM, Administrators and the Gatehouse service may open the data folder' },
  ];
  if (input.moveFrom) {
    steps.push({ kind: 'move-data', from: input.moveFrom, to: dataDir, why: 'move the settings, queue and logs of the desktop app (recorded in the audit trail)' });
  }
  steps.push(
    { kind: 'write', path: path.win32.join(dataDir, SERVICE_FILE), content: JSON.stringify(serviceFile(input.admin, input.now ?? new Date()), null, 2) + '\r\n', why: `${input.admin.name} administers the service` },
    { kind: 'write', path: layout.wrapperXml, content: wrapperXml({ layout, dataDir }), why: 'the service wrapper configuration' },
    { kind: 'run', file: layout.wrapperExe, args: ['install'], why: 'register the service (LocalService, automatic start, restart on failure)' },
    { kind: 'run', file: sc, args: ['sidtype', SERVICE_NAME, 'unrestricted'], why: 'give the service its own SID (NT SERVICE\\Gatehouse), which the data folder ACL names' },
    { kind: 'run', file: sc, args: ['sdset', SERVICE_NAME, serviceSddl(input.admin)], why: `${input.admin.name} may start and stop the service without a UAC prompt` },
    { kind: 'run', file: sc, args: ['failureflag', SERVICE_NAME, '1'], why: 'restart also when the gateway exits with an error' },
    ...firewallSteps(input.smtpPort, layout, env),
    { kind: 'run', file: sc, args: ['start', SERVICE_NAME], why: 'start the service' },
  );
  return steps;
}

/**
 * install over an existing service (an upgrade in place, or install run again): the wrapper's
 * XML written again (the installer replaced the folder it lives in), the firewall rule, and
 * the start unless the service was stopped before. Data, registration and state are kept.
 */
export function refreshPlan(input: Omit<InstallInput, 'moveFrom' | 'admin' | 'now'> & { start: boolean }): Step[] {
  const { layout, dataDir, env } = input;
  const steps: Step[] = [
    { kind: 'write', path: layout.wrapperXml, content: wrapperXml({ layout, dataDir }), why: 'the service wrapper configuration (written again)' },
    ...firewallSteps(input.smtpPort, layout, env),
  ];
  if (input.start) steps.push(...startPlan(env));
  return steps;
}

export function uninstallPlan(input: UninstallInput): Step[] {
  const { layout, dataDir, env } = input;
  const icacls = systemTool('icacls.exe', env);
  const steps: Step[] = [
    ...stopPlan(env),
    { kind: 'run', file: layout.wrapperExe, args: ['uninstall'], why: 'unregister the service' },
    { kind: 'run', file: systemTool('netsh.exe', env), args: firewallDeleteArgs(), why: 'remove the inbound firewall rule', okExitCodes: [0, 1] },
  ];
  if (input.moveTo) {
    steps.push(
      { kind: 'move-data', from: dataDir, to: input.moveTo, why: 'move the settings, queue and logs back to the desktop app (recorded in the audit trail)' },
      {
        kind: 'run',
        file: icacls,
        args: windowsAclArgs(input.moveTo, [`*${sidOrPlaceholder(input.admin)}`, WINDOWS_SYSTEM, WINDOWS_ADMINISTRATORS]),
        why: `only ${input.admin.name}, SYSTEM and Administrators may open the desktop data folder`,
      },
    );
  }
  steps.push({ kind: 'remove', path: layout.wrapperXml, why: 'the service wrapper configuration is no longer needed' });
  return steps;
}

export function startPlan(env?: NodeJS.ProcessEnv): Step[] {
  // 1056: already running.
  return [{ kind: 'run', file: systemTool('sc.exe', env), args: ['start', SERVICE_NAME], why: 'start the service', okExitCodes: [0, 1056] }];
}

export function stopPlan(env?: NodeJS.ProcessEnv): Step[] {
  return [
    // 1062: not started; 1060: not installed.
    { kind: 'run', file: systemTool('sc.exe', env), args: ['stop', SERVICE_NAME], why: 'stop the service (deliveries in progress finish or go back to the queue)', okExitCodes: [0, 1060, 1062] },
    { kind: 'wait-stopped', service: SERVICE_NAME, timeoutS: STOP_WAIT_S, why: 'wait until it has stopped' },
  ];
}

/** The read-only commands `status` runs. */
export function statusCommands(env?: NodeJS.ProcessEnv): { file: string; args: string[] }[] {
  return [
    { file: systemTool('sc.exe', env), args: ['query', SERVICE_NAME] },
    { file: systemTool('netsh.exe', env), args: ['advfirewall', 'firewall', 'show', 'rule', `name=${FIREWALL_RULE}`] },
  ];
}

/** One line per step, as `--dry-run` prints them. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'run':
      return `run    ${commandLine(step.file, step.args)}\n       # ${step.why}`;
    case 'write':
      return `write  ${step.path}\n       # ${step.why}`;
    case 'mkdir':
      return `mkdir  ${step.path}\n       # ${step.why}`;
    case 'remove':
      return `remove ${step.path}\n       # ${step.why}`;
    case 'move-data':
      return `move   ${step.from} -> ${step.to}\n       # ${step.why}`;
    case 'wait-stopped':
      return `wait   until ${step.service} has stopped (at most ${step.timeoutS} s)\n       # ${step.why}`;
  }
}
