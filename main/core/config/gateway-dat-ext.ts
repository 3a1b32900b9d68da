/*
 * E-Post's extended Gateway.dat (v4.82 and later): the classic `domain, server IP, port`
 * line, plus an envelope-sender condition after the destination and authentication / TLS
 * options after the port. E-Post documents the sender condition with its Microsoft 365 relay
 * line `*|account@tenant.onmicrosoft.com,tenant.mail.protection.outlook.com,25` (`*` = every
 * destination, after `|` the envelope sender). Its guides name an auth option such as XOAUTH2
 * without a public grammar, so this reads a conservative superset and says exactly what:
 *
 *   line     = target "," host "," port *( "," option )      (spaces around fields ignored)
 *   target   = ( domain / "*" ) [ "|" sender ]
 *   sender   = address / domain                                (exact address, or every sender of a domain)
 *   option   = "XOAUTH2" / "auth=" ( "xoauth2" / "password" / "none" )
 *            / "tls=" ( "required" / "opportunistic" )       (case-insensitive; each at most once)
 *
 * Blank lines and lines starting with `#` or `;` are skipped. parseGatewayDatExt() is
 * all-or-nothing like the classic reader: every line, or every bad line with its 1-based
 * number (an unknown option is refused, never ignored). gatewayDatExtText() writes it back:
 * classic lines as `domain, host, port` (the classic writer's form), extended ones compact as
 * E-Post's guide writes them, options as they were spelt, CRLF line ends; a file in those
 * forms reads and writes back byte for byte. toRoutes() splits the lines into classic
 * routes and sender routes (the delivery's SenderRoute). Never throws.
 */
import type { GatewayDatLine, RouteAuth, RouteTls, SenderRoute } from '../../shared/deliverability.js';
import type { Route } from '../../shared/types.js';
import { checkAddressSyntax, lowerAscii } from '../../shared/address.js';
import { problem, type Problem, type ValidationIssue } from '../../shared/issues.js';
import { domainProblem, hostProblem } from '../../shared/rules.js';
import { at, datPort, valueProblem } from './gateway-dat.js';

export type GatewayDatExtResult = { ok: true; lines: GatewayDatLine[] } | { ok: false; errors: ValidationIssue[] };

/** An envelope sender condition: an exact address, or a domain (every sender of it). */
function senderProblem(s: string): Problem | null {
  if (!s.includes('@')) return domainProblem(s);
  const err = checkAddressSyntax(s, { smtputf8: false });
  return err ? problem('address', { detail: err }) : null;
}

function parseOption(raw: string, line: GatewayDatLine): Problem | null {
  const t = raw.toLowerCase();
  if (t === 'xoauth2' || t === 'auth=xoauth2' || t === 'auth=password' || t === 'auth=none') {
    if (line.auth) return problem('dat_option_twice', { option: 'auth', value: raw });
    line.auth = (t === 'xoauth2' ? 'xoauth2' : t.slice(5)) as RouteAuth;
    return null;
  }
  if (t === 'tls=required' || t === 'tls=opportunistic') {
    if (line.tls) return problem('dat_option_twice', { option: 'tls', value: raw });
    line.tls = t.slice(4) as RouteTls;
    return null;
  }
  return problem('dat_option', { value: raw });
}

