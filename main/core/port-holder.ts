/*
 * Which process holds a TCP port, so "port 25 is in use" can name it (another mail server,
 * IIS SMTP) instead of a bare EADDRINUSE, and which port nearby is free to offer instead.
 *
 *   Windows  `netstat -ano -p TCP` (the listening socket and its PID) and
 *            `tasklist /FI "PID eq n" /FO CSV /NH` (the program's name). Lines are matched by
 *            their shape, not by the state's word (which Windows translates).
 *   Linux    /proc/net/tcp and tcp6 (the listening socket's inode), then /proc/<pid>/fd (who
 *            has that socket open) and /proc/<pid>/comm (its name). Another user's process
 *            shows as "held by another user's process" (its fds cannot be read without root).
 *   macOS    `lsof -nP -iTCP:<port> -sTCP:LISTEN -Fpc`.
 *
 * `findPortHolder` resolves to the holder, `{ pid: null, name: null }` when the port is taken
 * but the holder cannot be seen, or null when nobody listens; it never rejects (a tool that
 * is missing or fails gives the second answer). `freePort` resolves to the first candidate
 * that can be bound on the host, or null.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';

export interface PortHolder {
  pid: number | null;
  /** The program's name (smtpsvc.exe, master, node), or null when it cannot be seen. */
  name: string | null;
}

type Run = (file: string, args: string[]) => Promise<string>;

const runTool: Run = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, args, { windowsHide: true, timeout: 15_000, maxBuffer: 8 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(String(stdout))));
  });

/** PIDs of sockets listening on `port` in `netstat -ano -p TCP` output (any address). */
export function parseNetstat(text: string, port: number): number[] {
  const pids: number[] = [];
  for (const line of text.split(/\r?\n/)) {
    // "  TCP    0.0.0.0:25    0.0.0.0:0    LISTENING    1234" (the state word is translated).
    const m = /^\s*TCP\s+(\S+):(\d+)\s+(\S+)\s+\S+\s+(\d+)\s*$/i.exec(line);
    if (!m || Number(m[2]) !== port) continue;
    // A listening socket has no remote end: 0.0.0.0:0 or [::]:0.
    if (!/^(0\.0\.0\.0|\[::\]|\*):0$/.test(m[3]!)) continue;
    const pid = Number(m[4]);
    if (!pids.includes(pid)) pids.push(pid);
  }
  return pids;
}

/** The image name in `tasklist /FO CSV /NH` output ("smtpsvc.exe","1234",...). */
export function parseTasklist(text: string): string | null {
  const m = /^"([^"]+)","(\d+)"/m.exec(text);
  return m ? m[1]! : null;
}

/** Inodes of listening sockets on `port` in /proc/net/tcp(6) text. */
export function parseProcNetTcp(text: string, port: number): string[] {
  const out: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const localPort = parseInt(f[1]!.split(':')[1] ?? '', 16);
    if (localPort === port && f[3] === '0A') out.push(f[9]!); // 0A: TCP_LISTEN
  }
  return out;
}

async function linuxHolder(port: number): Promise<PortHolder | null> {
  const inodes = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await fs.readFile(f, 'utf8').catch(() => '');
    for (const i of parseProcNetTcp(text, port)) inodes.add(i);
  }
  if (inodes.size === 0) return null;
  const want = new Set([...inodes].map((i) => `socket:[${i}]`));
  for (const pid of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (!want.has(link)) continue;
      const name = (await fs.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() || null;
      return { pid: Number(pid), name };
    }
  }
  return { pid: null, name: null };
}

async function windowsHolder(port: number, run: Run): Promise<PortHolder | null> {
  const pids = parseNetstat(await run('netstat', ['-ano', '-p', 'TCP']), port);
  if (pids.length === 0) {
    const v6 = parseNetstat(await run('netstat', ['-ano', '-p', 'TCPv6']).catch(() => ''), port);
    if (v6.length === 0) return null;
    pids.push(...v6);
  }
  const pid = pids[0]!;
  const name = parseTasklist(await run('tasklist', ['/FI', `PID eq ${pid}`, '/FO', 'CSV', '/NH']).catch(() => ''));
  return { pid, name };
}

async function macHolder(port: number, run: Run): Promise<PortHolder | null> {
  const text = await run('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc']).catch(() => '');
  const pid = /^p(\d+)$/m.exec(text);
  if (!pid) return null;
  return { pid: Number(pid[1]), name: /^c(.+)$/m.exec(text)?.[1] ?? null };
}

export async function findPortHolder(port: number, opts: { platform?: NodeJS.Platform; run?: Run } = {}): Promise<PortHolder | null> {
  const platform = opts.platform ?? process.platform;
  const run = opts.run ?? runTool;
  try {
    if (platform === 'win32') return await windowsHolder(port, run);
    if (platform === 'darwin') return await macHolder(port, run);
    return await linuxHolder(port);
  } catch {
    return { pid: null, name: null };
  }
}

/** Can `port` be bound on `host` right now? */
export function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** Ports offered instead of 25, in order (the common alternative submission/relay ports). */
export const ALTERNATIVE_PORTS: readonly number[] = [2525, 2526, 10025, 2025];

export async function freePort(host: string, candidates: readonly number[] = ALTERNATIVE_PORTS): Promise<number | null> {
  for (const p of candidates) if (await canBind(host, p)) return p;
  return null;
}

/** One line for the admin: who holds the port, in plain words. */
export function describeHolder(port: number, holder: PortHolder | null): string {
  if (!holder) return `port ${port} is in use`;
  if (holder.pid === null) return `port ${port} is in use by another user's process (run as administrator to see which)`;
  return `port ${port} is in use by ${holder.name ?? 'a process'} (PID ${holder.pid})`;
}
