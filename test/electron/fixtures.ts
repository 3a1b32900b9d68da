/*
 * Shared test data for the shell's unit tests: a GatewayStatus with overrides. Pure data;
 * nothing here touches Electron, the disk or the network.
 */
import type { GatewayStatus } from '../../main/shared/contract.js';

export function status(patch: Partial<GatewayStatus> = {}): GatewayStatus {
  return {
    running: true,
    role: 'desktop',
    listen: { host: '127.0.0.1', port: 2525 },
    listenerProcesses: 2,
    configured: { host: '127.0.0.1', port: 2525 },
    startedAt: '2025-01-01T00:00:00.000Z',
    error: null,
    configProblem: null,
    portInUse: null,
    dataDir: '/data',
    logDir: '/data/logs',
    today: { accepted: 12, rejected: 3, deferred: 1, bounced: 0, delivered: 10 },
    queue: { total: 0, deferred: 0, hold: 0 },
    delivery: { paused: false, heldDomains: [] },
    health: { level: 'ok', reasons: [] },
    ...patch,
  };
}
