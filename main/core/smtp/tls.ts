/*
 * The listener's certificate for STARTTLS. Mode 'auto' makes a self-signed certificate at
 * first run (<data>/tls/key.pem + cert.pem, CN = the gateway's hostname, 10 years: office
 * servers relaying to a smarthost on the LAN rarely verify it, they want encryption);
 * 'files' reads the admin's PEM files; 'off' disables STARTTLS. Returns null for 'off'.
 * Fails with a clear error naming the file when the admin's files cannot be read.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TlsConfig } from '../../shared/types.js';
import { makePrivateDir, writePrivateFile } from '../private-files.js';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  /** Where it came from, for the status line. */
  source: string;
}

export async function loadTlsMaterial(dataDir: string, tls: TlsConfig, hostname: string): Promise<TlsMaterial | null> {
  if (tls.mode === 'off') return null;
  if (tls.mode === 'files') {
    const certFile = path.resolve(dataDir, tls.certFile);
    const keyFile = path.resolve(dataDir, tls.keyFile);
    const read = async (f: string, what: string) => {
      try {
        return await fs.readFile(f);
      } catch (err) {
        throw new Error(`cannot read the TLS ${what} ${f}: ${(err as Error).message}`);
      }
    };
    return { cert: await read(certFile, 'certificate'), key: await read(keyFile, 'key'), source: certFile };
  }
  const dir = path.join(dataDir, 'tls');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  try {
    return { key: await fs.readFile(keyFile), cert: await fs.readFile(certFile), source: certFile };
  } catch {
    // First run: make one.
  }
  const now = new Date();
  // Loaded only when a certificate must be made (first run): selfsigned and its X.509 stack
  // are megabytes of heap a running gateway never needs again.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keyType: 'ec',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 10 * 365 * 86400_000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: hostname }] }],
  } as Parameters<typeof generate>[1]);
  await makePrivateDir(dir);
  await writePrivateFile(keyFile, pems.private);
  await writePrivateFile(certFile, pems.cert);
  return { key: Buffer.from(pems.private), cert: Buffer.from(pems.cert), source: `${certFile} (self-signed, made at first run)` };
}
