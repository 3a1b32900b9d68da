#!/usr/bin/env node
/*
 * Reference servers for `npm run bench` (bench.py's `floor-*` systems): what the same load
 * costs a server that does none of Gatehouse's own work, measured in the same run as
 * Gatehouse and Postfix. They show how much of Gatehouse's cost per session and per message
 * is the stack it is built on (and the durability it promises), and so how far its own work
 * could move the ratios.
 *
 *   node bench/floor.mjs smtp-server PORT [PROCESSES] [SPOOLDIR]
 *       smtp-server (the package Gatehouse uses, pinned version) through Gatehouse's own
 *       adapter (dist/), without TLS, AUTH, reverse lookups, command deadline or size limit:
 *       no greeting wait, no log, no policy, no counters, no delivery. RCPT from the bench's
 *       blocked sender (baito@test.jp) is answered `550 5.7.1`; any other message is made as
 *       durable as Gatehouse makes it before its 250 (a new file in SPOOLDIR written in one
 *       writev, its fdatasync and a group-committed fsync of the folder, with Gatehouse's own
 *       helpers), then removed: the floor of the accept cells' accepted/s, not of delivered/s.
 *   node bench/floor.mjs smtp-server-journal PORT [PROCESSES] [SPOOLDIR]
 *       the same, but the message is made durable the way a write-ahead journal would: written
 *       at the tail of one preallocated, zero-filled file (a ring, no new file per message,
 *       so no file-system metadata changes) and answered after an fdatasync of that file
 *       that covers it, shared by every message written while the previous one ran (group
 *       commit). Gatehouse does not do this (its spool makes a file per message); it shows
 *       what such a spool would cost here.
 *   node bench/floor.mjs smtp-server-volatile PORT [PROCESSES]
 *       the same with no durability at all: the 250 as soon as the data is in. Never a
 *       design, only the ceiling: what smtp-server alone receives on this machine.
 *   node bench/floor.mjs node PORT [PROCESSES]
 *       a bare node:net responder that speaks just enough SMTP for smtp-source's dialog
 *       (220, 250 to HELO/EHLO/MAIL/RSET, 550 to RCPT, 503 to DATA, 221 to QUIT): Node's
 *       own floor for a session on this machine.
 *
 * PROCESSES > 1 runs that many worker processes with node:cluster (the primary only hands
 * out connections), to show what both cores would give. Loopback only; runs until SIGTERM or
 * SIGINT. floor-node answers the reject cells only.
 */
import cluster from 'node:cluster';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const [kind, portArg, procArg, spoolDir] = process.argv.slice(2);
const KINDS = ['smtp-server', 'smtp-server-journal', 'smtp-server-volatile', 'node'];
const USAGE = `usage: node bench/floor.mjs ${KINDS.join('|')} PORT [PROCESSES] [SPOOLDIR]`;
if (kind === '--help' || kind === '-h') {
  console.log(`${USAGE}\nA reference server for npm run bench (see the header of bench/floor.mjs and bench/README.md).`);
  process.exit(0);
}
const port = Number(portArg);
const processes = Math.max(1, Number(procArg ?? 1));
if (!KINDS.includes(kind) || !Number.isInteger(port) || port <= 0) {
  console.error(USAGE);
  process.exit(2);
}
/** The journal reference's ring: preallocated and zero-filled once, so writes change no metadata. */
const JOURNAL_BYTES = 32 * 1024 * 1024;
const RECORD_HEAD = 16; // magic, length, sequence: what a real journal's recovery would need

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));

