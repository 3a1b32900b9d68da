/*
 * Outbound controls with two listener processes (performance.listenerProcesses 2): whichever
 * process takes the session, the external copy of approval mail lands in the held queue the
 * main process owns (approvable, notices sent once), and a freeze decided in the main process
 * reaches the other process (its sessions are refused from MAIL FROM on). Needs dist/ (the
 * listener process runs compiled).
 */
import { afterEach, expect, it } from 'vitest';
import { openOffice, waitFor, type Office } from './helpers.js';

let o: Office | undefined;
afterEach(async () => {
  await o?.close();
  o = undefined;
});

const msg = (n: number) => `From: baito@test.jp\r\nTo: client@example.com\r\nSubject: lp ${n}\r\nMessage-ID: <lp.${n}.${Date.now()}@test.jp>\r\n\r\nhello\r\n`;

it('held copies from either process are approvable; a freeze reaches both', async () => {
  o = await openOffice((c) => {
    c.performance.listenerProcesses = 2;
    c.accounts = [{ pattern: 'baito@test.jp', blockExternal: false, allow: [], note: '', mode: 'approval', approvers: ['boss@test.jp'] }];
    c.outbound.senderLimits = { enabled: true, messagesPerHour: 6, externalRecipientsPerHour: 100, freeze: 'permanent', exempt: [] };
  });
  expect(o.tg.gw.status().listenerProcesses).toBe(2);
  const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => o!.send('baito@test.jp', ['client@example.com'], msg(i))));
  expect(replies.map((r) => r.code)).toEqual([250, 250, 250, 250, 250, 250]);
  const ids = replies.map((r) => /queued as (\S+) \(held\)/.exec(r.text)![1]!);
  const list = await waitFor(async () => {
    const l = await o!.call('approvals.list');
    return l.length === 6 ? l : null;
  }, 10_000, 'six held messages');
  expect(list.map((i) => i.id).sort()).toEqual([...ids].sort());
  for (const id of ids) await o.call('approvals.approve', { id });
  await waitFor(() => o!.internet.messages.length === 6, 10_000, 'six approved copies');
  // The seventh message goes past the limit; afterwards every process refuses at MAIL FROM.
  expect((await o.send('baito@test.jp', ['client@example.com'], msg(7))).code).toBe(550);
  await new Promise((r) => setTimeout(r, 300));
  const after = await Promise.all(Array.from({ length: 6 }, (_, i) => o!.send('baito@test.jp', ['client@example.com'], msg(10 + i))));
  expect(after.map((r) => r.code)).toEqual([550, 550, 550, 550, 550, 550]);
  // The other process took part (the kernel hands it some of the connections).
  expect(o.tg.gw.pool.info().reduce((n, p) => n + p.sessions, 0)).toBeGreaterThan(0);
  const lines = await o.tg.receive();
  expect(lines.filter((e) => e.event === 'mail' && e.rule === 'sender-frozen')).toHaveLength(6);
  // One request notice per held message, no more.
  await new Promise((r) => setTimeout(r, 300));
  expect(o.office.messages.filter((m) => m.to.includes('boss@test.jp') && m.from === '' && m.raw.toString('latin1').includes('approval-request'))).toHaveLength(6);
});
