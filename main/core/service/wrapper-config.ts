/*
 * The service wrapper's configuration: the XML that WinSW reads from beside its executable
 * (resources\service\GatehouseService.xml). `wrapperXml(spec)` returns it as text; it cannot
 * fail. What it says, element by element:
 *
 *   executable + argument   the app's own Gatehouse.exe as Node (env ELECTRON_RUN_AS_NODE=1:
 *                           no system Node needed), the gateway's V8 flags, the CLI entry in
 *                           app.asar, `serve --service --data <ProgramData>\Gatehouse`
 *   env                     ELECTRON_RUN_AS_NODE=1, GATEHOUSE_DATA
 *   startmode               Automatic: up after every reboot, with nobody logged on
 *   onfailure, resetfailure restart after 10 s, 30 s, then every 60 s; the count resets after
 *                           an hour of running
 *   stoptimeout             30 s between the stop signal (Ctrl+C, which the gateway takes as
 *                           SIGINT: listener first, then in-flight deliveries finish or go back
 *                           to the queue within 10 s) and a forced end; the spool is durable
 *                           either way
 *   stopparentprocessfirst  the gateway's main process gets the signal before its listener
 *                           processes, so it closes them itself
 *   log, logpath            the wrapper's and the gateway's console output, rolled at 10 MB,
 *                           8 files kept, in <data>\service-logs
 *   serviceaccount          NT AUTHORITY\LocalService, never LocalSystem (layout.ts says why)
 *
 * Written for WinSW 1.17 (the one shipped in a registry package, see package.json's
 * node-windows): the XML must begin with <service> itself, because that version reads
 * stoptimeout and resetfailure under the document's first node (a declaration or comment first
 * would silently give the 15 s default); and each <argument> is quoted by WinSW when it holds
 * a space, so paths go in one element each, unquoted.
 */
import { GATEWAY_NODE_FLAGS } from '../node-flags.js';
import { SERVICE_ACCOUNT, SERVICE_DESCRIPTION, SERVICE_DISPLAY_NAME, SERVICE_NAME, type AppLayout } from './layout.js';

export interface WrapperSpec {
  layout: AppLayout;
  /** The service's data folder. */
  dataDir: string;
}

/** Seconds the wrapper waits after the stop signal before ending the gateway by force. */
export const STOP_TIMEOUT_S = 30;
/** Restart delays after a failure, in seconds (the last repeats). */
export const RESTART_DELAYS_S: readonly number[] = [10, 30, 60];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The arguments the wrapper gives Gatehouse.exe (also what `serve` runs with in tests). */
export function serviceArguments(spec: WrapperSpec): string[] {
  return [...GATEWAY_NODE_FLAGS, spec.layout.cliScript, 'serve', '--service', '--data', spec.dataDir];
}

/** The environment the wrapper adds for the gateway process. */
export function serviceEnvironment(spec: WrapperSpec): Record<string, string> {
  return { ELECTRON_RUN_AS_NODE: '1', GATEHOUSE_DATA: spec.dataDir };
}

export function wrapperXml(spec: WrapperSpec): string {
  const el = (name: string, text: string) => `  <${name}>${esc(text)}</${name}>`;
  const lines = [
    '<service>',
    el('id', SERVICE_NAME),
    el('name', SERVICE_DISPLAY_NAME),
    el('description', SERVICE_DESCRIPTION),
    el('executable', spec.layout.exe),
    ...serviceArguments(spec).map((a) => el('argument', a)),
    ...Object.entries(serviceEnvironment(spec)).map(([k, v]) => `  <env name="${esc(k)}" value="${esc(v)}"/>`),
    el('workingdirectory', spec.dataDir),
    el('startmode', 'Automatic'),
    ...RESTART_DELAYS_S.map((s) => `  <onfailure action="restart" delay="${s} sec"/>`),
    el('resetfailure', '1 hour'),
    el('stoptimeout', `${STOP_TIMEOUT_S} sec`),
    el('stopparentprocessfirst', 'true'),
    el('logpath', spec.layout.serviceLogDir),
    '  <log mode="roll-by-size">',
    '    <sizeThreshold>10240</sizeThreshold>',
    '    <keepFiles>8</keepFiles>',
    '  </log>',
    '  <serviceaccount>',
    `    <domain>${esc(SERVICE_ACCOUNT.domain)}</domain>`,
    `    <user>${esc(SERVICE_ACCOUNT.user)}</user>`,
    '  </serviceaccount>',
    '</service>',
  ];
  // CRLF: the file is read on Windows (and opened in Notepad by admins).
  return lines.join('\r\n') + '\r\n';
}
