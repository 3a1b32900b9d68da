/*
 * The 250 comes after the message is durable, read from the syscalls themselves. kill -9
 * keeps the page cache, so the crash tests would still pass if the spool's fsyncs were
 * dropped; this test would not. `gatehouse serve` runs under `strace -f -yy` (every fd shown
 * with its path or socket), the office sends messages over parallel connections, and for
 * every "250 ... queued as <id>" the trace must show, in this order, one of two ways. Through
 * the spool's journal (main/core/spool/journal.ts; every message here is small enough):
 *
 *   1. the open (O_CREAT) of spool/queue/<id>.msg (its file, synced later),
 *   2. the write of its record, which names the id, to a segment spool/journal/<n>.jnl,
 *   3. an fdatasync of that segment's fd that STARTED after the write returned and completed
 *      with 0 (group commit: one may serve several messages),
 *   4. before it all, the segment's creation and an fsync of spool/journal after it,
 *   5. the write of the 250 line to the client's socket, started after 3 completed.
 *
 * Or with the file's own syncs (a message too big for the journal):
 *
 *   1. the open (O_CREAT) of spool/queue/<id>.msg,
 *   2. an fdatasync or fsync of that file's fd, completed with 0,
 *   3. an fsync of the spool/queue folder that STARTED after step 1 and completed with 0
 *      (group commit: one folder fsync may serve several messages),
 *   4. the write of the 250 line to the client's socket, started after 2 and 3 completed.
 *
 * Two of the four connections send from accounts whose external mail is held (one in `delay`
 * mode, one in `approval` mode), every other message to a colleague and an external address
 * (the 250 names two ids, "queued as <id> (external copy held as <held>)"), the others to the
 * external address alone ("queued as <held> (held)": nothing in the main spool, whose slow
 * syncs would otherwise give a held copy's sync that is not waited for the time to finish).
 * The same four steps must show for every <held> in the held queue's own spool,
 * spool/held/queue/<held>.msg and the spool/held/queue folder, before its 250.
 *
 * strace delays the syncs (SLOW_US / FAST_US), so a 250 that does not wait for a sync
 * is written while that sync runs and shows in the order, not only when a race is lost.
 * Linux only (Windows has no folder fsync and no strace: test/windows/exclusions.json).
 * Without strace the test is skipped with the command that installs it; .ci/run installs it.
 * Shown to fail against dist/ edited four ways, each caught by at least one of the two runs:
 * the file's datasync removed, the folder fsync removed, the datasync not awaited, the folder
 * fsync not awaited (see the commit that added it); the held copies' part against three more,
 * each naming held ids only: the held queue's spool opened without fsync, and (in the held
 * spool alone) the datasync not awaited, the folder fsync not awaited (see the commit that
 * added it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, sleep, writeConfig } from '../hardening/helpers.js';
import { officeConfig, tempDir } from '../helpers/gateway.js';
import { spawnWait } from '../helpers/slow.js';
import { SmtpTestClient } from '../helpers/smtp-client.js';

function straceWorks(): { ok: boolean; why: string } {
  if (process.platform !== 'linux') return { ok: false, why: 'Linux only' };
  const v = spawnSync('strace', ['-f', '-qq', '-e', 'trace=none', 'true'], { encoding: 'utf8' });
  if (v.error) return { ok: false, why: 'strace is absent: install it with `apt-get install -y strace` (.ci/run does)' };
  if (v.status !== 0) return { ok: false, why: `strace cannot trace here (${(v.stderr ?? '').trim().split('\n')[0]}): ptrace is not allowed in this container` };
  return { ok: true, why: '' };
}

const strace = straceWorks();
/**
 * strace holds each sync this long before it runs (delay_enter: the trace shows its return
 * only after the wait; delay_exit would print the return first), like a slow disk: code that does not wait
 * for a sync before the 250 (a reorder, a forgotten await) then writes the 250 while that sync
 * still runs, visibly, instead of only when a race is lost. Two runs: the file's sync slow and
 * the folder's fast, then the other way round, so neither can hide behind the other.
 */
