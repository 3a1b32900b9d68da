#!/bin/bash
# `npm run bench [-- --quick | --reps N | ...]`: Gatehouse vs two private Postfix instances,
# one configured from Gatehouse's own config (`gatehouse export postfix`), one a stock relay
# with the same policy, back to back, on
# loopback only. Needs root (private Postfix instance, `unshare -n`) and Debian's postfix
# package for smtp-source / smtp-sink / postfix (without it only Gatehouse is measured).
# The system Postfix is never configured or started. Output: a table on stdout and
# bench/results/<timestamp>.json (+ bench/results/latest.json). Exit code: bench.py's.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "bench: must run as root (private postfix instance, unshare -n)"; exit 1; }
command -v python3 >/dev/null || { echo "bench: python3 is required"; exit 1; }
[ -f "$HERE/../dist/main/cli/index.js" ] || { echo "bench: run 'npm run build:core' first"; exit 1; }
# Hard wall-clock bound for the whole run (bench.py also keeps its own budget): 20 minutes for
# the throughput run (three systems), 15 for the scale suite.
DEFAULT_LIMIT=1200
for arg in "$@"; do [ "$arg" = --scale ] && DEFAULT_LIMIT=900; done
LIMIT=${BENCH_TIMEOUT:-$DEFAULT_LIMIT}
export BENCH_TIMEOUT=$LIMIT
# -m: a private mount namespace too, so the scale suite's fan-out can point /etc/resolv.conf
# at its loopback DNS server with a bind mount the host never sees.
exec timeout --signal=TERM --kill-after=20 "$LIMIT" unshare -n -m python3 "$HERE/bench.py" "$@"
