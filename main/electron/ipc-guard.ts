/*
 * The checks every IPC call from the window passes before it reaches the core, pure over a
 * minimal view of Electron's IpcMainInvokeEvent so tests need no Electron:
 *  - `checkSender`: the call must come from our window's web contents, from its top frame,
 *    whose URL is on the app's own origin (app://gatehouse); returns null or the reason.
 *  - `validateInvoke`: the command must be one of the contract's names and its arguments
 *    plain JSON data (no functions, dates, class instances; bounded depth and size) of the
 *    shape the command takes; returns the checked call or an ApiErrorData ('bad-request').
 *  - `createInvokeHandler`: both checks, then the core handler; always resolves to an
 *    ApiResult (a refused sender is 'forbidden', a handler's ApiError keeps its code, any
 *    other throw becomes 'internal'), so nothing the renderer sends can throw in main.
 */
import {
  errorToData,
  isCommandName,
  type ApiErrorData,
  type ApiResult,
  type CommandHandlers,
  type CommandName,
} from '../shared/contract.js';

export const INVOKE_CHANNEL = 'gatehouse:invoke';
export const EVENT_CHANNEL = 'gatehouse:event';

/** The parts of Electron's WebFrameMain the check reads. */
export interface FrameLike {
  readonly url: string;
  readonly parent: unknown;
}

/** The parts of Electron's IpcMainInvokeEvent the check reads. */
export interface InvokeEventLike {
  readonly sender: { readonly id: number };
  readonly senderFrame: FrameLike | null;
}

export interface SenderPolicy {
  /** The app's origin, e.g. `app://gatehouse`. */
  origin: string;
  /** Id of the one web contents allowed to call (the main window's); null while none. */
  allowedContentsId(): number | null;
}

export function checkSender(event: InvokeEventLike, policy: SenderPolicy): string | null {
  const allowed = policy.allowedContentsId();
  if (allowed === null || event.sender?.id !== allowed) return 'not from the Gatehouse window';
  const frame = event.senderFrame;
  if (!frame) return 'the sending frame is gone';
  if (frame.parent !== null) return 'not from the top frame';
  let origin: string;
  try {
    const u = new URL(frame.url);
    // Standard custom schemes serialise their origin as "null" in WHATWG URL: compare by parts.
    origin = `${u.protocol}//${u.host}`;
  } catch {
    return `unparsable frame URL`;
  }
  if (origin !== policy.origin) return `frame origin ${origin} is not ${policy.origin}`;
  return null;
}

/* ---- argument validation ---- */

type FieldType = 'string' | 'number' | 'boolean' | 'object' | 'array';

interface ArgSpec {
  /** void: no arguments (undefined/null); object: a plain object; optional-object: either; nullable-object: object or null. */
  shape: 'void' | 'object' | 'optional-object' | 'nullable-object';
  required?: Record<string, FieldType>;
  optional?: Record<string, FieldType>;
}

/** One entry per command: a Record, so the compiler insists every command is covered. */
export const ARG_SPECS: Record<CommandName, ArgSpec> = {
  'status': { shape: 'void' },
  'gateway.start': { shape: 'void' },
  'gateway.stop': { shape: 'void' },
  'stats.traffic': { shape: 'void' },
  'setup.needed': { shape: 'void' },
  'setup.complete': { shape: 'object', required: { officeServer: 'object', domains: 'array', outbound: 'object' }, optional: { listener: 'object' } },
  'config.get': { shape: 'void' },
  'config.set': { shape: 'object', required: { key: 'string' } },
  'config.setSmarthost': { shape: 'nullable-object' },
  'accounts.list': { shape: 'optional-object', optional: { query: 'string' } },
  'accounts.setBlock': { shape: 'object', required: { pattern: 'string', block: 'boolean' } },
  'accounts.setAllow': { shape: 'object', required: { pattern: 'string', allow: 'array' } },
  'accounts.save': { shape: 'object', required: { account: 'object' }, optional: { original: 'string' } },
  'accounts.remove': { shape: 'object', required: { pattern: 'string' } },
  'accounts.import': { shape: 'object', required: { csv: 'string', mode: 'string' } },
  'accounts.export': { shape: 'void' },
  'routes.set': { shape: 'object', required: { routes: 'array' } },
  'routes.import': { shape: 'object', required: { text: 'string', mode: 'string' } },
  'routes.export': { shape: 'void' },
  'routes.health': { shape: 'void' },
  'log.tail': { shape: 'object', required: { kind: 'string', n: 'number' }, optional: { day: 'string' } },
  'log.days': { shape: 'object', required: { kind: 'string' } },
  'log.page': { shape: 'object', required: { kind: 'string', day: 'string', limit: 'number' }, optional: { before: 'number', filter: 'object' } },
  'queue.list': { shape: 'optional-object', optional: { state: 'string', text: 'string' } },
  'queue.show': { shape: 'object', required: { id: 'string' } },
  'queue.retry': { shape: 'optional-object', optional: { id: 'string' } },
  'queue.hold': { shape: 'object', required: { id: 'string' } },
  'queue.release': { shape: 'object', required: { id: 'string' } },
  'queue.delete': { shape: 'object', required: { id: 'string' } },
  'queue.bounce': { shape: 'object', required: { id: 'string' } },
  'check': { shape: 'object', required: { sender: 'string', recipient: 'string', clientIp: 'string' } },
  'auth.setEnabled': { shape: 'object', required: { enabled: 'boolean' } },
  'auth.setUser': { shape: 'object', required: { username: 'string', addresses: 'array' }, optional: { password: 'string' } },
  'auth.removeUser': { shape: 'object', required: { username: 'string' } },
  'history.list': { shape: 'void' },
  'history.restore': { shape: 'object', required: { n: 'number' } },
};

