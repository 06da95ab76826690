#!/usr/bin/env bash
# Cross-DC read benchmark (forwarding issue), measured side by side in one
# run on one two-DC federation (deploy/local/cluster up --dcs 2 --base 30:
# dc1 server 127.0.31.1, dc2 server 127.0.32.1, WAN-joined):
#  (a) local:     GET http://<dc2 server>:8500/v1/catalog/service/web
#  (b) forwarded: GET http://<dc1 server>:8500/v1/catalog/service/web?dc=dc2
#  (c) forwarded, stale: the same with &stale
#  (e) local, consistent: (a) with &consistent (no cache: catalogd each time)
#  (f) forwarded, consistent: (b) with &consistent (no remote view: every
#      request crosses to dc2's catalogd)
# with `web` registered 10 times in dc2. Each is run with wrk -t1 -c32
# --latency (throughput, p50, p99, and the CPU each daemon spent per
# request) and serially with wrk -t1 -c1 --latency (the p50 a forwarded
# request adds). (b) and (c) are answered by dc1's remote view once the
# first read made it (docs/protocol/server-rpc.md, "Remote views"); (e)
# and (f) measure the forwarding path itself. Then, without HTTP, the
# same read over the ipc sockets
# (build/tests/catalog_call, skipped when not built): dc2's catalogd,
# dc2's forwarderd (local DC: one more ipc hop), dc1's forwarderd with
# Datacenter dc2 (the forwarded path without httpd).
# Prints a table with the ratios; bench/README.md records the figures.
# Goals: forwarded throughput >= 0.50 of local; added p50 (c1) < 200 us.
#
# Usage: bench/forward.sh [seconds per c32 run, default 10]
#                         [seconds per c1 run, default 5]
# Everything it starts is stopped, and its directory removed, on exit,
# error, SIGINT or SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

DUR=${1:-10}
SERIAL=${2:-5}
[[ $DUR =~ ^[1-9][0-9]*$ && $SERIAL =~ ^[1-9][0-9]*$ ]] \
    || { echo "usage: bench/forward.sh [seconds c32, default 10] [seconds c1, default 5]" >&2; exit 2; }
BASE=30
DC1=127.0.$((BASE + 1)).1
DC2=127.0.$((BASE + 2)).1
INSTANCES=10
CLUSTER=deploy/local/cluster
CALL=build/tests/catalog_call

[ -x bin/meridian ] || { echo "forward.sh: bin/meridian not found; build first with: make" >&2; exit 1; }
command -v curl >/dev/null || { echo "forward.sh: curl is needed" >&2; exit 1; }
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
command -v wrk >/dev/null || { echo "forward.sh: wrk is needed (apt-get install wrk)" >&2; exit 1; }

