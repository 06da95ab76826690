#!/bin/sh
# Builds the static libraries gossipd links against (docs/build.md,
# "gossipd's static link"): libzmq, czmq and cJSON from Debian's own source
# packages, at the versions of the installed -dev packages, with Debian's
# patches applied. apt fetches and verifies them (signed Sources index)
# through a private configuration under DEST, so the system's apt state is
# not touched. libzmq is built without CURVE, libsodium, GSSAPI, PGM, NORM,
# WebSocket and TLS, and czmq without systemd, uuid, lz4, curl, NSS and
# libmicrohttpd: gossipd uses only ipc:// with the NULL mechanism, and each
# of those would pull a shared-only library into a static link.
# Usage: deploy/static/build-libs.sh DEST
# On success DEST/lib holds libzmq.a, libczmq.a and libcjson.a, and DEST/ok
# is written last, with the -dev package versions they were built for; a
# later run with the same versions does nothing.
set -eu
# The builds below run their own make, not a child of the caller's.
unset MAKEFLAGS MFLAGS MAKELEVEL
dest=${1:?usage: build-libs.sh DEST}
case $dest in *[[:space:]]*) echo "build-libs: DEST must not contain white space" >&2; exit 1 ;; esac
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
versions=$(dpkg-query -W -f='${Package}=${Version} ' libcjson-dev libzmq3-dev libczmq-dev \
           2>/dev/null || true)
[ -f "$dest/ok" ] && [ "$(sed -n 2p "$dest/ok")" = "$versions" ] && exit 0
rm -f "$dest/ok"

log="$dest/build.log"
: > "$log"
apt="$dest/apt"
inst="$dest/stage"
step() { echo "build-libs: $*"; }
fail() { echo "build-libs: $* (log: $log)" >&2; exit 1; }
# Whatever the outcome, only DEST/lib, DEST/ok and the log stay.
trap 'rm -rf "$apt" "$inst" "$dest/src" "$dest/build-zmq" "$dest/build-czmq"' EXIT
for tool in apt-get dpkg-source dpkg-query cmake make cc c++ ar ld.lld; do
    command -v "$tool" >/dev/null || fail "$tool not found (deploy/deps.sh installs it)"
done

# The Debian archives the system already uses (its first Debian URI, and
# its security archive if it has one), as deb-src entries of a private apt
# configuration.
sources=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
          | grep -v -E '^[[:space:]]*#' | grep -E '^(URIs:|deb )' \
          | grep -o -E 'https?://[^ ]+' | grep debian || true)
uri=$(echo "$sources" | grep -v security | head -n 1)
security=$(echo "$sources" | grep security | head -n 1)
[ -n "$uri" ] || uri=http://deb.debian.org/debian
codename=bookworm
if [ -r /etc/os-release ]; then
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
fi
rm -rf "$apt" "$dest/src"
mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/archives/partial" "$dest/src"
{
    printf 'Types: deb-src\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n' \
        "$uri" "$codename" "$codename"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [ -n "$security" ]; then
        printf '\nTypes: deb-src\nURIs: %s\nSuites: %s-security\nComponents: main\n' \
            "$security" "$codename"
        printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
} > "$apt/parts/meridian-src.sources"
aptopts="-qq -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$apt/parts
    -o Dir::State::Lists=$apt/lists -o Dir::Cache::Archives=$apt/archives
    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root
    -o Debug::NoLocking=1 -o Acquire::Retries=2 -o Acquire::http::Timeout=30"
step "fetching the Debian source index from $uri"
# shellcheck disable=SC2086 # aptopts is a word list
apt-get $aptopts update >>"$log" 2>&1 || fail "apt-get update of the deb-src index failed"

