/*
 * LAN defaults that work (setup.complete through the dispatcher, as the window calls it): the
 * office server becomes the only trusted network (no 127.0.0.0/8 or ::1 demo entries left) and
 * the demo accounts go, while an account the admin made stays; on Windows a new config listens
 * on every interface on port 25.
 */
import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../main/core/gateway.js';
import { createCommands, createDispatcher, gatewayPorts } from '../../main/core/commands/index.js';
import { defaultConfig, demoConfig } from '../../main/core/config/index.js';
import { NO_DNS, tempDir } from '../helpers/gateway.js';

describe('setup: LAN defaults', () => {
  it('leaves the office server as the only trusted network and no demo accounts', async () => {
    const dir = await tempDir();
    const demo = demoConfig();
    demo.listener = { host: '127.0.0.1', port: 0 };
    demo.admin = { host: '127.0.0.1', port: 0 };
    demo.accounts.push({ pattern: 'kanri@test.jp', blockExternal: false, allow: [], note: 'added before setup' });
    const gw = await Gateway.open({ dataDir: dir, createWith: demo, resolver: NO_DNS });
    try {
      expect(gw.store.get().trustedNetworks).toEqual(['127.0.0.0/8', '::1/128']);
      const dispatch = createDispatcher(createCommands(gatewayPorts(gw)));
      const r = await dispatch('setup.complete', { officeServer: { host: '192.168.0.102', port: 25 }, domains: ['test.jp'], outbound: { mode: 'direct' } }, { via: 'ui' });
      expect(r.ok).toBe(true);
      const cfg = gw.store.get();
      expect(cfg.trustedNetworks).toEqual(['192.168.0.102/32']);
      expect(cfg.accounts.map((a) => a.pattern)).toEqual(['kanri@test.jp']);
      expect(cfg.routes).toEqual([{ domain: 'test.jp', hosts: [{ host: '192.168.0.102', port: 25 }] }]);
    } finally {
      await gw.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('on Windows a new config listens on every interface, port 25', () => {
    expect(defaultConfig('win32').listener).toEqual({ host: '0.0.0.0', port: 25 });
  });
});
