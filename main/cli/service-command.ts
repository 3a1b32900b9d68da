/*
 * `gatehouse service install|uninstall|start|stop|status|firewall [--dry-run]`: the service
 * commands of the command layer (main/core/commands/service.ts), run in this process through
 * the same dispatcher as every command (never through a running gateway: the service cannot
 * install or remove itself). --dry-run prints the wrapper's XML and every step with its reason.
 * Off Windows the real actions are refused with one line and exit code 2.
 */
import { ApiError, type CommandHandlers } from '../shared/contract.js';
import { createDispatcher } from '../core/commands/dispatch.js';
import { serviceCommands } from '../core/commands/service.js';
import type { CommandPorts } from '../core/commands/context.js';
import { processServiceHost } from '../core/service/host.js';
import type { ServicePlanResult, ServiceStatus } from '../shared/contract.js';
import { UsageError, type ParsedArgs } from './args.js';
import { outputPath } from './out-path.js';
import { print, printJson } from './output.js';

const VERBS = ['install', 'uninstall', 'start', 'stop', 'status', 'firewall'] as const;

export async function cmdService(a: ParsedArgs): Promise<number> {
  const verb = a.positionals[0] as (typeof VERBS)[number] | undefined;
  if (!verb || !VERBS.includes(verb)) throw new UsageError(`usage: gatehouse service <${VERBS.join('|')}> [--dry-run]`);
  const f = a.flags;
  const str = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : undefined);
  // The data moves out of --from and into --to: folders Windows must accept, files inside too.
  for (const k of ['from', 'to']) if (str(k) !== undefined) outputPath(str(k)!, `--${k}`, { dataDir: true });
  const dryRun = Boolean(f['dry-run']);
  const admin = str('admin-user') ? { name: str('admin-user')!, sid: str('admin-sid') ?? null } : undefined;
  const args: Record<string, unknown> =
    verb === 'install'
      ? { dryRun, from: str('from'), admin, noStart: Boolean(f['no-start']), fromInstaller: Boolean(f['from-installer']) }
      : verb === 'uninstall'
        ? { dryRun, keepData: Boolean(f['keep-data']), to: str('to'), admin }
        : verb === 'firewall'
          ? { port: str('port') === undefined ? undefined : Number(str('port')), dryRun }
          : verb === 'status'
            ? {}
            : { dryRun };
  for (const k of Object.keys(args)) if (args[k] === undefined) delete args[k];
  const ports = { service: processServiceHost('cli') } as unknown as CommandPorts;
  const dispatch = createDispatcher(serviceCommands(ports) as unknown as CommandHandlers);
  const r = await dispatch(`service.${verb}`, verb === 'status' ? undefined : args, { via: 'cli' });
  if (!r.ok) {
    const e = ApiError.fromData(r.error);
    // Off Windows: one line, exit 2 (main() prints it).
    if (e.code === 'unsupported' || e.code === 'elevation-declined' || e.code === 'elevation-required') throw new UsageError(e.message);
    throw e;
  }
  if (f.json) return printJson(r.value), 0;
  if (verb === 'status') {
    const s = r.value as ServiceStatus;
    print(`Gatehouse service: ${s.supported ? s.state : 'Windows only (not available on this OS)'}`);
    print(`  data folder:     ${s.dataDir}`);
    if (s.administrators.length) print(`  administered by: ${s.administrators.join(', ')}`);
    return 0;
  }
  const p = r.value as ServicePlanResult;
  if (p.dryRun) {
    if (p.wrapperXml) {
      print('# The service wrapper configuration (GatehouseService.xml):');
      for (const line of p.wrapperXml.trimEnd().split(/\r?\n/)) print(line);
      print('');
    }
    print(`# gatehouse service ${verb} would run, in this order (dry run: nothing was changed):`);
    for (const s of p.steps) print(s);
    return 0;
  }
  for (const line of p.done) print(line);
  for (const n of p.notes) print(`NOTE: ${n}`);
  return 0;
}