/** Same budget as the HTTP transport's body limit. */
export const MAX_ARG_CHARS = 10 * 1024 * 1024;
export const MAX_ARG_DEPTH = 32;
export const MAX_ARG_NODES = 200_000;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Null when `v` is plain JSON data within the limits, else what is wrong (with its path). */
export function jsonProblem(v: unknown): string | null {
  let nodes = 0;
  let chars = 0;
  const walk = (x: unknown, at: string, depth: number): string | null => {
    if (++nodes > MAX_ARG_NODES) return `too many values (more than ${MAX_ARG_NODES})`;
    if (depth > MAX_ARG_DEPTH) return `${at || 'args'} is nested too deeply`;
    switch (typeof x) {
      case 'undefined':
      case 'boolean':
        return null;
      case 'number':
        return Number.isFinite(x) ? null : `${at || 'args'} is not a finite number`;
      case 'string':
        chars += x.length;
        return chars > MAX_ARG_CHARS ? `arguments are too large (over ${MAX_ARG_CHARS} characters)` : null;
      case 'object': {
        if (x === null) return null;
        if (Array.isArray(x)) {
          for (let i = 0; i < x.length; i++) {
            const p = walk(x[i], `${at}[${i}]`, depth + 1);
            if (p) return p;
          }
          return null;
        }
        if (!isPlainObject(x)) return `${at || 'args'} is not plain data (${Object.prototype.toString.call(x).slice(8, -1)})`;
        for (const [k, val] of Object.entries(x)) {
          chars += k.length;
          if (k === '__proto__' || k === 'constructor' || k === 'prototype') return `${at ? at + '.' : ''}${k}: key not allowed`;
          const p = walk(val, at ? `${at}.${k}` : k, depth + 1);
          if (p) return p;
        }
        return null;
      }
      default:
        return `${at || 'args'} is a ${typeof x}, not data`;
    }
  };
  return walk(v, '', 0);
}

function typeOf(v: unknown): FieldType | 'null' | 'undefined' | 'other' {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (isPlainObject(v)) return 'object';
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean' ? t : 'other';
}

export type CheckedCall = { ok: true; command: CommandName; args: unknown } | { ok: false; error: ApiErrorData };

function bad(message: string): CheckedCall {
  return { ok: false, error: { code: 'bad-request', message } };
}

export function validateInvoke(command: unknown, args: unknown): CheckedCall {
  if (typeof command !== 'string' || !isCommandName(command)) {
    return bad(`unknown command ${typeof command === 'string' ? JSON.stringify(command.slice(0, 60)) : `(${typeof command})`}`);
  }
  const problem = jsonProblem(args);
  if (problem) return bad(`${command}: ${problem}`);
  const spec = ARG_SPECS[command];
  const t = typeOf(args);
  switch (spec.shape) {
    case 'void':
      if (t !== 'undefined' && t !== 'null') return bad(`${command} takes no arguments`);
      return { ok: true, command, args: undefined };
    case 'optional-object':
      if (t === 'undefined' || t === 'null') return { ok: true, command, args: undefined };
      break;
    case 'nullable-object':
      if (t === 'null') return { ok: true, command, args: null };
      break;
    case 'object':
      break;
  }
  if (t !== 'object') return bad(`${command} needs an object argument, got ${t}`);
  const obj = args as Record<string, unknown>;
  for (const [key, want] of Object.entries(spec.required ?? {})) {
    const got = typeOf(obj[key]);
    if (got !== want) return bad(`${command}: ${key} must be ${want === 'array' ? 'a list' : `a ${want}`}, got ${got}`);
  }
  for (const [key, want] of Object.entries(spec.optional ?? {})) {
    const got = typeOf(obj[key]);
    if (got !== 'undefined' && got !== want) return bad(`${command}: ${key} must be ${want === 'array' ? 'a list' : `a ${want}`} when given, got ${got}`);
  }
  return { ok: true, command, args };
}

/* ---- the handler ---- */

export interface InvokeHandlerOptions {
  handlers: CommandHandlers;
  policy: SenderPolicy;
  /** Told about refused calls (sender or arguments); the shell logs them. */
  onRefused?: (why: string) => void;
}

export type InvokeHandler = (event: InvokeEventLike, command: unknown, args: unknown) => Promise<ApiResult<unknown>>;


export function createInvokeHandler(opts: InvokeHandlerOptions): InvokeHandler {
  return async (event, command, args) => {
    const refused = checkSender(event, opts.policy);
    if (refused) {
      opts.onRefused?.(`IPC call refused: ${refused}`);
      return { ok: false, error: { code: 'forbidden', message: `refused: ${refused}` } };
    }
    const checked = validateInvoke(command, args);
    if (!checked.ok) {
      opts.onRefused?.(`IPC call rejected: ${checked.error.message}`);
      return checked;
    }
    try {
      const handler = opts.handlers[checked.command] as (a: unknown) => Promise<unknown>;
      const value = await handler(checked.args);
      return { ok: true, value };
    } catch (err) {
      return { ok: false, error: errorToData(err) };
    }
  };
}
