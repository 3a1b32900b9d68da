#!/usr/bin/env node
// Entry point of the `gatehouse` CLI: runs the compiled core (npm run build:core -> dist/).
import { main } from '../dist/main/cli/index.js';

const code = await main(process.argv.slice(2));
// serve resolves only after a signal; other commands end here.
process.exitCode = code;