# Same version as the installed -dev package when the index still has it
# (else the index's, logged: the same upstream release in a stable suite).
spec() {
    v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true)
    # shellcheck disable=SC2086
    if [ -n "$v" ] && apt-get $aptopts --print-uris source "$1=$v" >/dev/null 2>&1; then
        echo "$1=$v"
    else
        echo "build-libs: $1 $v is not in the source index; using its newest" >>"$log"
        echo "$1"
    fi
}
step "downloading cjson, zeromq3 and czmq sources"
# shellcheck disable=SC2086
(cd "$dest/src" && apt-get $aptopts source --download-only \
    "$(spec libcjson-dev)" "$(spec libzmq3-dev)" "$(spec libczmq-dev)") >>"$log" 2>&1 \
    || fail "apt-get source failed"
for dsc in "$dest"/src/*.dsc; do
    (cd "$dest/src" && dpkg-source --no-check -x "$dsc") >>"$log" 2>&1 \
        || fail "dpkg-source -x $dsc failed"
done
srcdir() {
    d=$(find "$dest/src" -mindepth 1 -maxdepth 1 -type d -name "$1-*" | head -n 1)
    [ -n "$d" ] || fail "no unpacked $1 source"
    echo "$d"
}
zmq_src=$(srcdir zeromq3)
czmq_src=$(srcdir czmq)
cj=$(srcdir cjson)

# -Os: gossipd's static build exists for its footprint; ipc messaging is
# far from these libraries' speed limits.
flags="-Os -ffunction-sections -fdata-sections"
jobs=$(nproc 2>/dev/null || echo 2)
rm -rf "$inst" "${dest:?}/build-zmq" "${dest:?}/build-czmq" "${dest:?}/lib"
mkdir -p "$dest/build-zmq" "$dest/build-czmq" "$dest/lib"

step "building libzmq"
(cd "$dest/build-zmq" && cmake "$zmq_src" -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_INSTALL_PREFIX="$inst" \
    -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED=OFF -DBUILD_STATIC=ON -DBUILD_TESTS=OFF \
    -DWITH_LIBSODIUM=OFF -DENABLE_CURVE=OFF -DENABLE_DRAFTS=OFF -DENABLE_WS=OFF \
    -DWITH_TLS=OFF -DWITH_NSS=OFF -DWITH_LIBBSD=OFF -DWITH_OPENPGM=OFF -DWITH_NORM=OFF \
    -DWITH_VMCI=OFF -DWITH_DOCS=OFF -DWITH_DOC=OFF -DENABLE_CPACK=OFF -DWITH_PERF_TOOL=OFF \
    -DENABLE_PRECOMPILED=OFF \
    && make -j"$jobs" && make install) >>"$log" 2>&1 || fail "libzmq build failed"

step "building czmq"
(cd "$dest/build-czmq" && cmake "$czmq_src" -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_INSTALL_PREFIX="$inst" -DCZMQ_BUILD_SHARED=OFF \
    -DCZMQ_BUILD_STATIC=ON -DCZMQ_WITH_UUID=OFF -DCZMQ_WITH_SYSTEMD=OFF -DCZMQ_WITH_LZ4=OFF \
    -DCZMQ_WITH_LIBCURL=OFF -DCZMQ_WITH_NSS=OFF -DCZMQ_WITH_LIBMICROHTTPD=OFF \
    -DENABLE_DRAFTS=OFF -DLIBZMQ_INCLUDE_DIRS="$inst/include" \
    -DLIBZMQ_LIBRARIES="$inst/lib/libzmq.a" \
    && make -j"$jobs" czmq-static) >>"$log" 2>&1 || fail "czmq build failed"

step "building cJSON"
# shellcheck disable=SC2086 # flags is a word list
(cc $flags -std=c89 -c "$cj/cJSON.c" -o "$dest/build-czmq/cJSON.o" \
    && ar rcs "$dest/lib/libcjson.a" "$dest/build-czmq/cJSON.o") >>"$log" 2>&1 \
    || fail "cJSON build failed"

# gossipd's objects are compiled against the installed -dev headers, of
# the same versions; only the archives are kept.
cp "$inst/lib/libzmq.a" "$dest/build-czmq/libczmq.a" "$dest/lib/"
printf '%s libzmq.a libczmq.a libcjson.a\n%s\n' "$(date -u +%FT%TZ)" "$versions" > "$dest/ok"
step "done: $dest/lib"
