#!/usr/bin/env bash
# bench/scenario.sh: what journeys cost surge.
#
# 1. A one-step scenario file beside the same URL on the command line,
#    interleaved, against bench/target: both run the same engine path; the
#    file adds its cookie jar (every response's headers are read) and
#    per-step counting. Prints medians of REPEAT runs and the ratio.
# 2. USERS users running a three-step journey against the lab's shop
#    (login → items → order, a JSON extraction and templates on each step,
#    a cookie jar), with think time: surge's peak RSS.
#
# Settings (environment):
#   DURATION=10s CONNS=50 REPEAT=5            part 1
#   USERS=10000 JOURNEY_DURATION=20s          part 2 (USERS=0 skips)
#   TOOL_CPUS=0 TARGET_CPUS=1                 taskset CPU lists
# Only 127.0.0.1 receives traffic. Run one measurement at a time on a
# shared machine: flock /tmp/surge-load.lock bench/scenario.sh
set -euo pipefail

DURATION=${DURATION:-10s}
CONNS=${CONNS:-50}
REPEAT=${REPEAT:-5}
USERS=${USERS:-10000}
JOURNEY_DURATION=${JOURNEY_DURATION:-20s}
TOOL_CPUS=${TOOL_CPUS:-0}
TARGET_CPUS=${TARGET_CPUS:-1}

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bench/.bin
out=$root/bench/results/scenario-$(date +%Y%m%d-%H%M%S)
mkdir -p "$bin" "$out"
command -v taskset >/dev/null || { echo "scenario.sh: taskset is missing (util-linux)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "scenario.sh: GNU time is missing: apt-get install time" >&2; exit 2; }
go build -o "$bin/surge" "$root/cmd/surge"
go build -o "$bin/target" "$root/bench/target"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

taskset -c "$TARGET_CPUS" "$bin/target" -listen 127.0.0.1:0 >"$out/target.addr" 2>"$out/target.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$out/target.addr" ] && break; sleep 0.1; done
url="http://$(head -1 "$out/target.addr")/"
cat >"$out/one.yaml" <<YAML
base: $url
steps:
  - {name: get, url: /}
YAML

echo "part 1: one-step scenario vs URL · $CONNS users · $DURATION × $REPEAT, interleaved · tool CPUs $TOOL_CPUS, target CPUs $TARGET_CPUS"
run() { # name args...
  local name=$1; shift
  taskset -c "$TOOL_CPUS" "$bin/surge" run -q -u "$CONNS" -d "$DURATION" --json "$out/$name.json" "$@" >/dev/null 2>>"$out/$name.err" || true
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["rps"])' "$out/$name.json" >>"$out/$name.txt"
}
for i in $(seq "$REPEAT"); do
  run url "$url"
  run file "$out/one.yaml"
done
python3 - "$out" <<'PY'
import statistics, sys
out = sys.argv[1]
u = [float(l) for l in open(f"{out}/url.txt")]
f = [float(l) for l in open(f"{out}/file.txt")]
print(f"URL       median {statistics.median(u):9.0f} req/s   runs {' '.join(f'{x:.0f}' for x in u)}")
print(f"file      median {statistics.median(f):9.0f} req/s   runs {' '.join(f'{x:.0f}' for x in f)}")
print(f"file/URL  {statistics.median(f)/statistics.median(u):.3f}×")
PY

[ "$USERS" -gt 0 ] || exit 0
echo
echo "part 2: $USERS users · three-step journey · $JOURNEY_DURATION"
taskset -c "$TARGET_CPUS" "$bin/surge" lab --listen 127.0.0.1:0 >"$out/lab.out" 2>"$out/lab.err" &
pids+=($!)
for _ in $(seq 50); do grep -q "listening on" "$out/lab.out" 2>/dev/null && break; sleep 0.1; done
lab=$(sed -n 's/^listening on //p' "$out/lab.out" | head -1)
python3 - "$out/accounts.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("user,password\n")
    for i in range(1000):
        f.write(f"u{i},pw-u{i}\n")
PY
cat >"$out/journey.yaml" <<YAML
base: $lab
data:
  accounts: {file: accounts.csv, order: sequential}
load:
  think: 1s-2s
steps:
  - name: login
    method: POST
    url: /shop/login
    json: {user: "{{accounts.user}}", password: "{{accounts.password}}"}
    extract: {token: {json: token}}
    check: [status==200]
  - name: items
    url: /shop/items?n={{n}}
    headers: {Authorization: "Bearer {{token}}", X-Request-Id: "{{id}}"}
    extract: {item: {json: items.0.id}}
    check: [status==200]
  - name: order
    method: POST
    url: /shop/orders?pool=20000&ms=0
    headers: {Authorization: "Bearer {{token}}"}
    body: '{"user": "{{accounts.user}}", "item": {{item}}}'
    check: [status==201, "json:order>0"]
YAML
/usr/bin/time -f "%M" -o "$out/journey.rss" taskset -c "$TOOL_CPUS" "$bin/surge" run -q -u "$USERS" --ramp 5s -d "$JOURNEY_DURATION" \
  --json "$out/journey.json" "$out/journey.yaml" >/dev/null 2>"$out/journey.err" || true
python3 - "$out/journey.json" "$(cat "$out/journey.rss")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
it = r["iterations"]
print(f"iterations {it['count']} ({it['completed']} completed, {it['failed']} failed), {it['rate']:.0f}/s; "
      f"requests {r['summary']['requests']}, errors {r['summary']['errors']['count']}; connections {r['summary']['connections']}")
print(f"surge peak RSS {int(sys.argv[2])/1024:.1f} MB")
PY
echo "raw outputs: $out"