dir=$(mktemp -d /tmp/mrd-fwd-XXXXXX)
child=""        # the foreground job (cluster up, wrk, catalog_call)
cleaned=0
cleanup () {
    [ "$cleaned" -eq 0 ] || return 0
    cleaned=1
    local p
    for p in "$child"; do
        if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
            kill -TERM "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
        fi
    done
    if [ -f "$dir/cluster.nodes" ]; then
        "$CLUSTER" down --dir "$dir" >/dev/null 2>&1 \
            || echo "forward.sh: cluster down failed; see $dir" >&2
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# run CMD...: runs CMD in the background and waits for it, so that a
# signal is handled at once (bash defers traps until a foreground job
# ends) and the job is stopped with us.
run () {
    "$@" &
    child=$!
    local rc=0
    wait "$child" || rc=$?
    child=""
    return "$rc"
}

echo "forward bench: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) cores," \
     "load before:$(uptime | sed 's/.*load average://')"
echo "command: bench/forward.sh $DUR $SERIAL"

if ! run "$CLUSTER" up --dir "$dir" --dcs 2 --base "$BASE" --log-level warn \
        > "$dir/cluster.out" 2>&1; then
    cat "$dir/cluster.out" >&2
    echo "forward.sh: the two-DC cluster did not come up" >&2
    exit 1
fi

# Register INSTANCES nodes with service web in dc2 (through dc2's server).
for i in $(seq 1 "$INSTANCES"); do
    curl -sf -m 5 -X PUT "http://$DC2:8500/v1/catalog/register" -d "{\"Node\":\"node$i\",
      \"Address\":\"10.2.0.$i\",\"Service\":{\"Service\":\"web\",
      \"Port\":$((8000 + i)),\"Tags\":[\"v1\",\"blue\"]},\"Check\":{\"Name\":\"web ok\",
      \"Status\":\"passing\",\"ServiceID\":\"web\"}}" >/dev/null \
        || { echo "forward.sh: registering node$i in dc2 failed" >&2; exit 1; }
done

LOCAL_URL="http://$DC2:8500/v1/catalog/service/web"
FWD_URL="http://$DC1:8500/v1/catalog/service/web?dc=dc2"
STALE_URL="http://$DC1:8500/v1/catalog/service/web?dc=dc2&stale"
LCONS_URL="http://$DC2:8500/v1/catalog/service/web?consistent"
FCONS_URL="http://$DC1:8500/v1/catalog/service/web?dc=dc2&consistent"

# The three URLs must answer 200 with the same 10 instances.
count_instances () { grep -o '"ServiceID":' | wc -l; }
for url in "$LOCAL_URL" "$FWD_URL" "$STALE_URL" "$LCONS_URL" "$FCONS_URL"; do
    deadline=$((SECONDS + 10))
    while :; do
        body=$(curl -sf -m 2 "$url") && [ "$(count_instances <<< "$body")" -eq "$INSTANCES" ] && break
        if [ $SECONDS -ge $deadline ]; then
            echo "forward.sh: $url does not list $INSTANCES instances: $(curl -s -m 2 "$url" | head -c 300)" >&2
            exit 1
        fi
        sleep 0.1
    done
done
curl -sf "$LOCAL_URL" > "$dir/local.json"
curl -sf "$FWD_URL" > "$dir/fwd.json"
bytes=$(wc -c < "$dir/local.json")
if cmp -s "$dir/local.json" "$dir/fwd.json"; then
    same="identical"
else
    same="DIFFERENT (forwarded $(wc -c < "$dir/fwd.json") bytes)"
fi
echo "body: $INSTANCES instances, $bytes bytes; forwarded body $same"

# Daemons of each agent (children of the agent process): "dc daemon pid".
daemons () {
    local dc pid cpid comm
    while read -r _ dc _ _ pid; do
        [ "$pid" != - ] || continue
        while read -r cpid comm; do
            echo "$dc $comm $cpid"
        done < <(ps -o pid=,comm= --ppid "$pid")
    done < "$dir/cluster.nodes"
}
daemons > "$dir/daemons"
# cpu_ticks PID: utime + stime of PID (clock ticks), 0 when gone.
cpu_ticks () {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
snapshot () {
    local dc comm pid
    while read -r dc comm pid; do echo "$dc $comm $(cpu_ticks "$pid")"; done < "$dir/daemons"
}
HZ=$(getconf CLK_TCK)

# wrk output parsing.
to_us () {
    awk '{ v = $1
           if (v ~ /us$/) { sub(/us$/, "", v); printf "%.0f", v }
           else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.0f", v * 1000 }
           else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.0f", v * 1000000 }
           else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.0f", v * 60000000 }
           else printf "?" }'
}
rps_of () { awk '/Requests\/sec/ {printf "%.0f", $2}' "$1"; }
reqs_of () { awk '/requests in/ {print $1}' "$1"; }
pct_of () { awk -v q="$2" '$1 == q {print $2}' "$1" | to_us; }
errs_of () {
    awk '/Non-2xx/ {n += $NF}
         /Socket errors/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10}
         END {print n + 0}' "$1"
}

