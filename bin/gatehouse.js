#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=30
// The V8 flags above keep the gateway's heap small under SMTP load (why and how much:
// main/core/node-flags.ts, which lists the same flags). Only startup flags can do this
// (v8.setFlagsFromString is too late for the heap's sizes); npm's Windows shims honour `env -S`
// arguments. Launchers that run `node bin/gatehouse.js` should pass the same flags.
// Entry point of the `gatehouse` CLI: runs the compiled core (npm run build:core -> dist/).
import { main } from '../dist/main/cli/index.js';

const code = await main(process.argv.slice(2));
// serve resolves only after a signal; other commands end here.
process.exitCode = code;
