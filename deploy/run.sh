#!/bin/sh
# What `make run` executes: one Meridian dev agent in the foreground
# (`meridian agent -dev`: a single server of dc1, HTTP API on
# 127.0.0.1:8500, data in a temporary dir removed at exit). exec hands the
# terminal to the agent, so Ctrl-C stops it and all its daemons cleanly.
# Extra arguments go to the agent, e.g. `deploy/run.sh -node=dev1`.
# A later issue turns this into a two-datacenter demo.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${MERIDIAN_BIN:-$top/bin}
if [ ! -x "$bin/meridian" ]; then
    echo "run: $bin/meridian not found; build first with: make" >&2
    exit 1
fi
echo "run: starting a dev agent; try \`$bin/meridian members\` or" \
     "\`curl http://127.0.0.1:8500/v1/catalog/nodes\`; Ctrl-C stops it" >&2
exec "$bin/meridian" agent -dev "$@"
