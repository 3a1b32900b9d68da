/*
 * Routes in E-Post's Gateway.dat format, so an admin can bring the routing table over as is.
 * The classic line is `domain, server IP, port`; several lines for one domain = primary then
 * failover in line order (routes keep the order their domain first appears). Since v4.82 a
 * line may also carry an envelope-sender condition after the destination and options after
 * the port. E-Post documents the sender condition with its Microsoft 365 relay line
 * `*|account@tenant.onmicrosoft.com,tenant.mail.protection.outlook.com,25` (`*` = every
 * destination, after `|` the envelope sender); its guides name an auth option such as
 * XOAUTH2 without a public grammar, so this reads a conservative superset and says exactly
 * what:
 *
 *   line     = target "," host "," port *( "," option )      (spaces around fields ignored)
 *   target   = ( domain / "*" ) [ "|" sender ]
 *   sender   = address / domain                                (exact address, or every sender of a domain)
 *   option   = "XOAUTH2" / "auth=" ( "xoauth2" / "password" / "none" )
 *            / "tls=" ( "required" / "opportunistic" )       (case-insensitive; each at most once)
 *
 * Blank lines and lines starting with `#` or `;` are skipped; domains and senders are
 * lowercased (DNS is case-insensitive), everything else must already be right; CRLF, LF and a
 * BOM are all accepted (Notepad). Not CSV: no quoting, so a plain split reads it exactly.
 *
 * parseGatewayDat() is all-or-nothing: the lines and what they make (routes for lines with a
 * domain and no sender or auth option, `tls=` kept on the route; routes with sender
 * conditions for the rest, lines with the same destination and sender joined in line order),
 * or every problem (missing field, bad domain, sender, host or port, unknown or repeated
 * option, a server listed twice for one target) as an issue naming its 1-based line
 * (`line 3`). routesToGatewayDat() writes routes and routes with sender conditions back:
 * classic lines as `domain, host, port` (so a classic file round-trips byte for byte and
 * E-Post, or Notepad, reads it back), the others compact as E-Post's guide writes them
 * (`*|sender@x.test,127.0.0.1,2526,XOAUTH2,tls=required`), CRLF line ends, routes first.
 * gatewayDatText() writes lines as read (options as they were spelt). Nothing here throws.
 */
import type { GatewayDatLine, RouteAuth, RouteTls, SenderRoute } from '../../shared/deliverability.js';
import type { Route } from '../../shared/types.js';
import { lowerAscii } from '../../shared/address.js';
import { problem, type Problem, type ValidationIssue } from '../../shared/issues.js';
import { domainProblem, hostProblem, senderConditionProblem } from '../../shared/rules.js';

export type GatewayDatLines = { ok: true; lines: GatewayDatLine[] } | { ok: false; errors: ValidationIssue[] };
export type GatewayDatResult =
  | { ok: true; lines: GatewayDatLine[]; routes: Route[]; senderRoutes: SenderRoute[] }
  | { ok: false; errors: ValidationIssue[] };

/** A problem on line `line` (1-based), as every line-based import reports it. */
export const at = (line: number, p: Problem): ValidationIssue => ({ path: `line ${line}`, line, ...p });
/** A field of a line that its rule refused: the rule's code and params travel along. */
const valueProblem = (field: string, value: string, p: Problem) => problem('dat_value', { ...p.params, field, value, reason: p.code, detail: p.message });

function datPort(p: string): number | null {
  const n = /^\d{1,5}$/.test(p) ? Number(p) : NaN;
  return n >= 1 && n <= 65535 ? n : null;
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

/** Every line of the file, or every problem with its line number. */
export function parseGatewayDatLines(text: string): GatewayDatLines {
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
          const se = senderConditionProblem(sender);
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

export function parseGatewayDat(text: string): GatewayDatResult {
  const r = parseGatewayDatLines(text);
  return r.ok ? { ok: true, lines: r.lines, ...toRoutes(r.lines) } : r;
}

/** A line E-Post before v4.82 reads too: a domain, no sender, no options. */
function isClassic(l: GatewayDatLine): boolean {
  return l.destination !== '*' && l.sender === undefined && (l.options?.length ?? 0) === 0 && !l.auth && !l.tls;
}

/** A line that is part of the routing table: a domain without a sender condition or a login. */
function isRouteLine(l: GatewayDatLine): boolean {
  return l.destination !== '*' && l.sender === undefined && (!l.auth || l.auth === 'none');
}

export function gatewayDatText(lines: readonly GatewayDatLine[]): string {
  return lines
    .map((l) => {
      if (isClassic(l)) return `${l.destination}, ${l.host}, ${l.port}\r\n`;
      const target = l.sender ? `${l.destination}|${l.sender}` : l.destination;
      const opts = l.options ?? [...(l.auth ? [l.auth === 'xoauth2' ? 'XOAUTH2' : `auth=${l.auth}`] : []), ...(l.tls ? [`tls=${l.tls}`] : [])];
      return `${[target, l.host, String(l.port), ...opts].join(',')}\r\n`;
    })
    .join('');
}

/** The routing table and the routes with sender conditions the lines describe. */
export function toRoutes(lines: readonly GatewayDatLine[]): { routes: Route[]; senderRoutes: SenderRoute[] } {
  const routes = new Map<string, Route>();
  const senderRoutes = new Map<string, SenderRoute>();
  for (const l of lines) {
    const host = { host: l.host, port: l.port };
    if (isRouteLine(l)) {
      const r = routes.get(l.destination) ?? { domain: l.destination, hosts: [] };
      r.hosts.push(host);
      if (l.tls && !r.tls) r.tls = l.tls;
      routes.set(l.destination, r);
      continue;
    }
    const key = `${l.destination}|${l.sender ?? ''}`;
    let sr = senderRoutes.get(key);
    if (!sr) {
      sr = { destination: l.destination, hosts: [] };
      if (l.sender) sr.sender = l.sender;
      senderRoutes.set(key, sr);
    }
    sr.hosts.push(host);
    if (l.auth && !sr.auth) sr.auth = l.auth;
    if (l.tls && !sr.tls) sr.tls = l.tls;
  }
  return { routes: [...routes.values()], senderRoutes: [...senderRoutes.values()] };
}

/** The lines that describe these routes (inverse of toRoutes, one line per host). */
export function fromRoutes(routes: readonly Route[], senderRoutes: readonly SenderRoute[]): GatewayDatLine[] {
  const out: GatewayDatLine[] = [];
  for (const r of routes) {
    for (const h of r.hosts) {
      const l: GatewayDatLine = { line: out.length + 1, destination: r.domain, host: h.host, port: h.port };
      if (r.tls) l.tls = r.tls;
      out.push(l);
    }
  }
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

export function routesToGatewayDat(routes: readonly Route[], senderRoutes: readonly SenderRoute[] = []): string {
  return gatewayDatText(fromRoutes(routes, senderRoutes));
}
