/*
 * Fixtures for the outbound-control tests: the office with two real sinks on loopback (the
 * office mail server for test.jp, and "the internet": example.com and archive.example routed
 * to a second sink by transport overrides, so nothing leaves the machine), an in-process
 * Gateway on it with a clock the test can move, the command layer over that gateway (as the
 * window and the CLI call it), and an SMTP send from the office server (127.0.0.2, trusted).
 */
import { SmtpTestClient } from '../helpers/smtp-client.js';
import { openGateway, TestSink, waitFor, type TestGateway } from '../hardening/helpers.js';
import { createCommands, createDispatcher, gatewayPorts } from '../../main/core/commands/index.js';
import { ApiError, type ArgsOf, type CommandName, type ResultOf } from '../../main/shared/contract.js';
import type { GatehouseConfig } from '../../main/shared/types.js';
import { Gateway } from '../../main/core/gateway.js';
import { NO_DNS } from '../helpers/gateway.js';

export { waitFor };

export interface Office {
  tg: TestGateway;
  office: TestSink;
  internet: TestSink;
  clock: { offsetMs: number };
  call<C extends CommandName>(command: C, args?: ArgsOf<C>, via?: 'cli' | 'ui'): Promise<ResultOf<C>>;
  send(from: string, to: string[], data: string): Promise<{ code: number; text: string; rcpt: { code: number; text: string }[] }>;
  /** Closes the gateway and opens a new one on the same folder (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export function officeRoutes(c: GatehouseConfig, office: TestSink, internet: TestSink): void {
  c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: office.port }] }];
  c.delivery.transportOverrides = [
    { domain: 'example.com', hosts: [{ host: '127.0.0.1', port: internet.port }] },
    { domain: 'archive.example', hosts: [{ host: '127.0.0.1', port: internet.port }] },
  ];
}

export async function openOffice(patch: (c: GatehouseConfig) => void): Promise<Office> {
  const office = await TestSink.start();
  const internet = await TestSink.start();
  const clock = { offsetMs: 0 };
  const now = () => new Date(Date.now() + clock.offsetMs);
  let tg = await openGateway((c) => {
    officeRoutes(c, office, internet);
    patch(c);
  });
  // openGateway has no clock option: reopen on the same folder with one.
  const dir = tg.dir;
  await tg.gw.close();
  const reopen = async (): Promise<TestGateway> => {
    const gw = await Gateway.open({ dataDir: dir, resolver: NO_DNS, now });
    const st = await gw.start();
    return {
      gw,
      dir,
      port: st.listen!.port,
      receive: async () => (await gw.receivelog.flush().catch(() => undefined), gw.receivelog.tail(100_000)),
      send: async () => (await gw.senderlog.flush().catch(() => undefined), gw.senderlog.tail(100_000)),
      close: async () => gw.close(),
    };
  };
  tg = await reopen();
  const o: Office = {
    get tg() {
      return tg;
    },
    office,
    internet,
    clock,
    async call(command, args, via = 'cli') {
      const r = await createDispatcher(createCommands(gatewayPorts(tg.gw)))(command, args, { via });
      if (!r.ok) throw ApiError.fromData(r.error);
      return r.value as never;
    },
    async send(from, to, data) {
      const c = await SmtpTestClient.connect(tg.port, { localAddress: '127.0.0.2' });
      await c.greeting;
      await c.cmd('EHLO mail.test.jp');
      const mail = await c.cmd(`MAIL FROM:<${from}>`);
      if (mail.code !== 250) {
        await c.quit();
        return { ...mail, rcpt: [] };
      }
      const rcpt = [];
      for (const r of to) rcpt.push(await c.cmd(`RCPT TO:<${r}>`));
      const { end } = await c.data(data);
      await c.quit();
      return { ...end, rcpt };
    },
    async restart() {
      await tg.gw.close();
      tg = await reopen();
    },
    async close() {
      await tg.gw.close();
      await office.down();
      await internet.down();
      const fs = await import('node:fs/promises');
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
  return o;
}

/** A message with a Japanese subject (encoded word), a text part and one attachment. */
export function mailWithAttachment(from: string, to: string[], subject = '見積書の送付'): string {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const attachment = Buffer.alloc(3000, 0x41).toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    `From: ${from}`,
    `To: ${to.join(', ')}`,
    `Subject: =?UTF-8?B?${b64(subject)}?=`,
    `Message-ID: <${Date.now()}.${Math.random().toString(36).slice(2)}@test.jp>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    b64('お世話になっております。\n見積書をお送りします。\nよろしくお願いします。'),
    '--b1',
    'Content-Type: application/pdf; name="mitsumori.pdf"',
    'Content-Disposition: attachment; filename="mitsumori.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    attachment,
    '--b1--',
    '',
  ].join('\r\n');
}

/** The text of a message (all base64 parts decoded), to look for words in notices and DSNs. */
export function readable(raw: Buffer): string {
  const text = raw.toString('latin1');
  const parts = text.split(/\r\n\r\n/);
  let out = text;
  for (const p of parts) {
    const m = /^([A-Za-z0-9+/=\r\n]{40,})/.exec(p);
    if (m) out += '\n' + Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  // quoted-printable (MailComposer uses it for UTF-8 text)
  out += '\n' + Buffer.from(text.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  return out;
}
