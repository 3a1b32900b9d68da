/*
 * The settings as a whole: read them (as ConfigView: no password, no hashes), replace one
 * section (`config.set`, its value checked by that section's schema before it gets here),
 * set or remove the smarthost (an omitted password keeps the stored one: the window never
 * sees it, so it cannot send it back), and the first-run setup. Each change is audited with
 * who asked; a refused one rejects with ApiError 'validation' and every issue.
 */
import { auditWhat } from '../../shared/audit.js';
import type { CommandHandlers, SmarthostInput } from '../../shared/contract.js';
import type { GatehouseConfig, SmarthostConfig } from '../../shared/types.js';
import { toConfigView } from '../config-view.js';
import { change, type CommandPorts } from './context.js';
import { demoConfig } from '../config/index.js';

type Names = 'config.get' | 'config.set' | 'config.setSmarthost' | 'setup.needed' | 'setup.complete';

/** The stored smarthost after a form's input (fields it left out take the schema's defaults). */
export function mergeSmarthost(current: SmarthostConfig | null, input: SmarthostInput | null): SmarthostConfig | null {
  if (input === null) return null;
  return { ...input, password: input.password ?? current?.password ?? '' } as SmarthostConfig;
}

export function settingsCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  return {
    'config.get': async () => toConfigView(p.store.get()),
    'config.set': async (args, call) => {
      const cfg = await change(p, call, auditWhat('config-set', { key: args.key }), (d) => {
        if (args.key === 'delivery') d.delivery = { ...args.value, smarthost: d.delivery.smarthost, senderRoutes: d.delivery.senderRoutes, oauth: d.delivery.oauth };
        else (d as unknown as Record<string, unknown>)[args.key] = args.value;
      });
      return toConfigView(cfg);
    },
    'config.setSmarthost': async (input, call) => {
      const what = input ? auditWhat('smarthost-set', { host: `${input.host}:${input.port ?? ''}`.replace(/:$/, '') }) : auditWhat('smarthost-remove');
      return toConfigView(await change(p, call, what, (d) => void (d.delivery.smarthost = mergeSmarthost(d.delivery.smarthost, input))));
    },

    // First run: nobody has changed the config yet (only the default/demo entry exists).
    'setup.needed': async () => (await p.store.history()).every((e) => e.via === 'default'),
    'setup.complete': async (input) => {
      const cfg = await change(p, { via: 'setup' }, auditWhat('setup'), (d: GatehouseConfig) => {
        const office = input.officeServer;
        const cidr = `${office.host}/${office.host.includes(':') ? 128 : 32}`;
        // The office server is the only trusted network: no 127.0.0.0/8 or other demo entries
        // left over (setup runs only on an untouched config), and no demo accounts.
        d.trustedNetworks = [cidr];
        const demo = new Set(demoConfig().accounts.map((a) => a.pattern));
        d.accounts = d.accounts.filter((a) => !demo.has(a.pattern));
        d.internalDomains = [...new Set(input.domains)];
        d.routes = d.internalDomains.map((domain) => ({ domain, hosts: [{ host: office.host, port: office.port }] }));
        d.delivery.smarthost = input.outbound.mode === 'smarthost' ? mergeSmarthost(d.delivery.smarthost, input.outbound.smarthost) : null;
        if (input.listener) d.listener = input.listener;
      });
      if (p.gateway && !p.gateway.status().running) await p.gateway.start().catch(() => undefined);
      return toConfigView(cfg);
    },
  };
}
