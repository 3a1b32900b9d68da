/*
 * Outgoing delivery control, apart from receiving: pause and resume every delivery, hold and
 * release one domain, and the state (durable: kept in <data>/delivery-control.json, so a
 * pause survives a restart). With the gateway running its runner applies a change at once;
 * without one the CLI writes the file and the gateway starts that way. Also the test notice.
 */
import type { CommandHandlers, DeliveryStatus } from '../../shared/contract.js';
import { DeliveryControl } from '../delivery/control.js';
import { runtime, type CommandPorts } from './context.js';

type Names = 'delivery.status' | 'delivery.pause' | 'delivery.resume' | 'delivery.hold' | 'delivery.release' | 'notices.test';

export function deliveryCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  const control = async (): Promise<DeliveryControl> => p.gateway?.control ?? DeliveryControl.open(p.store.dataDir);
  const status = async (c: DeliveryControl): Promise<DeliveryStatus> => {
    if (p.gateway) return p.gateway.deliveryStatus();
    const items = await p.queue.list();
    const queue = { total: items.length, deferred: items.filter((i) => i.state === 'deferred').length, hold: items.filter((i) => i.state === 'hold').length };
    return { ...c.state(), durable: true, queue };
  };
  return {
    'delivery.status': async () => status(await control()),
    'delivery.pause': async (_args, call) => {
      const c = await control();
      await c.pause(call.via);
      return status(c);
    },
    'delivery.resume': async () => {
      const c = await control();
      await c.resume();
      return status(c);
    },
    'delivery.hold': async ({ domain }) => {
      const c = await control();
      await c.hold(domain);
      return status(c);
    },
    'delivery.release': async ({ domain }) => {
      const c = await control();
      await c.release(domain);
      return status(c);
    },
    'notices.test': async () => runtime(p).notifier.test(),
  };
}
