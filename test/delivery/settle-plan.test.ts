// After-attempt bookkeeping: sorting results, expiry, next state (hold kept, nothing lost).
import { describe, expect, it } from 'vitest';
import type { FinalResult } from '../../main/core/delivery/attempt.js';
import { dsnRecipient, nextState, sortResults } from '../../main/core/delivery/settle-plan.js';

const at = new Date('2024-01-01T00:00:10Z');
const r = (recipient: string, outcome: FinalResult['outcome'], code?: number): FinalResult => ({
  recipient,
  outcome,
  reply: code ? `${code} x` : 'connect ECONNREFUSED',
  status: code ? `${String(code)[0]}.0.0` : '4.4.1',
  at,
  ...(code ? { code } : {}),
});

describe('settle plan', () => {
  const results = new Map([
    ['a', r('a', 'delivered', 250)],
    ['b', r('b', 'bounced', 550)],
    ['c', r('c', 'deferred', 451)],
  ]);

  it('sorts by outcome; recipients without a result stay pending', () => {
    const s = sortResults(['a', 'b', 'c', 'd'], results, false);
    expect([s.delivered, s.bounced, s.deferred, s.expired].map((x) => x.map((y) => y.recipient))).toEqual([['a'], ['b'], ['c'], []]);
    const e = sortResults(['c'], results, true);
    expect(e.expired).toMatchObject([{ recipient: 'c', status: '5.4.7' }]);
  });

  it('next state: done/failed grow, pending shrinks, hold and warning kept, attempts counted', () => {
    const s = { pending: ['a', 'b', 'c', 'd'], done: ['z'], failed: [], attempts: 2, held: true, warnedAt: 'w' };
    const n = nextState(s, { delivered: [results.get('a')!], failing: [results.get('b')!], counted: true, lastError: 'c: 451 x', nextAttemptAt: 'T' });
    expect(n).toEqual({ pending: ['c', 'd'], done: ['z', 'a'], failed: [{ rcpt: 'b', code: 550, reply: '550 x' }], attempts: 3, held: true, warnedAt: 'w', lastError: 'c: 451 x', nextAttemptAt: 'T' });
    const all = nextState({ pending: ['a'], done: [], failed: [], attempts: 0, nextAttemptAt: 'old' }, { delivered: [results.get('a')!], failing: [], counted: false, nextAttemptAt: 'T' });
    expect(all).toEqual({ pending: [], done: ['a'], failed: [], attempts: 0 });
  });

  it('DSN lines: failed gets 5.x.x, delayed 4.x.x with Will-Retry-Until', () => {
    expect(dsnRecipient(r('c', 'deferred'), 'failed', '2024-01-01T00:00:00Z', 60)).toMatchObject({ status: '5.0.0', smtp: false });
    expect(dsnRecipient(r('c', 'deferred', 451), 'delayed', '2024-01-01T00:00:00Z', 60)).toMatchObject({
      status: '4.0.0',
      smtp: true,
      willRetryUntil: new Date('2024-01-01T00:01:00Z'),
    });
  });
});
