#!/usr/bin/env node
/*
 * Micro-benchmarks for `npm run bench` (bench.py calls them; each prints one JSON object on
 * stdout and exits 0, or prints the error on stderr and exits 1). Every loop is bounded in
 * count and time; every socket is on 127.0.0.1.
 *
 *   policy                       decision time with 100,000 exact accounts + 1,000 patterns
 *                                (in process, compiled core from dist/)
 *   greeting PORT [N]            connect -> 220 latency as a trusted client, N sequential connections
 *   live SMTPPORT ADMINURL TOKEN [RATE] [SECONDS]
 *                                SMTP 250 reply received -> receivelog SSE event received
 *                                (GET /api/events), at RATE msg/s, one message per connection
 *   mklog FILE [LINES]           write a receivelog day file of LINES realistic lines
 *   logtail ADMINURL TOKEN DAY   time for the admin API to return the last page of that day
 *                                (what the UI's log viewer asks when it opens a day)
 *   mkspool DIR N [SIZE] [RCPT]  write N queued messages of SIZE bytes (default 2048) to RCPT
 *                                (default someone@example.com) into the spool folder DIR with
 *                                the gateway's own Spool (fsync off: this only sets the stage
 *                                for the "start on a huge queue" run; the files are synced
 *                                with one sync(1) afterwards by the caller)
 */
import net from 'node:net';
import http from 'node:http';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.resolve(HERE, '..', 'dist', 'main');

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function stats(xs, digits = 3) {
  const s = [...xs].sort((a, b) => a - b);
  const r = (v) => (v === null ? null : Number(v.toFixed(digits)));
  return { n: s.length, p50: r(quantile(s, 0.5)), p90: r(quantile(s, 0.9)), p99: r(quantile(s, 0.99)), max: r(s[s.length - 1] ?? null), min: r(s[0] ?? null) };
}

// ---- policy ----------------------------------------------------------------------------

async function policy() {
  const { compilePolicy, decideRecipient } = await import(pathToFileURL(path.join(DIST, 'core/policy/index.js')).href);
  const { defaultConfig } = await import(pathToFileURL(path.join(DIST, 'core/config/schema.js')).href);
  const cfg = defaultConfig('linux');
  cfg.internalDomains = ['test.jp', 'part.test.jp'];
  cfg.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: 2526 }] }, { domain: 'part.test.jp', hosts: [{ host: '127.0.0.1', port: 2526 }] }];
  cfg.trustedNetworks = ['127.0.0.0/8', '192.168.0.0/24'];
  const accounts = [];
  for (let i = 0; i < 100_000; i++) {
    accounts.push({ pattern: `user${i}@dept${i % 100}.test.jp`, blockExternal: i % 3 === 0, allow: i % 10 === 0 ? ['partner.example'] : [], note: '' });
  }
  for (let i = 0; i < 1_000; i++) {
    const kind = i % 4;
    const pattern = kind === 0 ? `*@branch${i}.test.jp` : kind === 1 ? `staff${i}*@test.jp` : kind === 2 ? `*@*.sub${i}.test.jp` : `temp${i}-*@*`;
    accounts.push({ pattern, blockExternal: i % 2 === 0, allow: [], note: '' });
  }
  cfg.accounts = accounts;
  const t0 = performance.now();
  const p = compilePolicy(cfg);
  const compileMs = performance.now() - t0;
  // A mix: exact hits, pattern hits, misses; internal and external recipients.
  const inputs = [];
  for (let i = 0; i < 20_000; i++) {
    const k = i % 5;
    const sender = k === 0 ? `user${(i * 7919) % 100_000}@dept${((i * 7919) % 100_000) % 100}.test.jp`
      : k === 1 ? `someone@branch${(i % 250) * 4}.test.jp`
      : k === 2 ? `staff${(i % 250) * 4 + 1}x@test.jp`
      : k === 3 ? `nobody${i}@test.jp`
      : `a@b.sub${(i % 250) * 4 + 2}.test.jp`;
    const recipient = i % 4 === 0 ? `colleague@test.jp` : `x${i}@external${i % 50}.example`;
    inputs.push({ sender, recipient, clientIp: i % 2 ? '127.0.0.1' : '192.168.0.10' });
  }
  // Warm up (JIT), then time each decision separately.
  for (let r = 0; r < 3; r++) for (const inp of inputs) decideRecipient(p, inp);
  const per = new Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const a = process.hrtime.bigint();
    decideRecipient(p, inputs[i]);
    per[i] = Number(process.hrtime.bigint() - a) / 1000; // us
  }
  // Batch mean (removes the ~0.05 us hrtime overhead from the picture).
  const b0 = process.hrtime.bigint();
  for (let r = 0; r < 5; r++) for (const inp of inputs) decideRecipient(p, inp);
  const batchMeanUs = Number(process.hrtime.bigint() - b0) / 1000 / (5 * inputs.length);
  const decisions = {};
  for (const inp of inputs.slice(0, 100)) {
    const d = decideRecipient(p, inp);
    decisions[d.rule] = (decisions[d.rule] ?? 0) + 1;
  }
  return { accounts: 100_000, patterns: 1_000, compileMs: Number(compileMs.toFixed(1)), us: stats(per, 3), batchMeanUs: Number(batchMeanUs.toFixed(3)), sampleRules: decisions };
}

