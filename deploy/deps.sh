#!/bin/sh
# Installs the Debian packages Meridian builds, tests and benchmarks with.
# `deps.sh --check` only reports (exit 1 when something is missing).
set -eu
PKGS="build-essential pkg-config libzmq3-dev libczmq-dev libcjson-dev \
libmbedtls-dev libmicrohttpd-dev check libraft-dev libuv1-dev \
python3 curl jq iproute2 procps supervisor docker-compose systemd cmake lld"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing="$missing $p"
done
if [ "${1:-}" = "--check" ]; then
    [ -z "$missing" ] && exit 0
    echo "deps: missing Debian packages:$missing" >&2
    exit 1
fi
[ -z "$missing" ] && { echo "deps: all packages present"; exit 0; }
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
