#!/usr/bin/env bash
# bench/compare.sh [MODE]: surge beside other load tools, in one run, against
# the same loopback target, each tool pinned to the same CPUs, runs
# interleaved. Prints the median over REPEAT runs of each tool's throughput,
# latency and peak RSS, and the ratios surge / tool.
#
# Modes:
#   http   (default) plain HTTP/1.1 against bench/target (TARGET=go) or nginx
#          (TARGET=nginx): surge, wrk, hey and vegeta with CONNS connections;
#          then the memory check: surge and wrk with BIG users. bench/target
#          on one core is the bottleneck at 50 connections, so its ratios say
#          how well a tool drives a saturated Go server; nginx is faster than
#          the tools, so its ratios say how fast the tools themselves are.
#   https  HTTP/1.1 over TLS against nginx (1 worker, a self-signed RSA-2048
#          certificate made here with openssl): surge, wrk and tlsfloor
#          (bench/tlsfloor: the least a Go client over crypto/tls can be,
#          for the memory floor of any Go tool), at each connection count
#          of HTTPS_CONNS.
#   h2     HTTP/2 over TLS against the same nginx: surge (--connections C
#          --streams M, C×M users) and h2load (-cC -mM), for each CxM of
#          H2_SHAPES.
#   open   the open model at RATE req/s against bench/target holding each
#          response DELAY: surge and vegeta; prints each tool's p50 over
#          DELAY, and surge's send lag.
#
# Settings (environment):
#   DURATION=10s  CONNS=50  REPEAT=3        each run, connections, repeats
#   TOOL_CPUS=0   TARGET_CPUS=1             taskset CPU lists (tool, target)
#   BIG=10000     BIG_DURATION=10s          the many-users memory check (BIG=0 skips)
#   TOOLS="surge wrk hey vegeta"            which tools to run (http mode)
#   HTTPS_CONNS="50 1000"  H2_SHAPES="50x1 1x50"  RATE=1000  DELAY=10ms
#   UA=surge-bench                          the User-Agent every tool sends
#   TARGET=go                               http mode's target: go (bench/target) or nginx
# Every tool sends the same User-Agent, so that the requests are the same:
# the target is a Go server, and each header costs it (wrk sending surge's
# own "surge/v0.1.0-dev" instead of none lost ~5 % of its throughput).
# Only 127.0.0.1 receives traffic. wrk, nginx (nginx-light) and h2load
# (nghttp2-client) come from Debian (installed with apt-get when missing and
# run as root); hey and vegeta from the Go module proxy, at pinned versions.
# nginx runs as a plain foreground process of this script with its own
# configuration in a temporary directory, never as a service.
set -euo pipefail

MODE=${1:-http}
case $MODE in
http | https | h2 | open) ;;
*)
  echo "compare.sh: unknown mode $MODE (want http, https, h2 or open)" >&2
  exit 2
  ;;
esac
DURATION=${DURATION:-10s}
CONNS=${CONNS:-50}
REPEAT=${REPEAT:-3}
TOOL_CPUS=${TOOL_CPUS:-0}
TARGET_CPUS=${TARGET_CPUS:-1}
BIG=${BIG:-10000}
BIG_DURATION=${BIG_DURATION:-10s}
TOOLS=${TOOLS:-surge wrk hey vegeta}
HTTPS_CONNS=${HTTPS_CONNS:-50 1000}
H2_SHAPES=${H2_SHAPES:-50x1 1x50}
RATE=${RATE:-1000}
DELAY=${DELAY:-10ms}
UA=${UA:-surge-bench}
TARGET=${TARGET:-go}
case $TARGET in
go | nginx) ;;
*)
  echo "compare.sh: unknown TARGET $TARGET (want go or nginx)" >&2
  exit 2
  ;;
esac
HEY_VERSION=v0.1.5
VEGETA_VERSION=v12.13.0

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bench/.bin
out=$root/bench/results/$(date +%Y%m%d-%H%M%S)-$MODE
mkdir -p "$bin" "$out"