if (processes > 1 && cluster.isPrimary) {
  for (let i = 0; i < processes; i++) cluster.fork();
  cluster.on('exit', (_w, code) => {
    if (code !== 0) process.exit(1);
  });
} else if (kind.startsWith('smtp-server')) {
  const dist = path.join(HERE, '..', 'dist', 'main', 'core');
  const { createSmtpServer } = await import(pathToFileURL(path.join(dist, 'smtp', 'smtp-server-adapter.js')).href);
  const { DirSync, writeAllv } = await import(pathToFileURL(path.join(dist, 'spool', 'fsync.js')).href);
  const dir = path.join(spoolDir ?? os.tmpdir(), `floor-${process.pid}`);
  fs.mkdirSync(dir, { recursive: true });
  const dirSync = new DirSync(dir, true);
  let seq = 0;
  /** The message as Gatehouse's spool makes it durable before the 250, then gone. */
  const keepAsFile = async (body) => {
    const file = path.join(dir, `${++seq}.msg`);
    const fh = await fsp.open(file, 'wx', 0o600);
    try {
      await writeAllv(fh, [body]);
      await Promise.all([fh.datasync(), dirSync.sync()]);
    } finally {
      await fh.close();
    }
    await fsp.unlink(file);
  };
  const keep = kind === 'smtp-server' ? keepAsFile : kind === 'smtp-server-journal' ? await journal(dir) : async () => undefined;
  const server = createSmtpServer(
    {
      name: 'floor.test.jp',
      banner: 'floor',
      logger: false,
      disableReverseLookup: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      hideSTARTTLS: true,
      authOptional: true,
      maxClients: 0,
      onRcptTo(_address, session, cb) {
        if (session.envelope.mailFrom && session.envelope.mailFrom.address === 'baito@test.jp') {
          return cb(Object.assign(new Error('5.7.1 refused'), { responseCode: 550 }));
        }
        cb();
      },
      onData(stream, _session, cb) {
        const chunks = [];
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', () => {
          keep(Buffer.concat(chunks)).then(() => cb(null, '2.0.0 Ok: kept'), cb);
        });
      },
    },
    { skipGreetingDelay: () => true },
  );
  server.on('error', (err) => console.error(err.message));
  server.listen(port, '127.0.0.1');
} else {
  const replies = { HELO: '250 floor\r\n', EHLO: '250 floor\r\n', MAIL: '250 2.1.0 Ok\r\n', RSET: '250 2.0.0 Ok\r\n', RCPT: '550 5.7.1 refused\r\n' };
  net
    .createServer((socket) => {
      let pending = '';
      socket.on('error', () => undefined);
      socket.write('220 floor ESMTP\r\n');
      socket.on('data', (chunk) => {
        pending += chunk.toString('latin1');
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
          const verb = pending.slice(0, 4).toUpperCase();
          pending = pending.slice(nl + 1);
          if (verb === 'QUIT') socket.end('221 2.0.0 Bye\r\n');
          else socket.write(replies[verb] ?? '503 5.5.1 Error\r\n');
        }
      });
    })
    .listen(port, '127.0.0.1');
}

/**
 * keep() for smtp-server-journal: each message at the ring's tail (positional write), then
 * one fdatasync for every message written before it started; while one runs, the next
 * batch gathers.
 */
async function journal(dir) {
  const fh = await fsp.open(path.join(dir, 'journal'), 'w+', 0o600);
  const zeros = Buffer.alloc(1024 * 1024);
  for (let at = 0; at < JOURNAL_BYTES; at += zeros.length) await fh.write(zeros, 0, zeros.length, at);
  await fh.sync();
  let tail = 0;
  let seq = 0;
  let running = false;
  let batch = [];
  const commit = () => {
    if (running || batch.length === 0) return;
    const mine = batch;
    batch = [];
    running = true;
    fh.datasync().then(
      () => mine.forEach((w) => w.resolve()),
      (err) => mine.forEach((w) => w.reject(err)),
    ).finally(() => {
      running = false;
      commit();
    });
  };
  return async (body) => {
    const size = RECORD_HEAD + body.length;
    if (size > JOURNAL_BYTES) throw new Error('message larger than the journal');
    if (tail + size > JOURNAL_BYTES) tail = 0;
    const at = tail;
    tail += size;
    const head = Buffer.alloc(RECORD_HEAD);
    head.writeUInt32LE(0x4a524e4c, 0);
    head.writeUInt32LE(body.length, 4);
    head.writeBigUInt64LE(BigInt(++seq), 8);
    await fh.writev([head, body], at);
    await new Promise((resolve, reject) => {
      batch.push({ resolve, reject });
      commit();
    });
  };
}