// ---- greeting --------------------------------------------------------------------------

function greetOnce(port) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = net.connect({ host: '127.0.0.1', port });
    s.setNoDelay(true);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('greeting timeout (5 s)'));
    }, 5000);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (/(?:^|\r\n)220 [^\r\n]*\r\n$/.test(buf)) {
        const ms = performance.now() - t0;
        clearTimeout(timer);
        s.end('QUIT\r\n');
        s.once('close', () => resolve(ms));
        s.resume();
      } else if (/^[45]\d\d /m.test(buf)) {
        clearTimeout(timer);
        s.destroy();
        reject(new Error(`refused: ${buf.trim()}`));
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function greeting(port, n = 1000) {
  for (let i = 0; i < 20; i++) await greetOnce(port); // warm-up
  const xs = [];
  const end = Date.now() + 60_000;
  for (let i = 0; i < n && Date.now() < end; i++) xs.push(await greetOnce(port));
  return { ms: stats(xs, 3) };
}

// ---- live: SMTP reply -> SSE event -------------------------------------------------------

function sse(adminUrl, token, onEvent) {
  return new Promise((resolve, reject) => {
    const u = new URL(`${adminUrl}/api/events?token=${encodeURIComponent(token)}`);
    const req = http.get(u, { headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`SSE status ${res.statusCode}`));
      res.socket.setNoDelay(true);
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        const now = performance.now();
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let ev = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) ev = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) onEvent(ev, data, now);
        }
      });
      resolve(() => req.destroy());
    });
    req.on('error', reject);
  });
}

