/*
 * What a change in the audit trail did, as a code with parameters beside the English text:
 * the window words it in the admin's language (`audit.<code>` in its dictionaries), the CLI
 * and the file keep the English. `auditWhat(code, params)` builds both; entries written
 * before codes existed carry only the text, and the window shows a general label for them
 * with the text in a tooltip. A new kind of change is one line here and one in each
 * dictionary. Pure; never throws.
 */
import { fillTemplate, type IssueParams } from './issues.js';

export const AUDIT_EN = {
  'block': 'block {pattern}',
  'unblock': 'unblock {pattern}',
  'allow-list': 'allow-list of {pattern}',
  'save-account': 'save account {pattern}',
  'rename-account': 'rename account {from} -> {to}',
  'remove-account': 'remove account {pattern}',
  'import-accounts': 'import {n} accounts ({mode})',
  'auth-on': 'enable SMTP AUTH',
  'auth-off': 'disable SMTP AUTH',
  'auth-user': 'set SMTP AUTH user {username}',
  'auth-remove': 'remove SMTP AUTH user {username}',
  'domain-add': 'add domain {value}',
  'domain-remove': 'remove domain {value}',
  'trusted-add': 'add CIDR {value}',
  'trusted-remove': 'remove CIDR {value}',
  'routes-edit': 'edit routes',
  'routes-import': 'import Gateway.dat ({n} domains, {mode})',
  'config-set': 'set {key}',
  'smarthost-set': 'set smarthost {host}',
  'smarthost-remove': 'remove smarthost',
  'setup': 'first-run setup',
  'restore': 'restore change #{n} ({what})',
  'created-defaults': 'created config.json with the defaults',
  'created': 'created config.json',
  'file-edit': 'config.json changed outside Gatehouse',
  'file-edit-stopped': 'config.json changed while Gatehouse was not running',
  'file-no-trail': 'found config.json without an audit trail',
  'routes-edit-senders': 'edit routes and routes with sender conditions',
  'routes-import-senders': 'import Gateway.dat ({n} domains, {s} routes with sender conditions, {mode})',
  'oauth-set': 'set the XOAUTH2 login for {user} ({provider})',
  'oauth-remove': 'remove the XOAUTH2 login',
  'dkim-generate': 'generate DKIM key {selector}._domainkey.{domain} ({algorithm})',
  'dkim-remove': 'remove DKIM key {selector}._domainkey.{domain}',
  'mode-relay': 'external mode of {pattern}: relay',
  'mode-delay': 'external mode of {pattern}: delay',
  'mode-approval': 'external mode of {pattern}: approval',
  'mode-block': 'external mode of {pattern}: block',
  'bcc-set': 'automatic Bcc of {pattern}: {list}',
  'bcc-clear': 'automatic Bcc of {pattern} cleared',
} as const;

export type AuditCode = keyof typeof AUDIT_EN;

export interface AuditWhat {
  code: AuditCode;
  params: IssueParams;
  text: string;
}

export function auditWhat(code: AuditCode, params: IssueParams = {}): AuditWhat {
  return { code, params, text: fillTemplate(AUDIT_EN[code], params) };
}

export function isAuditCode(s: unknown): s is AuditCode {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(AUDIT_EN, s);
}
