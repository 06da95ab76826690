#!/bin/sh
# Gossip benchmark: Meridian's gossipd against serf in the same run
# (bench/README.md, section "gossip"). Needs `make` (bin/gossipd,
# build/tests/mrpc) and the Debian package serf (`apt-get install serf`).
# Usage: bench/gossip.sh [--sizes 20,50,100] [--idle 10] [--hog 60] [--kills 10]
#        [--kill-pause 3] [--detect-poll] [--keep-logs DIR] [--json out.json]
# The driver stops its agents and CPU hogs itself; the trap below also
# stops, by PID, whatever it registered if it dies without cleaning up.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
command -v serf >/dev/null || { echo "gossip.sh: serf not found (apt-get install serf)" >&2; exit 1; }
if [ ! -x bin/gossipd ] || [ ! -x build/tests/mrpc ]; then
    make --no-print-directory bin/gossipd build/tests/mrpc
fi

registry=$(mktemp "${TMPDIR:-/tmp}/gossip-bench-registry.XXXXXX")
py=

# Field 22 of /proc/PID/stat (start time): a PID counts as ours only if it
# still names the process the driver started.
start_time() {
    sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

cleanup() {
    trap - EXIT INT TERM HUP
    if [ -n "$py" ] && kill -0 "$py" 2>/dev/null; then
        kill -TERM "$py" 2>/dev/null || true
        i=0
        while kill -0 "$py" 2>/dev/null && [ "$i" -lt 150 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$py" 2>/dev/null || true
        wait "$py" 2>/dev/null || true
    fi
    while read -r kind what since; do
        case $kind in
        pid)
            if [ "$(start_time "$what")" = "$since" ]; then
                echo "gossip.sh: stopping leftover process $what" >&2
                kill -KILL -- "-$what" 2>/dev/null || kill -KILL "$what" 2>/dev/null || true
            fi ;;
        dir)
            case $what in
            */gossip-bench-*) rm -rf -- "$what" ;;
            esac ;;
        esac
    done < "$registry"
    rm -f -- "$registry"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

python3 bench/gossip_bench.py --registry "$registry" "$@" &
py=$!
rc=0
wait "$py" || rc=$?
py=
exit "$rc"
