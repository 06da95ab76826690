#!/bin/bash
# What `make run` executes: the first seed document's federation, in the
# foreground. Two datacenters on loopback, each one server and one client
# agent, WAN-joined:
#   dc1 server 127.0.0.1 (HTTP :8500)   dc1 client 127.0.0.3
#   dc2 server 127.0.0.2 (HTTP :8500)   dc2 client 127.0.0.4
# Data and logs live in a temporary dir, removed at exit. Ctrl-C (or
# SIGTERM) stops every agent cleanly. `deploy/run.sh --dev` runs a single
# dev agent instead (`meridian agent -dev`), with extra args passed on.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${MERIDIAN_BIN:-$top/bin}
if [ ! -x "$bin/meridian" ]; then
    echo "run: $bin/meridian not found; build first with: make" >&2
    exit 1
fi
if [ "${1:-}" = "--dev" ]; then
    shift
    exec "$bin/meridian" agent -dev "$@"
fi

dir=$(mktemp -d /tmp/meridian-run-XXXXXX)
tail_pid=""
stop () {
    trap - EXIT INT TERM
    [ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null || true
    echo "run: stopping the federation" >&2
    "$top/deploy/local/cluster" down --dir "$dir" >&2 || true
    rm -rf "$dir"
    exit 0
}
trap stop EXIT INT TERM

"$top/deploy/local/cluster" up --dir "$dir" --layout demo --dcs 2 --clients 1
cat >&2 <<MSG
run: two datacenters are up. Try:
  $bin/meridian members -wan
  curl http://127.0.0.1:8500/v1/catalog/datacenters
  curl http://127.0.0.1:8500/v1/catalog/nodes?dc=dc2
  curl http://127.0.0.2:8500/v1/catalog/nodes?dc=dc1
run: agent logs follow; Ctrl-C stops everything.
MSG
tail -n 0 -F "$dir"/*.log &
tail_pid=$!
wait "$tail_pid" || true
