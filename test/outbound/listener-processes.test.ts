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
  const LIMIT = 36;
  o = await openOffice((c) => {
    c.performance.listenerProcesses = 2;
    c.accounts = [{ pattern: 'baito@test.jp', blockExternal: false, allow: [], note: '', mode: 'approval', approvers: ['boss@test.jp'] }];
    c.outbound.senderLimits = { enabled: true, messagesPerHour: LIMIT, externalRecipientsPerHour: 1000, freeze: 'permanent', exempt: [] };
  });
  expect(o.tg.gw.status().listenerProcesses).toBe(2);
  const childSessions = () => o!.tg.gw.pool.info().reduce((n, p) => n + p.sessions, 0);
  // Rounds of 6 parallel sessions until the other process has taken some (the kernel, or
  // Windows, decides who accepts; bounded by the limit).
  const ids: string[] = [];
  for (let round = 0; round < LIMIT / 6 && (round === 0 || childSessions() === 0); round++) {
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => o!.send('baito@test.jp', ['client@example.com'], msg(round * 6 + i))));
    expect(replies.map((r) => r.code)).toEqual([250, 250, 250, 250, 250, 250]);
    ids.push(...replies.map((r) => /queued as (\S+) \(held\)/.exec(r.text)![1]!));
  }
  expect(childSessions(), 'the other listener process took sessions').toBeGreaterThan(0);
  const list = await waitFor(async () => {
    const l = await o!.call('approvals.list');
    return l.length === ids.length ? l : null;
  }, 10_000, `${ids.length} held messages`);
  expect(list.map((i) => i.id).sort()).toEqual([...ids].sort());
  for (const id of ids) await o.call('approvals.approve', { id });
  await waitFor(() => o!.internet.messages.length === ids.length, 20_000, `${ids.length} approved copies`);
  // Up to the limit, then the next message goes past it; afterwards every process refuses at MAIL FROM.
  for (let n = ids.length; n < LIMIT; n++) expect((await o.send('baito@test.jp', ['client@example.com'], msg(100 + n))).code).toBe(250);
  expect((await o.send('baito@test.jp', ['client@example.com'], msg(200))).code).toBe(550);
  await new Promise((r) => setTimeout(r, 300));
  const before = childSessions();
  let refused = 0;
  for (let round = 0; round < 20 && (round === 0 || childSessions() === before); round++) {
    const after = await Promise.all(Array.from({ length: 6 }, (_, i) => o!.send('baito@test.jp', ['client@example.com'], msg(300 + round * 6 + i))));
    expect(after.map((r) => r.code)).toEqual([550, 550, 550, 550, 550, 550]);
    refused += 6;
  }
  expect(childSessions(), 'the other listener process refused some after the freeze').toBeGreaterThan(before);
  // The other process's log lines reach the main process's receivelog after its replies:
  // wait for them (seen as win32 under Wine: the last one not yet written), then count exactly.
  const frozenLines = async () => (await o!.tg.receive()).filter((e) => e.event === 'mail' && e.rule === 'sender-frozen');
  await waitFor(async () => (await frozenLines()).length >= refused, 10_000, `${refused} sender-frozen lines`).catch(() => undefined);
  expect(await frozenLines()).toHaveLength(refused);
  // One request notice per held message, no more.
  await new Promise((r) => setTimeout(r, 300));
  expect(o.office.messages.filter((m) => m.to.includes('boss@test.jp') && m.from === '' && m.raw.toString('latin1').includes('approval-request'))).toHaveLength(LIMIT);
});
