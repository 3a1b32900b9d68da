#!/usr/bin/env node
/*
 * Message search budget: `messages.search` over the retained log days must answer in about a
 * second for a million log lines (a small office's year is a few million lines), on this
 * 2-core machine, with no index: one regular expression per day file (main/core/messages).
 *
 * Usage: node bench/search.mjs [--lines N] [--days D] [--keep]   (build first: npm run build:core)
 *
 * Writes D day files of receivelog + senderlog holding N lines in all (realistic lines: a mail
 * is connect, MAIL, RCPT(s), DATA with a Japanese subject, close, and one or two attempts),
 * then times four searches, each three times (the first reads the files into the page cache;
 * the best of the others is the figure): a rare address (one mail a week), a common address
 * (a few hundred messages, cut at the limit of 100), a queue id, and a Japanese subject word.
 * Prints lines/s and ms per search as JSON. Bounded: nothing listens, nothing is sent.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log('usage: node bench/search.mjs [--lines N] [--days D] [--keep]   (build first: npm run build:core)\n' +
    'Writes D day files of N log lines in all, times four message searches, prints JSON (see the header of bench/search.mjs).');
  process.exit(0);
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { searchMessages } = await import(pathToFileURL(path.join(root, 'dist/main/core/messages/find.js')).href);

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const LINES = arg('lines', 1_000_000);
const DAYS = arg('days', 30);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-search-'));

const users = ['tanaka', 'suzuki', 'baito', 'yamada', 'sato', 'kobayashi', 'ito', 'watanabe'];
const subjects = ['見積書の件', '打ち合わせの日程について', 'Re: 請求書の送付', '納品書（4月分）', '会議資料', 'お問い合わせありがとうございます'];
const pad = (n) => String(n).padStart(2, '0');
const dayOf = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

let written = 0;
let mail = 0;
let rareId = '';
const perDay = Math.ceil(LINES / DAYS);
const now = new Date();
for (let d = DAYS - 1; d >= 0 && written < LINES; d--) {
  const day = new Date(now.getFullYear(), now.getMonth(), now.getDate() - d, 8);
  const r = [];
  const s = [];
  let n = 0;
  while (n < perDay && written + n < LINES) {
    const t = new Date(day.getTime() + n * 2000);
    const ts = (ms) => new Date(t.getTime() + ms).toISOString();
    const session = `s${(mail * 7919).toString(36)}x${mail.toString(36)}`;
    const sender = `${users[mail % users.length]}@test.jp`;
    // One mail a week to a rare partner; the rest to a few hundred customers.
    const rare = mail % (Math.ceil(LINES / 7 / DAYS) * 7) === 3;
    const rcpt = rare ? 'keiri@rare-partner.example' : `customer${mail % 397}@example.com`;
    const qid = `${t.getTime().toString(36).padStart(8, '0')}-${(mail % 1679616).toString(36).padStart(4, '0')}-7f3k`;
    if (rare) rareId = qid;
    const base = { session, clientIp: '192.168.0.102', tls: false, trusted: true };
    const line = { ...base, helo: 'mail.test.jp', txn: 1, sender };
    r.push(
      { ts: ts(0), event: 'connect', ...base },
      { ts: ts(10), event: 'mail', ...line, decision: 'accept', rule: 'sender-ok', code: 250, reply: '250 2.1.0 Ok' },
      { ts: ts(20), event: 'rcpt', ...line, recipient: rcpt, decision: 'accept', rule: 'relay', code: 250, reply: '250 2.1.5 Ok' },
      { ts: ts(200), event: 'data', ...line, recipients: [rcpt], decision: 'accept', code: 250, reply: `250 2.0.0 Ok: queued as ${qid}`, queueId: qid, size: 24000, subject: `${subjects[mail % subjects.length]} ${mail}`, messageId: `<${mail}.${session}@mail.test.jp>` },
      { ts: ts(300), event: 'close', ...base },
    );
    s.push({ ts: ts(900), queueId: qid, attempt: 1, sender, recipients: [rcpt], hop: 'smtp.provider.ne.jp:587', via: 'smarthost', tls: true, outcome: 'delivered', code: 250, reply: '250 2.0.0 OK', durationMs: 312, perRecipient: [{ recipient: rcpt, code: 250, reply: '250 2.0.0 OK', outcome: 'delivered' }] });
    n += 6;
    mail++;
  }
  fs.writeFileSync(path.join(dir, `receivelog-${dayOf(day)}.jsonl`), r.map((e) => JSON.stringify(e)).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, `senderlog-${dayOf(day)}.jsonl`), s.map((e) => JSON.stringify(e)).join('\n') + '\n');
  written += n;
}
const bytes = fs.readdirSync(dir).reduce((a, f) => a + fs.statSync(path.join(dir, f)).size, 0);

const cases = [
  ['rare address', 'keiri@rare-partner.example'],
  ['common address', 'customer42@example.com'],
  ['queue id', rareId],
  ['subject word', '納品書'],
];
const results = [];
for (const [name, text] of cases) {
  const times = [];
  let found = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    const r = await searchMessages({ dir }, { text, limit: 100, lifetimeDays: 5 });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    found = r.messages.length;
  }
  const best = Math.min(...times.slice(1));
  results.push({ search: name, text, found, ms: Math.round(best), firstMs: Math.round(times[0]), linesPerSecond: Math.round(written / (best / 1000)) });
}
console.log(JSON.stringify({ lines: written, days: DAYS, mb: Math.round(bytes / 1e6), node: process.version, cpus: os.cpus().length, results }, null, 2));
if (!process.argv.includes('--keep')) fs.rmSync(dir, { recursive: true, force: true });
else console.error(`kept ${dir}`);