const SLOW_US = 80_000;
const FAST_US = 5_000;
if (!strace.ok) console.warn(`fsync-order.test.ts: SKIPPED: ${strace.why}`);

interface Call {
  pid: string;
  name: string;
  /** Everything between "name(" and the end of the line (or "<unfinished ...>"). */
  args: string;
  ret: string;
  /** Line index where the call started and where it returned. */
  start: number;
  end: number;
}

/** A return value without strace's notes (`0 (DELAYED)` is 0). */
function bare(ret: string): string {
  return ret.replace(/\s+\([A-Z ]+\)$/, '');
}

/** Pair `<unfinished ...>` / `<... name resumed>` lines per thread into whole calls. */
export function parseStrace(text: string): Call[] {
  const calls: Call[] = [];
  const open = new Map<string, Call>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const resumed = /^(\d+)\s+<\.\.\. (\w+) resumed>(.*)$/.exec(line);
    if (resumed) {
      const c = open.get(resumed[1]!);
      if (c && c.name === resumed[2]) {
        open.delete(resumed[1]!);
        const m = /\)\s+=\s+(.*)$/.exec(resumed[3]!);
        c.args += resumed[3]!;
        c.ret = m ? bare(m[1]!) : '?';
        c.end = i;
        calls.push(c);
      }
      continue;
    }
    const m = /^(\d+)\s+(\w+)\((.*)$/.exec(line);
    if (!m) continue;
    const [, pid, name, rest] = m;
    if (rest!.endsWith('<unfinished ...>')) {
      open.set(pid!, { pid: pid!, name: name!, args: rest!, ret: '', start: i, end: -1 });
    } else {
      const r = /\)\s+=\s+(.*)$/.exec(rest!);
      calls.push({ pid: pid!, name: name!, args: rest!, ret: r ? bare(r[1]!) : '?', start: i, end: i });
    }
  }
  return calls;
}

/**
 * The ordering problems for one acknowledged id (empty = durable before its 250). `held`: the
 * id is the external copy the 250 names as "held as <id>", in the held queue's spool.
 */
export function orderProblems(calls: Call[], id: string, held = false): string[] {
  const folder = held ? 'spool/held/queue' : 'spool/queue';
  const msg = `/${folder}/${id}.msg`;
  const says = held ? [`external copy held as ${id})`, `250 2.0.0 Ok: queued as ${id} (held)`] : [`250 2.0.0 Ok: queued as ${id}`];
  const what = held ? 'held message file' : 'message file';
  const created = calls.find((c) => c.name === 'openat' && c.args.includes(`${msg}"`) && /O_CREAT/.test(c.args) && !c.ret.startsWith('-1'));
  const reply = calls.find((c) => /^(write|writev|sendto|sendmsg)$/.test(c.name) && /<TCP/.test(c.args) && c.args.includes('250 2.0.0 Ok: queued as ') && says.some((x) => c.args.includes(x)));
  if (!created) return [`${id}: no open(O_CREAT) of ${msg} in the trace`];
  if (!reply) return [`${id}: no write of its 250 to the client socket in the trace`];
  const problems: string[] = [];
  const record = journalRecord(calls, id, held);
  if (record) {
    const journal = held ? 'spool/held/journal' : 'spool/journal';
    const [, fd, segment] = /^(\d+)<([^>]+)>/.exec(record.args) ?? [];
    const sync = calls.find((c) => /^f(data)?sync$/.test(c.name) && c.args.startsWith(`${fd}<${segment}>`) && c.ret === '0' && c.start > record.end);
    if (!sync) problems.push(`${id}: its journal record was never fdatasync'd`);
    else if (sync.end >= reply.start) problems.push(`${id}: the 250 was written before the journal's fdatasync returned`);
    const made = calls.find((c) => c.name === 'openat' && c.args.includes(`${segment}"`) && /O_CREAT/.test(c.args) && !c.ret.startsWith('-1'));
    const entry = made && calls.find((c) => c.name === 'fsync' && c.args.includes(`/${journal}>`) && c.ret === '0' && c.start > made.end && c.end < record.start);
    if (!entry) problems.push(`${id}: no fsync of ${journal} after its segment was created and before its record`);
    return problems;
  }
  const fileSync = calls.find((c) => /^f(data)?sync$/.test(c.name) && c.args.startsWith(`${created.ret.replace(/<.*$/, '')}<`) && c.args.includes(`${msg}>`) && c.ret === '0' && c.start > created.end);
  if (!fileSync) problems.push(`${id}: the ${what} was never fsync'd`);
  else if (fileSync.end >= reply.start) problems.push(`${id}: the 250 was written before the ${what}'s fsync returned`);
  const dirSync = calls.find((c) => c.name === 'fsync' && c.args.includes(`/${folder}>`) && c.ret === '0' && c.start > created.end && c.end < reply.start);
  if (!dirSync) problems.push(`${id}: no fsync of ${folder} that started after the file was created and returned before the 250`);
  return problems;
}

