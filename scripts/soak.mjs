/*
 * `npm run soak [-- --minutes N]`: a bounded soak of `gatehouse serve` (issue 7, point 7), on
 * loopback only, not part of CI. It starts three sinks in this process (the office server for
 * test.jp; a flaky upstream for flaky.example that answers 451 to about half the RCPTs; a
 * hard 550 upstream for bounce.example), a `serve` child on a fresh data folder, and a mixed
 * load from several SMTP clients: accepted (test.jp), deferred then delivered (flaky.example),
 * bounced (bounce.example -> a DSN back to the sender via the office), and rejected at SMTP
 * (untrusted relay attempts, a blocked account, a bare CR in the body). Every 10 s it samples
 * the child's RSS and open file descriptors (/proc/PID/status, /proc/PID/fd), queue size and
 * counters. At the end it stops the load, lets the queue drain (bounded), and prints the table
 * and a verdict: RSS and fds are "flat" when the median of the last third of the samples
 * taken after the warm-up is within +-15% of the median of the first third (fds also pass
 * within 4 descriptors: the count is small and moves with open SMTP sessions); "lost" counts
 * acknowledged messages that never arrived (or never bounced). Options: --minutes (10),
 * --clients (4), --sample-seconds (10), --warmup-seconds (60, shown but not judged).
 * Exit code 0 when flat and nothing was lost, 1 when not, 2 on a setup failure (build
 * missing, serve did not start). Linux only (/proc).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'gatehouse.js');

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`soak: --${name} needs a positive number`);
    process.exit(2);
  }
  return v;
}

const MINUTES = arg('minutes', 10);
const CLIENTS = arg('clients', 4);
const SAMPLE_MS = arg('sample-seconds', 10) * 1000;
const MAX_MESSAGES = 200_000; // a hard bound on top of the time bound
const DRAIN_MS = 90_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (s) => process.stdout.write(`${s}\n`);

// ---------------------------------------------------------------------------------------------
// Sinks

function messageIdOf(raw) {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
  const m = /^message-id:\s*(<[^>\r\n]*>)/im.exec(head);
  return m ? m[1] : null;
}

async function startSink(name, rcptReply) {
  const sink = { name, port: 0, ids: new Map(), dsns: [], server: null, refused: 0 };
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    closeTimeout: 200,
    hideSTARTTLS: true,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    onRcptTo(addr, _s, cb) {
      const r = rcptReply(addr.address);
      if (r) sink.refused++;
      cb(r ? Object.assign(new Error(r.message), { responseCode: r.code }) : undefined);
    },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        if (from === '') sink.dsns.push(raw.toString('latin1'));
        else {
          const id = messageIdOf(raw);
          if (id) sink.ids.set(id, (sink.ids.get(id) ?? 0) + 1);
        }
        cb(null);
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  sink.port = server.server.address().port;
  sink.server = server;
  return sink;
}

// ---------------------------------------------------------------------------------------------
// A minimal SMTP client (one command at a time)

class Client {
  static connect(port, localAddress) {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(new Client(s)));
      s.once('error', reject);
      s.setTimeout(30_000, () => s.destroy());
    });
  }
  constructor(socket) {
    this.socket = socket;
    this.buf = '';
    this.waiters = [];
    this.replies = [];
    this.closed = false;
    socket.setEncoding('latin1');
    socket.on('data', (d) => this.onData(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w({ code: 0, text: 'closed' });
    });
  }
  onData(d) {
    this.buf += d;
    let i;
    while ((i = this.buf.indexOf('\r\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      if (/^\d{3}(?: |$)/.test(line)) {
        const r = { code: Number(line.slice(0, 3)), text: line };
        const w = this.waiters.shift();
        if (w) w(r);
        else this.replies.push(r);
      }
    }
  }
  next() {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.resolve({ code: 0, text: 'closed' });
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  cmd(line) {
    this.socket.write(`${line}\r\n`);
    return this.next();
  }
  async data(text) {
    const d = await this.cmd('DATA');
    if (d.code !== 354) return d;
    this.socket.write(text.replace(/^\./gm, '..') + '.\r\n');
    return this.next();
  }
  end() {
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------------------------

function rssAndFds(pid) {
  return Promise.all([
    fs.readFile(`/proc/${pid}/status`, 'utf8').then((s) => Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? NaN) / 1024),
    fs.readdir(`/proc/${pid}/fd`).then((l) => l.length),
  ]);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  if (process.platform !== 'linux') {
    say('soak: needs Linux (/proc) to sample memory and file descriptors');
    process.exit(2);
  }
  try {
    await fs.access(path.join(ROOT, 'dist', 'main', 'cli', 'index.js'));
  } catch {
    say("soak: run 'npm run build:core' first (npm run soak does)");
    process.exit(2);
  }
  const office = await startSink('office', () => null);
  const flaky = await startSink('flaky', () => (Math.random() < 0.5 ? { code: 451, message: '4.3.2 Try again later (soak)' } : null));
  const hard = await startSink('bounce', () => ({ code: 550, message: '5.1.1 No such user (soak)' }));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gatehouse-soak-'));
  const cfg = {
    listener: { host: '127.0.0.1', port: 0 },
    hostname: 'gw.test.jp',
    trustedNetworks: ['127.0.0.2/32'],
    internalDomains: ['test.jp'],
    routes: [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }],
    accounts: [{ pattern: 'baito@test.jp', blockExternal: true, allow: [], note: 'part-timer' }],
    delivery: {
      transportOverrides: [
        { domain: 'flaky.example', hosts: [{ host: '127.0.0.1', port: flaky.port }] },
        { domain: 'bounce.example', hosts: [{ host: '127.0.0.1', port: hard.port }] },
      ],
      retrySchedule: [5],
      delayWarningSeconds: 0,
      connectTimeoutMs: 2000,
    },
    limits: { maxConnectionsPerIp: 50 },
  };
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(cfg, null, 2));

  const child = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--listen', '127.0.0.1:0', '--no-admin'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  let port = 0;
  for (let i = 0; i < 400 && !port; i++) {
    const m = /SMTP listening on [^\s]+:(\d+)/.exec(out);
    if (m) port = Number(m[1]);
    else if (child.exitCode !== null) break;
    else await sleep(50);
  }
  if (!port) {
    say(`soak: serve did not start:\n${out}`);
    child.kill('SIGKILL');
    process.exit(2);
  }
  say(`soak: ${MINUTES} min, ${CLIENTS} clients, serve pid ${child.pid} on 127.0.0.1:${port}, data ${dir}`);

  const counts = { accepted: 0, rejected: 0, unexpected: 0, attempts: 0 };
  const unexpectedSeen = new Map();
  const odd = (what) => {
    counts.unexpected++;
    unexpectedSeen.set(what, (unexpectedSeen.get(what) ?? 0) + 1);
    return 'bad';
  };
  const expectDelivery = new Set(); // Message-IDs that must reach office or flaky
  const expectBounce = new Set(); // Message-IDs that must come back in a DSN
  let seq = 0;
  const endAt = Date.now() + MINUTES * 60_000;
  let stop = false;

  // Trusted clients (the office server); untrusted connections only try to relay.
  const kinds = [
    ['accept', 45],
    ['defer', 22],
    ['bounce', 11],
    ['blocked', 12],
    ['bare-cr', 10],
  ];
  const pick = () => {
    let r = Math.random() * 100;
    for (const [k, w] of kinds) if ((r -= w) < 0) return k;
    return 'accept';
  };

  async function one(c, kind, untrusted) {
    const mid = `<soak.${process.pid}.${++seq}@soak.test>`;
    counts.attempts++;
    const sender = kind === 'blocked' ? 'baito@test.jp' : untrusted ? 'spam@example.net' : 'tanaka@test.jp';
    const rcpt = {
      accept: `user${seq % 50}@test.jp`,
      defer: `user${seq % 50}@flaky.example`,
      bounce: `nobody${seq % 50}@bounce.example`,
      'relay-attempt': 'victim@example.com',
      blocked: 'friend@example.com',
      'bare-cr': `user${seq % 50}@test.jp`,
    }[kind];
    const m = await c.cmd(`MAIL FROM:<${sender}>`);
    if (m.code !== 250) return m.code === 0 ? 'closed' : odd(`${kind} MAIL ${m.text}`);
    const r = await c.cmd(`RCPT TO:<${rcpt}>`);
    if (kind === 'relay-attempt' || kind === 'blocked') {
      if (r.code >= 500) counts.rejected++;
      else odd(`${kind} RCPT ${r.text}`);
      await c.cmd('RSET');
      return 'ok';
    }
    if (r.code !== 250) return r.code === 0 ? 'closed' : odd(`${kind} RCPT ${r.text}`);
    const size = 200 + Math.floor(Math.random() * (Math.random() < 0.05 ? 200_000 : 8000));
    const line = 'soak line 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n';
    let text = `From: ${sender}\r\nTo: ${rcpt}\r\nSubject: soak ${seq}\r\nMessage-ID: ${mid}\r\n\r\n`;
    text += line.repeat(Math.ceil(size / line.length));
    if (kind === 'bare-cr') text += 'bare\rCR\r\n';
    const d = await c.data(text);
    if (kind === 'bare-cr') {
      if (d.code === 550) counts.rejected++;
      else odd(`${kind} DATA ${d.text}`);
      return d.code === 0 ? 'closed' : 'ok';
    }
    if (d.code === 250) {
      counts.accepted++;
      (kind === 'bounce' ? expectBounce : expectDelivery).add(mid);
      return 'ok';
    }
    return d.code === 0 ? 'closed' : odd(`${kind} DATA ${d.text}`);
  }

  async function worker(w) {
    while (!stop && Date.now() < endAt && counts.attempts < MAX_MESSAGES) {
      const untrusted = Math.random() < 0.15;
      let c;
      try {
        c = await Client.connect(port, untrusted ? '127.0.0.3' : '127.0.0.2');
      } catch {
        await sleep(200);
        continue;
      }
      try {
        if ((await c.next()).code !== 220) continue;
        if ((await c.cmd(`EHLO client${w}.test.jp`)).code !== 250) continue;
        const n = 1 + Math.floor(Math.random() * 5);
        for (let i = 0; i < n && !stop && Date.now() < endAt; i++) {
          const kind = untrusted ? 'relay-attempt' : pick();
          if ((await one(c, kind, untrusted)) === 'closed') break;
          await sleep(20 + Math.random() * 60); // ~10-20 msg/s per client: a busy office, not a flood
        }
        await c.cmd('QUIT');
      } finally {
        c.end();
      }
    }
  }

  const WARMUP_S = arg('warmup-seconds', 60);
  const samples = [];
  const t0 = Date.now();
  const queueSize = async () => (await fs.readdir(path.join(dir, 'spool', 'queue')).catch(() => [])).filter((f) => f.endsWith('.msg')).length;
  const sample = async () => {
    const [rss, fds] = await rssAndFds(child.pid);
    const delivered = office.ids.size + flaky.ids.size;
    samples.push({ t: Math.round((Date.now() - t0) / 1000), rss, fds, queue: await queueSize(), accepted: counts.accepted, rejected: counts.rejected, delivered, dsns: office.dsns.length });
    const s = samples.at(-1);
    say(`  t=${String(s.t).padStart(4)}s rss=${s.rss.toFixed(1)} MB fds=${s.fds} queue=${s.queue} accepted=${s.accepted} rejected=${s.rejected} delivered=${s.delivered} bounces=${s.dsns}`);
  };
  const sampler = (async () => {
    while (!stop && Date.now() < endAt) {
      await sleep(Math.min(SAMPLE_MS, Math.max(0, endAt - Date.now())));
      if (child.exitCode !== null) break;
      await sample().catch((e) => say(`  sample failed: ${e.message}`));
    }
  })();
  await Promise.all(Array.from({ length: CLIENTS }, (_, w) => worker(w)));
  stop = true;
  await sampler;

  // Drain: flaky retries every 5 s; bounces come back as DSNs through the office route.
  const drainUntil = Date.now() + DRAIN_MS;
  const missing = () => [...expectDelivery].filter((m) => !office.ids.has(m) && !flaky.ids.has(m));
  const dsnText = () => office.dsns.join('\n');
  const unbounced = () => {
    const t = dsnText();
    return [...expectBounce].filter((m) => !t.includes(m));
  };
  while (Date.now() < drainUntil && (missing().length > 0 || unbounced().length > 0 || (await queueSize()) > 0)) await sleep(500);
  const [rssEnd, fdsEnd] = await rssAndFds(child.pid).catch(() => [NaN, NaN]);

  child.kill('SIGTERM');
  const exited = await Promise.race([new Promise((r) => child.once('exit', () => r(true))), sleep(20_000).then(() => false)]);
  if (!exited) child.kill('SIGKILL');
  for (const s of [office, flaky, hard]) await new Promise((r) => s.server.close(r));

  const lost = missing();
  const notBounced = unbounced();
  const dups = [...office.ids.values(), ...flaky.ids.values()].filter((n) => n > 1).reduce((a, n) => a + n - 1, 0);
  say('');
  say('   t(s)   RSS MB   fds  queue  accepted  rejected  delivered  bounces');
  for (const s of samples) {
    say(`${String(s.t).padStart(7)} ${s.rss.toFixed(1).padStart(8)} ${String(s.fds).padStart(5)} ${String(s.queue).padStart(6)} ${String(s.accepted).padStart(9)} ${String(s.rejected).padStart(9)} ${String(s.delivered).padStart(10)} ${String(s.dsns).padStart(8)}`);
  }
  // The first minute is JIT and heap warm-up: shown, not judged (unless the run is too short).
  const judged = samples.filter((s) => s.t > WARMUP_S).length >= 6 ? samples.filter((s) => s.t > WARMUP_S) : samples;
  const third = Math.max(1, Math.floor(judged.length / 3));
  const first = judged.slice(0, third);
  const last = judged.slice(-third);
  const verdict = (key, absSlack) => {
    const a = median(first.map((s) => s[key]));
    const b = median(last.map((s) => s[key]));
    const change = a > 0 ? (b - a) / a : 0;
    const flat = Math.abs(change) <= 0.15 || Math.abs(b - a) <= absSlack;
    return { a, b, change, flat };
  };
  const rssV = verdict('rss', 0);
  const fdV = verdict('fds', 4);
  say('');
  say(`attempted ${counts.attempts}; accepted (250) ${counts.accepted}; rejected as expected ${counts.rejected}; unexpected replies ${counts.unexpected}`);
  say(`delivered ${expectDelivery.size - lost.length} of ${expectDelivery.size}; bounced (DSN seen) ${expectBounce.size - notBounced.length} of ${expectBounce.size}; duplicates ${dups}; 451s from the flaky upstream ${flaky.refused}`);
  for (const [k, n] of unexpectedSeen) say(`  unexpected x${n}: ${k.slice(0, 160)}`);
  say(`lost: ${lost.length + notBounced.length}${lost.length + notBounced.length ? ` (${[...lost, ...notBounced].slice(0, 5).join(' ')} ...)` : ''}; queue left: ${await queueSize()}`);
  say(`judged: ${judged.length} samples after t=${judged[0]?.t ?? 0}s (warm-up ${WARMUP_S} s excluded when there is enough left)`);
  say(`RSS: first-third median ${rssV.a.toFixed(1)} MB, last-third median ${rssV.b.toFixed(1)} MB (${(rssV.change * 100).toFixed(1)}%) -> ${rssV.flat ? 'flat' : 'NOT flat'}; at the end ${rssEnd.toFixed(1)} MB`);
  say(`fds: first-third median ${fdV.a}, last-third median ${fdV.b} (${(fdV.change * 100).toFixed(1)}%) -> ${fdV.flat ? 'flat' : 'NOT flat'}; at the end ${fdsEnd}`);
  const ok = rssV.flat && fdV.flat && lost.length + notBounced.length === 0 && samples.length >= 3;
  say(`verdict: ${ok ? 'PASS' : 'FAIL'}${samples.length < 3 ? ' (too few samples: run longer)' : ''}`);
  await fs.rm(dir, { recursive: true, force: true });
  process.exit(ok ? 0 : 1);
}

main().catch((err) => {
  console.error(`soak: ${err.stack ?? err}`);
  process.exit(2);
});
