/*
 * Opens a real Gateway in a fresh temp data folder for tests: SMTP on 127.0.0.1 port 0,
 * the seed's office (127.0.0.2 trusted, test.jp internal, baito@test.jp blocked), and a DNS
 * resolver that fails every lookup, so nothing is ever sent off this machine.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Gateway } from '../../main/core/gateway.js';
import { defaultConfig } from '../../main/core/config/index.js';
import type { GatehouseConfig } from '../../main/shared/types.js';

export const NO_DNS = {
  resolveMx: async (domain: string): Promise<{ exchange: string; priority: number }[]> => {
    throw Object.assign(new Error(`test resolver: no DNS for ${domain}`), { code: 'ESERVFAIL' });
  },
  resolveHost: async (name: string): Promise<string[]> => {
    throw Object.assign(new Error(`test resolver: no DNS for ${name}`), { code: 'ESERVFAIL' });
  },
};

export function officeConfig(patch?: (c: GatehouseConfig) => void): GatehouseConfig {
  const c = defaultConfig('linux');
  c.hostname = 'gw.test.jp';
  c.listener = { host: '127.0.0.1', port: 0 };
  c.trustedNetworks = ['127.0.0.2/32'];
  c.internalDomains = ['test.jp'];
  // Port 9 on loopback: nothing listens, delivery defers and the message stays queued.
  c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: 9 }] }];
  c.accounts = [{ pattern: 'baito@test.jp', blockExternal: true, allow: [], note: 'part-timer' }];
  patch?.(c);
  return c;
}

export async function tempDir(prefix = 'gatehouse-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function openTestGateway(patch?: (c: GatehouseConfig) => void): Promise<{ gw: Gateway; port: number; dir: string; close(): Promise<void> }> {
  const dir = await tempDir();
  const gw = await Gateway.open({ dataDir: dir, createWith: officeConfig(patch), resolver: NO_DNS });
  const st = await gw.start();
  return {
    gw,
    dir,
    port: st.listen!.port,
    close: async () => {
      await gw.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