/** The write of the id's journal record (its first iovec names the id), if any. */
export function journalRecord(calls: Call[], id: string, held = false): Call | undefined {
  const journal = held ? '/spool/held/journal/' : '/spool/journal/';
  return calls.find((c) => /^(pwritev2?|pwrite64|writev|write)$/.test(c.name) && c.args.includes(journal) && c.args.includes(id) && !c.ret.startsWith('-1'));
}

describe.skipIf(!strace.ok)('durability under strace: fsync of the message file and of queue/ before the 250', () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });

  it.each([
    ['the file sync slow', SLOW_US, FAST_US],
    ['the folder sync slow', FAST_US, SLOW_US],
  ])('holds for every message of 4 parallel connections x 6 messages (12 of them with a held external copy, 6 of those alone), %s', { timeout: spawnWait(90_000) }, async (_what, fileUs, folderUs) => {
    const dir = await tempDir('gatehouse-strace-');
    dirs.push(dir);
    await writeConfig(
      dir,
      officeConfig((c) => {
        // Held external copies wait (5 minutes, or an approver): nothing goes outside, and
        // should it, only to loopback port 9, where nothing listens.
        c.delivery.transportOverrides = [{ domain: 'example.com', hosts: [{ host: '127.0.0.1', port: 9 }] }];
        c.accounts = [
          { pattern: 'chien@test.jp', blockExternal: false, allow: [], note: '', mode: 'delay', delayMinutes: 5 },
          { pattern: 'baito@test.jp', blockExternal: false, allow: [], note: '', mode: 'approval', approvers: ['boss@test.jp'] },
        ];
      }),
    );
    const trace = path.join(dir, 'strace.txt');
    const child = spawn(
      'strace',
      ['-f', '-qq', '-yy', '-s', '200', '-e', 'trace=openat,fsync,fdatasync,write,writev,pwrite64,pwritev,pwritev2,sendto,sendmsg', '-e', 'signal=none', '-e', `inject=fdatasync:delay_enter=${fileUs}`, '-e', `inject=fsync:delay_enter=${folderUs}`, '-o', trace, process.execPath, BIN, 'serve', '--data', dir, '--listen', '127.0.0.1:0', '--no-admin'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const until = Date.now() + spawnWait(30_000);
    let port = 0;
    while (!port) {
      const m = /SMTP listening on [^\s]+:(\d+)/.exec(out);
      if (m) port = Number(m[1]);
      else if (Date.now() > until || child.exitCode !== null) throw new Error(`serve under strace did not start:\n${out}`);
      else await sleep(50);
    }

    const ids: string[] = [];
    const heldIds: string[] = [];
    // Connections 0 and 1 as before; 2 from an account in delay mode, 3 in approval mode, to a
    // colleague (spooled at once) and an external address (held), or to the external one alone.
    const senders = ['tanaka@test.jp', 'tanaka@test.jp', 'chien@test.jp', 'baito@test.jp'];
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        const c = await SmtpTestClient.connect(port, { localAddress: '127.0.0.2' });
        const from = senders[w]!;
        try {
          expect((await c.greeting).code).toBe(220);
          await c.cmd('EHLO office.test.jp');
          for (let i = 0; i < 6; i++) {
            const to = from === 'tanaka@test.jp' ? ['boss@test.jp'] : i % 2 === 0 ? ['boss@test.jp', 'client@example.com'] : ['client@example.com'];
            expect((await c.cmd(`MAIL FROM:<${from}>`)).code).toBe(250);
            for (const r of to) expect((await c.cmd(`RCPT TO:<${r}>`)).code).toBe(250);
            const { end } = await c.data(`From: ${from}\r\nTo: ${to.join(', ')}\r\nSubject: ${w}-${i}\r\nMessage-ID: <st-${w}-${i}@test.jp>\r\n\r\nhello\r\n`);
            expect(end.code).toBe(250);
            const id = /queued as (\S+)/.exec(end.text)?.[1];
            expect(id, end.text).toBeTruthy();
            if (from === 'tanaka@test.jp') {
              ids.push(id!);
            } else if (to.length > 1) {
              ids.push(id!);
              const held = /\(external copy held as ([^\s)]+)\)$/.exec(end.text)?.[1];
              expect(held, end.text).toBeTruthy();
              heldIds.push(held!);
            } else {
              expect(end.text).toMatch(/ \(held\)$/);
              heldIds.push(id!);
            }
          }
          await c.quit();
        } finally {
          c.destroy();
        }
      }),
    );
    // Stop the traced gateway itself (strace ignores SIGTERM to itself while its command
    // runs); its pid is the first one in the trace. strace exits with it.
    const tracee = Number(/^(\d+)\s/.exec(await fs.readFile(trace, 'utf8'))?.[1]);
    process.kill(tracee, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));

    const calls = parseStrace(await fs.readFile(trace, 'utf8'));
    expect(ids).toHaveLength(18);
    expect(heldIds).toHaveLength(12);
    const problems = [...ids.flatMap((id) => orderProblems(calls, id)), ...heldIds.flatMap((id) => orderProblems(calls, id, true))];
    expect(problems).toEqual([]);
    // Every message here is small: all of them went through the journals.
    expect(ids.filter((id) => !journalRecord(calls, id))).toEqual([]);
    expect(heldIds.filter((id) => !journalRecord(calls, id, true))).toEqual([]);
  });
});

