/*
 * Automatic Bcc (envelope only: the archive gets the very bytes the customer gets), Bcc
 * conversion (11 external To addresses: the sink sees no address list, every recipient gets
 * it), and per-sender limits (frozen after the limit with 4xx or 5xx, durable across a
 * restart, the admin told, unfrozen by one command), over real sockets; the header rewrite
 * itself on folded fields, encoded words, groups and comments.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { convertToBcc, externalToCc } from '../../main/core/outbound/bcc-convert.js';
import { openOffice, readable, waitFor, type Office } from './helpers.js';

let o: Office | undefined;
afterEach(async () => {
  await o?.close();
  o = undefined;
});

const plain = (from: string, to: string, subject = 'hello', extra = '') =>
  `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${Math.random().toString(36).slice(2)}@test.jp>\r\n${extra}\r\nbody line\r\n`;

describe('automatic Bcc (BCC自動追加)', () => {
  it('adds the archive to the envelope only; its copy is byte for byte the customer’s', async () => {
    o = await openOffice((c) => {
      c.accounts = [{ pattern: 'tanaka@test.jp', blockExternal: false, allow: [], note: '', bcc: ['archive@archive.example'] }];
    });
    const r = await o.send('tanaka@test.jp', ['client@example.com'], plain('tanaka@test.jp', 'client@example.com'));
    expect(r.code).toBe(250);
    await waitFor(() => o!.internet.messages.flatMap((m) => m.to).length >= 2, 8000, 'both copies');
    const copies = o.internet.messages;
    const all = copies.flatMap((m) => m.to).sort();
    expect(all).toEqual(['archive@archive.example', 'client@example.com']);
    const raws = copies.map((m) => m.raw);
    if (raws.length === 2) expect(raws[0]!.equals(raws[1]!)).toBe(true);
    expect(raws[0]!.toString('latin1')).not.toContain('archive@archive.example');
    const lines = await o.tg.receive();
    expect(lines.find((e) => e.rule === 'bcc-added')).toMatchObject({ recipient: 'archive@archive.example', account: 'tanaka@test.jp' });
    // Internal-only mail gets no Bcc.
    const before = lines.filter((e) => e.rule === 'bcc-added').length;
    await o.send('tanaka@test.jp', ['boss@test.jp'], plain('tanaka@test.jp', 'boss@test.jp'));
    expect((await o.tg.receive()).filter((e) => e.rule === 'bcc-added')).toHaveLength(before);
  });
});

describe('Bcc conversion (宛先BCC化)', () => {
  it('11 external To addresses: the sink sees no address list, every recipient gets it', async () => {
    o = await openOffice((c) => {
      c.outbound.bccConvertOver = 10;
    });
    const rcpts = Array.from({ length: 11 }, (_, i) => `customer${i}@example.com`);
    // A folded To with a comment and a quoted, encoded name; a Cc with a group.
    const to = `${rcpts.slice(0, 6).join(',\r\n  ')}`;
    const cc = `"=?UTF-8?B?${Buffer.from('顧客', 'utf8').toString('base64')}?=" <${rcpts[6]}> (first), list: ${rcpts.slice(7).join(', ')};`;
    const r = await o.send('tanaka@test.jp', [...rcpts, 'boss@test.jp'], plain('tanaka@test.jp', to, 'news', `Cc: ${cc}\r\n`));
    expect(r.code).toBe(250);
    await waitFor(() => o!.internet.messages.flatMap((m) => m.to).length === 11, 8000, 'all 11 external recipients');
    await waitFor(() => o!.office.messages.some((m) => m.to.includes('boss@test.jp')), 8000, 'the colleague');
    for (const m of [...o.internet.messages, ...o.office.messages]) {
      const head = m.raw.toString('latin1').split('\r\n\r\n')[0]!;
      expect(head).toMatch(/^To: undisclosed-recipients:;$/m);
      expect(head).not.toMatch(/^Cc:/im);
      for (const a of rcpts) expect(head).not.toContain(a);
      expect(head).toContain('Subject: news');
    }
    expect(o.internet.messages.flatMap((m) => m.to).sort()).toEqual([...rcpts].sort());
    expect((await o.tg.receive()).find((e) => e.rule === 'bcc-convert')?.note).toContain('11 external');
  });

  it('rewrites only To/Cc, keeps every other byte; counts groups, comments, encoded names', () => {
    const internal = (d: string) => d === 'test.jp';
    const body = Buffer.from(
      'Received: x\r\nTo: a@example.com,\r\n\tb@example.com (comment), boss@test.jp\r\nSubject: =?UTF-8?B?5LqI?=\r\nCC: grp: "=?UTF-8?Q?=E9=A1=A7?=" <c@example.com>;\r\nX-Other: keep\r\n\r\nTo: not a header\r\n',
      'latin1',
    );
    expect(externalToCc(body, internal).sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
    expect(convertToBcc(body).toString('latin1')).toBe('Received: x\r\nTo: undisclosed-recipients:;\r\nSubject: =?UTF-8?B?5LqI?=\r\nX-Other: keep\r\n\r\nTo: not a header\r\n');
    const none = Buffer.from('Subject: x\r\n\r\nbody\r\n');
    expect(convertToBcc(none)).toBe(none);
  });
});

describe('per-sender limits (凍結)', () => {
  for (const freeze of ['temporary', 'permanent'] as const) {
    it(`freezes after the limit (${freeze}), survives a restart, tells the admin, unfreezes`, async () => {
      o = await openOffice((c) => {
        c.outbound.adminAddress = 'admin@test.jp';
        c.outbound.senderLimits = { enabled: true, messagesPerHour: 2, externalRecipientsPerHour: 100, freeze, exempt: ['news@test.jp'] };
      });
      const code = freeze === 'temporary' ? 451 : 550;
      const frozenEvents: { address: string }[][] = [];
      o.tg.gw.on('frozen', (list) => frozenEvents.push(list));
      for (let i = 0; i < 2; i++) expect((await o.send('tanaka@test.jp', ['client@example.com'], plain('tanaka@test.jp', 'client@example.com'))).code).toBe(250);
      const third = await o.send('tanaka@test.jp', ['client@example.com'], plain('tanaka@test.jp', 'client@example.com'));
      expect(third.code).toBe(code);
      // Refused from MAIL FROM on.
      const fourth = await o.send('tanaka@test.jp', ['client@example.com'], plain('tanaka@test.jp', 'client@example.com'));
      expect(fourth.code).toBe(code);
      expect(fourth.text).toContain(freeze === 'temporary' ? '4.7.1' : '5.7.1');
      // The exempt newsletter sender is never counted.
      for (let i = 0; i < 3; i++) expect((await o.send('news@test.jp', ['client@example.com'], plain('news@test.jp', 'client@example.com'))).code).toBe(250);
      const notice = await waitFor(() => o!.office.messages.find((m) => m.to.includes('admin@test.jp')), 8000, 'the admin notice');
      expect(readable(notice.raw)).toContain('gatehouse accounts unfreeze tanaka@test.jp');
      expect((await o.call('accounts.frozen')).map((f) => f.address)).toEqual(['tanaka@test.jp']);
      expect(frozenEvents.at(-1)?.map((f) => f.address)).toEqual(['tanaka@test.jp']);
      await o.restart();
      expect((await o.send('tanaka@test.jp', ['boss@test.jp'], plain('tanaka@test.jp', 'boss@test.jp'))).code).toBe(code);
      const check = await o.call('check', { sender: 'tanaka@test.jp', recipient: 'client@example.com', clientIp: '127.0.0.2' });
      expect(check.sender).toMatchObject({ rule: 'sender-frozen', code });
      await o.call('accounts.unfreeze', { address: 'tanaka@test.jp' }, 'ui');
      expect((await o.send('tanaka@test.jp', ['client@example.com'], plain('tanaka@test.jp', 'client@example.com'))).code).toBe(250);
      await expect(o.call('accounts.unfreeze', { address: 'tanaka@test.jp' })).rejects.toMatchObject({ code: 'not-found' });
      const lines = await o.tg.receive();
      expect(lines.filter((e) => e.rule === 'sender-frozen').map((e) => e.event)).toEqual(['data', 'mail', 'mail']);
      const actions = await o.call('history.actions');
      expect(actions.map((a) => a.action)).toEqual(['unfrozen', 'frozen']);
      expect(actions[0]!.by).toEqual({ via: 'ui' });
    });
  }
});