# measure KEY CONNS SECONDS URL: wrk into $dir/KEY.txt, CPU per request
# of each daemon into $dir/KEY.cpu ("dc daemon us_per_request").
measure () {
    local key=$1 conns=$2 secs=$3 url=$4
    snapshot > "$dir/$key.before"
    run wrk -t1 -c"$conns" -d"${secs}s" --latency "$url" > "$dir/$key.txt"
    snapshot > "$dir/$key.after"
    local reqs
    reqs=$(reqs_of "$dir/$key.txt")
    paste -d' ' "$dir/$key.before" "$dir/$key.after" \
        | awk -v n="${reqs:-0}" -v hz="$HZ" \
            'n > 0 { printf "%s %s %.1f\n", $1, $2, ($6 - $3) * 1e6 / hz / n }' > "$dir/$key.cpu"
}

# Warm-up: forwarderd opens its connection to dc2 on first use.
run wrk -t1 -c32 -d2s "$FWD_URL" > /dev/null
run wrk -t1 -c32 -d2s "$LOCAL_URL" > /dev/null

echo "wrk -t1 -c32 -d${DUR}s --latency, then wrk -t1 -c1 -d${SERIAL}s --latency"
measure local32 32 "$DUR" "$LOCAL_URL"
measure fwd32 32 "$DUR" "$FWD_URL"
measure stale32 32 "$DUR" "$STALE_URL"
measure lcons32 32 "$DUR" "$LCONS_URL"
measure fcons32 32 "$DUR" "$FCONS_URL"
measure local1 1 "$SERIAL" "$LOCAL_URL"
measure fwd1 1 "$SERIAL" "$FWD_URL"
measure stale1 1 "$SERIAL" "$STALE_URL"
measure lcons1 1 "$SERIAL" "$LCONS_URL"
measure fcons1 1 "$SERIAL" "$FCONS_URL"
load_after=$(uptime | sed 's/.*load average://')

row () {
    local label=$1 key=$2
    printf '| %-40s | %9s | %7s | %7s | %6s |\n' "$label" "$(rps_of "$dir/$key.txt")" \
        "$(pct_of "$dir/$key.txt" 50%)" "$(pct_of "$dir/$key.txt" 99%)" "$(errs_of "$dir/$key.txt")"
}
echo
printf '| %-40s | %9s | %7s | %7s | %6s |\n' "run" "req/s" "p50 us" "p99 us" "errors"
echo "|------------------------------------------|-----------|---------|---------|--------|"
row "(a) local dc2, c32" local32
row "(b) forwarded dc1 -> dc2, c32" fwd32
row "(c) forwarded dc1 -> dc2, ?stale, c32" stale32
row "(a) local dc2, c1" local1
row "(b) forwarded dc1 -> dc2, c1" fwd1
row "(c) forwarded dc1 -> dc2, ?stale, c1" stale1
row "(e) local dc2, ?consistent, c32" lcons32
row "(f) forwarded, ?consistent, c32" fcons32
row "(e) local dc2, ?consistent, c1" lcons1
row "(f) forwarded, ?consistent, c1" fcons1

ratio () { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "?" }'; }
# verdict VALUE OP LIMIT (OP: ge or lt)
verdict () {
    if awk -v v="$1" -v op="$2" -v l="$3" \
           'BEGIN { exit !(v != "?" && (op == "ge" ? v + 0 >= l + 0 : v + 0 < l + 0)) }'; then
        echo "met"
    else
        echo "NOT met"
    fi
}
l32=$(rps_of "$dir/local32.txt"); f32=$(rps_of "$dir/fwd32.txt"); s32=$(rps_of "$dir/stale32.txt")
lp50=$(pct_of "$dir/local1.txt" 50%); fp50=$(pct_of "$dir/fwd1.txt" 50%); sp50=$(pct_of "$dir/stale1.txt" 50%)
tr=$(ratio "$f32" "$l32"); trs=$(ratio "$s32" "$l32")
added=$((fp50 - lp50)); added_s=$((sp50 - lp50))
echo
echo "forwarded / local throughput (c32): $tr (goal >= 0.50: $(verdict "$tr" ge 0.5));" \
     "?stale: $trs"
