/*
 * Routes (Gateway.dat semantics): replace them all, import E-Post's Gateway.dat (merge: a
 * domain in the file replaces that domain's route, others stay; replace: the file is the new
 * table), export it, and the health of each next hop (needs the running gateway). An import
 * is all-or-nothing: a bad file rejects with ApiError 'validation', one issue per problem
 * naming its line.
 */
import { auditWhat } from '../../shared/audit.js';
import { ApiError, type CommandHandlers } from '../../shared/contract.js';
import { parseGatewayDat, routesToGatewayDat } from '../config/index.js';
import { toConfigView } from '../config-view.js';
import { change, runtime, type CommandPorts } from './context.js';

type Names = 'routes.set' | 'routes.import' | 'routes.export' | 'routes.health';

export function routeCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  return {
    'routes.set': async ({ routes }, call) => toConfigView(await change(p, call, auditWhat('routes-edit'), (d) => void (d.routes = routes))),
    'routes.import': async ({ text, mode }, call) => {
      const parsed = parseGatewayDat(text);
      if (!parsed.ok) throw new ApiError(`Gateway.dat has ${parsed.errors.length} problem(s); nothing imported`, 'validation', parsed.errors);
      const cfg = await change(p, call, auditWhat('routes-import', { n: parsed.routes.length, mode }), (d) => {
        if (mode === 'replace') d.routes = parsed.routes;
        else {
          const incoming = new Set(parsed.routes.map((r) => r.domain));
          d.routes = [...d.routes.filter((r) => !incoming.has(r.domain)), ...parsed.routes];
        }
      });
      return { imported: parsed.routes.length, routes: cfg.routes };
    },
    'routes.export': async () => ({ text: routesToGatewayDat(p.store.get().routes) }),
    'routes.health': async () => runtime(p).delivery.routeHealth(),
  };
}
