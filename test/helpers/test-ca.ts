/*
 * A throwaway certificate authority for TLS tests, made with the openssl command line:
 * makeTestCa() creates the CA (EC P-256, one day) in a temp folder; issue(names, ips) signs
 * a server certificate for those DNS names and IP addresses. Callers trust
 * `ca.cert` explicitly (the core's injectable CA); nothing is installed system-wide.
 * Throws when openssl fails.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCa {
  cert: string;
  /** A server certificate for these DNS names and IP addresses (default 127.0.0.1). */
  issue(names: string[], ips?: string[]): { key: string; cert: string };
  cleanup(): void;
}

export function makeTestCa(): TestCa {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-ca-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  run(['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '1', '-subj', '/CN=Gatehouse Test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.crt']);
  let n = 0;
  return {
    cert: fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    issue(names, ips = ['127.0.0.1']) {
      const id = `s${++n}`;
      run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${id}.key`]);
      run(['req', '-new', '-key', `${id}.key`, '-subj', `/CN=${names[0]}`, '-out', `${id}.csr`]);
      fs.writeFileSync(path.join(dir, `${id}.ext`), `subjectAltName=${[...names.map((x) => `DNS:${x}`), ...ips.map((x) => `IP:${x}`)].join(',')}\nextendedKeyUsage=serverAuth\n`);
      run(['x509', '-req', '-in', `${id}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-sha256', '-extfile', `${id}.ext`, '-out', `${id}.crt`]);
      return { key: fs.readFileSync(path.join(dir, `${id}.key`), 'utf8'), cert: fs.readFileSync(path.join(dir, `${id}.crt`), 'utf8') };
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
