/*
 * The checks every IPC call from the window passes before it reaches the core, pure over a
 * minimal view of Electron's IpcMainInvokeEvent so tests need no Electron:
 *  - `checkSender`: the call must come from our window's web contents, from its top frame,
 *    whose URL is on the app's own origin (app://gatehouse); returns null or the reason.
 *  - `jsonProblem`: the arguments must be plain JSON data (no functions, dates, class
 *    instances; bounded depth and size), what the HTTP transport gets by parsing JSON;
 *  - `createInvokeHandler`: both checks, then the core's dispatcher (which checks the
 *    arguments against the command's schema, as for every transport, and runs it with via
 *    'ui'); always resolves to an ApiResult (a refused sender is 'forbidden', data that is
 *    not plain JSON is 'bad-request', the dispatcher's answers as they are), so nothing the
 *    renderer sends can throw in main.
 */
import type { ApiResult, CommandHandlers } from '../shared/contract.js';
import { createDispatcher } from '../core/commands/dispatch.js';

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

/* ---- plain data ---- */

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

/* ---- the handler ---- */

export interface InvokeHandlerOptions {
  handlers: CommandHandlers;
  policy: SenderPolicy;
  /** Told about refused calls (sender or arguments); the shell logs them. */
  onRefused?: (why: string) => void;
}

export type InvokeHandler = (event: InvokeEventLike, command: unknown, args: unknown) => Promise<ApiResult<unknown>>;


export function createInvokeHandler(opts: InvokeHandlerOptions): InvokeHandler {
  const dispatch = createDispatcher(opts.handlers);
  return async (event, command, args) => {
    const refused = checkSender(event, opts.policy);
    if (refused) {
      opts.onRefused?.(`IPC call refused: ${refused}`);
      return { ok: false, error: { code: 'forbidden', message: `refused: ${refused}` } };
    }
    const problem = jsonProblem(args);
    if (problem) {
      const name = typeof command === 'string' ? command.slice(0, 60) : `(${typeof command})`;
      opts.onRefused?.(`IPC call rejected: ${name}: ${problem}`);
      return { ok: false, error: { code: 'bad-request', message: `${name}: ${problem}` } };
    }
    const result = await dispatch(command, args, { via: 'ui' });
    if (!result.ok && result.error.code === 'bad-request') opts.onRefused?.(`IPC call rejected: ${result.error.message}`);
    return result;
  };
}
