/*
 * The running gateway: its status, starting and stopping the SMTP listener, today's traffic.
 * Each needs the running gateway (ApiError 'not-running' without one); a listener that
 * cannot bind rejects with 'listen-failed' naming the address.
 */
import { ApiError, type CommandHandlers } from '../../shared/contract.js';
import { runtime, type CommandPorts } from './context.js';

type Names = 'status' | 'gateway.start' | 'gateway.stop' | 'stats.traffic';

export function gatewayCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  return {
    'status': async () => runtime(p).status(),
    'gateway.start': async () => {
      try {
        return await runtime(p).start();
      } catch (err) {
        if (err instanceof ApiError) throw err;
        const message = (err as Error).message;
        const at = runtime(p).status().configured;
        // The window words it: the address and the system's code (EADDRINUSE, EACCES, ...).
        throw new ApiError(message, 'listen-failed', [], { address: `${at.host}:${at.port}`, reason: /(E[A-Z]+)/.exec(message)?.[1] ?? '' });
      }
    },
    'gateway.stop': async () => runtime(p).stop(),
    'stats.traffic': async () => runtime(p).traffic.snapshot(),
  };
}