need() { command -v "$1" >/dev/null 2>&1; }
# debian CMD PACKAGE installs PACKAGE when CMD is missing (as root), or says
# how to.
debian() {
  need "$1" || [ -x "/usr/sbin/$1" ] && return
  if [ "$(id -u)" = 0 ] && need apt-get; then
    apt-get install -y "$2" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "$2" >/dev/null; }
  else
    echo "compare.sh: $1 is missing: apt-get install $2" >&2
    exit 2
  fi
}
debian wrk wrk
case $MODE in https | h2) debian nginx nginx-light ;; esac
if [ "$MODE" = h2 ]; then debian h2load nghttp2-client; fi
need taskset || { echo "compare.sh: taskset is missing (util-linux)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "compare.sh: GNU time is missing: apt-get install time" >&2; exit 2; }
[ -x "$bin/hey" ] || GOBIN=$bin go install "github.com/rakyll/hey@$HEY_VERSION"
[ -x "$bin/vegeta" ] || GOBIN=$bin go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
go build -o "$bin/surge" "$root/cmd/surge"
go build -o "$bin/target" "$root/bench/target"
go build -o "$bin/tlsfloor" "$root/bench/tlsfloor"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

tmp=$(mktemp -d)
target_pid=
trap 'if [ -n "$target_pid" ]; then kill "$target_pid" 2>/dev/null || true; wait "$target_pid" 2>/dev/null || true; fi; rm -rf "$tmp"' EXIT

if [ "$MODE" = https ] || [ "$MODE" = h2 ] || { [ "$MODE" = http ] && [ "$TARGET" = nginx ]; }; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  h2=" ssl"
  [ "$MODE" = h2 ] && h2=" ssl http2"
  [ "$MODE" = http ] && h2=""
  mkdir -p "$tmp/nginx"
  cat >"$tmp/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  http2_max_requests 100000000;
  ssl_certificate $tmp/cert.pem;
  ssl_certificate_key $tmp/key.pem;
  server {
    listen 127.0.0.1:$port$h2;
    location / { default_type text/plain; return 200 "ok"; }
  }
}
NGINX
  taskset -c "$TARGET_CPUS" /usr/sbin/nginx -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx.conf" 2>"$out/target.log" &
  target_pid=$!
  for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.1)" 2>/dev/null && break
    sleep 0.1
  done
  url="https://127.0.0.1:$port/"
  [ "$MODE" = http ] && url="http://127.0.0.1:$port/"
else
  delay=()
  if [ "$MODE" = open ]; then delay=(-delay "$DELAY"); fi
  taskset -c "$TARGET_CPUS" "$bin/target" -listen 127.0.0.1:0 "${delay[@]}" >"$out/target.addr" 2>"$out/target.log" &
  target_pid=$!
  for _ in $(seq 50); do [ -s "$out/target.addr" ] && break; sleep 0.1; done
  url="http://$(head -1 "$out/target.addr")/"
fi

echo "compare.sh $MODE: surge $("$bin/surge" version | cut -d' ' -f2); wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2); hey $HEY_VERSION; vegeta $VEGETA_VERSION$(need h2load && echo "; $(h2load --version | head -1)")"
echo "target $url on CPUs $TARGET_CPUS; tools on CPUs $TOOL_CPUS; $DURATION × $REPEAT; $(nproc) CPUs, $(uname -r)"
echo "load before: $(uptime)"
echo

