/*
 * The seed's scenario with 上長承認 (approval), over real sockets and files: baito@test.jp in
 * approval mode sends one message to boss@test.jp and client@example.com. boss gets it at once
 * at the office sink; the external copy is held; baito and the approver get notices; the
 * approvals list shows the decoded preview; approving delivers it to the external sink exactly
 * once (also after a restart between); a second approval, an unknown id and rejecting a
 * decided one are refused and change nothing; rejecting sends baito a DSN with the reason;
 * expiry does the same by itself (and `gatehouse message show` words it). Rule names are
 * checked in the receivelog and senderlog.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../hardening/helpers.js';
import { ApiError } from '../../main/shared/contract.js';
import { mailWithAttachment, openOffice, readable, waitFor, type Office } from './helpers.js';

let o: Office;
afterEach(async () => {
  await o?.close();
});

const approvalOffice = () =>
  openOffice((c) => {
    c.accounts = [{ pattern: 'baito@test.jp', blockExternal: false, allow: [], note: 'part-timer', mode: 'approval', approvers: ['boss@test.jp'], standIn: 'sub@test.jp', expireHours: 24 }];
  });

async function sendHeld(o: Office): Promise<string> {
  const r = await o.send('baito@test.jp', ['boss@test.jp', 'client@example.com'], mailWithAttachment('baito@test.jp', ['boss@test.jp', 'client@example.com']));
  expect(r.rcpt.map((x) => x.code)).toEqual([250, 250]);
  expect(r.code).toBe(250);
  // Both ids in one reply; `queued as <id>` stays the first token after it, as clients parse it.
  expect(r.text).toMatch(/^250 2\.0\.0 Ok: queued as [^\s;()]+ \(external copy held as [^\s)]+\)$/);
  const held = /held as ([^\s)]+)/.exec(r.text);
  expect(held).not.toBeNull();
  return held![1]!;
}

const to = (o: Office, rcpt: string) => o.office.messages.filter((m) => m.to.includes(rcpt));

describe('approval (上長承認)', () => {
  it('delivers internal at once, holds the external copy, notices, approve exactly once', async () => {
    o = await approvalOffice();
    const events: { id: string }[][] = [];
    o.tg.gw.on('approvals', (list) => events.push(list));
    const id = await sendHeld(o);
    // The event carries the list itself (the window applies it without asking).
    await waitFor(() => events.some((l) => l.length === 1 && l[0]!.id === id), 8000, 'the approvals event');
    // boss (a colleague) gets the message itself at once; nothing goes outside.
    await waitFor(() => to(o, 'boss@test.jp').some((m) => m.from === 'baito@test.jp'), 8000, 'the internal copy');
    // Notices: to baito (held) and to the approvers (boss and the stand-in), null sender.
    await waitFor(() => to(o, 'baito@test.jp').length >= 1 && to(o, 'sub@test.jp').length >= 1, 8000, 'the held notices');
    const heldNotice = to(o, 'baito@test.jp')[0]!;
    expect(heldNotice.from).toBe('');
    expect(heldNotice.raw.toString('latin1')).toMatch(/^Auto-Submitted: auto-generated/m);
    expect(readable(heldNotice.raw)).toContain('見積書の送付');
    expect(readable(heldNotice.raw)).toContain('mitsumori.pdf');
    const request = o.office.messages.find((m) => m.to.includes('boss@test.jp') && m.from === '')!;
    expect(readable(request.raw)).toContain(`gatehouse approvals approve ${id}`);
    expect(o.internet.messages).toHaveLength(0);

    const list = await o.call('approvals.list');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id, kind: 'approval', sender: 'baito@test.jp', recipients: ['client@example.com'], approvers: ['boss@test.jp'], standIn: 'sub@test.jp' });
    expect(list[0]!.preview.subject).toBe('見積書の送付');
    expect(list[0]!.preview.attachments).toEqual([{ name: 'mitsumori.pdf', size: 3000, type: 'application/pdf' }]);
    expect(list[0]!.preview.text.split('\n')[0]).toBe('お世話になっております。');

    expect(o.tg.gw.status().outbound).toEqual({ approvals: 1, delayed: 0, frozen: 0 });
    const r = await o.call('approvals.approve', { id, as: 'boss@test.jp' });
    expect(r.queueId).toMatch(/\S/);
    await waitFor(() => o.internet.messages.length >= 1, 8000, 'the external copy');
    expect(o.internet.messages[0]!.to).toEqual(['client@example.com']);
    // Approved notice to baito.
    await waitFor(() => to(o, 'baito@test.jp').some((m) => readable(m.raw).includes('承認され、送信しました')), 8000, 'the approved notice');

    // Decided: a second approval, a rejection and an unknown id are refused and change nothing.
    // The refusal says what, who (door and address) and when as params, for the window's words.
    await expect(o.call('approvals.approve', { id })).rejects.toMatchObject({ code: 'conflict', params: { id, action: 'approved', via: 'cli', by: 'boss@test.jp', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) } });
    await expect(o.call('approvals.reject', { id, reason: 'late' })).rejects.toMatchObject({ code: 'conflict' });
    const unknown = await o.call('approvals.approve', { id: 'nosuchid-0000-0000' }).catch((e: ApiError) => e);
    expect(unknown).toBeInstanceOf(ApiError);
    expect((unknown as ApiError).code).toBe('not-found');
    await new Promise((r) => setTimeout(r, 500));
    expect(o.internet.messages).toHaveLength(1);
    expect(await o.call('approvals.list')).toEqual([]);
    expect(o.tg.gw.status().outbound).toEqual({ approvals: 0, delayed: 0, frozen: 0 });
    await waitFor(() => events.at(-1)?.length === 0, 8000, 'the approvals event after the decision');

    const receive = await o.tg.receive();
    expect(receive.find((e) => e.event === 'rcpt' && e.recipient === 'client@example.com')?.rule).toBe('hold-approval');
    const approved = receive.find((e) => e.event === 'hold' && e.rule === 'approved');
    expect(approved).toMatchObject({ queueId: id, by: 'cli boss@test.jp', account: 'baito@test.jp' });
    const actions = await o.call('history.actions');
    expect(actions[0]).toMatchObject({ action: 'approved', subject: id, by: { via: 'cli', address: 'boss@test.jp' } });
  });

  it('approving after a restart delivers exactly once', async () => {
    o = await approvalOffice();
    const id = await sendHeld(o);
    await waitFor(() => to(o, 'sub@test.jp').length >= 1, 8000, 'the held notices');
    await o.restart();
    const list = await o.call('approvals.list');
    expect(list.map((i) => i.id)).toEqual([id]);
    await o.call('approvals.approve', { id });
    await waitFor(() => o.internet.messages.length >= 1, 8000, 'the external copy');
    await o.restart();
    await new Promise((r) => setTimeout(r, 800));
    expect(o.internet.messages).toHaveLength(1);
    // Notices are not sent again after the restart.
    expect(to(o, 'sub@test.jp').filter((m) => readable(m.raw).includes('承認を待っています'))).toHaveLength(1);
    await expect(o.call('approvals.approve', { id })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('reject sends baito a DSN with the reason, and nothing goes outside', async () => {
    o = await approvalOffice();
    const id = await sendHeld(o);
    await o.call('approvals.reject', { id, reason: 'wrong customer / 宛先違い' }, 'ui');
    const dsn = await waitFor(() => to(o, 'baito@test.jp').find((m) => /multipart\/report/i.test(m.raw.toString('latin1'))), 8000, 'the DSN');
    expect(dsn.from).toBe('');
    const text = readable(dsn.raw);
    expect(text).toContain('wrong customer / 宛先違い');
    expect(text).toMatch(/Status: 5\.7\.1/);
    expect(text).toContain('client@example.com');
    await waitFor(() => to(o, 'boss@test.jp').some((m) => readable(m.raw).includes('差し戻しました')), 8000, 'the approvers’ notice');
    expect(o.internet.messages).toHaveLength(0);
    const send = await o.tg.send();
    expect(send.find((e) => e.rule === 'rejected-by-approver')).toMatchObject({ queueId: id, outcome: 'bounced' });
    expect((await o.tg.receive()).find((e) => e.event === 'hold')).toMatchObject({ rule: 'rejected-by-approver', by: 'ui', decision: 'reject' });
  });

  it('expires by itself: a DSN to baito, nothing outside', async () => {
    o = await approvalOffice();
    const id = await sendHeld(o);
    o.clock.offsetMs = 25 * 3600_000;
    o.tg.gw.outbound.held.wake();
    const dsn = await waitFor(() => to(o, 'baito@test.jp').find((m) => /multipart\/report/i.test(m.raw.toString('latin1'))), 8000, 'the expiry DSN');
    expect(readable(dsn.raw)).toContain('期限までに承認されなかった');
    expect(dsn.raw.toString('latin1')).toContain('Diagnostic-Code: X-Gatehouse; approval expired');
    expect(o.internet.messages).toHaveLength(0);
    expect((await o.tg.receive()).find((e) => e.event === 'hold')).toMatchObject({ rule: 'approval-expired', by: 'timer', queueId: id });
    expect((await o.call('history.actions'))[0]).toMatchObject({ action: 'expired', by: { via: 'timer' } });
    // `gatehouse message show` (the real CLI, reading the files) words the expiry.
    await o.tg.receive();
    await o.tg.send();
    const shown = spawnSync(process.execPath, [BIN, 'message', 'show', id, '--data', o.tg.dir], { encoding: 'utf8', timeout: 30_000 });
    expect(shown.stderr).toBe('');
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/ decision +held copy \S+: approval-expired: nobody approved the held mail in time: not sent; the sender got a bounce; by timer; not sent; bounce to the sender$/m);
    expect(shown.stdout).toMatch(/ bounced +client@example\.com$/m);
  });
});

describe('delay (一時保留)', () => {
  const delayOffice = () =>
    openOffice((c) => {
      c.accounts = [{ pattern: '*@test.jp', blockExternal: false, allow: [], note: 'office default', mode: 'delay', delayMinutes: 1 }];
    });

  async function sendDelayed(o: Office): Promise<string> {
    const r = await o.send('tanaka@test.jp', ['client@example.com'], mailWithAttachment('tanaka@test.jp', ['client@example.com']));
    expect(r.rcpt[0]!.code).toBe(250);
    const m = /queued as (\S+) \(held\)/.exec(r.text);
    expect(m).not.toBeNull();
    return m![1]!;
  }

  it('cancel: nothing is sent', async () => {
    o = await delayOffice();
    const id = await sendDelayed(o);
    expect((await o.call('queue.delayed')).map((i) => i.id)).toEqual([id]);
    await o.call('queue.cancel', { id });
    o.clock.offsetMs = 5 * 60_000;
    o.tg.gw.outbound.held.wake();
    await new Promise((r) => setTimeout(r, 800));
    expect(o.internet.messages).toHaveLength(0);
    expect((await o.tg.receive()).find((e) => e.event === 'hold')?.rule).toBe('delay-cancelled');
    await expect(o.call('queue.sendNow', { id })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('send-now: sent at once; and a delay that runs out sends by itself', async () => {
    o = await delayOffice();
    const id = await sendDelayed(o);
    await o.call('queue.sendNow', { id });
    await waitFor(() => o.internet.messages.length === 1, 8000, 'the sent-now copy');
    const id2 = await sendDelayed(o);
    await new Promise((r) => setTimeout(r, 300));
    expect(o.internet.messages).toHaveLength(1);
    // An approval verb on delayed mail is the wrong kind.
    await expect(o.call('approvals.approve', { id: id2 })).rejects.toMatchObject({ code: 'bad-request' });
    o.clock.offsetMs = 2 * 60_000;
    o.tg.gw.outbound.held.wake();
    await waitFor(() => o.internet.messages.length === 2, 8000, 'the delayed copy going out by itself');
    const rules = (await o.tg.receive()).filter((e) => e.event === 'hold').map((e) => e.rule);
    expect(rules).toEqual(['delay-sent-now', 'delay']);
  });
});
