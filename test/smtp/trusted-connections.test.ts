/*
 * Trusted clients and the connection limits, over real sockets: an office server in
 * trustedNetworks (127.0.0.2) opening 50 sessions in parallel is not held to
 * maxConnectionsPerIp (20 by default), as Postfix exempts $mynetworks; an untrusted address is
 * still capped at maxConnectionsPerIp; maxClients holds for everyone. The same with a
 * listener process (performance.listenerProcesses = 2), where the main process decides for
 * both.
 */
import { describe, expect, it } from 'vitest';
import { SmtpTestClient, type Reply } from '../helpers/smtp-client.js';
import { openGateway, sleep, waitFor, type TestGateway } from '../hardening/helpers.js';

const TRUSTED = '127.0.0.2';
const UNTRUSTED = '127.0.0.3';

/** `n` sessions from `ip` opened at once; each greeting's code. The sockets stay open. */
async function openMany(t: TestGateway, ip: string, n: number, open: SmtpTestClient[]): Promise<number[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const c = await SmtpTestClient.connect(t.port, { localAddress: ip });
      open.push(c);
      return (await withTimeout(c.greeting, 10_000)).code;
    }),
  );
}

function withTimeout(p: Promise<Reply>, ms: number): Promise<Reply> {
  return Promise.race([p, sleep(ms).then(() => ({ code: -1, text: `no reply within ${ms} ms` }))]);
}

/** The refusals in the receivelog, once `n` are there (a listener process reports its lines a moment later). */
async function refusals(t: TestGateway, n: number) {
  await waitFor(async () => {
    const r = (await t.receive()).filter((e) => e.event === 'reject-connection');
    return r.length >= n ? r : null;
  }, 5000, `${n} reject-connection lines`);
  // A moment more, so a line too many would show too.
  await sleep(100);
  return (await t.receive()).filter((e) => e.event === 'reject-connection');
}

const count = (codes: number[], code: number) => codes.filter((c) => c === code).length;

for (const processes of [1, 2]) {
  describe(`connection limits with ${processes} listener process${processes > 1 ? 'es' : ''}`, () => {
    it('50 parallel sessions from a trusted address pass the per-IP cap; an untrusted one is capped at maxConnectionsPerIp', async () => {
      const t = await openGateway((c) => {
        c.performance.listenerProcesses = processes;
        c.limits.maxClients = 100;
        c.limits.maxConnectionsPerIp = 20;
      });
      const open: SmtpTestClient[] = [];
      try {
        if (processes > 1) expect(t.gw.status().listenerProcesses).toBe(processes);
        const trusted = await openMany(t, TRUSTED, 50, open);
        expect(count(trusted, 220), 'trusted sessions greeted').toBe(50);
        // Still working sessions, not only greeted ones.
        expect((await open[49]!.cmd('EHLO office.test.jp')).code).toBe(250);
        const untrusted = await openMany(t, UNTRUSTED, 25, open);
        expect(count(untrusted, 220), 'untrusted sessions greeted').toBe(20);
        expect(count(untrusted, 421), 'untrusted sessions refused').toBe(5);
        const refused = await refusals(t, 5);
        expect(refused).toHaveLength(5);
        expect(refused.every((e) => e.rule === 'too-many-connections-from-ip' && e.clientIp === UNTRUSTED)).toBe(true);
      } finally {
        for (const c of open) c.destroy();
        await t.close();
      }
    });

    it('maxClients still holds for trusted clients', async () => {
      const t = await openGateway((c) => {
        c.performance.listenerProcesses = processes;
        c.limits.maxClients = 30;
        c.limits.maxConnectionsPerIp = 20;
      });
      const open: SmtpTestClient[] = [];
      try {
        const codes = await openMany(t, TRUSTED, 50, open);
        expect(count(codes, 220)).toBe(30);
        expect(count(codes, 421)).toBe(20);
        const refused = await refusals(t, 20);
        expect(refused).toHaveLength(20);
        expect(refused.every((e) => e.rule === 'too-many-clients')).toBe(true);
      } finally {
        for (const c of open) c.destroy();
        await t.close();
      }
    });
  });
}
