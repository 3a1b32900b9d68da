/*
 * Electron's entry point (package.json "main"): starts the desktop shell. All wiring is in
 * bootstrap.ts so tests can drive it with a stubbed electron module; this file only runs it
 * and turns an unexpected failure into a message and exit code 1 instead of a hung process.
 */
import { app } from 'electron';
import { bootstrap } from './bootstrap.js';

bootstrap().catch((err: unknown) => {
  process.stderr.write(`gatehouse: ${(err as Error)?.stack ?? String(err)}\n`);
  app.exit(1);
});
