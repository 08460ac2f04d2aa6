#!/usr/bin/env bash
# bench/scaling.sh: how surge's throughput grows with the cores it is given,
# beside wrk, against one loopback target pinned to its own cores.
#
# For each tool core count K in TOOL_CORES, surge (-u CONNS) and wrk
# (-t K -c CONNS) run DURATION against the target, REPEAT times, pinned to
# CPUs 0..K-1; the target runs on the CPUs listed in TARGET_CPUS. Prints
# the median req/s of each and the ratio surge / wrk.
#
# Settings (environment): SURGE, TARGET, WRK (binaries; default: build surge
# and the target here, wrk from PATH), TOOL_CORES="1 2 4 8", TARGET_CPUS=8-15,
# CONNS=256, DURATION=10s, REPEAT=3, UA=surge-bench (the User-Agent both
# send, so that their requests are the same). Only 127.0.0.1 receives
# traffic.
set -euo pipefail

TOOL_CORES=${TOOL_CORES:-1 2 4 8}
TARGET_CPUS=${TARGET_CPUS:-8-15}
CONNS=${CONNS:-256}
DURATION=${DURATION:-10s}
REPEAT=${REPEAT:-3}
UA=${UA:-surge-bench}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'kill "${target_pid:-0}" 2>/dev/null || true; rm -rf "$tmp"' EXIT

if [ -z "${SURGE:-}" ]; then SURGE=$tmp/surge; go build -o "$SURGE" "$root/cmd/surge"; fi
if [ -z "${TARGET:-}" ]; then TARGET=$tmp/target; go build -o "$TARGET" "$root/bench/target"; fi
WRK=${WRK:-$(command -v wrk)}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

taskset -c "$TARGET_CPUS" "$TARGET" -listen 127.0.0.1:0 >"$tmp/addr" 2>/dev/null &
target_pid=$!
for _ in $(seq 50); do [ -s "$tmp/addr" ] && break; sleep 0.1; done
url="http://$(head -1 "$tmp/addr")/"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "target $url on CPUs $TARGET_CPUS; $CONNS connections; $DURATION × $REPEAT; $(nproc) CPUs"
printf '%6s %12s %12s %8s\n' cores surge_req/s wrk_req/s ratio
for k in $TOOL_CORES; do
  cpus="0-$((k - 1))"
  : >"$tmp/s"; : >"$tmp/w"
  for _ in $(seq "$REPEAT"); do
    taskset -c "$cpus" "$SURGE" run -q -u "$CONNS" -d "$DURATION" -H "User-Agent: $UA" --json "$tmp/r.json" "$url" >/dev/null 2>&1 || true
    grep -o '"rps": [0-9.]*' "$tmp/r.json" | head -1 | awk '{print $2}' >>"$tmp/s"
    taskset -c "$cpus" "$WRK" -t"$k" -c"$CONNS" -d"$DURATION" -H "User-Agent: $UA" "$url" 2>/dev/null | awk '/Requests\/sec/ {print $2}' >>"$tmp/w"
  done
  s=$(median <"$tmp/s"); w=$(median <"$tmp/w")
  printf '%6s %12.0f %12.0f %8.2f\n' "$k" "$s" "$w" "$(awk -v s="$s" -v w="$w" 'BEGIN {print s / w}')"
done