echo "added p50 per request (c1): $fp50 - $lp50 = $added us (goal < 200 us:" \
     "$(verdict "$added" lt 200)); ?stale: $added_s us"
echo "added p50 under load (c32): $(( $(pct_of "$dir/fwd32.txt" 50%) - $(pct_of "$dir/local32.txt" 50%) )) us"
echo "?consistent (no view, no cache): forwarded / local throughput (c32)" \
     "$(ratio "$(rps_of "$dir/fcons32.txt")" "$(rps_of "$dir/lcons32.txt")"), added p50 (c1)" \
     "$(( $(pct_of "$dir/fcons1.txt" 50%) - $(pct_of "$dir/lcons1.txt" 50%) )) us"
echo "serial rate (c1): local $(rps_of "$dir/local1.txt")/s, forwarded $(rps_of "$dir/fwd1.txt")/s," \
     "?stale $(rps_of "$dir/stale1.txt")/s"

echo
echo "CPU per request, us (c32 runs; dc1 daemons serve only the forwarded runs):"
printf '  %-4s %-11s %8s %8s %8s %8s %8s\n' dc daemon local fwd stale lcons fcons
while read -r dc comm _; do
    printf '  %-4s %-11s' "$dc" "$comm"
    for key in local32 fwd32 stale32 lcons32 fcons32; do
        printf ' %8s' "$(awk -v d="$dc" -v c="$comm" '$1 == d && $2 == c {print $3}' "$dir/$key.cpu")"
    done
    echo
done < <(sort -u "$dir/daemons")

if [ -x "$CALL" ]; then
    echo
    echo "without HTTP (catalog_call over ipc; rate and, at c1, mean time per request):"
    BODY='{"ServiceName":"web"}'
    FBODY='{"ServiceName":"web","Datacenter":"dc2"}'
    # rpc LABEL DAEMON DATA_DIR INFLIGHT BODY
    rpc () {
        local label=$1 daemon=$2 data=$3 inflight=$4 body=$5 n out rate
        n=$(( inflight == 1 ? 5000 : 50000 ))
        run "$CALL" -d "$daemon" -t 10000 -n "$n" -c "$inflight" "$data" \
            catalog.service "$body" > /dev/null 2> "$dir/rpc.err" || true
        out=$(tail -1 "$dir/rpc.err")
        rate=$(sed -nE 's/.*rate=([0-9.]+).*/\1/p' <<< "$out")
        if [ "$inflight" -eq 1 ] && [ -n "$rate" ]; then
            printf '  %-46s %8s /s  %6s us/request  (%s)\n' "$label" "$rate" \
                "$(awk -v r="$rate" 'BEGIN { printf "%.0f", 1e6 / r }')" "$out"
        else
            printf '  %-46s %8s /s  (%s)\n' "$label" "${rate:-?}" "$out"
        fi
    }
    rpc "dc2 catalogd, c32" catalogd "$dir/dc2-server1" 32 "$BODY"
    rpc "dc2 forwarderd -> dc2 catalogd, c32" forwarderd "$dir/dc2-server1" 32 "$BODY"
    rpc "dc1 forwarderd -> dc2 catalogd, c32" forwarderd "$dir/dc1-server1" 32 "$FBODY"
    rpc "dc2 catalogd, c1" catalogd "$dir/dc2-server1" 1 "$BODY"
    rpc "dc2 forwarderd -> dc2 catalogd, c1" forwarderd "$dir/dc2-server1" 1 "$BODY"
    rpc "dc1 forwarderd -> dc2 catalogd, c1" forwarderd "$dir/dc1-server1" 1 "$FBODY"
else
    echo
    echo "($CALL not built: skipping the runs without HTTP; make builds it)"
fi
echo
echo "load after:$load_after"
