/*
 * The header From side of delay and approval, over real sockets: a message whose From: is an
 * account in approval (or delay) mode is held like the envelope case even when the envelope
 * sender is someone else (a relay account, a rewritten envelope): colleagues get it at once,
 * the external copy waits under the From: account's rule (its approvers, its allow-list), and
 * the stricter of the two accounts wins. The receivelog says why it was held.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mailWithAttachment, openOffice, waitFor, type Office } from './helpers.js';

let o: Office;
afterEach(async () => {
  await o?.close();
});

const office = () =>
  openOffice((c) => {
    c.accounts = [
      { pattern: 'baito@test.jp', blockExternal: false, allow: ['partner.example'], note: '', mode: 'approval', approvers: ['boss@test.jp'] },
      { pattern: 'haken@test.jp', blockExternal: false, allow: [], note: '', mode: 'delay', delayMinutes: 10 },
    ];
    c.delivery.transportOverrides.push({ domain: 'partner.example', hosts: c.delivery.transportOverrides[0]!.hosts });
  });

describe('header From governs delay and approval too', () => {
  it('From: an approval account, envelope from a relay account: the external copy waits for approval', async () => {
    o = await office();
    const body = mailWithAttachment('baito@test.jp', ['boss@test.jp', 'client@example.com', 'p@partner.example']);
    const r = await o.send('list@test.jp', ['boss@test.jp', 'client@example.com', 'p@partner.example'], body);
    expect(r.rcpt.map((x) => x.code)).toEqual([250, 250, 250]);
    expect(r.code).toBe(250);
    const id = /held as ([^\s)]+)/.exec(r.text)?.[1];
    expect(id).toBeDefined();
    // The colleague, and the partner on baito's allow-list, get it at once; the client waits.
    await waitFor(() => o.office.messages.some((m) => m.to.includes('boss@test.jp') && m.from === 'list@test.jp'), 8000, 'the internal copy');
    await waitFor(() => o.internet.messages.some((m) => m.to.includes('p@partner.example')), 8000, 'the allowed partner');
    expect(o.internet.messages.some((m) => m.to.includes('client@example.com'))).toBe(false);
    const list = await o.call('approvals.list');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id, sender: 'list@test.jp', account: 'baito@test.jp', recipients: ['client@example.com'], approvers: ['boss@test.jp'] });
    const receive = await o.tg.receive();
    const line = receive.find((e) => e.event === 'data' && e.rule === 'hold-approval');
    expect(line?.note).toContain('header From <baito@test.jp> is governed by account baito@test.jp');
    await o.call('approvals.approve', { id: id! });
    await waitFor(() => o.internet.messages.some((m) => m.to.includes('client@example.com')), 8000, 'the approved copy');
  });

  it('From: a delay account: delayed; approval in From: beats delay in the envelope', async () => {
    o = await office();
    const delayed = await o.send('list@test.jp', ['client@example.com'], mailWithAttachment('haken@test.jp', ['client@example.com']));
    expect(delayed.code).toBe(250);
    expect(delayed.text).toMatch(/\(held\)$/);
    expect((await o.call('queue.delayed')).map((i) => i.account)).toEqual(['haken@test.jp']);

    const stricter = await o.send('haken@test.jp', ['client@example.com'], mailWithAttachment('baito@test.jp', ['client@example.com']));
    expect(stricter.code).toBe(250);
    const approvals = await o.call('approvals.list');
    expect(approvals.map((i) => [i.sender, i.account])).toEqual([['haken@test.jp', 'baito@test.jp']]);
    expect(await o.call('queue.delayed')).toHaveLength(1);
    expect(o.internet.messages).toHaveLength(0);
  });

  it('From: a relay account changes nothing for an envelope in approval mode', async () => {
    o = await office();
    const r = await o.send('baito@test.jp', ['client@example.com'], mailWithAttachment('boss@test.jp', ['client@example.com']));
    expect(r.code).toBe(250);
    expect((await o.call('approvals.list')).map((i) => i.account)).toEqual(['baito@test.jp']);
  });
});
