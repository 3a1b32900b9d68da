/*
 * Shared test fixture: a complete GatehouseConfig for the example office of ARCHITECTURE.md
 * (back end 192.168.0.102, gateway 192.168.0.103, internal domains test.jp and part.test.jp).
 * testConfig(overrides) returns a fresh deep copy each call, with top-level fields replaced.
 */
import type { GatehouseConfig } from '../../main/shared/types.js';
import { DEFAULT_REPLIES } from '../../main/core/policy/defaults.js';

const BASE: GatehouseConfig = {
  listener: { host: '127.0.0.1', port: 0 },
  hostname: 'gatehouse.test.jp',
  trustedNetworks: ['127.0.0.2/32', '192.168.0.0/24', 'fd00::/8'],
  internalDomains: ['test.jp', 'part.test.jp'],
  routes: [
    { domain: 'test.jp', hosts: [{ host: '192.168.0.102', port: 25 }] },
    {
      domain: 'part.test.jp',
      hosts: [
        { host: '192.168.0.102', port: 25 },
        { host: '192.168.0.104', port: 2525 },
      ],
    },
  ],
  accounts: [
    { pattern: 'baito@test.jp', blockExternal: true, allow: [], note: 'part-timer' },
    { pattern: '*@part.test.jp', blockExternal: true, allow: ['partner.example'], note: 'part office' },
    { pattern: 'boss@part.test.jp', blockExternal: false, allow: [], note: 'exact beats pattern' },
    { pattern: 'intern*@test.jp', blockExternal: true, allow: ['Friend@Gmail.example'], note: 'interns' },
    { pattern: 'intern-ok*@test.jp', blockExternal: false, allow: [], note: 'more specific' },
    { pattern: '*@*.test.jp', blockExternal: true, allow: [], note: 'subdomains' },
    { pattern: '*@test.jp', blockExternal: false, allow: [], note: 'everyone else' },
  ],
  limits: {
    maxMessageSize: 25 * 1024 * 1024,
    maxRecipients: 100,
    maxClients: 100,
    maxConnectionsPerIp: 20,
    idleTimeoutMs: 60_000,
    dataTimeoutMs: 600_000,
  },
  replies: { ...DEFAULT_REPLIES },
  delivery: {
    smarthost: null,
    transportOverrides: [],
    retrySchedule: [60, 300, 900, 3600],
    maxLifetimeSeconds: 5 * 24 * 3600,
    delayWarningSeconds: 4 * 3600,
    maxConnectionsPerHop: 5,
    maxConnectionsTotal: 50,
    connectTimeoutMs: 30_000,
    verifyRecipients: false,
    verifyPositiveTtlSeconds: 3600,
    verifyNegativeTtlSeconds: 300,
    senderRoutes: [],
    dnsServers: [],
    tlsCa: [],
    mtaSts: { enabled: true },
    oauth: null,
  },
  log: { retentionDays: 30 },
  tls: { mode: 'off', certFile: '', keyFile: '' },
  auth: { enabled: false, users: [] },
  admin: { host: '127.0.0.1', port: 0 },
  performance: { listenerProcesses: 1 },
  outbound: { bccConvertOver: 0, senderLimits: { enabled: false, messagesPerHour: 200, externalRecipientsPerHour: 500, freeze: 'temporary', exempt: [] }, adminAddress: '' },
  dkim: { keys: [] },
  deliverability: { publicIp: '', port25Target: null },
  approvalPage: { enabled: false, listen: { host: '127.0.0.1', port: 8443 }, publicUrl: '' },
  notifications: {
    desktop: true,
    mailTo: '',
    routeDown: { enabled: true, failures: 3 },
    queueSize: { enabled: true, messages: 50 },
    nearExpiry: { enabled: true, hours: 12 },
    approvals: { enabled: true, waiting: 1 },
    senderFrozen: { enabled: true },
  },
};

export function testConfig(overrides: Partial<GatehouseConfig> = {}): GatehouseConfig {
  return structuredClone({ ...BASE, ...overrides });
}
