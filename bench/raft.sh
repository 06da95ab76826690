#!/bin/bash
# Raft benchmark (issue 5: multi-server datacenters), one run, same box:
#  1. writes: PUT /v1/catalog/register of distinct nodes with wrk, against a
#     single server and against the leader and a follower of a 3-server DC
#     (every write a raft commit; with many in flight libraft appends and
#     replicates them in batches: compare -c1 with -c64);
#  2. reads: GET /v1/catalog/node/bench (a small result) in default mode on
#     the leader and on a follower (forwarded to the leader), ?stale on a
#     follower, ?consistent on the leader (barriers shared by the reads in
#     flight);
#  Both also straight to catalogd over its ipc socket (catalog_call -n -c),
#  without httpd, to separate catalogd's and raft's share from the HTTP
#  front's.
#  3. failover: kill -9 of the leader's agent until a survivor names a new
#     leader, several times.
# Anchor (bench/README.md): Consul 0.7.1, 3 servers of 8 cores: 3,780
# writes/s, 7,525 default / 9,774 stale reads/s.
# Usage: bench/raft.sh [seconds per run, default 10] [failovers, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
FAILOVERS=${2:-3}
ONE=127.0.5.30
IPS=(127.0.5.31 127.0.5.32 127.0.5.33)
command -v wrk >/dev/null || { echo "raft.sh: wrk is needed (apt-get install wrk)" >&2; exit 1; }
make -s build >/dev/null
work=$(mktemp -d /tmp/mrd-raftbench-XXXXXX)
declare -A pid_of=()
cleanup() {
    # Each agent leads its own process group (setsid): its daemons go too.
    local p left
    for p in "${pid_of[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
    for _ in $(seq 150); do
        left=0
        for p in "${pid_of[@]}"; do kill -0 "$p" 2>/dev/null && left=1; done
        [ "$left" = 0 ] && break
        sleep 0.1
    done
    for p in "${pid_of[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$work/config.json" <<'EOF'
{"gossip_lan": {"gossip_interval": "100ms", "probe_interval": "200ms",
                "probe_timeout": "100ms", "suspicion_mult": 3,
                "push_pull_interval": "5s"},
 "retry_interval": "1s", "performance": {"raft_multiplier": 1},
 "log_level": "warn"}
EOF

# start IP EXPECT JOIN
start() {
    local ip=$1 expect=$2 join=$3
    mkdir -p "$work/$ip"
    setsid bin/meridian agent -server -bootstrap-expect "$expect" -node "n$ip" \
        -bind "$ip" -client "$ip" -data-dir "$work/$ip" -config-file "$work/config.json" \
        -retry-join "$join" >>"$work/$ip.log" 2>&1 </dev/null &
    pid_of[$ip]=$!
}

leader_at() { { curl -s -m 1 "http://$1:8500/v1/status/leader" 2>/dev/null || true; } | tr -d '"'; }

# Waits until every IP given names the same, non-empty leader; prints it.
wait_leader() {
    local l first
    for _ in $(seq 300); do
        first=$(leader_at "$1")
        if [ -n "$first" ]; then
            l=$first
            for ip in "$@"; do [ "$(leader_at "$ip")" = "$first" ] || l=""; done
            [ -n "$l" ] && { echo "$l"; return; }
        fi
        sleep 0.1
    done
    echo "raft.sh: no leader among $*" >&2
    exit 1
}

cat >"$work/put.lua" <<'LUA'
counter = 0
math.randomseed(os.time() + os.clock() * 1e6)
request = function()
    counter = counter + 1
    local body = string.format('{"Node":"w%d-%d","Address":"10.9.0.1"}', math.random(1e9), counter)
    return wrk.format("PUT", "/v1/catalog/register", {["Content-Type"] = "application/json"}, body)
end
response = function(status, headers, body)
    if status ~= 200 and not shown then
        shown = true
        io.stderr:write(string.format("    first error: %d %s\n", status, body))
    end
end
LUA
CALL=build/tests/catalog_call
# rpc LABEL DATA_DIR INFLIGHT COMMAND BODY: catalog_call -n, prints rate
rpc() {
    local label=$1 dir=$2 inflight=$3 command=$4 body=$5 n
    n=$(( inflight == 1 ? 5000 : 50000 ))
    local out
    out=$("$CALL" -t 10000 -n "$n" -c "$inflight" "$dir" "$command" "$body" 2>&1 >/dev/null | tail -1)
    printf '  %-44s %8s /s  (%s)\n' "$label" \
        "$(echo "$out" | sed -E 's/.*rate=([0-9]+).*/\1/')" "$out"
}
REG='{"Node":"bench","Address":"10.9.9.9","Service":{"Service":"web","Port":80}}'
NODE='{"Node":"bench"}'
STALE='{"Node":"bench","AllowStale":true}'
CONSISTENT='{"Node":"bench","RequireConsistent":true}'
rate() { awk '/Requests\/sec/ {printf "%d", $2}'; }
lat() { awk -v q="$1" '$1 == q {print $2}'; }
errors() { awk '/Non-2xx|Socket errors/ {printf " (%s)", $0}'; }
# run LABEL CONNS URL [lua]
run() {
    local label=$1 conns=$2 url=$3 script=${4:-}
    local out="$work/wrk.txt"
    if [ -n "$script" ]; then
        wrk -t1 -c"$conns" -d"${DUR}s" --latency -s "$script" "$url" >"$out"
    else
        wrk -t1 -c"$conns" -d"${DUR}s" --latency "$url" >"$out"
    fi
    printf '  %-44s %8s /s  p50 %-8s p99 %-8s%s\n' "$label" "$(rate <"$out")" \
        "$(lat 50% <"$out")" "$(lat 99% <"$out")" "$(errors <"$out")"
}

echo "raft bench: ${DUR}s per run, wrk -t1, raft_multiplier 1, $(nproc) cores"
start $ONE 1 $ONE
wait_leader $ONE >/dev/null || exit 1
echo "HTTP writes (PUT /v1/catalog/register, distinct nodes), 1 server:"
run "1 server, c=1" 1 "http://$ONE:8500" "$work/put.lua"
run "1 server, c=64" 64 "http://$ONE:8500" "$work/put.lua"
echo "catalogd writes (catalog.register over ipc, no httpd), 1 server:"
rpc "1 server, 1 in flight" "$work/$ONE" 1 catalog.register "$REG"
rpc "1 server, 64 in flight" "$work/$ONE" 64 catalog.register "$REG"
kill -TERM -- "-${pid_of[$ONE]}"; wait "${pid_of[$ONE]}" 2>/dev/null || true; unset "pid_of[$ONE]"

for ip in "${IPS[@]}"; do start "$ip" 3 "${IPS[0]}"; done
leader=$(wait_leader "${IPS[@]}") || exit 1
lip=${leader%:*}
fip=""
for ip in "${IPS[@]}"; do if [ -z "$fip" ] && [ "$ip" != "$lip" ]; then fip=$ip; fi; done
echo "HTTP writes, 3 servers:"
run "3 servers, leader, c=1" 1 "http://$lip:8500" "$work/put.lua"
run "3 servers, leader, c=64" 64 "http://$lip:8500" "$work/put.lua"
run "3 servers, follower (forwarded), c=64" 64 "http://$fip:8500" "$work/put.lua"
echo "catalogd writes, 3 servers:"
rpc "3 servers, leader, 1 in flight" "$work/$lip" 1 catalog.register "$REG"
rpc "3 servers, leader, 64 in flight" "$work/$lip" 64 catalog.register "$REG"
rpc "3 servers, follower (forwarded), 64 in flight" "$work/$fip" 64 catalog.register "$REG"

echo "HTTP reads (GET /v1/catalog/node/bench, 3 servers, c=64):"
run "default, on the leader" 64 "http://$lip:8500/v1/catalog/node/bench"
run "default, on a follower (forwarded)" 64 "http://$fip:8500/v1/catalog/node/bench"
run "stale, on a follower" 64 "http://$fip:8500/v1/catalog/node/bench?stale"
run "consistent, on the leader" 64 "http://$lip:8500/v1/catalog/node/bench?consistent"
echo "catalogd reads (catalog.node over ipc, no httpd cache), 3 servers, 64 in flight:"
rpc "default, on the leader" "$work/$lip" 64 catalog.node "$NODE"
rpc "default, on a follower (forwarded)" "$work/$fip" 64 catalog.node "$NODE"
rpc "stale, on a follower" "$work/$fip" 64 catalog.node "$STALE"
rpc "consistent, on the leader" "$work/$lip" 64 catalog.node "$CONSISTENT"

echo "failover (kill -9 of the leader's agent until a survivor names a new leader):"
times=()
for n in $(seq "$FAILOVERS"); do
    leader=$(wait_leader "${IPS[@]}") || exit 1
    lip=${leader%:*}
    survivors=()
    for ip in "${IPS[@]}"; do if [ "$ip" != "$lip" ]; then survivors+=("$ip"); fi; done
    kill -KILL -- "-${pid_of[$lip]}" 2>/dev/null || true
    wait "${pid_of[$lip]}" 2>/dev/null || true
    t0=$(date +%s%N)
    for _ in $(seq 1500); do
        l=$(leader_at "${survivors[0]}")
        [ -n "$l" ] && [ "$l" != "$leader" ] && break
        sleep 0.02
    done
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    times+=("$ms")
    printf '  run %d: %s killed, %s leads after %d ms\n' "$n" "$lip" "${l%:*}" "$ms"
    start "$lip" 3 "${survivors[0]}"
done
printf '  failover ms: %s\n' "${times[*]}"
