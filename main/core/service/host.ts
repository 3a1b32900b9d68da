/*
 * What the service commands need to know about the process running them (ServiceHost): who it
 * is (the desktop app, the CLI, or a gateway), how to run this program's CLI again with
 * administrator rights, where Gatehouse is installed, this user's desktop data folder, and,
 * for the desktop app, how to let go of its own gateway before the data moves and take it up
 * again after. `processServiceHost()` describes the current process; tests replace parts.
 */
import path from 'node:path';
import { defaultDataDir } from '../paths.js';
import type { RunCommand, RunResult } from './run-plan.js';
import { installDirOf } from './layout.js';

export interface ServiceHost {
  answeredBy: 'desktop' | 'cli' | 'gateway';
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** This program's CLI: the executable, the arguments before the command, env to set. */
  self: { file: string; args: string[]; setEnv: Record<string, string> };
  /** Where Gatehouse.exe is (the layout of the service's files). */
  installDir: string;
  /** This user's desktop data folder (moved into the service folder, and back). */
  desktopDataDir: string;
  run?: RunCommand;
  /** How a command line runs elevated (tests record it; default elevate.ts's runElevated). */
  elevate?: (file: string, args: readonly string[], setEnv: Record<string, string>, logFile: string, env?: NodeJS.ProcessEnv) => Promise<RunResult>;
  /** The desktop app: close its in-process gateway before the data folder moves. */
  beforeSwitch?(): Promise<void>;
  /** The desktop app: take up the new mode (it relaunches itself). */
  afterSwitch?(ok: boolean): Promise<void>;
}

export function processServiceHost(answeredBy: ServiceHost['answeredBy'], over: Partial<ServiceHost> = {}): ServiceHost {
  const script = process.argv[1] ? path.resolve(process.argv[1]) : '';
  return {
    answeredBy,
    platform: process.platform,
    env: process.env,
    self: { file: process.execPath, args: script ? [script] : [], setEnv: process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {} },
    installDir: installDirOf(process.execPath, process.env),
    desktopDataDir: defaultDataDir(process.env),
    ...over,
  };
}
