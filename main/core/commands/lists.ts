/*
 * The two plain lists of the settings, one entry at a time: internal (operated) domains and
 * trusted networks. Adding what is listed, or removing what is not, is refused with one issue
 * ('listed' / 'not_listed') and changes nothing; domains compare case-insensitively.
 */
import { auditWhat } from '../../shared/audit.js';
import type { CommandHandlers } from '../../shared/contract.js';
import { problem } from '../../shared/issues.js';
import { toConfigView } from '../config-view.js';
import { change, refuse, type CommandPorts } from './context.js';
import type { CallContext } from '../../shared/contract.js';

type Names = 'domains.add' | 'domains.remove' | 'trusted.add' | 'trusted.remove';
type ListKey = 'internalDomains' | 'trustedNetworks';

async function edit(p: CommandPorts, call: CallContext, key: ListKey, field: string, value: string, add: boolean) {
  const code = key === 'internalDomains' ? (add ? 'domain-add' : 'domain-remove') : add ? 'trusted-add' : 'trusted-remove';
  const cfg = await change(p, call, auditWhat(code, { value }), (d) => {
    const list = d[key];
    const i = list.findIndex((x) => x.toLowerCase() === value.toLowerCase());
    if (add && i >= 0) throw refuse(field, problem('listed', { value }));
    if (!add && i < 0) throw refuse(field, problem('not_listed', { value }));
    if (add) list.push(value);
    else list.splice(i, 1);
  });
  return toConfigView(cfg);
}

export function listCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  return {
    'domains.add': async ({ domain }, call) => edit(p, call, 'internalDomains', 'domain', domain, true),
    'domains.remove': async ({ domain }, call) => edit(p, call, 'internalDomains', 'domain', domain, false),
    'trusted.add': async ({ cidr }, call) => edit(p, call, 'trustedNetworks', 'cidr', cidr.trim(), true),
    'trusted.remove': async ({ cidr }, call) => edit(p, call, 'trustedNetworks', 'cidr', cidr.trim(), false),
  };
}
