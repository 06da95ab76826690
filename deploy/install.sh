#!/bin/sh
# Installs Meridian. Called by `make install` as
#     deploy/install.sh "$(DESTDIR)" "$(PREFIX)"        (PREFIX default /usr/local)
# and safe to run again (every file is (re)installed with `install -m`).
#
#   $PREFIX/bin/                      every program of bin/ (BIN=dir overrides bin/)
#   $UNITDIR/                         meridian-*.service, meridian.target
#   $SYSUSERSDIR/meridian.conf        the `meridian` system user (systemd-sysusers)
#   /etc/meridian/meridian.json.example   a server config to copy to meridian.json
#   $PREFIX/share/meridian/supervisor/meridian.conf   supervisord programs
#   $PREFIX/share/doc/meridian/       docs/ (deployment, architecture, protocols)
#   /var/log/meridian/                supervisord's log files for the daemons
#
# UNITDIR defaults to $PREFIX/lib/systemd/system for PREFIX /usr or /usr/local
# (both on systemd's unit path) and to /etc/systemd/system otherwise;
# SYSUSERSDIR likewise ($PREFIX/lib/sysusers.d or /etc/sysusers.d). The units
# and the supervisor file name /usr/local/bin/<daemon>; for another PREFIX
# the paths are rewritten as they are installed. An existing
# /etc/meridian/meridian.json is never touched.
# With an empty DESTDIR, as root, the `meridian` user is created when missing
# and a running systemd is told to reload its units.
set -eu

DESTDIR=${1:-}
PREFIX=${2:-/usr/local}
top=$(cd "$(dirname "$0")/.." && pwd)

die () { echo "install: $*" >&2; exit 1; }

case "$PREFIX" in
    /*) ;;
    *) die "PREFIX must be an absolute path (got \"$PREFIX\")" ;;
esac
case "$DESTDIR" in
    ""|/*) ;;
    *) DESTDIR=$(pwd)/$DESTDIR ;;
esac
PREFIX=${PREFIX%/}
[ -n "$PREFIX" ] || PREFIX=/usr

case "$PREFIX" in
    /usr|/usr/local)
        UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
        SYSUSERSDIR=${SYSUSERSDIR:-$PREFIX/lib/sysusers.d} ;;
    *)
        UNITDIR=${UNITDIR:-/etc/systemd/system}
        SYSUSERSDIR=${SYSUSERSDIR:-/etc/sysusers.d} ;;
esac

bin_src=${BIN:-bin}
case "$bin_src" in
    /*) ;;
    *) bin_src=$top/$bin_src ;;
esac
[ -d "$bin_src" ] || die "$bin_src: no such directory (run \`make\` first)"

# The units and the supervisor file are written for PREFIX=/usr/local.
rewrite () {
    sed -e "s|/usr/local/|$PREFIX/|g" "$1"
}

# install_text SRC DEST: installs a text file after the PREFIX rewrite.
install_text () {
    tmp=$(mktemp)
    rewrite "$1" > "$tmp"
    install -m 0644 "$tmp" "$2"
    rm -f "$tmp"
}

programs=0
install -d -m 0755 "$DESTDIR$PREFIX/bin"
for program in "$bin_src"/*; do
    if [ -f "$program" ] && [ -x "$program" ]; then
        install -m 0755 "$program" "$DESTDIR$PREFIX/bin/$(basename "$program")"
        programs=$((programs + 1))
    fi
done
[ "$programs" -gt 0 ] || die "$bin_src: no programs to install (run \`make\` first)"

install -d -m 0755 "$DESTDIR$UNITDIR"
for unit in "$top"/deploy/systemd/meridian-*.service "$top"/deploy/systemd/meridian.target; do
    install_text "$unit" "$DESTDIR$UNITDIR/$(basename "$unit")"
done
install -d -m 0755 "$DESTDIR$SYSUSERSDIR"
install -m 0644 "$top/deploy/systemd/meridian.sysusers" "$DESTDIR$SYSUSERSDIR/meridian.conf"

install -d -m 0755 "$DESTDIR/etc/meridian"
install -m 0644 "$top/deploy/systemd/meridian.json.example" \
    "$DESTDIR/etc/meridian/meridian.json.example"

install -d -m 0755 "$DESTDIR$PREFIX/share/meridian/supervisor"
install_text "$top/deploy/supervisor/meridian.conf" \
    "$DESTDIR$PREFIX/share/meridian/supervisor/meridian.conf"
install -d -m 0755 "$DESTDIR/var/log/meridian"

docdir=$DESTDIR$PREFIX/share/doc/meridian
install -d -m 0755 "$docdir"
for doc in "$top"/docs/*.md; do
    install -m 0644 "$doc" "$docdir/$(basename "$doc")"
done
if [ -d "$top/docs/protocol" ]; then
    install -d -m 0755 "$docdir/protocol"
    for doc in "$top"/docs/protocol/*.md; do
        if [ -f "$doc" ]; then
            install -m 0644 "$doc" "$docdir/protocol/$(basename "$doc")"
        fi
    done
fi

echo "install: $programs programs to $DESTDIR$PREFIX/bin, units to $DESTDIR$UNITDIR"

# Installing into the live system: make the user and tell systemd.
if [ -z "$DESTDIR" ] && [ "$(id -u)" -eq 0 ]; then
    if ! getent passwd meridian >/dev/null 2>&1; then
        if command -v systemd-sysusers >/dev/null 2>&1; then
            systemd-sysusers "$SYSUSERSDIR/meridian.conf"
        else
            useradd --system --user-group --home-dir /var/lib/meridian \
                --shell /usr/sbin/nologin --comment "Meridian control plane" meridian
        fi
        echo "install: created system user meridian"
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
    fi
    [ -f /etc/meridian/meridian.json ] \
        || echo "install: next, write /etc/meridian/meridian.json (see meridian.json.example)"
fi
