/*
 * V8 flags every gateway process runs with (bin/gatehouse.js's shebang line, the listener
 * processes, scripts/start.mjs). Both only work as startup flags. Measured with npm run bench
 * (bench/README.md), same throughput:
 * - --max-semi-space-size=4: the young generation may otherwise grow to 2 x 16 MB under SMTP
 *   load (peak RSS ~145 -> ~125 MB). 2 took the throughput bench's peak 10-15 MB lower, but
 *   the drain after an outage spent ~25 % more CPU per message (5 A/B pairs: median 0.93
 *   against 0.74 ms), so 4 stays;
 * - --heap-growing-percent=30: after a full GC the old generation may grow by 30 % of its live
 *   size instead of V8's up to 4x for small heaps (live ~12 MB let it reach ~50 MB before the
 *   next one); a few more 5 ms collections, peak RSS ~125 -> ~100 MB at 50 %. With 100,000
 *   messages queued (~100 MB live) 50 % still let the heap reach ~170 MB: 30 % took the
 *   big-queue start's peak RSS from 258-264 to 233-241 MB (3 runs each), with no CPU per
 *   message or drain time apart from the runs' spread.
 * test/unit/node-flags.test.ts keeps the shebang line and this list the same.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=30'];
