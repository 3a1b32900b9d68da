/*
 * The CLI as a program inside the packaged app: `Gatehouse.exe <app.asar>\dist\main\cli\run.js
 * <command> ...` with ELECTRON_RUN_AS_NODE=1. The Windows service runs `serve --service` this
 * way, and the desktop app runs `service install|uninstall` this way when it needs them
 * elevated (bin/gatehouse.js is the same for a checkout, and is not packaged). The exit code is
 * the command's.
 */
import { main } from './index.js';

process.exitCode = await main(process.argv.slice(2));
