#!/bin/sh
# Runs Meridian's suites: every Check unit binary, then every Python
# integration test file. Prints one closing line "N passed, N failed".
# Usage: tests/run.sh [--build DIR] [--bin DIR] [--only unit|integration] [FILTER]
set -u
BUILD=build BIN=bin ONLY="" FILTER=""
while [ $# -gt 0 ]; do
    case "$1" in
        --build) BUILD=$2; shift 2 ;;
        --bin) BIN=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        *) FILTER=$1; shift ;;
    esac
done
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
passed=0 failed=0 failures=""
start=$(date +%s)

if [ "$ONLY" != integration ]; then
    for t in "$BUILD"/tests/check_*; do
        [ -x "$t" ] || continue
        case "$t" in *"$FILTER"*) ;; *) continue ;; esac
        name=$(basename "$t")
        out=$(CK_DEFAULT_TIMEOUT=60 "$t" 2>&1); rc=$?
        # Check prints "100%: Checks: N, Failures: F, Errors: E"
        line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks:' | tail -n 1)
        n=$(printf '%s' "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
        f=$(printf '%s' "$line" | sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1+\2/')
        [ -n "$n" ] || n=0
        [ -n "$f" ] && f=$(($f)) || f=1
        if [ $rc -ne 0 ] || [ "$f" -ne 0 ] || [ "$n" -eq 0 ]; then
            [ "$f" -eq 0 ] && f=1
            printf '%s\n' "$out" | grep -vE ':P:' | tail -n 30
            echo "FAIL unit $name ($line)"
            failures="$failures unit:$name"
        else
            echo "ok   unit $name ($n checks)"
        fi
        passed=$((passed + n - f)); failed=$((failed + f))
    done
fi

if [ "$ONLY" != unit ]; then
    for t in tests/integration/test_*.py; do
        [ -f "$t" ] || continue
        case "$t" in *"$FILTER"*) ;; *) continue ;; esac
        name=$(basename "$t" .py)
        t0=$(date +%s)
        out=$(MERIDIAN_BIN="$top/$BIN" MERIDIAN_BUILD="$top/$BUILD" \
              timeout 900 python3 -m unittest -v "tests.integration.$name" 2>&1); rc=$?
        n=$(printf '%s\n' "$out" | grep -E '^Ran [0-9]+ test' | sed -E 's/Ran ([0-9]+).*/\1/')
        f=$(printf '%s\n' "$out" | grep -E '^FAILED' | grep -oE '(failures|errors)=[0-9]+' \
            | cut -d= -f2 | awk '{s+=$1} END {print s+0}')
        [ -n "$n" ] || n=0
        [ -n "$f" ] || f=0
        if [ $rc -ne 0 ] || [ "$n" -eq 0 ]; then
            [ "$f" -eq 0 ] && f=1
            printf '%s\n' "$out" | tail -n 60
            echo "FAIL integration $name ($(( $(date +%s) - t0 ))s)"
            failures="$failures integration:$name"
        else
            echo "ok   integration $name ($n tests, $(( $(date +%s) - t0 ))s)"
        fi
        passed=$((passed + n - f)); failed=$((failed + f))
    done
fi

echo "suite time: $(( $(date +%s) - start ))s${failures:+; failed:$failures}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
