/*
 * The outbound-control verbs (誤送信防止) through the real CLI against a running `gatehouse
 * serve` (real sockets, a real data folder, loopback sinks: the office server for test.jp and
 * "the internet" for example.com and archive.example): `accounts mode X delay --minutes N`,
 * then `queue cancel` (nothing sent) and `queue send-now` (sent at once); `approvals reject
 * --reason` (the sender's DSN carries the reason, nothing goes out) and `approvals approve`
 * (the copy sent on is delivered); `accounts bcc X ADDR` and
 * `--clear`; the per-sender limit on external recipients per hour (frozen past it, over real
 * SMTP) and `accounts unfreeze`; what `gatehouse check` prints for a held outcome; and
 * `message show` naming every outbound rule in plain words. One serve for all of them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { officeConfig, tempDir } from '../helpers/gateway.js';
import { TestSink, sleep, waitFor, writeConfig } from '../hardening/helpers.js';
import { officeRoutes, readable } from '../outbound/helpers.js';
import { cli, plainMail, sendFromOffice, serveWithAdmin, stopServed, type Served } from './served.js';

/** A `message show` line: local time, label, text (`text` is a regular expression source). */
const T = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}';
const line = (label: string, text: string) => new RegExp(`^${T}  ${label} +${text}$`, 'm');
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const DELAY = esc('(delay: the account delays external mail: the external copy waits so the sender can cancel it or send it now; colleagues get it at once)');
const HOLD = esc('(hold-approval: the account needs approval: the external copy is held until an approver decides; colleagues get it at once)');
const FROZEN = '451 4.7.1 <sato@test.jp> is frozen: it went past its sending limit; ask the administrator to unfreeze it';

function checkText(sender: string, rule: string, reply: string, why: string, riyu: string, outcome: string, port: number): string {
  return [
    `check: client 127.0.0.2, MAIL FROM:<${sender}>, RCPT TO:<client@example.com>`,
    'MAIL FROM  ACCEPT  rule=sender-ok',
    `  reply: 250 2.1.0 Sender <${sender}> OK`,
    `  why:   Sender <${sender}> accepted`,
    `  理由:  送信者 <${sender}> を受け付けました`,
    `RCPT TO    ACCEPT  rule=${rule}  account=${sender}`,
    `  reply: ${reply}`,
    `  why:   ${why}`,
    `  理由:  ${riyu}`,
    `outcome:   ${outcome}`,
    `route      example.com -> 127.0.0.1:${port} (transport override)`,
    '',
  ].join('\n');
}

