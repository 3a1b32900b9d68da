/*
 * A tiny real SMTP client for tests: one socket, one command at a time, returns each reply
 * (code + full text). It can bind a local address (127.0.0.2 stands for the office server)
 * and send raw bytes, so tests see exactly what the gateway answers per command.
 */
import net from 'node:net';

export interface Reply {
  code: number;
  text: string;
}

export class SmtpTestClient {
  private buf = '';
  private waiters: ((r: Reply) => void)[] = [];
  private replies: Reply[] = [];
  private closed = false;
  readonly greeting: Promise<Reply>;
  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => this.onData(d));
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w({ code: 0, text: 'connection closed' });
    });
    socket.on('error', () => undefined);
    this.greeting = this.next();
  }

  static connect(port: number, opts: { host?: string; localAddress?: string } = {}): Promise<SmtpTestClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: opts.host ?? '127.0.0.1', localAddress: opts.localAddress }, () => resolve(new SmtpTestClient(socket)));
      socket.once('error', reject);
    });
  }

  private onData(d: string): void {
    this.buf += d;
    let idx: number;
    let lines: string[] = [];
    while ((idx = this.buf.indexOf('\r\n')) >= 0) {
      const line = this.buf.slice(0, idx);
      this.buf = this.buf.slice(idx + 2);
      lines.push(line);
      if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), text: lines.join('\n') };
        lines = [];
        const w = this.waiters.shift();
        if (w) w(reply);
        else this.replies.push(reply);
      }
    }
    if (lines.length) this.buf = lines.join('\r\n') + '\r\n' + this.buf;
  }

  next(): Promise<Reply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.resolve({ code: 0, text: 'connection closed' });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async cmd(line: string): Promise<Reply> {
    this.socket.write(line + '\r\n');
    return this.next();
  }

  write(raw: string | Buffer): void {
    this.socket.write(raw);
  }

  /** DATA with a body (CRLF lines, dot-stuffed here), returns the final reply. */
  async data(body: string): Promise<{ start: Reply; end: Reply }> {
    const start = await this.cmd('DATA');
    if (start.code !== 354) return { start, end: start };
    const stuffed = body.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.socket.write(stuffed + (stuffed.endsWith('\r\n') ? '' : '\r\n') + '.\r\n');
    return { start, end: await this.next() };
  }

  async quit(): Promise<void> {
    if (!this.closed) await this.cmd('QUIT').catch(() => undefined);
    this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function message(from: string, to: string[], subject = 'test', extra = ''): string {
  return `From: ${from}\r\nTo: ${to.join(', ')}\r\nSubject: ${subject}\r\nMessage-ID: <${Date.now()}.${Math.random()}@test>\r\n${extra}\r\nhello\r\n`;
}
