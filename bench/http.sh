#!/bin/bash
# Catalog HTTP benchmark (Foundation issue), measured side by side in one run:
#  1. reads: GET /v1/catalog/service/web with 100 instances, keep-alive, wrk,
#     against a static libmicrohttpd server returning the same bytes;
#  2. writes: PUT /v1/catalog/register of distinct nodes (each a raft commit);
#  3. memory: RSS of httpd+catalogd per 1,000 parked blocking queries,
#     with 10,000 watchers.
# Prints a table; bench/README.md records the figures.
# Usage: bench/http.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
IP=127.0.5.10
STATIC_PORT=18600
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
make -s bench-tools >/dev/null
work=$(mktemp -d /tmp/mrd-bench-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

bin/meridian agent -dev -node bench -bind $IP -client $IP -data-dir "$work/data" \
    -log-level warn >"$work/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    curl -sf "http://$IP:8500/v1/status/leader" | grep -q 8300 && break
    sleep 0.1
done
for i in $(seq 1 100); do
    curl -sf -X PUT "http://$IP:8500/v1/catalog/register" -d "{\"Node\":\"node$i\",
      \"Address\":\"10.1.$((i / 250)).$((i % 250))\",\"Service\":{\"Service\":\"web\",
      \"Port\":$((8000 + i)),\"Tags\":[\"v1\",\"blue\"]},\"Check\":{\"Name\":\"web ok\",
      \"Status\":\"passing\",\"ServiceID\":\"web\"}}" >/dev/null
done
curl -sf "http://$IP:8500/v1/catalog/service/web" >"$work/body.json"
bytes=$(wc -c <"$work/body.json")
build/bench/static_server $IP $STATIC_PORT "$work/body.json" &
pids+=($!)
sleep 0.3

rate() { awk '/Requests\/sec/ {print $2}'; }
lat() { awk -v q="$1" '$1 == q {print $2}'; }
echo "reads: body $bytes bytes, wrk -t1 -c50 -d${DUR}s --latency"
static=$(wrk -t1 -c50 -d"${DUR}s" --latency "http://$IP:$STATIC_PORT/v1/catalog/service/web" | tee "$work/static.txt" | rate)
ours=$(wrk -t1 -c50 -d"${DUR}s" --latency "http://$IP:8500/v1/catalog/service/web" | tee "$work/ours.txt" | rate)
printf '  %-34s %10s req/s  p50 %s  p99 %s\n' "static libmicrohttpd (baseline)" "$static" \
    "$(lat 50% <"$work/static.txt")" "$(lat 99% <"$work/static.txt")"
printf '  %-34s %10s req/s  p50 %s  p99 %s\n' "meridian /v1/catalog/service/web" "$ours" \
    "$(lat 50% <"$work/ours.txt")" "$(lat 99% <"$work/ours.txt")"
awk -v a="$ours" -v b="$static" 'BEGIN {printf "  ratio: %.2f of baseline\n", a / b}'

cat >"$work/put.lua" <<'LUA'
counter = 0
request = function()
    counter = counter + 1
    local body = string.format('{"Node":"w%d-%d","Address":"10.9.0.1"}', math.random(1e9), counter)
    return wrk.format("PUT", "/v1/catalog/register", {["Content-Type"] = "application/json"}, body)
end
LUA
echo "writes: PUT /v1/catalog/register, distinct nodes, wrk -t1 -c16 -d${DUR}s"
writes=$(wrk -t1 -c16 -d"${DUR}s" --latency -s "$work/put.lua" "http://$IP:8500" | tee "$work/writes.txt" | rate)
printf '  %-34s %10s writes/s  p50 %s  p99 %s\n' "single server, raft-committed" "$writes" \
    "$(lat 50% <"$work/writes.txt")" "$(lat 99% <"$work/writes.txt")"

echo "memory: 10,000 parked blocking queries"
python3 bench/watchers.py --addr $IP:8500 --count 10000 --agent-pid "${pids[0]}"