# Each runner prints: rps p50_ms p99_ms rss_kb
# surge_flags are added to surge's command line (-k, --connections, ...).
surge_flags=()
run_surge() {
  /usr/bin/time -f "%M" -o "$1.rss" taskset -c "$TOOL_CPUS" "$bin/surge" run -q -u "$2" -d "$3" -H "User-Agent: $UA" "${surge_flags[@]}" --json "$1.json" "$url" >/dev/null 2>"$1.err" || true
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
run_tlsfloor() {
  local addr=${url#https://}
  /usr/bin/time -f "%M" -o "$1.rss" taskset -c "$TOOL_CPUS" "$bin/tlsfloor" -c "$2" -d "$3" -ua "$UA" "${addr%/}" >"$1.out" 2>&1 || true
  # No latency figures: p50 and p99 columns are 0.
  echo "$(tail -1 "$1.out") 0 0 $(cat "$1.rss")"
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
# run_h2load OUT CxM DURATION: h2load with C connections of M streams each.
run_h2load() {
  local c=${2%x*} m=${2#*x}
  /usr/bin/time -f "%M" -o "$1.rss" taskset -c "$TOOL_CPUS" h2load -t1 -c"$c" -m"$m" -D "${3%s}" -H "User-Agent: $UA" "$url" >"$1.out" 2>&1 || true
  python3 - "$1.out" "$(cat "$1.rss")" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(s):
    v, u = re.match(r"([\d.]+)(\w+)", s).groups()
    return float(v) * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
rps = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", t).group(1)
# h2load prints min, max, mean and sd, no percentiles: its mean stands in.
m = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)", t)
print(rps, ms(m.group(3)), ms(m.group(3)), sys.argv[2])
PY
}
# The open model at RATE. Each prints rps p50_ms p99_ms rss_kb send_lag_p50_ms.
run_open_surge() {
  /usr/bin/time -f "%M" -o "$1.rss" taskset -c "$TOOL_CPUS" "$bin/surge" run -q -r "$RATE" -d "$DURATION" -H "User-Agent: $UA" --json "$1.json" "$url" >/dev/null 2>"$1.err" || true
  python3 - "$1.json" "$(cat "$1.rss")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
print(s["rps"], s["latency_ms"]["p50"], s["latency_ms"]["p99"], sys.argv[2], r["client"]["send_lag_ms"]["p50"])
PY
}
run_open_vegeta() {
  echo "GET $url" >"$1.targets"
  /usr/bin/time -f "%M" -o "$1.rss" taskset -c "$TOOL_CPUS" "$bin/vegeta" attack -rate="$RATE/s" -duration="$DURATION" \
    -header "User-Agent: $UA" -targets="$1.targets" -output="$1.bin" 2>"$1.err" || true
  "$bin/vegeta" report -type=json "$1.bin" >"$1.json"
  rm -f "$1.bin"
  python3 - "$1.json" "$(cat "$1.rss")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(r["throughput"], r["latencies"]["50th"] / 1e6, r["latencies"]["99th"] / 1e6, sys.argv[2], 0)
PY
}

# summarize DIR TOOL...: the medians of each tool's runs (DIR/TOOL.txt), and
# the ratios surge / tool.
summarize() {
  python3 - "$@" <<'PY'
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
}

case $MODE in
http)
  echo "plain HTTP/1.1, $CONNS connections"
  for i in $(seq "$REPEAT"); do
    for tool in $TOOLS; do
      "run_$tool" "$out/$tool.$i" "$CONNS" "$DURATION" >>"$out/$tool.txt"
    done
  done
  # shellcheck disable=SC2086
  summarize "$out" $TOOLS
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
print(f"\nsurge / wrk throughput {s[0]/w[0]:.2f}×   RSS {s[3]/w[3]:.2f}×")
PY
  fi
  ;;
https)
  surge_flags=(-k)
  for conns in $HTTPS_CONNS; do
    echo "HTTPS (HTTP/1.1 over TLS), $conns connections"
    mkdir -p "$out/c$conns"
    for i in $(seq "$REPEAT"); do
      for tool in surge wrk tlsfloor; do
        "run_$tool" "$out/c$conns/$tool.$i" "$conns" "$DURATION" >>"$out/c$conns/$tool.txt"
      done
    done
    summarize "$out/c$conns" surge wrk tlsfloor
    echo "(tlsfloor prints no latency: its p50 and p99 columns are 0)"
    echo
  done
  ;;
h2)
  for shape in $H2_SHAPES; do
    c=${shape%x*} m=${shape#*x}
    echo "HTTP/2 over TLS, $c connections × $m streams ($((c * m)) users)"
    surge_flags=(-k --connections "$c" --streams "$m")
    mkdir -p "$out/$shape"
    for i in $(seq "$REPEAT"); do
      run_surge "$out/$shape/surge.$i" "$((c * m))" "$DURATION" >>"$out/$shape/surge.txt"
      run_h2load "$out/$shape/h2load.$i" "$shape" "$DURATION" >>"$out/$shape/h2load.txt"
    done
    summarize "$out/$shape" surge h2load
    echo "(h2load prints no percentiles: its p50 and p99 columns are its mean)"
    echo
  done
  ;;
open)
  echo "open model: $RATE req/s for $DURATION against a $DELAY handler"
  for i in $(seq "$REPEAT"); do
    run_open_surge "$out/surge.$i" >>"$out/surge.txt"
    run_open_vegeta "$out/vegeta.$i" >>"$out/vegeta.txt"
  done
  python3 - "$out" "$DELAY" <<'PY'
import statistics, sys
out, delay = sys.argv[1], float(sys.argv[2].removesuffix("ms"))
rows = {}
for t in ("surge", "vegeta"):
    runs = [list(map(float, l.split())) for l in open(f"{out}/{t}.txt") if l.strip()]
    rows[t] = [statistics.median(c) for c in zip(*runs)] + [len(runs)]
print(f"{'tool':8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p50 - handler':>14} {'send lag p50':>13}   runs (medians)")
for t, (rps, p50, p99, rss, lag, n) in rows.items():
    lagc = f"{lag*1000:10.0f} µs" if t == "surge" else f"{'-':>13}"
    print(f"{t:8} {rps:8.0f} {p50:8.3f} {p99:8.3f} {(p50-delay)*1000:11.0f} µs {lagc}   {n}")
s, v = rows["surge"][1] - delay, rows["vegeta"][1] - delay
print(f"\np50 overhead over the handler: surge {s*1000:.0f} µs, vegeta {v*1000:.0f} µs (surge / vegeta {s/v:.2f}×)")
PY
  ;;
esac
echo
echo "load after: $(uptime)"
echo "raw outputs: $out"
