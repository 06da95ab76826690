#!/bin/sh
# Gossip benchmark: Meridian's gossipd against serf in the same run
# (bench/README.md, section "gossip"). Needs `make` (bin/gossipd,
# build/tests/mrpc) and the Debian package serf (`apt-get install serf`).
# Usage: bench/gossip.sh [--sizes 20,50,100] [--idle 10] [--json out.json]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
command -v serf >/dev/null || { echo "gossip.sh: serf not found (apt-get install serf)" >&2; exit 1; }
if [ ! -x bin/gossipd ] || [ ! -x build/tests/mrpc ]; then
    make --no-print-directory bin/gossipd build/tests/mrpc
fi
exec python3 bench/gossip_bench.py "$@"