export function parseGatewayDatExt(text: string): GatewayDatExtResult {
  const out: GatewayDatLine[] = [];
  const errors: ValidationIssue[] = [];
  const seen = new Map<string, number>();
  text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\n|\r/)
    .forEach((raw, i) => {
      const lineNo = i + 1;
      const s = raw.trim();
      if (s === '' || s.startsWith('#') || s.startsWith(';')) return;
      const fields = s.split(',').map((f) => f.trim());
      if (fields.length < 3 || fields.slice(0, 3).some((f) => f === '')) {
        errors.push(at(lineNo, problem('dat_fields', { text: s })));
        return;
      }
      const [target, host, p, ...opts] = fields as [string, string, string, ...string[]];
      const problems: Problem[] = [];
      const bar = target.indexOf('|');
      const destRaw = bar < 0 ? target : target.slice(0, bar).trim();
      const dest = lowerAscii(destRaw);
      const senderRaw = bar < 0 ? undefined : target.slice(bar + 1).trim();
      const sender = senderRaw === undefined ? undefined : lowerAscii(senderRaw);
      if (dest !== '*') {
        const de = domainProblem(dest);
        if (de) problems.push(valueProblem('domain', destRaw, de));
      }
      if (sender !== undefined) {
        if (sender === '') problems.push(problem('dat_sender_empty'));
        else {
          const se = senderProblem(sender);
          if (se) problems.push(valueProblem('sender', senderRaw!, se));
        }
      }
      const he = hostProblem(host);
      if (he) problems.push(valueProblem('server', host, he));
      const port = datPort(p);
      if (port === null) problems.push(problem('dat_port', { value: p }));
      const line: GatewayDatLine = { line: lineNo, destination: dest, host, port: port ?? 0 };
      if (sender) line.sender = sender;
      for (const o of opts) {
        const oe = o === '' ? problem('dat_option_empty') : parseOption(o, line);
        if (oe) problems.push(oe);
      }
      if (opts.length > 0) line.options = opts;
      if (problems.length === 0) {
        const key = `${dest}|${sender ?? ''} ${host.toLowerCase()}:${port}`;
        const dup = seen.get(key);
        if (dup !== undefined) problems.push(problem('dat_twice', { server: `${host}:${port}`, domain: sender ? `${dest}|${sender}` : dest, line: dup }));
        else seen.set(key, lineNo);
      }
      if (problems.length > 0) for (const x of problems) errors.push(at(lineNo, x));
      else out.push(line);
    });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, lines: out };
}

function isClassic(l: GatewayDatLine): boolean {
  return l.destination !== '*' && l.sender === undefined && (l.options?.length ?? 0) === 0;
}

export function gatewayDatExtText(lines: readonly GatewayDatLine[]): string {
  return lines
    .map((l) => {
      if (isClassic(l)) return `${l.destination}, ${l.host}, ${l.port}\r\n`;
      const target = l.sender ? `${l.destination}|${l.sender}` : l.destination;
      const opts = l.options ?? [...(l.auth ? [`auth=${l.auth}`] : []), ...(l.tls ? [`tls=${l.tls}`] : [])];
      return `${[target, l.host, String(l.port), ...opts].join(',')}\r\n`;
    })
    .join('');
}

/** Classic lines become routes (in first-seen order, hosts concatenated); the rest sender routes. */
export function toRoutes(lines: readonly GatewayDatLine[]): { routes: Route[]; senderRoutes: SenderRoute[] } {
  const routes = new Map<string, Route>();
  const senderRoutes: SenderRoute[] = [];
  for (const l of lines) {
    if (isClassic(l)) {
      const r = routes.get(l.destination) ?? { domain: l.destination, hosts: [] };
      r.hosts.push({ host: l.host, port: l.port });
      routes.set(l.destination, r);
      continue;
    }
    const sr: SenderRoute = { destination: l.destination, hosts: [{ host: l.host, port: l.port }] };
    if (l.sender) sr.sender = l.sender;
    if (l.auth) sr.auth = l.auth;
    if (l.tls) sr.tls = l.tls;
    senderRoutes.push(sr);
  }
  return { routes: [...routes.values()], senderRoutes };
}

/** The lines that describe these routes (inverse of toRoutes, one line per host). */
export function fromRoutes(routes: readonly Route[], senderRoutes: readonly SenderRoute[]): GatewayDatLine[] {
  const out: GatewayDatLine[] = [];
  for (const r of routes) for (const h of r.hosts) out.push({ line: out.length + 1, destination: r.domain, host: h.host, port: h.port });
  for (const r of senderRoutes) {
    for (const h of r.hosts) {
      const l: GatewayDatLine = { line: out.length + 1, destination: r.destination, host: h.host, port: h.port };
      if (r.sender) l.sender = r.sender;
      if (r.auth) l.auth = r.auth;
      if (r.tls) l.tls = r.tls;
      out.push(l);
    }
  }
  return out;
}
