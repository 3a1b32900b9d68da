/*
 * Runs the independent DKIM verifier (dkimpy, Debian's python3-dkim, under /usr/bin/python3)
 * on a message, its key lookups going to the test's DNS server. Returns its verdict per
 * signature. dkimVerifierSkipReason() is '' when it can run, else the one-line skip message.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PY = '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dkim_verify.py');

export interface DkimpyVerdict {
  ok: boolean;
  signatures: number;
  results: { ok: boolean; d: string; s: string; a: string; c: string; error: string }[];
}

let available: boolean | undefined;

export function dkimVerifierSkipReason(): string {
  if (available === undefined) available = spawnSync(PY, ['-c', 'import dkim, dns.resolver, nacl'], { stdio: 'ignore' }).status === 0;
  return available ? '' : 'skipped: no DKIM verifier (apt-get install -y python3-dkim python3-dnspython python3-nacl)';
}

export function dkimpyVerify(raw: Buffer, dnsHost: string, dnsPort: number): Promise<DkimpyVerdict> {
  return new Promise((resolve, reject) => {
    const p = spawn(PY, [SCRIPT, dnsHost, String(dnsPort)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (err += c));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`dkimpy exited ${code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out) as DkimpyVerdict);
      } catch {
        reject(new Error(`dkimpy said: ${out} ${err}`));
      }
    });
    p.stdin.end(raw);
  });
}