/** One message per connection; resolves with { id, tReply } or rejects. Minimal SMTP client. */
function sendOne(port, body) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setNoDelay(true);
    const steps = ['EHLO bench.test.jp\r\n', 'MAIL FROM:<sender@test.jp>\r\n', 'RCPT TO:<someone@example.com>\r\n', 'DATA\r\n', body, 'QUIT\r\n'];
    const expect = [220, 250, 250, 250, 354, 250, 221];
    let step = 0;
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('SMTP timeout'));
    }, 10_000);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        // A complete reply: last line "NNN text\r\n".
        const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n$/.exec(buf);
        if (!m) return;
        const code = Number(m[1]);
        const text = buf;
        buf = '';
        if (code !== expect[step]) {
          clearTimeout(timer);
          s.destroy();
          return reject(new Error(`step ${step}: ${text.trim()}`));
        }
        if (step === 5) {
          const now = performance.now();
          const id = /queued as (\S+)/.exec(text)?.[1];
          clearTimeout(timer);
          s.end('QUIT\r\n');
          s.resume();
          return resolve({ id, tReply: now });
        }
        s.write(steps[step]);
        step++;
        return;
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function live(smtpPort, adminUrl, token, rate = 500, seconds = 4) {
  const seen = new Map(); // queueId -> t
  const close = await sse(adminUrl, token, (ev, data, t) => {
    if (ev !== 'receivelog') return;
    const e = JSON.parse(data);
    if (e.event === 'data' && e.queueId) seen.set(e.queueId, t);
  });
  const body = `From: sender@test.jp\r\nTo: someone@example.com\r\nSubject: live\r\n\r\n${'x'.repeat(1900)}\r\n.\r\n`;
  const total = Math.round(rate * seconds);
  const replies = [];
  const errors = [];
  const t0 = performance.now();
  const pending = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(sendOne(smtpPort, body).then((r) => replies.push(r), (e) => errors.push(e.message)));
  }
  await Promise.all(pending);
  const sendSeconds = (performance.now() - t0) / 1000;
  // Give the last events up to 2 s to arrive.
  const until = performance.now() + 2000;
  while (performance.now() < until && replies.some((r) => !seen.has(r.id))) await new Promise((r) => setTimeout(r, 20));
  close();
  const lat = [];
  let missing = 0;
  for (const r of replies) {
    const t = seen.get(r.id);
    if (t === undefined) missing++;
    // Negative = the line was on the UI's stream before the client had its 250.
    else lat.push(Math.max(0, t - r.tReply));
  }
  return { rate, sent: total, achievedRate: Number((replies.length / sendSeconds).toFixed(1)), ok: replies.length, errors: errors.length, firstError: errors[0] ?? null, missing, ms: stats(lat, 3) };
}

// ---- 1,000,000-line log ----------------------------------------------------------------

function mklog(file, lines = 1_000_000) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  const base = Date.parse('2020-01-01T00:00:00Z');
  let chunk = [];
  let bytes = 0;
  for (let i = 0; i < lines; i++) {
    const ts = new Date(base + i * 80).toISOString();
    const k = i % 4;
    const e = k === 0 ? { ts, event: 'connect', session: `S${i.toString(36)}`, clientIp: '192.168.0.102', helo: 'mail.test.jp', tls: false, trusted: true }
      : k === 1 ? { ts, event: 'mail', session: `S${i.toString(36)}`, clientIp: '192.168.0.102', helo: 'mail.test.jp', tls: false, trusted: true, sender: `user${i % 997}@test.jp`, decision: 'accept', rule: 'sender-ok', code: 250, reply: `250 2.1.0 Sender <user${i % 997}@test.jp> OK` }
      : k === 2 ? { ts, event: 'rcpt', session: `S${i.toString(36)}`, clientIp: '192.168.0.102', helo: 'mail.test.jp', tls: false, trusted: true, sender: `user${i % 997}@test.jp`, recipient: `someone${i % 31}@example.com`, decision: 'accept', rule: 'relay', code: 250, reply: `250 2.1.5 Recipient <someone${i % 31}@example.com> OK` }
      : { ts, event: 'data', session: `S${i.toString(36)}`, clientIp: '192.168.0.102', helo: 'mail.test.jp', tls: false, trusted: true, sender: `user${i % 997}@test.jp`, recipients: [`someone${i % 31}@example.com`], decision: 'accept', rule: 'relay', code: 250, reply: '250 2.0.0 Ok: queued as X', queueId: `Q${i.toString(36)}`, size: 2048 };
    const line = JSON.stringify(e) + '\n';
    chunk.push(line);
    bytes += line.length;
    if (chunk.length >= 10_000) {
      fs.writeSync(fd, chunk.join(''));
      chunk = [];
    }
  }
  if (chunk.length) fs.writeSync(fd, chunk.join(''));
  fs.closeSync(fd);
  return { file, lines, bytes };
}

