/*
 * The held queue at its files, without SMTP: link tokens for the LAN page (256 bits, stored
 * only hashed; a forged, reused, expired or wrong-purpose token is refused and changes
 * nothing; a used one stays refused after a restart), and the crash story of a decision (a
 * decision written but not finished is finished at open, and what the main spool's markers
 * show was written is not written again: the approved copy exists exactly once).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActionLog, HeldQueue, marker, type LinkMaker } from '../../main/core/outbound/index.js';
import { hashToken, TOKEN_BYTES } from '../../main/core/outbound/tokens.js';
import { Spool, type SpoolHeader } from '../../main/core/spool/index.js';
import { compilePolicy } from '../../main/core/policy/index.js';
import { officeConfig, tempDir } from '../helpers/gateway.js';
import type { ReceiveLogEntry } from '../../main/shared/types.js';

const cfg = officeConfig();
const policy = compilePolicy(cfg);

interface Rig {
  dir: string;
  main: Spool;
  held: HeldQueue;
  enqueued: SpoolHeader[];
  log: ReceiveLogEntry[];
  clock: { offset: number };
  open(links?: LinkMaker): Promise<void>;
  close(): Promise<void>;
}

async function rig(): Promise<Rig> {
  const dir = await tempDir('gatehouse-held-');
  const r: Rig = {
    dir,
    main: null as unknown as Spool,
    held: null as unknown as HeldQueue,
    enqueued: [],
    log: [],
    clock: { offset: 0 },
    async open(links) {
      r.main = new Spool(path.join(dir, 'spool'));
      const { recovered } = await r.main.open();
      r.held = new HeldQueue({
        dir: path.join(dir, 'spool', 'held'),
        main: r.main,
        enqueue: (h) => r.enqueued.push(h),
        config: () => cfg,
        policy: () => policy,
        logReceive: (e) => r.log.push(e),
        logSend: () => undefined,
        actions: new ActionLog(dir),
        changed: () => undefined,
        links,
        now: () => new Date(Date.now() + r.clock.offset),
      });
      await r.held.open(recovered);
    },
    async close() {
      await r.held.close();
      await r.main.close();
    },
  };
  return r;
}

const body = Buffer.from('From: baito@test.jp\r\nTo: client@example.com\r\nSubject: quote\r\n\r\nhello\r\n');

async function hold(r: Rig, kind: 'approval' | 'delay', hours = 24): Promise<SpoolHeader> {
  const until = new Date(Date.now() + hours * 3600_000).toISOString();
  const h = await r.held.spool.write(
    { sender: 'baito@test.jp', recipients: ['client@example.com'], clientIp: '127.0.0.2', session: 's1', trusted: true, meta: { kind, account: 'baito@test.jp', until, approvers: ['boss@test.jp'], standIn: '' } },
    body,
  );
  r.held.written(h);
  return h;
}

const released = (r: Rig) => r.enqueued.filter((h) => h.session.endsWith(':release'));

let r: Rig;
beforeEach(async () => {
  r = await rig();
});
afterEach(async () => {
  await r.close().catch(() => undefined);
  await fs.rm(r.dir, { recursive: true, force: true });
});

describe('link tokens', () => {
  it('approver links: one per approver, approve once; reuse, forgery, wrong action refused', async () => {
    const links: string[] = [];
    await r.open({ approver: (t) => (links.push(t), `https://gw.test.jp/approve#${t}`) });
    const h = await hold(r, 'approval');
    // The request notice carries the link; its token's hash is in the state file once the
    // notices are out (polled: a fixed wait read the file before it was written under load).
    const stateFile = path.join(r.dir, 'spool', 'held', 'queue', `${h.id}.state`);
    await expect.poll(() => fs.readFile(stateFile, 'utf8').then((t) => (JSON.parse(t).hold?.tokens ?? []).length, () => 0), { timeout: 5000 }).toBe(1);
    expect(links).toHaveLength(1);
    const token = links[0]!;
    expect(Buffer.from(token, 'base64url')).toHaveLength(TOKEN_BYTES);
    const state = JSON.parse(await fs.readFile(stateFile, 'utf8'));
    expect(JSON.stringify(state)).not.toContain(token);
    expect(state.hold.tokens[0].hash).toBe(hashToken(token));

    const seen = await r.held.verifyToken(token);
    expect(seen).toMatchObject({ ok: true, purpose: 'approver', address: 'boss@test.jp', item: { id: h.id } });
    expect(await r.held.consumeToken(token, 'cancel')).toEqual({ ok: false, reason: 'wrong-action' });
    const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    expect(await r.held.consumeToken(forged, 'approve')).toEqual({ ok: false, reason: 'unknown' });
    expect(await r.held.consumeToken('short', 'approve')).toEqual({ ok: false, reason: 'unknown' });
    expect(released(r)).toHaveLength(0);

    const ok = await r.held.consumeToken(token, 'approve');
    expect(ok).toMatchObject({ ok: true, id: h.id });
    expect(released(r)).toHaveLength(1);
    expect(await r.held.consumeToken(token, 'approve')).toEqual({ ok: false, reason: 'decided' });
    expect(r.log.find((e) => e.event === 'hold')).toMatchObject({ rule: 'approved', by: 'lan boss@test.jp' });
    const actions = await new ActionLog(r.dir).all();
    expect(actions[0]).toMatchObject({ action: 'approved', by: { via: 'lan', address: 'boss@test.jp' } });
  });

  it('tokens survive a restart; an expired one is refused; a used one stays refused after a restart', async () => {
    await r.open();
    const h = await hold(r, 'approval');
    const a = await r.held.issueToken(h.id, 'approver', 'boss@test.jp');
    const b = await r.held.issueToken(h.id, 'approver', 'sub@test.jp', new Date(Date.now() + 60_000));
    // Issued tokens are in the held state (hashed): a restart keeps them valid.
    await r.close();
    await r.open();
    expect(await r.held.verifyToken(a)).toMatchObject({ ok: true });
    r.clock.offset = 2 * 60_000;
    expect(await r.held.consumeToken(b, 'approve')).toEqual({ ok: false, reason: 'expired' });
    r.clock.offset = 0;
    expect(await r.held.consumeToken(a, 'reject', 'no')).toMatchObject({ ok: true });
    await r.close();
    await r.open();
    expect(await r.held.consumeToken(a, 'approve')).toEqual({ ok: false, reason: 'unknown' });
    expect(released(r)).toHaveLength(0);
  });

  it('a sender link cancels delayed mail, and only that', async () => {
    const links: string[] = [];
    await r.open({ sender: (t) => (links.push(t), `https://gw.test.jp/delayed#${t}`) });
    const h = await hold(r, 'delay', 1);
    await new Promise((res) => setTimeout(res, 200));
    expect(links).toHaveLength(1);
    expect(await r.held.consumeToken(links[0]!, 'approve')).toEqual({ ok: false, reason: 'wrong-action' });
    expect(await r.held.consumeToken(links[0]!, 'cancel')).toMatchObject({ ok: true, id: h.id });
    expect(await r.held.consumeToken(links[0]!, 'send-now')).toEqual({ ok: false, reason: 'decided' });
    expect(released(r)).toHaveLength(0);
  });
});

describe('a decision across a crash', () => {
  async function decidedNotFinished(withMarker: boolean): Promise<string> {
    await r.open();
    const h = await hold(r, 'approval');
    await new Promise((res) => setTimeout(res, 200)); // held notices out
    await r.close();
    // What a crash right after the decision (and, with the marker, after the copy was written) leaves.
    const held = new Spool(path.join(r.dir, 'spool', 'held'));
    await held.open();
    const st = await held.getState(h.id);
    await held.setState(h.id, { ...st, hold: { ...(st as { hold?: object }).hold, decision: { action: 'approved', by: { via: 'cli' }, at: new Date().toISOString() } } } as typeof st);
    await held.close();
    if (withMarker) {
      const main = new Spool(path.join(r.dir, 'spool'));
      await main.open();
      await main.write({ sender: 'baito@test.jp', recipients: ['client@example.com'], clientIp: '127.0.0.2', session: marker(h.id, 'release'), trusted: true }, body);
      await main.close();
    }
    r.enqueued.length = 0;
    await r.open();
    return h.id;
  }

  const mainCopies = async (id: string) => (await r.main.list()).filter((h) => h.session === marker(id, 'release'));

  it('finishes at open and writes the copy when it was not written', async () => {
    const id = await decidedNotFinished(false);
    expect(await mainCopies(id)).toHaveLength(1);
    expect(released(r)).toHaveLength(1);
    expect(await r.held.list('approval')).toEqual([]);
  });

  it('does not write the copy again when the marker shows it was', async () => {
    const id = await decidedNotFinished(true);
    expect(await mainCopies(id)).toHaveLength(1);
    // Not handed to delivery again here: the main spool's recovery does that.
    expect(released(r)).toHaveLength(0);
    await r.close();
    await r.open();
    expect(await mainCopies(id)).toHaveLength(1);
  });
});

describe('never a notice about a notice', () => {
  it('held mail that is itself automatic is held, without notices', async () => {
    await r.open();
    const auto = Buffer.from('From: baito@test.jp\r\nTo: client@example.com\r\nAuto-Submitted: auto-generated\r\nX-Gatehouse-Notice: held\r\nSubject: fwd\r\n\r\nx\r\n');
    const until = new Date(Date.now() + 3600_000).toISOString();
    const h = await r.held.spool.write(
      { sender: 'baito@test.jp', recipients: ['client@example.com'], clientIp: '127.0.0.2', session: 's2', trusted: true, meta: { kind: 'approval', account: 'baito@test.jp', until, approvers: ['boss@test.jp'], standIn: '' } },
      auto,
    );
    r.held.written(h);
    await new Promise((res) => setTimeout(res, 200));
    expect(r.enqueued).toHaveLength(0);
    expect((await r.held.list('approval')).map((i) => i.id)).toEqual([h.id]);
    await r.held.approve(h.id, { via: 'cli' });
    expect(r.enqueued.map((x) => x.session)).toEqual([marker(h.id, 'release')]);
  });
});
