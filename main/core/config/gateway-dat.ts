/*
 * Routes in E-Post's Gateway.dat format, so an admin can bring the routing table over as is:
 * one `domain, server IP, port` per line, spaces around the commas optional, several lines for
 * one domain = primary then failover in line order (routes keep the order their domain first
 * appears). Blank lines and lines starting with `#` or `;` are ignored; domains are lowercased
 * (DNS is case-insensitive), everything else must already be right; CRLF, LF and a BOM are all
 * accepted (Notepad). Not CSV: no quoting, so a plain split reads it exactly. parseGatewayDat()
 * is all-or-nothing: the routes, or every problem (missing field, bad domain, host or port, a
 * server listed twice for one domain) as an issue naming its 1-based line (`line 3`).
 * routesToGatewayDat() writes the same format with CRLF, as the Windows original has it, and
 * no comments, so E-Post itself (and Notepad) can read the file back.
 */
import type { Route } from '../../shared/types.js';
import { lowerAscii } from '../../shared/address.js';
import { problem, type Problem, type ValidationIssue } from '../../shared/issues.js';
import { domainProblem, hostProblem } from '../../shared/rules.js';

export type GatewayDatResult = { ok: true; routes: Route[] } | { ok: false; errors: ValidationIssue[] };

/** A problem on line `line` (1-based), as every line-based import reports it. */
export const at = (line: number, p: Problem): ValidationIssue => ({ path: `line ${line}`, line, ...p });
/** A field of a line that its rule refused: the rule's code and params travel along. */
export const valueProblem = (field: string, value: string, p: Problem) => problem('dat_value', { ...p.params, field, value, reason: p.code, detail: p.message });
/** A port field: digits only, 1-65535 (null when it is not one). */
export const datPort = (p: string): number | null => {
  const n = /^\d{1,5}$/.test(p) ? Number(p) : NaN;
  return n >= 1 && n <= 65535 ? n : null;
};

export function parseGatewayDat(text: string): GatewayDatResult {
  const routes = new Map<string, Route>();
  const firstLine = new Map<string, number>();
  const errors: ValidationIssue[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);

  lines.forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (s === '' || s.startsWith('#') || s.startsWith(';')) return;
    const fields = s.split(',').map((f) => f.trim());
    if (fields.length !== 3 || fields.some((f) => f === '')) {
      errors.push(at(line, problem('dat_fields', { text: s })));
      return;
    }
    const [d, host, p] = fields as [string, string, string];
    const problems: Problem[] = [];
    const domain = lowerAscii(d);
    const de = domainProblem(domain);
    if (de) problems.push(valueProblem('domain', d, de));
    const he = hostProblem(host);
    if (he) problems.push(valueProblem('server', host, he));
    const port = datPort(p) ?? NaN;
    if (Number.isNaN(port)) problems.push(problem('dat_port', { value: p }));
    if (problems.length === 0) {
      const key = `${domain} ${host.toLowerCase()}:${port}`;
      const dup = firstLine.get(key);
      if (dup !== undefined) problems.push(problem('dat_twice', { server: `${host}:${port}`, domain, line: dup }));
      else firstLine.set(key, line);
    }
    if (problems.length > 0) {
      for (const x of problems) errors.push(at(line, x));
      return;
    }
    const route = routes.get(domain) ?? { domain, hosts: [] };
    route.hosts.push({ host, port });
    routes.set(domain, route);
  });

  return errors.length > 0 ? { ok: false, errors } : { ok: true, routes: [...routes.values()] };
}

export function routesToGatewayDat(routes: readonly Route[]): string {
  return routes.flatMap((r) => r.hosts.map((h) => `${r.domain}, ${h.host}, ${h.port}\r\n`)).join('');
}
