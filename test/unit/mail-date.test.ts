/*
 * One RFC 5322 date formatter for DSNs (UTC) and Received: headers (local time with offset).
 */
import { afterEach, describe, expect, it } from 'vitest';

import { rfc5322Date } from '../../main/core/mail-date.js';
import { receivedHeader } from '../../main/core/smtp/message-checks.js';

const TZ = process.env.TZ;
afterEach(() => {
  if (TZ === undefined) delete process.env.TZ;
  else process.env.TZ = TZ;
});

describe('rfc5322Date', () => {
  const d = new Date('2024-03-05T09:04:00Z');

  it('writes UTC as +0000 and local time with its offset', () => {
    expect(rfc5322Date(d)).toBe('Tue, 05 Mar 2024 09:04:00 +0000');
    process.env.TZ = 'Asia/Tokyo';
    expect(rfc5322Date(d, 'local')).toBe('Tue, 05 Mar 2024 18:04:00 +0900');
    process.env.TZ = 'America/St_Johns';
    expect(rfc5322Date(d, 'local')).toBe('Tue, 05 Mar 2024 05:34:00 -0330');
  });

  it('is what the Received: header carries', () => {
    process.env.TZ = 'Asia/Tokyo';
    const h = receivedHeader({ helo: 'pc', clientIp: '192.168.0.102', hostname: 'gw.test.jp', session: 's1', tls: false, authenticated: false, date: d }).toString('latin1');
    expect(h).toContain('\r\n\tTue, 05 Mar 2024 18:04:00 +0900\r\n');
  });
});
