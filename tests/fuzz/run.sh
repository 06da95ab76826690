#!/bin/sh
# Builds the gossip packet fuzz target with libFuzzer (clang
# -fsanitize=fuzzer,address,undefined) and runs it for a bounded time.
# Not part of `make test`.
# Usage: tests/fuzz/run.sh [seconds]   (default 60; FUZZ_JOBS for parallel jobs)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
SECONDS_TO_RUN=${1:-60}
OUT=build/fuzz
mkdir -p "$OUT/corpus" "$OUT/artifacts"
CC=${FUZZ_CC:-clang}
CFLAGS="-g -O1 -Wall -Wextra -Werror -Wno-unused-parameter -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
-fno-sanitize-recover=undefined -Icommon $(pkg-config --cflags libczmq libcjson)"
LIBS="$(pkg-config --libs libczmq libcjson) -lmbedcrypto -lm"
SRCS="tests/fuzz/fuzz_gossip_packet.c gossipd/packet.c gossipd/crypto.c gossipd/keyring.c \
gossipd/vivaldi.c gossipd/membership.c gossipd/member.c gossipd/suspicion.c \
gossipd/broadcast.c common/log.c common/config.c common/timeutil.c"
echo "fuzz: building $OUT/fuzz_gossip_packet"
# shellcheck disable=SC2086
$CC $CFLAGS -o "$OUT/fuzz_gossip_packet" $SRCS $LIBS

# Seeds: one valid input per path (see the target's header for the modes).
python3 - "$OUT/corpus" <<'PY'
import struct, sys, os
d = sys.argv[1]
def name(s): return bytes([len(s)]) + s.encode()
def addr(ip, port): return b"\x04" + bytes(int(x) for x in ip.split(".")) + struct.pack(">H", port)
def tags(pairs):
    out = bytes([len(pairs)])
    for k, v in pairs: out += name(k) + bytes([len(v)]) + v.encode()
    return out
def msg(t, payload): return bytes([t]) + struct.pack(">H", len(payload)) + payload
ping = msg(1, struct.pack(">I", 7) + name("self") + name("n1"))
alive = msg(6, struct.pack(">I", 3) + name("n2") + addr("10.0.0.2", 8301) + tags([("dc", "dc1"), ("role", "node")]))
suspect = msg(5, struct.pack(">I", 3) + name("n2") + name("n1"))
dead = msg(7, struct.pack(">I", 3) + name("n2") + name("n2"))
fl = msg(8, struct.pack(">IB", 3, 1) + name("n2") + name("n1"))
header = b"MG\x01\x00"
state = msg(0x11, struct.pack(">IB", 4, 1) + name("n3") + addr("10.0.0.3", 8301) + tags([("dc", "dc1")]))
pp = msg(0x10, struct.pack(">BI", 1, 1)) + state
seeds = {
    "udp-ping": b"\x00" + header + ping,
    "udp-alive-suspect-dead": b"\x00" + header + alive + suspect + dead + fl,
    "udp-sealed": b"\x01MG\x01\x01" + bytes(12) + alive + bytes(16),
    "body": b"\x02" + alive + suspect,
    "stream": b"\x03" + pp,
}
for k, v in seeds.items():
    with open(os.path.join(d, k), "wb") as f: f.write(v)
PY
echo "fuzz: running for ${SECONDS_TO_RUN}s (log: $OUT/fuzz.log)"
rc=0
"$OUT/fuzz_gossip_packet" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 \
    -artifact_prefix="$OUT/artifacts/" ${FUZZ_JOBS:+-jobs=$FUZZ_JOBS} "$OUT/corpus" \
    > "$OUT/fuzz.log" 2>&1 || rc=$?
grep -E '^(Done|#[0-9]+ +DONE)|ERROR|SUMMARY|crash-|leak-|timeout-' "$OUT/fuzz.log" | tail -n 20
[ $rc -eq 0 ] && echo "fuzz: no crash" || echo "fuzz: FAILED (exit $rc), see $OUT/fuzz.log and $OUT/artifacts/"
exit $rc
