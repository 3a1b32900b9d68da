/*
 * Routes in E-Post's Gateway.dat format, so an admin can bring the routing table over as is:
 * one `domain, server IP, port` per line, spaces around the commas optional, several lines for
 * one domain = primary then failover in line order (routes keep the order their domain first
 * appears). Blank lines and lines starting with `#` or `;` are ignored; domains are lowercased
 * (DNS is case-insensitive), everything else must already be right. parseGatewayDat() is
 * all-or-nothing: the routes, or every bad line (missing field, bad domain, host or port, a
 * server listed twice for one domain) with its 1-based line number. routesToGatewayDat() writes
 * the same format with CRLF, as the Windows original has it, and no comments, so E-Post itself
 * can read the file back.
 */
import type { Route } from '../../shared/types.js';
import { lowerAscii } from '../policy/address.js';
import { checkDomain, checkHost } from './validate-helpers.js';

export interface DatLineError {
  line: number;
  message: string;
}

export type GatewayDatResult = { ok: true; routes: Route[] } | { ok: false; errors: DatLineError[] };

export function parseGatewayDat(text: string): GatewayDatResult {
  const routes = new Map<string, Route>();
  const firstLine = new Map<string, number>();
  const errors: DatLineError[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);

  lines.forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (s === '' || s.startsWith('#') || s.startsWith(';')) return;
    const fields = s.split(',').map((f) => f.trim());
    if (fields.length !== 3 || fields.some((f) => f === '')) {
      errors.push({ line, message: `expected 'domain, server IP, port', got '${s}'` });
      return;
    }
    const [d, host, p] = fields as [string, string, string];
    const problems: string[] = [];
    const domain = lowerAscii(d);
    const de = checkDomain(domain);
    if (de) problems.push(`domain '${d}' ${de}`);
    const he = checkHost(host);
    if (he) problems.push(`server '${host}' ${he}`);
    const port = /^\d{1,5}$/.test(p) ? Number(p) : NaN;
    if (!(port >= 1 && port <= 65535)) problems.push(`port '${p}' must be an integer 1-65535`);
    if (problems.length === 0) {
      const key = `${domain} ${host.toLowerCase()}:${port}`;
      const dup = firstLine.get(key);
      if (dup !== undefined) problems.push(`${host}:${port} is already listed for ${domain} on line ${dup}`);
      else firstLine.set(key, line);
    }
    if (problems.length > 0) {
      errors.push({ line, message: problems.join('; ') });
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