describe('outbound-control verbs through the CLI and a running serve', { timeout: 90_000 }, () => {
  let office: TestSink;
  let internet: TestSink;
  let dir: string;
  let s: Served | null = null;
  const send = (from: string, to: string[], id: string, subject = id) => sendFromOffice(s!.port, from, to, plainMail(from, to, subject, id));
  const ids = (sink: TestSink, id: string) => sink.seen.filter((m) => m.messageId === `<${id}>`).map((m) => m.to);

  beforeAll(async () => {
    office = await TestSink.start();
    internet = await TestSink.start();
    dir = await tempDir('gatehouse-cli-outbound-');
    await writeConfig(
      dir,
      officeConfig((c) => {
        officeRoutes(c, office, internet);
        c.delivery.retrySchedule = [1];
        c.accounts = [{ pattern: 'baito@test.jp', blockExternal: false, allow: [], note: '', mode: 'approval', approvers: ['boss@test.jp'] }];
        c.outbound.adminAddress = 'admin@test.jp';
        c.outbound.bccConvertOver = 2;
        c.outbound.senderLimits = { enabled: true, messagesPerHour: 0, externalRecipientsPerHour: 4, freeze: 'temporary', exempt: [] };
      }),
    );
    s = await serveWithAdmin(dir);
  });
  afterAll(async () => {
    if (s) await stopServed(s);
    await office.down();
    await internet.down();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('accounts mode X delay --minutes N; queue cancel sends nothing, queue send-now sends at once', async () => {
    let r = await cli(dir, 'accounts', 'mode', 'tanaka@test.jp', 'delay', '--minutes', '7');
    expect(r).toEqual({ code: 0, err: '', out: 'tanaka@test.jp: delay (external mail waits, the sender may cancel it), 7 min (applies to the next RCPT)\n' });
    const cfg = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
    expect(cfg.accounts.find((a: { pattern: string }) => a.pattern === 'tanaka@test.jp')).toMatchObject({ mode: 'delay', delayMinutes: 7, blockExternal: false });

    r = await cli(dir, 'check', 'tanaka@test.jp', 'client@example.com', '--client', '127.0.0.2');
    expect(r).toEqual({
      code: 0,
      err: '',
      out: checkText(
        'tanaka@test.jp',
        'delay',
        '250 2.1.5 Recipient <client@example.com> OK, delayed',
        'Accepted; the external copy to <client@example.com> waits 7 min (account tanaka@test.jp: the sender may cancel it or send it at once); colleagues get it at once',
        '受け付けます。<client@example.com> 宛ての外部向けは 7 分保留します（アカウント tanaka@test.jp。送信者は取り消しや今すぐ送信ができます）。社内宛てはすぐに配送します',
        'accepted; the external copy is delayed',
        internet.port,
      ),
    });

    const a = await send('tanaka@test.jp', ['boss@test.jp', 'client@example.com'], 'delay.1@test.jp');
    expect(a.end?.code).toBe(250);
    const heldA = /external copy held as (\S+)\)/.exec(a.end!.text)![1]!;
    await waitFor(() => office.messages.some((m) => m.messageId === '<delay.1@test.jp>'), 10_000, "the colleague's copy");
    r = await cli(dir, 'queue', 'delayed', '--json');
    const delayed = JSON.parse(r.out) as { id: string; receivedAt: string; until: string; recipients: string[] }[];
    expect(delayed.map((d) => [d.id, d.recipients])).toEqual([[heldA, ['client@example.com']]]);
    expect(Date.parse(delayed[0]!.until) - Date.parse(delayed[0]!.receivedAt)).toBe(7 * 60_000);

    r = await cli(dir, 'queue', 'cancel', heldA);
    expect(r).toEqual({ code: 0, err: '', out: `cancelled ${heldA}: nothing goes to its external recipients\n` });
    expect((await cli(dir, 'queue', 'delayed')).out).toBe('no delayed mail\n');
    r = await cli(dir, 'queue', 'cancel', heldA);
    expect(r.code).toBe(2);
    expect(r.err).toContain(heldA);

    const b = await send('tanaka@test.jp', ['client@example.com'], 'delay.2@test.jp');
    expect(b.end?.code).toBe(250);
    const heldB = /queued as (\S+) \(held\)/.exec(b.end!.text)![1]!;
    await sleep(800);
    expect(ids(internet, 'delay.2@test.jp')).toEqual([]);
    r = await cli(dir, 'queue', 'send-now', heldB);
    expect(r.code).toBe(0);
    const released = /^sent (\S+) now: queued for its external recipients as (\S+)\n$/.exec(r.out);
    expect(released?.[1]).toBe(heldB);
    await waitFor(() => ids(internet, 'delay.2@test.jp').length === 1, 10_000, 'the delayed mail sent now');
    await sleep(500);
    expect(ids(internet, 'delay.2@test.jp')).toEqual([['client@example.com']]);
    expect(ids(internet, 'delay.1@test.jp')).toEqual([]);
    r = await cli(dir, 'queue', 'send-now', heldB);
    expect(r.code).toBe(2);

    // The timelines name the outbound rules in plain words.
    r = await cli(dir, 'message', 'show', heldA);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(line('decision', `recipient client@example\\.com: accepted ${DELAY}`));
    expect(r.out).toMatch(line('held', `as ${heldA} for client@example\\.com until ${T} ${DELAY}`));
    expect(r.out).toMatch(line('queued', 'as \\S+ for boss@test\\.jp'));
    expect(r.out).toMatch(line('decision', `held copy ${heldA}: ${esc('delay-cancelled: the delayed mail was cancelled: nothing went to its external recipients; by cli; cancelled: nothing sent to the external recipients')}`));
    expect(r.out).toMatch(line('delivered', 'boss@test\\.jp'));
    expect(r.out).not.toMatch(/delivered +client@example\.com/);
    // Cancelled by the sender: refused, not waiting for ever.
    expect(r.out).toContain('\nOutcome: delivered (1 recipient(s) refused)\n');
    r = await cli(dir, 'message', 'show', heldB);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(line('held', `as ${heldB} for client@example\\.com until ${T} ${DELAY}`));
    expect(r.out).not.toMatch(line('queued', '.*'));
    expect(r.out).toMatch(line('decision', `held copy ${heldB}: ${esc(`delay-sent-now: the delayed mail was sent at once, before its time; by cli; 1 external recipient(s) sent on as ${released![2]}`)}`));
    // The copy sent on is the same message: its attempt and its delivery are on the timeline.
    expect(r.out).toMatch(line('attempt 1', `127\\.0\\.0\\.1:${internet.port} \\(override, no TLS\\): delivered 250 .*\\[client@example\\.com delivered\\]`));
    expect(r.out).toMatch(line('delivered', 'client@example\\.com'));
    expect(r.out).toContain('\nOutcome: delivered\n');
  });

  it('approvals reject --reason: nothing goes out, the sender gets a DSN with the reason; approvals approve: on the timeline to its delivery', async () => {
    let r = await cli(dir, 'check', 'baito@test.jp', 'client@example.com', '--client', '127.0.0.2');
    expect(r).toEqual({
      code: 0,
      err: '',
      out: checkText(
        'baito@test.jp',
        'hold-approval',
        '250 2.1.5 Recipient <client@example.com> OK, held for approval',
        'Accepted; external copy to <client@example.com> held for approval by boss@test.jp (account baito@test.jp; rejected with a DSN after 24 h without a decision); colleagues get it at once',
        '受け付けます。<client@example.com> 宛ての外部向けは boss@test.jp の承認待ちで保留します（アカウント baito@test.jp。24 時間以内に承認されなければエラーメールで差し戻します）。社内宛てはすぐに配送します',
        'accepted; the external copy is held for approval',
        internet.port,
      ),
    });

    const m = await send('baito@test.jp', ['boss@test.jp', 'client@example.com'], 'appr.1@test.jp', 'approval test');
    expect(m.end?.code).toBe(250);
    const id = /external copy held as (\S+)\)/.exec(m.end!.text)![1]!;
    r = await cli(dir, 'approvals', 'list', '--json');
    expect(JSON.parse(r.out).map((i: { id: string }) => i.id)).toEqual([id]);
    const reason = '宛先違い: wrong customer';
    r = await cli(dir, 'approvals', 'reject', id, '--reason', reason);
    expect(r).toEqual({ code: 0, err: '', out: `rejected ${id}: not sent; the sender gets a bounce with the reason "${reason}"\n` });
    const dsn = await waitFor(() => office.messages.find((x) => x.from === '' && x.to.includes('baito@test.jp') && /X-Gatehouse-Notice: rejected/.test(x.raw.toString('latin1'))), 10_000, "baito's DSN");
    expect(dsn.to).toEqual(['baito@test.jp']);
    const text = readable(dsn.raw);
    expect(text).toContain(`Reason: ${reason}`);
    expect(text).toContain(`理由: ${reason}`);
    expect(text).toContain('Rejected by: cli');
    expect(dsn.raw.toString('latin1')).toContain('Diagnostic-Code: X-Gatehouse; rejected by the approver (cli): ????: wrong customer');
    await sleep(500);
    expect(ids(internet, 'appr.1@test.jp')).toEqual([]);
    expect(ids(office, 'appr.1@test.jp')).toEqual([['boss@test.jp']]);
    r = await cli(dir, 'approvals', 'reject', id, '--reason', 'again');
    expect(r.code).toBe(2);
    expect(r.err).toContain('already rejected');

    r = await cli(dir, 'message', 'show', id);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(line('decision', `recipient client@example\\.com: accepted ${HOLD}`));
    expect(r.out).toMatch(line('held', `as ${id} for client@example\\.com until ${T} ${HOLD}`));
    expect(r.out).toMatch(line('decision', `held copy ${id}: ${esc(`rejected-by-approver: an approver rejected the held mail: not sent; the sender got a bounce with the reason; by cli; not sent; bounce to the sender; reason: ${reason}`)}`));
    expect(r.out).toMatch(line('bounced', 'client@example\\.com'));
    expect(r.out).toMatch(line('delivered', 'boss@test\\.jp'));

    // Approved: the copy sent on is delivered, and the timeline shows it.
    const m2 = await send('baito@test.jp', ['client@example.com'], 'appr.2@test.jp', 'approval test 2');
    const id2 = /queued as (\S+) \(held\)/.exec(m2.end!.text)![1]!;
    r = await cli(dir, 'approvals', 'approve', id2, '--as', 'boss@test.jp');
    expect(r.code).toBe(0);
    const sentOn = /^approved (\S+): sent on to its external recipients as (\S+)\n$/.exec(r.out);
    expect(sentOn?.[1], r.out).toBe(id2);
    await waitFor(() => ids(internet, 'appr.2@test.jp').length === 1, 10_000, 'the approved copy');
    r = await cli(dir, 'message', 'show', id2);
    expect(r.out).toMatch(line('decision', `held copy ${id2}: ${esc(`approved: an approver approved the held mail: sent on to its external recipients; by cli boss@test.jp; 1 external recipient(s) sent on as ${sentOn![2]}`)}`));
    expect(r.out).toMatch(line('attempt 1', `127\\.0\\.0\\.1:${internet.port} \\(override, no TLS\\): delivered 250 .*\\[client@example\\.com delivered\\]`));
    expect(r.out).toMatch(line('delivered', 'client@example\\.com'));
    expect(r.out).toContain('\nOutcome: delivered\n');
  });

  it('accounts bcc X ADDR adds the archive (envelope only); --clear stops it', async () => {
    let r = await cli(dir, 'accounts', 'bcc', 'suzuki@test.jp', 'archive@archive.example');
    expect(r).toEqual({ code: 0, err: '', out: 'suzuki@test.jp: external mail also goes (Bcc, envelope only) to archive@archive.example\n' });
    const one = await send('suzuki@test.jp', ['client@example.com'], 'bcc.1@test.jp');
    expect(one.end?.code).toBe(250);
    await waitFor(() => ids(internet, 'bcc.1@test.jp').flat().length === 2, 10_000, 'the customer and the archive');
    expect(ids(internet, 'bcc.1@test.jp').flat().sort()).toEqual(['archive@archive.example', 'client@example.com']);
    for (const m of internet.seen.filter((x) => x.messageId === '<bcc.1@test.jp>')) expect(m.raw.toString('latin1')).not.toContain('archive@archive.example');
    const bccQueue = /queued as (\S+)/.exec(one.end!.text)![1]!;

    r = await cli(dir, 'accounts', 'bcc', 'suzuki@test.jp', '--clear');
    expect(r).toEqual({ code: 0, err: '', out: 'suzuki@test.jp: no automatic Bcc\n' });
    const cfg = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
    expect(cfg.accounts.find((a: { pattern: string }) => a.pattern === 'suzuki@test.jp')?.bcc ?? []).toEqual([]);
    const two = await send('suzuki@test.jp', ['client@example.com'], 'bcc.2@test.jp');
    expect(two.end?.code).toBe(250);
    await waitFor(() => ids(internet, 'bcc.2@test.jp').length === 1, 10_000, 'the customer');
    await sleep(800);
    expect(ids(internet, 'bcc.2@test.jp')).toEqual([['client@example.com']]);
    r = await cli(dir, 'accounts', 'bcc', 'suzuki@test.jp');
    expect(r.code).toBe(2);
    expect(r.err).toBe('gatehouse: bcc needs one or more addresses, or --clear\n');

    r = await cli(dir, 'message', 'show', bccQueue);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(line('decision', `recipient archive@archive\\.example: accepted ${esc("(bcc-added: automatic Bcc of the sender's account (envelope only, no header changed))")}`));
    expect(r.out).toMatch(line('delivered', 'archive@archive\\.example'));
  });

  it('externalRecipientsPerHour: the message past the limit is refused and the sender frozen; accounts unfreeze lets it send again', async () => {
    // Limit 4 external recipients an hour: 3 + 1 pass (the colleague does not count), the 5th freezes.
    const first = await send('sato@test.jp', ['c1@example.com', 'c2@example.com', 'c3@example.com'], 'lim.1@test.jp');
    expect(first.end?.code).toBe(250);
    const second = await send('sato@test.jp', ['boss@test.jp', 'c4@example.com'], 'lim.2@test.jp');
    expect(second.end?.code).toBe(250);
    const third = await send('sato@test.jp', ['c5@example.com'], 'lim.3@test.jp');
    expect(third.rcpt.map((x) => x.code)).toEqual([250]);
    expect(third.end?.code).toBe(451);
    expect(third.end?.text).toBe(FROZEN);
    // Frozen from MAIL FROM on, for mail to colleagues too.
    const fourth = await send('sato@test.jp', ['boss@test.jp'], 'lim.4@test.jp');
    expect(fourth.mail.code).toBe(451);
    expect(fourth.mail.text).toBe(FROZEN);

    let r = await cli(dir, 'accounts', 'frozen', '--json');
    expect(JSON.parse(r.out)).toEqual([expect.objectContaining({ address: 'sato@test.jp', limit: 'external-recipients', count: 5, max: 4 })]);
    const notice = await waitFor(() => office.messages.find((m) => m.to.includes('admin@test.jp')), 10_000, 'the admin notice');
    expect(readable(notice.raw)).toContain('gatehouse accounts unfreeze sato@test.jp');
    r = await cli(dir, 'check', 'sato@test.jp', 'boss@test.jp', '--client', '127.0.0.2');
    expect(r.code).toBe(1);
    expect(r.out.split('\n').slice(0, 3)).toEqual(['check: client 127.0.0.2, MAIL FROM:<sato@test.jp>, RCPT TO:<boss@test.jp>', 'MAIL FROM  REJECT  rule=sender-frozen', `  reply: ${FROZEN}`]);
    expect(r.out).toContain('unfreeze: gatehouse accounts unfreeze sato@test.jp');

    await waitFor(() => internet.messages.filter((m) => m.from === 'sato@test.jp').flatMap((m) => m.to).length === 4, 10_000, "sato's 4 external copies");
    await sleep(500);
    expect(internet.seen.filter((m) => m.from === 'sato@test.jp').flatMap((m) => m.to).sort()).toEqual(['c1@example.com', 'c2@example.com', 'c3@example.com', 'c4@example.com']);

    r = await cli(dir, 'accounts', 'unfreeze', 'sato@test.jp');
    expect(r).toEqual({ code: 0, err: '', out: 'sato@test.jp: unfrozen (its mail is accepted again from the next MAIL FROM)\n' });
    expect((await cli(dir, 'accounts', 'frozen')).out).toBe('no sender is frozen\n');
    const after = await send('sato@test.jp', ['c5@example.com'], 'lim.5@test.jp');
    expect(after.end?.code).toBe(250);
    await waitFor(() => ids(internet, 'lim.5@test.jp').length === 1, 10_000, 'the mail after unfreeze');
    expect(ids(internet, 'lim.3@test.jp')).toEqual([]);
    r = await cli(dir, 'accounts', 'unfreeze', 'sato@test.jp');
    expect(r.code).toBe(2);
    expect(r.err).toContain('is not frozen');
    const history = (await cli(dir, 'history')).out;
    expect(history).toMatch(/ smtp +frozen sato@test\.jp \(external-recipients 5 > 4 per hour\)/);
    expect(history).toMatch(/ cli +unfrozen sato@test\.jp/);

    // The refused message's own timeline names the freeze; the first one's the Bcc conversion.
    r = await cli(dir, 'message', 'search', 'c5@example.com');
    const refused = /^\S+ \S+ +(\S+) +rejected +sato@test\.jp +c5@example\.com/m.exec(r.out)?.[1];
    expect(refused, r.out).toBeDefined();
    r = await cli(dir, 'message', 'show', refused!);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(line('decision', `message REFUSED ${esc(`(sender-frozen: the sender went past its hourly sending limit and is frozen until an admin unfreezes it) ${FROZEN}`)}`));
    r = await cli(dir, 'message', 'show', /queued as (\S+)/.exec(first.end!.text)![1]!);
    expect(r.out).toMatch(line('decision', `message: ${esc('bcc-convert: many external To/Cc addresses: turned into an undisclosed-recipients group (every recipient still gets it) (3 external To/Cc addresses: To/Cc turned into undisclosed-recipients)')}`));
  });
});
