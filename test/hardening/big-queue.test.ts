/*
 * Start on a big queue (issue 18, item 3), with `gatehouse serve` as a child process, real
 * spool files in a temp dir and a real SMTP sink (the office server for test.jp) on loopback.
 * The data folder holds N queued messages, each with its own Message-ID. serve is started and
 * killed with SIGKILL right after it answered its first SMTP connection, twice: the 220 must
 * come while the recovery of the queue is still going on (serve prints "Queue recovered" on
 * stdout when it is through; pipes are written synchronously, so the line is there if it
 * happened), and nothing may reach the sink before the recovery is through. Then serve runs
 * to the end: every Message-ID reaches the sink exactly once and the queue folder ends empty.
 * Fails naming the lost and the duplicated Message-IDs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Spool } from '../../main/core/spool/index.js';
import { SmtpTestClient } from '../helpers/smtp-client.js';
import { officeConfig, tempDir } from '../helpers/gateway.js';
import { kill9, serve, stopServe, TestSink, waitFor, writeConfig } from './helpers.js';

const N = 6000;
const KILLS = 2;

describe('serve on a big queue', () => {
  let sink: TestSink;
  let dir: string;
  beforeAll(async () => {
    sink = await TestSink.start();
    dir = await tempDir('gatehouse-bigq-');
    await writeConfig(
      dir,
      officeConfig((c) => {
        c.routes = [{ domain: 'test.jp', hosts: [{ host: '127.0.0.1', port: sink.port }] }];
        c.delivery.retrySchedule = [1];
        c.delivery.connectTimeoutMs = 1000;
        c.delivery.delayWarningSeconds = 0;
      }),
    );
    // The queue a gateway left behind (no fsync here: this only sets the stage).
    const spool = new Spool(path.join(dir, 'spool'), { fsync: false });
    await spool.open();
    for (let i = 0; i < N; i += 500) {
      const batch: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(N, i + 500); j++) {
        const body = `From: tanaka@test.jp\r\nTo: boss@test.jp\r\nSubject: queued ${j}\r\nMessage-ID: <q${j}@bigq.test.jp>\r\n\r\nmessage ${j}\r\n`;
        batch.push(spool.write({ sender: 'tanaka@test.jp', recipients: ['boss@test.jp'], clientIp: '127.0.0.2', session: `s${j}`, trusted: true }, Buffer.from(body)));
      }
      await Promise.all(batch);
    }
    await spool.close();
  }, 120_000);
  afterAll(async () => {
    await sink.down();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it(`answers SMTP during the recovery; killed ${KILLS} times then, it delivers each of ${N} messages exactly once`, async () => {
    for (let k = 0; k < KILLS; k++) {
      const s = await serve(dir);
      const c = await SmtpTestClient.connect(s.port, { localAddress: '127.0.0.2' });
      expect((await c.greeting).code).toBe(220);
      await kill9(s);
      c.destroy();
      expect(s.output(), `kill ${k + 1} came after the recovery; raise N`).not.toMatch(/Queue recovered/);
    }
    // Recovered messages are scheduled only once the whole queue is verified.
    expect(sink.messages).toHaveLength(0);

    const s = await serve(dir);
    try {
      const m = await waitFor(() => /Queue recovered: (\d+) messages verified and scheduled in ([\d.]+) s/.exec(s.output()), 60_000, 'the recovery line');
      expect(Number(m[1])).toBe(N);
      console.log(`[big queue] ${N} messages recovered in ${m[2]} s`);
      await waitFor(() => sink.counts().size >= N, 120_000, `${N} distinct messages at the sink (have ${sink.counts().size})`);
      await waitFor(async () => (await fs.readdir(path.join(dir, 'spool', 'queue'))).length === 0, 20_000, 'an empty queue folder');
    } finally {
      await stopServe(s);
    }
    const counts = sink.counts();
    const lost = Array.from({ length: N }, (_, j) => `<q${j}@bigq.test.jp>`).filter((id) => !counts.has(id));
    const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    expect(lost, 'lost').toEqual([]);
    expect(twice, 'delivered twice').toEqual([]);
    expect(sink.messages).toHaveLength(N);
  }, 240_000);
});
