/*
 * Starting and stopping the installed Windows service from the desktop app (the tray) and the
 * CLI: sc.exe through the start/stop plans, which the administering user may run without a UAC
 * prompt (install gives them the right); anyone else gets the prompt (`elevate`), and a
 * declined prompt is a clear error. `serviceControl()` returns the object the desktop app's
 * remote mode uses; off Windows it reports itself unavailable and every action rejects.
 */
import os from 'node:os';
import path from 'node:path';
import { ApiError } from '../../shared/contract.js';
import { ELEVATION_CANCELLED, runElevated } from './elevate.js';
import { startPlan, stopPlan, type Step } from './plan.js';
import { PlanError, queryService, runPlan, runWindowsCommand, type RunCommand } from './run-plan.js';

export interface ServiceControl {
  readonly available: boolean;
  running(): Promise<boolean>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** ERROR_ACCESS_DENIED from sc.exe: not allowed without elevation. */
const ACCESS_DENIED = 5;

async function runWithElevation(steps: Step[], run: RunCommand, env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await runPlan(steps, { run, moveData: async () => '', env });
  } catch (err) {
    if (!(err instanceof PlanError) || err.exitCode !== ACCESS_DENIED || err.step.kind !== 'run') throw err;
    // Not this user's to do without an administrator: the same command line, through UAC.
    const step = err.step;
    const log = path.join(os.tmpdir(), `gatehouse-elevated-${process.pid}-${Date.now()}.log`);
    const r = await runElevated(step.file, step.args, {}, log, env);
    if (r.code === ELEVATION_CANCELLED) throw new ApiError('administrator rights are needed and the prompt was declined', 'elevation-declined');
    if (!(step.okExitCodes ?? [0]).includes(r.code)) throw new ApiError(`${step.why} failed (exit code ${r.code})${r.output ? `: ${r.output}` : ''}`, 'service-failed');
    // The rest of the plan (waiting for the stop) needs no rights.
    await runPlan(steps.slice(steps.indexOf(step) + 1), { run, moveData: async () => '', env });
  }
}

export function serviceControl(opts: { platform?: NodeJS.Platform; run?: RunCommand; env?: NodeJS.ProcessEnv } = {}): ServiceControl {
  const available = (opts.platform ?? process.platform) === 'win32';
  const run = opts.run ?? runWindowsCommand;
  const env = opts.env ?? process.env;
  const unsupported = () => Promise.reject(new ApiError('the Windows service is controlled on Windows only', 'unsupported'));
  if (!available) return { available, running: async () => false, start: unsupported, stop: unsupported };
  return {
    available,
    running: async () => (await queryService(run, env)) === 'running',
    start: () => runWithElevation(startPlan(env), run, env),
    stop: () => runWithElevation(stopPlan(env), run, env),
  };
}