describe('the strace reader', () => {
  it('pairs unfinished and resumed calls per thread and finds a 250 written too early', () => {
    const trace = [
      '10 openat(AT_FDCWD</d>, "/d/spool/queue/ID1.msg", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600 <unfinished ...>',
      '11 fsync(20</d/spool/queue> <unfinished ...>',
      '10 <... openat resumed>) = 23</d/spool/queue/ID1.msg>',
      '12 fdatasync(23</d/spool/queue/ID1.msg>) = 0',
      '11 <... fsync resumed>) = 0 (DELAYED)',
      '13 fsync(20</d/spool/queue>) = 0',
      '9 write(30<TCP:[127.0.0.1:2525->127.0.0.2:4000]>, "250 2.0.0 Ok: queued as ID1\\r\\n", 29) = 29',
    ].join('\n');
    const calls = parseStrace(trace);
    expect(calls.map((c) => [c.name, c.ret])).toEqual([
      ['openat', '23</d/spool/queue/ID1.msg>'],
      ['fdatasync', '0'],
      ['fsync', '0'],
      ['fsync', '0'],
      ['write', '29'],
    ]);
    // The fsync of queue/ that started before the open does not count; the later one does.
    expect(orderProblems(calls, 'ID1')).toEqual([]);
    const noDir = parseStrace(trace.split('\n').filter((l) => !l.startsWith('13 ')).join('\n'));
    expect(orderProblems(noDir, 'ID1')).toEqual(['ID1: no fsync of spool/queue that started after the file was created and returned before the 250']);
    const early = parseStrace(trace.split('\n').filter((l) => !l.startsWith('12 ')).concat('12 fdatasync(23</d/spool/queue/ID1.msg>) = 0').join('\n'));
    expect(orderProblems(early, 'ID1')).toEqual(['ID1: the 250 was written before the message file\'s fsync returned']);
    const none = parseStrace(trace.split('\n').filter((l) => !l.startsWith('12 ')).join('\n'));
    expect(orderProblems(none, 'ID1')).toEqual(["ID1: the message file was never fsync'd"]);
  });

  it('reads the journal path: the record, the segment\'s fdatasync after it, the segment made durable before it', () => {
    const trace = [
      '10 openat(AT_FDCWD</d>, "/d/spool/journal/0000000001.jnl", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = 22</d/spool/journal/0000000001.jnl>',
      '11 fsync(25</d/spool/journal>) = 0',
      '10 openat(AT_FDCWD</d>, "/d/spool/queue/ID1.msg", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = 23</d/spool/queue/ID1.msg>',
      '9 pwritev(22</d/spool/journal/0000000001.jnl>, [{iov_base="GHJ1\\1\\3\\0\\0\\4\\0\\0\\0ID1", iov_len=15}, {iov_base="abcd", iov_len=4}], 2, 0) = 19',
      '12 fdatasync(22</d/spool/journal/0000000001.jnl> <unfinished ...>',
      '12 <... fdatasync resumed>) = 0',
      '9 write(30<TCP:[127.0.0.1:2525->127.0.0.2:4000]>, "250 2.0.0 Ok: queued as ID1\\r\\n", 29) = 29',
    ].join('\n');
    expect(journalRecord(parseStrace(trace), 'ID1')).toBeTruthy();
    expect(orderProblems(parseStrace(trace), 'ID1')).toEqual([]);
    const lines = trace.split('\n');
    const late = parseStrace([...lines.slice(0, 4), lines[6], lines[4], lines[5]].join('\n'));
    expect(orderProblems(late, 'ID1')).toEqual(["ID1: the 250 was written before the journal's fdatasync returned"]);
    const none = parseStrace(lines.filter((l) => !l.startsWith('12 ')).join('\n'));
    expect(orderProblems(none, 'ID1')).toEqual(["ID1: its journal record was never fdatasync'd"]);
    const noEntry = parseStrace(lines.filter((l) => !l.startsWith('11 ')).join('\n'));
    expect(orderProblems(noEntry, 'ID1')).toEqual(['ID1: no fsync of spool/journal after its segment was created and before its record']);
  });

  it('reads a held copy in spool/held/queue by the "held as" of its 250, and not the main folder\'s fsync for it', () => {
    const trace = [
      '10 openat(AT_FDCWD</d>, "/d/spool/held/queue/H1.msg", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = 24</d/spool/held/queue/H1.msg>',
      '12 fdatasync(24</d/spool/held/queue/H1.msg>) = 0',
      '13 fsync(21</d/spool/held/queue>) = 0',
      '14 fsync(20</d/spool/queue>) = 0',
      '9 write(30<TCP:[127.0.0.1:2525->127.0.0.2:4000]>, "250 2.0.0 Ok: queued as M1 (external copy held as H1)\\r\\n", 55) = 55',
    ].join('\n');
    expect(orderProblems(parseStrace(trace), 'H1', true)).toEqual([]);
    // Held alone: the 250 names only the held id.
    const alone = trace.replace('queued as M1 (external copy held as H1)', 'queued as H1 (held)');
    expect(orderProblems(parseStrace(alone), 'H1', true)).toEqual([]);
    const early = parseStrace(alone.split('\n').filter((l) => !l.startsWith('12 ')).concat('12 fdatasync(24</d/spool/held/queue/H1.msg>) = 0').join('\n'));
    expect(orderProblems(early, 'H1', true)).toEqual(["H1: the 250 was written before the held message file's fsync returned"]);
    // Only the main folder's fsync: the held folder's entry is not durable.
    const mainOnly = parseStrace(trace.split('\n').filter((l) => !l.startsWith('13 ')).join('\n'));
    expect(orderProblems(mainOnly, 'H1', true)).toEqual(['H1: no fsync of spool/held/queue that started after the file was created and returned before the 250']);
    const none = parseStrace(trace.split('\n').filter((l) => !l.startsWith('12 ')).join('\n'));
    expect(orderProblems(none, 'H1', true)).toEqual(["H1: the held message file was never fsync'd"]);
    // A held id is not looked for in the main folder (nor the other way round).
    expect(orderProblems(parseStrace(trace), 'H1')).toEqual(['H1: no open(O_CREAT) of /spool/queue/H1.msg in the trace']);
  });
});
