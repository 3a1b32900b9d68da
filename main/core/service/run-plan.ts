/*
 * Carries out a service plan (plan.ts) on Windows, step by step, stopping at the first step
 * that fails: `runPlan(steps, ports)` resolves to one line per step done, or rejects with a
 * PlanError naming the step, its exit code and what the program printed. Each command line is
 * exactly the one --dry-run prints (passed verbatim). Also reads the service's state
 * (`sc.exe query`: the state number, which Windows does not translate) and waits for a stop.
 * The ports (run a program, move the data folder, clock) are injected so the order and the
 * error handling are tested on any OS; only the real runner needs Windows.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SERVICE_NAME } from './layout.js';
import { describeStep, type Step } from './plan.js';
import { commandLine, systemTool, winQuote } from './windows-commands.js';

export class PlanError extends Error {
  constructor(
    message: string,
    readonly step: Step,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

export interface RunResult {
  code: number;
  output: string;
}

export type RunCommand = (file: string, args: readonly string[]) => Promise<RunResult>;

/** Runs a Windows program with exactly the command line --dry-run shows; never rejects. */
export const runWindowsCommand: RunCommand = (file, args) =>
  new Promise((resolve) => {
    // Verbatim: the program gets our quoting, not Node's; argv0 quoted too (a path with spaces).
    const rest = args.length ? commandLine('x', args).slice(2) : '';
    const opts = { argv0: winQuote(file), windowsHide: true, windowsVerbatimArguments: true, timeout: 120_000, maxBuffer: 8 * 1024 * 1024 };
    execFile(file, rest ? [rest] : [], opts, (err, stdout, stderr) => {
      const raw = (err as { code?: unknown } | null)?.code;
      const code = !err ? 0 : typeof raw === 'number' ? raw : -1;
      resolve({ code, output: `${stdout}${stderr}`.trim() || (code === -1 ? (err as Error).message : '') });
    });
  });

import type { ServiceState } from '../../shared/contract.js';
export type { ServiceState };

const STATES: Record<number, ServiceState> = { 1: 'stopped', 2: 'start-pending', 3: 'stop-pending', 4: 'running', 5: 'continue-pending', 6: 'pause-pending', 7: 'paused' };

/** `sc.exe query` output (and exit code) -> the state. 1060: no such service. */
export function parseScQuery(result: RunResult): ServiceState {
  if (result.code === 1060 || (result.code !== 0 && /\b1060\b/.test(result.output))) return 'not-installed';
  const m = /STATE\s*:\s*(\d+)/.exec(result.output);
  if (m) return STATES[Number(m[1])] ?? 'unknown';
  // A failure that printed nothing at all (Wine's sc.exe for an unknown service): no service.
  return result.code !== 0 && result.output.trim() === '' ? 'not-installed' : 'unknown';
}

export async function queryService(run: RunCommand = runWindowsCommand, env?: NodeJS.ProcessEnv): Promise<ServiceState> {
  return parseScQuery(await run(systemTool('sc.exe', env), ['query', SERVICE_NAME]));
}

export interface PlanPorts {
  run: RunCommand;
  moveData(from: string, to: string): Promise<string>;
  sleep?: (ms: number) => Promise<void>;
  env?: NodeJS.ProcessEnv;
}

export async function runPlan(steps: readonly Step[], ports: PlanPorts): Promise<string[]> {
  const done: string[] = [];
  const sleep = ports.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  for (const step of steps) {
    const what = describeStep(step).split('\n')[0]!;
    switch (step.kind) {
      case 'run': {
        const r = await ports.run(step.file, step.args);
        if (!(step.okExitCodes ?? [0]).includes(r.code)) {
          throw new PlanError(`${what}\nfailed with exit code ${r.code}${r.output ? `:\n${r.output}` : ''}`, step, r.code);
        }
        done.push(what);
        break;
      }
      case 'mkdir':
        await fs.mkdir(step.path, { recursive: true });
        done.push(what);
        break;
      case 'write':
        await fs.mkdir(path.dirname(step.path), { recursive: true });
        await fs.writeFile(step.path, step.content);
        done.push(what);
        break;
      case 'remove':
        await fs.rm(step.path, { force: true });
        done.push(what);
        break;
      case 'move-data':
        done.push(`${what}: ${await ports.moveData(step.from, step.to)}`);
        break;
      case 'wait-stopped': {
        const until = Date.now() + step.timeoutS * 1000;
        for (;;) {
          const state = await queryService(ports.run, ports.env);
          if (state === 'stopped' || state === 'not-installed') break;
          if (Date.now() > until) throw new PlanError(`${step.service} has not stopped after ${step.timeoutS} s (state: ${state})`, step, null);
          await sleep(500);
        }
        done.push(what);
        break;
      }
    }
  }
  return done;
}
