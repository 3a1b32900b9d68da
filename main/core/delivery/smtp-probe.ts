/*
 * A tiny SMTP client for one question: would this server take RCPT TO:<addr>? It speaks
 * EHLO (HELO if refused), MAIL FROM:<>, RCPT TO:<addr>, then QUIT, and returns the reply to
 * RCPT, or the first reply that ended the dialogue early (with the stage it came at), or an
 * error when the connection failed or the whole exchange took longer than `timeoutMs`.
 * Never rejects. Plain TCP only: it talks to the office server on the LAN, and a probe must
 * never send a message (it stops before DATA).
 */
import net from 'node:net';

export interface ProbeAnswer {
  /** The stage whose reply ended the probe (rcpt when it got that far). */
  stage: 'greeting' | 'ehlo' | 'mail' | 'rcpt';
  code: number;
  reply: string;
}

export type ProbeResult = ProbeAnswer | { error: string };

export interface ProbeOptions {
  host: string;
  port: number;
  /** EHLO name. */
  name: string;
  recipient: string;
  timeoutMs: number;
}

/** Replies longer than this end the probe (a server flooding us is not an answer). */
const MAX_REPLY = 16 * 1024;

export function probeRecipient(o: ProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let buf = '';
    let lines: string[] = [];
    let settled = false;
    let step: 'greeting' | 'ehlo' | 'helo' | 'mail' | 'rcpt' | 'quit' = 'greeting';
    const socket = net.connect({ host: o.host, port: o.port });
    const finish = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if ('code' in r && !socket.destroyed) {
        // Be polite when we can; do not wait for the answer.
        socket.end('QUIT\r\n');
        setTimeout(() => socket.destroy(), 1000).unref();
      } else {
        socket.destroy();
      }
      resolve(r);
    };
    const timer = setTimeout(() => finish({ error: `no answer within ${o.timeoutMs} ms` }), o.timeoutMs);
    timer.unref();
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ error: `${err.code ?? 'ERROR'} ${err.message}` }));
    socket.on('close', () => finish({ error: 'connection closed' }));
    const send = (cmd: string) => socket.write(`${cmd}\r\n`);
    const onReply = (code: number, text: string) => {
      const reply = text;
      const ok = code >= 200 && code < 400;
      switch (step) {
        case 'greeting':
          if (code !== 220) return finish({ stage: 'greeting', code, reply });
          step = 'ehlo';
          return send(`EHLO ${o.name}`);
        case 'ehlo':
          if (!ok) {
            step = 'helo';
            return send(`HELO ${o.name}`);
          }
          step = 'mail';
          return send('MAIL FROM:<>');
        case 'helo':
          if (!ok) return finish({ stage: 'ehlo', code, reply });
          step = 'mail';
          return send('MAIL FROM:<>');
        case 'mail':
          if (!ok) return finish({ stage: 'mail', code, reply });
          step = 'rcpt';
          return send(`RCPT TO:<${o.recipient}>`);
        case 'rcpt':
          step = 'quit';
          return finish({ stage: 'rcpt', code, reply });
        default:
          return undefined;
      }
    };
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REPLY) return finish({ error: 'reply too long' });
      let nl: number;
      while (!settled && (nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        const m = /^(\d{3})([ -]?)(.*)$/.exec(line);
        if (!m) return finish({ error: `unparsable reply: ${line.slice(0, 100)}` });
        lines.push(line);
        if (m[2] === '-') continue;
        const text = lines.join(' ');
        lines = [];
        onReply(Number(m[1]), text);
      }
    });
  });
}
