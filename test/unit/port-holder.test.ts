/*
 * "Port 25 is in use" with a name (main/core/port-holder.ts): a real listener held by a child
 * process is found with its PID and program name, a free port is offered instead, and the
 * Windows tools' output (netstat -ano, tasklist /FO CSV, English and Japanese Windows) and
 * /proc/net/tcp are read correctly. The live test reads /proc on Linux and runs netstat and
 * tasklist on Windows (not under Wine, whose netstat lists no PIDs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { canBind, describeHolder, findPortHolder, freePort, parseNetstat, parseProcNetTcp, parseTasklist } from '../../main/core/port-holder.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill();
});

/** A listener on 127.0.0.1 in a child process; resolves to its port. */
function holdPort(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', "const s=require('net').createServer().listen(0,'127.0.0.1',()=>console.log(s.address().port));setInterval(()=>{},1000)"], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ child, port: Number(String(d).trim()) }));
    child.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
  });
}

async function unusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('who holds a port', () => {
  it.skipIf(process.env.GATEHOUSE_WINE === '1')('names the process that listens, and offers a free port instead', async () => {
    const { child, port } = await holdPort();
    const holder = await findPortHolder(port);
    expect(holder).toEqual({ pid: child.pid, name: process.platform === 'win32' ? 'node.exe' : 'node' });
    expect(describeHolder(port, holder)).toBe(`port ${port} is in use by ${holder!.name} (PID ${child.pid})`);
    expect(await canBind('127.0.0.1', port)).toBe(false);
    const free = await unusedPort();
    expect(await freePort('127.0.0.1', [port, free])).toBe(free);
    expect(await freePort('127.0.0.1', [port])).toBeNull();
    // Nobody on a free port.
    expect(await findPortHolder(free)).toBeNull();
  });

  it('reads netstat -ano (the state word is not relied on: Windows translates it)', () => {
    const en = [
      '',
      'Active Connections',
      '',
      '  Proto  Local Address          Foreign Address        State           PID',
      '  TCP    0.0.0.0:25             0.0.0.0:0              LISTENING       4321',
      '  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1000',
      '  TCP    127.0.0.1:25           127.0.0.1:50000        ESTABLISHED     4321',
      '  TCP    192.168.0.103:50001    203.0.113.5:25         ESTABLISHED     777',
    ].join('\r\n');
    expect(parseNetstat(en, 25)).toEqual([4321]);
    expect(parseNetstat(en, 2525)).toEqual([]);
    const ja = ['アクティブな接続', '', '  プロトコル  ローカル アドレス      外部アドレス           状態            PID', '  TCP    [::]:25                [::]:0                 ABHÖREN         88'].join('\r\n');
    expect(parseNetstat(ja, 25)).toEqual([88]);
  });

  it('reads tasklist CSV and /proc/net/tcp', () => {
    expect(parseTasklist('"smtpsvc.exe","4321","Services","0","12,345 K"\r\n')).toBe('smtpsvc.exe');
    expect(parseTasklist('INFO: No tasks are running which match the specified criteria.\r\n')).toBeNull();
    const proc = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:0019 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    expect(parseProcNetTcp(proc, 25)).toEqual(['12345']);
  });

  it('says so when the port is taken but the holder cannot be seen', () => {
    expect(describeHolder(25, { pid: null, name: null })).toContain("another user's process");
    expect(describeHolder(25, null)).toBe('port 25 is in use');
  });
});

describe('the gateway says who holds its port', () => {
  it.skipIf(process.env.GATEHOUSE_WINE === '1')('start() fails naming the holder and a free port; status() carries both', async () => {
    const { Gateway } = await import('../../main/core/gateway.js');
    const { NO_DNS, officeConfig, tempDir } = await import('../helpers/gateway.js');
    const fs = await import('node:fs/promises');
    const { child, port } = await holdPort();
    const dir = await tempDir();
    const gw = await Gateway.open({ dataDir: dir, createWith: officeConfig((c) => void (c.listener = { host: '127.0.0.1', port })), resolver: NO_DNS });
    try {
      await expect(gw.start()).rejects.toThrow(new RegExp(`port ${port} is in use by node(\\.exe)? \\(PID ${child.pid}\\)`));
      const st = gw.status();
      expect(st.running).toBe(false);
      expect(st.portInUse).toMatchObject({ host: '127.0.0.1', port, pid: child.pid });
      expect(st.portInUse!.suggestion === null || (await canBind('127.0.0.1', st.portInUse!.suggestion))).toBe(true);
      // Once the holder is gone, the same start works and the problem is cleared.
      child.kill();
      await new Promise((r) => child.once('exit', r));
      await gw.start();
      expect(gw.status().portInUse).toBeNull();
    } finally {
      await gw.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
