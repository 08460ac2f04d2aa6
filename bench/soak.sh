#!/usr/bin/env bash
# bench/soak.sh: one long open-model run against the loopback bench target,
# with surge's resident memory sampled all along, to show that it stays
# flat (the histograms and the timeline are bounded; nothing grows with the
# run's length). Prints the first, last and largest RSS samples, and the
# run's own figures. Not a CI test: it runs for DURATION.
#
# Settings (environment):
#   DURATION=1h   RATE=2000   USERS_CAP=1000   run length, req/s, --max-inflight
#   SAMPLE=5      seconds between RSS samples
#   TOOL_CPUS=0   TARGET_CPUS=1                taskset CPU lists (surge, target)
# Wrap it in `flock /tmp/surge-load.lock` on a shared machine. Only
# 127.0.0.1 receives traffic.
set -euo pipefail

DURATION=${DURATION:-1h}
RATE=${RATE:-2000}
USERS_CAP=${USERS_CAP:-1000}
SAMPLE=${SAMPLE:-5}
TOOL_CPUS=${TOOL_CPUS:-0}
TARGET_CPUS=${TARGET_CPUS:-1}

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bench/.bin
out=$root/bench/results/soak-$(date +%Y%m%d-%H%M%S)
mkdir -p "$bin" "$out"
go build -o "$bin/target" "$root/bench/target"
go build -o "$bin/surge" "$root/cmd/surge"

taskset -c "$TARGET_CPUS" "$bin/target" -listen 127.0.0.1:0 >"$out/target.addr" 2>"$out/target.log" &
target_pid=$!
surge_pid=
trap 'kill $target_pid 2>/dev/null || true; [ -n "$surge_pid" ] && kill $surge_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$out/target.addr" ] && break; sleep 0.1; done
url="http://$(head -1 "$out/target.addr")/"

echo "soak: $RATE req/s for $DURATION against $url; surge on CPUs $TOOL_CPUS, target on $TARGET_CPUS; RSS every ${SAMPLE}s"
taskset -c "$TOOL_CPUS" "$bin/surge" run -q -r "$RATE" --max-inflight "$USERS_CAP" -d "$DURATION" \
  --json "$out/result.json" "$url" 2>"$out/surge.err" &
surge_pid=$!

# Sample VmRSS (and the high-water mark) from /proc until surge exits.
: >"$out/rss.tsv"
start=$(date +%s)
while kill -0 "$surge_pid" 2>/dev/null; do
  if rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$surge_pid/status" 2>/dev/null) && [ -n "$rss" ]; then
    printf '%s\t%s\n' "$(( $(date +%s) - start ))" "$rss" >>"$out/rss.tsv"
  fi
  sleep "$SAMPLE"
done
wait "$surge_pid" || true
surge_pid=

awk -F'\t' '
  NR == 1 { first = $2; t1 = $1 }
  { last = $2; tl = $1; if ($2 > max) { max = $2; tm = $1 } ; n++ }
  NR > 1 && $1 >= 60 && !after1m { after1m = $2 }
  END {
    printf "RSS samples: %d\n", n
    printf "first %.1f MB (t=%ds)  after 1 min %.1f MB  last %.1f MB (t=%ds)  max %.1f MB (t=%ds)\n",
      first/1024, t1, after1m/1024, last/1024, tl, max/1024, tm
  }' "$out/rss.tsv"
python3 - "$out/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
print(f'run: {s["requests"]} requests in {r["duration_s"]} s, {s["rps"]} req/s, '
      f'p50 {s["latency_ms"]["p50"]} ms, p99 {s["latency_ms"]["p99"]} ms, errors {s["errors"]["count"]}, '
      f'dropped {s["dropped"]}, surge CPU {r["client"]["cpu_percent"]} %, warnings {r["client"]["warnings"]}')
PY
echo "samples and result in $out"
