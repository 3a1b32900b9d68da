#!/usr/bin/env -S node --max-semi-space-size=4
// --max-semi-space-size=4: V8's young generation may otherwise grow to 2 x 16 MB under SMTP load;
// capped at 4 MB, peak RSS of `gatehouse serve` fell from ~145 to ~126 MB under the bench's
// load with no loss of throughput (npm run bench, A/B back to back; bench/README.md).
// Only a startup flag can do this (v8.setFlagsFromString is too late for the heap's sizes);
// npm's Windows shims honour `env -S` arguments. Launchers that run `node bin/gatehouse.js`
// should pass the same flag.
// Entry point of the `gatehouse` CLI: runs the compiled core (npm run build:core -> dist/).
import { main } from '../dist/main/cli/index.js';

const code = await main(process.argv.slice(2));
// serve resolves only after a signal; other commands end here.
process.exitCode = code;
