// Routes with sender conditions: the selector as a table, and E-Post's extended Gateway.dat
// (parse all-or-nothing with line numbers, write back byte for byte, split into routes).
import { describe, expect, it } from 'vitest';
import { fromRoutes, gatewayDatText, parseGatewayDatLines, toRoutes } from '../../main/core/config/gateway-dat.js';
import { selectSenderRoute } from '../../main/core/delivery/sender-routes.js';
import type { SenderRoute } from '../../main/shared/deliverability.js';

const h = (host: string, port = 25) => ({ host, port });

const table: SenderRoute[] = [
  { destination: '*', hosts: [h('default-relay.example')] },
  { destination: '*', sender: 'test.jp', hosts: [h('domain-relay.example')] },
  { destination: '*', sender: 'ceo@test.jp', hosts: [h('ceo-relay.example')], auth: 'xoauth2' },
  { destination: 'partner.example', hosts: [h('partner-gw.example')] },
  { destination: 'partner.example', sender: 'ceo@test.jp', hosts: [h('partner-ceo.example')], tls: 'required' },
  { destination: 'partner.example', sender: 'ceo@test.jp', hosts: [h('partner-ceo-2.example')] },
  { destination: 'bank.example', sender: 'sales.test.jp', hosts: [h('bank-sales.example')] },
];

describe('selectSenderRoute', () => {
  const cases: [string, string, string | null][] = [
    // sender, recipient domain -> first host of the route that wins
    ['someone@other.jp', 'gmail.example', 'default-relay.example'],
    ['alice@test.jp', 'gmail.example', 'domain-relay.example'],
    ['ALICE@Test.JP', 'Gmail.Example.', 'domain-relay.example'],
    ['ceo@test.jp', 'gmail.example', 'ceo-relay.example'],
    ['alice@test.jp', 'partner.example', 'partner-gw.example'], // destination first
    ['ceo@test.jp', 'partner.example', 'partner-ceo.example'],
    ['', 'gmail.example', 'default-relay.example'], // null sender: only unconditioned routes
    ['bob@sales.test.jp', 'bank.example', 'bank-sales.example'],
    ['bob@test.jp', 'bank.example', 'domain-relay.example'], // a domain condition is exact, not a parent
    ['x@sub.test.jp', 'gmail.example', 'default-relay.example'],
  ];
  for (const [sender, domain, host] of cases) {
    it(`${sender || '<>'} -> ${domain}: ${host}`, () => {
      expect(selectSenderRoute(table, sender, domain)?.hosts[0].host ?? null).toBe(host);
    });
  }

  it('lines with the same destination and sender form one route, hosts in table order, options kept', () => {
    expect(selectSenderRoute(table, 'ceo@test.jp', 'partner.example')).toEqual({
      destination: 'partner.example',
      sender: 'ceo@test.jp',
      hosts: [h('partner-ceo.example'), h('partner-ceo-2.example')],
      tls: 'required',
      key: 'partner.example|ceo@test.jp',
    });
    expect(selectSenderRoute(table, 'ceo@test.jp', 'x.example')).toMatchObject({ auth: 'xoauth2' });
  });

  it('no route matches: null', () => {
    expect(selectSenderRoute(table.slice(1), 'a@other.jp', 'gmail.example')).toBeNull();
    expect(selectSenderRoute([], 'a@test.jp', 'gmail.example')).toBeNull();
  });
});

describe("E-Post's extended Gateway.dat", () => {
  it("reads E-Post's Microsoft 365 relay line and classic lines; writes them back byte for byte", () => {
    const text = [
      'test.jp, 192.168.0.102, 25',
      'test.jp, 192.168.0.101, 25',
      '*|account@tenant.onmicrosoft.com,tenant.mail.protection.outlook.com,25',
      '*|sender@x.test,127.0.0.1,2526',
      '*|test.jp,smtp.office365.com,587,XOAUTH2,tls=required',
      'partner.example|ceo@test.jp,127.0.0.5,25,auth=password',
      '',
    ].join('\r\n');
    const r = parseGatewayDatLines(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.lines[2]).toEqual({ line: 3, destination: '*', sender: 'account@tenant.onmicrosoft.com', host: 'tenant.mail.protection.outlook.com', port: 25 });
    expect(r.lines[4]).toMatchObject({ destination: '*', sender: 'test.jp', auth: 'xoauth2', tls: 'required', options: ['XOAUTH2', 'tls=required'] });
    expect(gatewayDatText(r.lines)).toBe(text);
    const { routes, senderRoutes } = toRoutes(r.lines);
    expect(routes).toEqual([{ domain: 'test.jp', hosts: [h('192.168.0.102'), h('192.168.0.101')] }]);
    expect(senderRoutes.map((s) => [s.destination, s.sender, s.hosts[0].port, s.auth, s.tls])).toEqual([
      ['*', 'account@tenant.onmicrosoft.com', 25, undefined, undefined],
      ['*', 'sender@x.test', 2526, undefined, undefined],
      ['*', 'test.jp', 587, 'xoauth2', 'required'],
      ['partner.example', 'ceo@test.jp', 25, 'password', undefined],
    ]);
    // From the config form back to lines and text: the same file (options in canonical spelling).
    const again = parseGatewayDatLines(gatewayDatText(fromRoutes(routes, senderRoutes)));
    expect(again.ok && toRoutes(again.lines)).toEqual({ routes, senderRoutes });
  });

  it('spaces, comments, BOM and LF endings are accepted; the writer normalises them', () => {
    const r = parseGatewayDatLines('\uFEFF# table\n* | Sender@X.Test , 127.0.0.1 , 2526 , auth=XOAUTH2\n; old\ntest.jp,127.0.0.2,25\n');
    expect(r.ok && gatewayDatText(r.lines)).toBe('*|sender@x.test,127.0.0.1,2526,auth=XOAUTH2\r\ntest.jp, 127.0.0.2, 25\r\n');
  });

  it('all or nothing: every bad line with its number and why', () => {
    const r = parseGatewayDatLines(
      ['*|,host.example,25', 'test.jp|not an address,127.0.0.1,25', '*|a@test.jp,127.0.0.1,25,auth=kerberos', '*|a@test.jp,127.0.0.1,25,XOAUTH2,auth=password', 'good.jp,127.0.0.1,25', '*|a@test.jp,127.0.0.1,99999', '*|a@test.jp,127.0.0.1', 'good.jp,127.0.0.1,25'].join('\n'),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.line)).toEqual([1, 2, 3, 4, 6, 7, 8]);
    expect(r.errors[0].message).toMatch(/nothing after '\|'/);
    expect(r.errors[1].message).toMatch(/^sender 'not an address' has an invalid label/);
    expect(r.errors[2].message).toMatch(/unknown option 'auth=kerberos'/);
    expect(r.errors[3].message).toMatch(/auth given twice/);
    expect(r.errors.map((e) => e.code)).toEqual(['dat_sender_empty', 'dat_value', 'dat_option', 'dat_option_twice', 'dat_port', 'dat_fields', 'dat_twice']);
    expect(r.errors[4].message).toMatch(/port '99999'/);
    expect(r.errors[5].message).toMatch(/\(or 'domain\|sender, server, port, options'\)/);
    expect(r.errors[6].message).toMatch(/already listed .* on line 5/);
  });
});
