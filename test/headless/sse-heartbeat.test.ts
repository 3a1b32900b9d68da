/*
 * The admin host's live stream (main/headless/sse.ts) keeps a heartbeat timer only while a
 * browser is connected: an idle gateway with its window closed has no timer for it. Real HTTP
 * on 127.0.0.1; the timer is seen by spying on setInterval / clearInterval (it is unref'd, so
 * process.getActiveResourcesInfo() does not list it).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { SseHub } from '../../main/headless/sse.js';

const live = new Set<unknown>();
const realSet = globalThis.setInterval;
const realClear = globalThis.clearInterval;
vi.spyOn(globalThis, 'setInterval').mockImplementation(((fn: () => void, ms: number) => {
  const t = realSet(fn, ms);
  live.add(t);
  return t;
}) as typeof setInterval);
vi.spyOn(globalThis, 'clearInterval').mockImplementation(((t: NodeJS.Timeout) => {
  live.delete(t);
  realClear(t);
}) as typeof clearInterval);
const timers = (): number => live.size;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('SSE heartbeat', () => {
  it('runs while a client listens and stops when the last one leaves', async () => {
    const before = timers();
    const hub = new SseHub(() => () => undefined, 20);
    const server = http.createServer((_req, res) => hub.add(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    expect(timers()).toBe(before);
    const port = (server.address() as AddressInfo).port;
    let got = '';
    const req = http.get({ host: '127.0.0.1', port, path: '/' });
    const res = await new Promise<http.IncomingMessage>((r) => req.once('response', r));
    res.setEncoding('utf8');
    res.on('data', (d: string) => (got += d));
    for (let i = 0; i < 100 && !got.includes(': heartbeat'); i++) await sleep(20);
    expect(got).toContain(': heartbeat');
    expect(timers()).toBe(before + 1);
    req.destroy();
    for (let i = 0; i < 100 && hub.size > 0; i++) await sleep(10);
    expect(hub.size).toBe(0);
    expect(timers()).toBe(before);
    hub.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
