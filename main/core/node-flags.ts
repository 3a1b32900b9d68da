/*
 * V8 flags every gateway process runs with (bin/gatehouse.js's shebang line, the listener
 * processes, scripts/start.mjs). Both only work as startup flags. Measured with npm run bench
 * (bench/README.md), same throughput:
 * - --max-semi-space-size=2: the young generation may otherwise grow to 2 x 16 MB under SMTP
 *   load (peak RSS ~145 -> ~125 MB at 4). 2 instead of 4, with the delivery thread's
 *   collections and the 100 KB cells: peak RSS 148 -> 133 MB over the throughput bench's 3
 *   reps, throughput ratios 0.91-1.11 (median 1.03; A/B of 2026-12-06 18:57 in bench/README.md).
 *   1 cost on rejects (0.93 in a 2-rep A/B);
 * - --heap-growing-percent=30: after a full GC the old generation may grow by 30 % of its live
 *   size instead of V8's up to 4x for small heaps (live ~12 MB let it reach ~50 MB before the
 *   next one); a few more 5 ms collections, peak RSS ~125 -> ~100 MB at 50 %. With 100,000
 *   messages queued (~100 MB live) 50 % still let the heap reach ~170 MB: 30 % took the
 *   big-queue start's peak RSS from 258-264 to 233-241 MB (3 runs each), with no CPU per
 *   message or drain time apart from the runs' spread.
 * test/unit/node-flags.test.ts keeps the shebang line and this list the same.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--heap-growing-percent=30'];
