#!/usr/bin/env bash
# bench/busyhost.sh: what `surge find` names when the target's host is busy
# with other work, as a shared CI machine or a laptop running surge beside
# the target is.
#
# Starts `surge lab` on 127.0.0.1, then SPINNERS processes that only spin
# (each a shell loop, killed after SPIN_FOR seconds, or at the end with 0),
# and runs `surge find -u 64 --probe pid=LAB` against each lab PATH in
# PATHS, REPEAT times. Prints each verdict and the evidence lines about
# the CPU and the wait for it.
#
# Settings (environment): SURGE (binary; default: build it here),
# PATHS="/gil?ms=5 /cpu?ms=10 /lock?ms=5", SPINNERS=3, SPIN_FOR=0 (seconds;
# 0: the whole search), REPEAT=1. Only 127.0.0.1 receives traffic; every
# process started here is bounded in time and stopped at the end.
set -euo pipefail

PATHS=${PATHS:-/gil?ms=5 /cpu?ms=10 /lock?ms=5}
SPINNERS=${SPINNERS:-3}
SPIN_FOR=${SPIN_FOR:-0}
REPEAT=${REPEAT:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
spinners=()
stop_spinners() {
  for p in "${spinners[@]}"; do kill "$p" 2>/dev/null || true; done
  spinners=()
}
trap 'stop_spinners; kill "${lab_pid:-0}" 2>/dev/null || true; rm -rf "$tmp"' EXIT

if [ -z "${SURGE:-}" ]; then SURGE=$tmp/surge; go build -o "$SURGE" "$root/cmd/surge"; fi

"$SURGE" lab --listen 127.0.0.1:0 >"$tmp/lab" 2>/dev/null &
lab_pid=$!
for _ in $(seq 50); do [ -s "$tmp/lab" ] && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$tmp/lab" | head -1)
case "$base" in http://127.0.0.1:*) ;; *) echo "lab did not start on 127.0.0.1: $base" >&2; exit 1 ;; esac

echo "lab $base (pid $lab_pid); $SPINNERS spinning processes$([ "$SPIN_FOR" != 0 ] && echo " for the first ${SPIN_FOR}s"); $(nproc) CPUs"
for path in $PATHS; do
  for _ in $(seq "$REPEAT"); do
    for _ in $(seq "$SPINNERS"); do
      # A spinner never outlives the search: at most 10 minutes, or SPIN_FOR.
      limit=$([ "$SPIN_FOR" != 0 ] && echo "$SPIN_FOR" || echo 600)
      timeout "$limit" sh -c 'while :; do :; done' &
      spinners+=($!)
    done
    "$SURGE" find -q --step-duration 1500ms --warmup 500ms --hold 3s -u 64 \
      --probe "pid=$lab_pid" --json "$tmp/find.json" "$base$path" >/dev/null 2>&1 || true
    stop_spinners
    python3 - "$path" "$tmp/find.json" <<'PY'
import json, sys
path, f = sys.argv[1], sys.argv[2]
b = json.load(open(f))["bottleneck"]
print(f"{path:14} {b['class']:18} {b['summary'][:110]}")
for e in b["evidence"]:
    if any(k in e for k in ("CPU", "Little", "waited", "thread")):
        print(f"{'':14}   {e[:150]}")
PY
  done
done
