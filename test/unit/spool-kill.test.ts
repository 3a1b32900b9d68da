/*
 * kill -9 in the middle of a write storm loses nothing that was acknowledged.
 * A child Node process writes messages (8 in flight) and prints `<id> <sha256>` after each
 * write() resolves, i.e. at the moment SMTP would say 250. After some acknowledgements the
 * test SIGKILLs it, then opens the spool in-process: every acknowledged id must be recovered
 * with its body checksum verified, nothing torn may be left in queue/ or tmp/, and the only
 * things quarantined may be unacknowledged in-flight writes. Three rounds on the same spool.
 *
 * The child cannot load TypeScript on Node 20, so beforeAll compiles just the spool sources
 * and the core helpers they import (found from this file's location) into the temp dir with the project's tsc. That tests the
 * current sources even when dist/ is stale and does not depend on the rest of the tree compiling.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Spool } from '../../main/core/spool/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
let work: string;
let childScript: string;

const CHILD = `
import { Spool } from './lib/spool/index.js';
const spool = new Spool(process.argv[2]);
await spool.open();
let n = 0;
async function worker() {
  for (;;) {
    const i = n++;
    // Sizes up to ~400 KB so that a kill often lands inside a write.
    const body = Buffer.alloc(500 + ((i * 7919) % 400000), 'message ' + i + ' \\r\\n');
    const h = await spool.write(
      { sender: 'alice@test.jp', recipients: ['bob@example.com'], clientIp: '127.0.0.1', session: 'k' + i, trusted: true },
      body,
    );
    process.stdout.write(h.id + ' ' + h.sha256 + '\\n');
  }
}
await Promise.all(Array.from({ length: 8 }, worker));
`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gatehouse-spool-kill-'));
  const lib = join(work, 'lib');
  // The spool and the core helpers it imports (fs-retry.ts), nothing else.
  const src = join(root, 'main', 'core');
  await promisify(execFile)(
    process.execPath,
    [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '--module', 'NodeNext',
      '--moduleResolution', 'NodeNext',
      '--target', 'ES2022',
      '--strict',
      '--skipLibCheck',
      '--types', 'node',
      '--rootDir', src,
      '--outDir', lib,
      join(src, 'spool', 'index.ts'),
    ],
    { cwd: root },
  );
  // The temp dir has no package.json: say the compiled files are ES modules.
  await writeFile(join(lib, 'package.json'), '{"type":"module"}\n');
  childScript = join(work, 'child.mjs');
  await writeFile(childScript, CHILD);
}, 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Run the child until it has acknowledged `atLeast` writes, then SIGKILL it. */
function runAndKill(spoolDir: string, atLeast: number): Promise<Map<string, string>> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [childScript, spoolDir], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked = new Map<string, string>();
    let buf = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [id, sha] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        if (id && sha) acked.set(id, sha);
      }
      if (!killed && acked.size >= atLeast) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      // Lines that arrived after the kill are acknowledgements too; a partial line is not.
      if (signal === 'SIGKILL' && killed) resolvePromise(acked);
      else reject(new Error(`child exited (code ${code}, signal ${signal}) before ${atLeast} acks:\n${stderr}`));
    });
  });
}

describe('spool survives kill -9', () => {
  it('every acknowledged message is recovered intact; nothing torn stays in queue/', async () => {
    const spoolDir = join(work, 'spool');
    const allAcked = new Map<string, string>();

    for (const atLeast of [20, 33, 47]) {
      const acked = await runAndKill(spoolDir, atLeast);
      expect(acked.size).toBeGreaterThanOrEqual(atLeast);
      for (const [id, sha] of acked) allAcked.set(id, sha);

      const spool = new Spool(spoolDir);
      const { recovered, quarantined } = await spool.open();
      try {
        const byId = new Map(recovered.map((h) => [h.id, h]));
        for (const [id, sha] of allAcked) {
          expect(byId.get(id)?.sha256, `acknowledged ${id} must be recovered`).toBe(sha);
          await spool.readBody(id); // verifies the body checksum
        }
        // Only unacknowledged in-flight writes may be quarantined (torn .msg in queue/, or a
        // state update in tmp/).
        for (const q of quarantined) {
          expect(q).toMatch(/^(tmp|queue)\//);
          expect(allAcked.has(q.replace(/^(tmp|queue)\//, '').replace(/\..*$/, ''))).toBe(false);
        }
        const queue = await readdir(join(spoolDir, 'queue'));
        expect(queue.filter((n) => n.endsWith('.msg'))).toHaveLength(recovered.length);
        expect(queue.every((n) => n.endsWith('.msg'))).toBe(true);
        expect(await readdir(join(spoolDir, 'tmp'))).toEqual([]);
      } finally {
        await spool.close();
      }
    }
  });
});
