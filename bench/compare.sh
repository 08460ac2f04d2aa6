#!/usr/bin/env bash
# bench/compare.sh: surge beside wrk, hey and vegeta, in one run, against the
# same loopback target, each tool pinned to the same CPUs. Prints the median
# over REPEAT runs of each tool's throughput, latency and peak RSS, and the
# ratios surge / tool. Then the memory check: surge and wrk with BIG users.
#
# Settings (environment):
#   DURATION=10s  CONNS=50  REPEAT=3        each run, connections, repeats
#   TOOL_CPUS=0   TARGET_CPUS=1             taskset CPU lists (tool, target)
#   BIG=10000     BIG_DURATION=10s          the many-users memory check (BIG=0 skips)
#   TOOLS="surge wrk hey vegeta"            which tools to run
#   UA=surge-bench                          the User-Agent every tool sends
# Every tool sends the same User-Agent, so that the requests are the same:
# the target is a Go server, and each header costs it (wrk sending surge's
# own "surge/v0.1.0-dev" instead of none lost ~5 % of its throughput).
# Only 127.0.0.1 receives traffic. wrk comes from Debian (apt-get install wrk),
# hey and vegeta from the Go module proxy, at pinned versions.
set -euo pipefail

DURATION=${DURATION:-10s}
CONNS=${CONNS:-50}
REPEAT=${REPEAT:-3}
TOOL_CPUS=${TOOL_CPUS:-0}
TARGET_CPUS=${TARGET_CPUS:-1}
BIG=${BIG:-10000}
BIG_DURATION=${BIG_DURATION:-10s}
TOOLS=${TOOLS:-surge wrk hey vegeta}
UA=${UA:-surge-bench}
HEY_VERSION=v0.1.5
VEGETA_VERSION=v12.13.0

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bench/.bin
out=$root/bench/results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$bin" "$out"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then
  if [ "$(id -u)" = 0 ] && need apt-get; then
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  else
    echo "compare.sh: wrk is missing: apt-get install wrk" >&2; exit 2
  fi
fi
need taskset || { echo "compare.sh: taskset is missing (util-linux)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "compare.sh: GNU time is missing: apt-get install time" >&2; exit 2; }
[ -x "$bin/hey" ] || GOBIN=$bin go install "github.com/rakyll/hey@$HEY_VERSION"
[ -x "$bin/vegeta" ] || GOBIN=$bin go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
go build -o "$bin/surge" "$root/cmd/surge"
go build -o "$bin/target" "$root/bench/target"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

taskset -c "$TARGET_CPUS" "$bin/target" -listen 127.0.0.1:0 >"$out/target.addr" 2>"$out/target.log" &
target_pid=$!
trap 'kill $target_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$out/target.addr" ] && break; sleep 0.1; done
addr=$(head -1 "$out/target.addr")
url="http://$addr/"
secs=${DURATION%s}

echo "surge $("$bin/surge" version | cut -d' ' -f2) vs wrk, hey $HEY_VERSION, vegeta $VEGETA_VERSION"
echo "target $url on CPUs $TARGET_CPUS; tools on CPUs $TOOL_CPUS; $CONNS connections; $DURATION × $REPEAT; $(nproc) CPUs, $(uname -r)"
echo

# Each runner prints: rps p50_ms p99_ms rss_kb
run_surge() {
  /usr/bin/time -f "%M" -o "$1.rss" taskset -c "$TOOL_CPUS" "$bin/surge" run -q -u "$2" -d "$3" -H "User-Agent: $UA" --json "$1.json" "$url" >/dev/null 2>"$1.err" || true
  python3 - "$1.json" "$(cat "$1.rss")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
print(s["rps"], s["latency_ms"]["p50"], s["latency_ms"]["p99"], sys.argv[2])
PY
}
run_wrk() {
  /usr/bin/time -f "%M" -o "$1.rss" taskset -c "$TOOL_CPUS" wrk -t"$(taskset -c "$TOOL_CPUS" nproc)" -c "$2" -d "$3" -H "User-Agent: $UA" --latency "$url" >"$1.out" 2>&1 || true
  python3 - "$1.out" "$(cat "$1.rss")" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(s):
    v, u = re.match(r"([\d.]+)(\w+)", s).groups()
    return float(v) * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
rps = re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)
p50 = ms(re.search(r"\s50%\s+(\S+)", t).group(1))
p99 = ms(re.search(r"\s99%\s+(\S+)", t).group(1))
print(rps, p50, p99, sys.argv[2])
PY
}
run_hey() {
  /usr/bin/time -f "%M" -o "$1.rss" taskset -c "$TOOL_CPUS" "$bin/hey" -c "$2" -z "$3" -H "User-Agent: $UA" "$url" >"$1.out" 2>&1 || true
  python3 - "$1.out" "$(cat "$1.rss")" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)
p50 = float(re.search(r"50%+ in ([\d.]+) secs", t).group(1)) * 1e3
p99 = float(re.search(r"99%+ in ([\d.]+) secs", t).group(1)) * 1e3
print(rps, p50, p99, sys.argv[2])
PY
}
run_vegeta() {
  echo "GET $url" >"$1.targets"
  /usr/bin/time -f "%M" -o "$1.rss" taskset -c "$TOOL_CPUS" "$bin/vegeta" attack -rate=0 -workers="$2" -max-workers="$2" \
    -duration="$3" -header "User-Agent: $UA" -targets="$1.targets" -output="$1.bin" 2>"$1.err" || true
  "$bin/vegeta" report -type=json "$1.bin" >"$1.json"
  rm -f "$1.bin"
  python3 - "$1.json" "$(cat "$1.rss")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(r["throughput"], r["latencies"]["50th"] / 1e6, r["latencies"]["99th"] / 1e6, sys.argv[2])
PY
}

for i in $(seq "$REPEAT"); do
  for tool in $TOOLS; do
    "run_$tool" "$out/$tool.$i" "$CONNS" "$DURATION" >>"$out/$tool.txt"
  done
done

python3 - "$out" $TOOLS <<'PY'
import statistics, sys
out, tools = sys.argv[1], sys.argv[2:]
rows = {}
for t in tools:
    runs = [list(map(float, l.split())) for l in open(f"{out}/{t}.txt") if l.strip()]
    rows[t] = [statistics.median(c) for c in zip(*runs)] + [len(runs)]
print(f"{'tool':8} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'RSS MB':>7}   runs (medians)")
for t, (rps, p50, p99, rss, n) in rows.items():
    print(f"{t:8} {rps:10.0f} {p50:8.3f} {p99:8.3f} {rss/1024:7.1f}   {n}")
if "surge" in rows:
    print()
    for t in tools:
        if t != "surge":
            print(f"surge / {t:7} throughput {rows['surge'][0]/rows[t][0]:.2f}×   RSS {rows['surge'][3]/rows[t][3]:.2f}×")
PY

if [ "$BIG" -gt 0 ]; then
  echo
  echo "many users: $BIG connections for $BIG_DURATION"
  big_s=$(run_surge "$out/big.surge" "$BIG" "$BIG_DURATION")
  big_w=$(run_wrk "$out/big.wrk" "$BIG" "$BIG_DURATION")
  python3 - "$big_s" "$big_w" <<'PY'
import sys
s, w = (list(map(float, a.split())) for a in sys.argv[1:3])
print(f"{'tool':8} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'RSS MB':>7}")
for name, r in (("surge", s), ("wrk", w)):
    print(f"{name:8} {r[0]:10.0f} {r[1]:8.3f} {r[2]:8.3f} {r[3]/1024:7.1f}")
PY
fi
echo
echo "raw outputs: $out"