function postApi(adminUrl, token, command, args) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ args });
    const req = http.request(`${adminUrl}/api/${command}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const j = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (!j.ok) reject(new Error(`${command}: ${j.error?.message}`));
        else resolve(j.value);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function logtail(adminUrl, token, day) {
  const runs = [];
  let entries = 0;
  let last = null;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const page = await postApi(adminUrl, token, 'log.page', { kind: 'receive', day, limit: 200 });
    runs.push(performance.now() - t0);
    entries = page.entries.length;
    last = page.entries[page.entries.length - 1]?.ts ?? null;
  }
  const t1 = performance.now();
  const tail = await postApi(adminUrl, token, 'log.tail', { kind: 'receive', n: 200, day });
  const tailMs = performance.now() - t1;
  return { firstMs: Number(runs[0].toFixed(2)), ms: stats(runs, 2), entries, lastTs: last, tailMs: Number(tailMs.toFixed(2)), tailEntries: tail.length };
}

// ---- a queue of N messages ----------------------------------------------------------------

async function mkspool(dir, n, size = 2048, rcpt = 'someone@example.com') {
  const { Spool } = await import(pathToFileURL(path.join(DIST, 'core/spool/index.js')).href);
  const spool = new Spool(dir, { fsync: false });
  await spool.open();
  const t0 = performance.now();
  for (let i = 0; i < n; i += 200) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 200); j++) {
      const head = `From: sender@test.jp\r\nTo: ${rcpt}\r\nSubject: queued ${j}\r\nMessage-ID: <q${j}@bench.test.jp>\r\n\r\n`;
      const line = 'x'.repeat(74) + '\r\n';
      const body = Buffer.from(head + line.repeat(Math.max(1, Math.ceil((size - head.length) / line.length))), 'latin1');
      batch.push(spool.write({ sender: 'sender@test.jp', recipients: [rcpt], clientIp: '127.0.0.1', session: `bench${j}`, trusted: true }, body));
    }
    await Promise.all(batch);
  }
  await spool.close();
  return { dir, messages: n, size, seconds: Number(((performance.now() - t0) / 1000).toFixed(1)) };
}

// ---- main ------------------------------------------------------------------------------

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === undefined || cmd === '--help' || cmd === '-h') {
  // The usage is the header comment's list.
  const head = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0];
  const usage = head.split('\n').slice(head.split('\n').findIndex((l) => l.includes('*   policy'))).map((l) => l.replace(/^ \* ?/, ''));
  (cmd === undefined ? process.stderr : process.stdout).write(`usage: node bench/micro.mjs BENCHMARK [ARGS]\n\n${usage.join('\n').trimEnd()}\n`);
  process.exit(cmd === undefined ? 2 : 0);
}
const watchdog = setTimeout(() => {
  console.error(`micro ${cmd}: gave up after 120 s`);
  process.exit(1);
}, 120_000);
watchdog.unref();
try {
  let out;
  if (cmd === 'policy') out = await policy();
  else if (cmd === 'greeting') out = await greeting(Number(rest[0]), Number(rest[1] ?? 1000));
  else if (cmd === 'live') out = await live(Number(rest[0]), rest[1], rest[2], Number(rest[3] ?? 500), Number(rest[4] ?? 4));
  else if (cmd === 'mklog') out = mklog(rest[0], Number(rest[1] ?? 1_000_000));
  else if (cmd === 'mkspool') out = await mkspool(rest[0], Number(rest[1]), Number(rest[2] ?? 2048), rest[3] ?? 'someone@example.com');
  else if (cmd === 'logtail') out = await logtail(rest[0], rest[1], rest[2]);
  else throw new Error(`unknown micro-benchmark "${cmd}"`);
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
} catch (err) {
  console.error(`micro ${cmd}: ${err.stack ?? err}`);
  process.exit(1);
}
