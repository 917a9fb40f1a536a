#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
# Runs a test command again and again with every core kept busy by CPU burners, for a
# bounded time, and reports runs and failures: the way to find timing-sensitive (flaky) tests.
#
#   tools/stress_tests.sh [--seconds S] [--burners N] [--nice N] [--log DIR] -- COMMAND [ARGS...]
#   tools/stress_tests.sh --seconds 120 -- node --test tests/max_patches
#   tools/stress_tests.sh --seconds 300 -- python -m pytest -q -x -p no:cacheprovider tests/serve
#
# Defaults: 120 seconds, one burner per core (nproc) at nice 10 (--nice 0: as busy as a loaded CI
# runner, where the tests get only their share of the cores), logs of failed runs in .cache/stress/.
# The burners are stopped on exit (also on Ctrl-C). Exit code 1 if any run failed.
set -euo pipefail
seconds=120; burners=$(nproc 2>/dev/null || echo 2); niceness=10; logdir=.cache/stress
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --burners) burners=$2; shift 2 ;;
        --nice) niceness=$2; shift 2 ;;
        --log) logdir=$2; shift 2 ;;
        --) shift; break ;;
        -h|--help) sed -n '4,13p' "$0"; exit 0 ;;
        *) echo "stress_tests: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "stress_tests: no command given: tools/stress_tests.sh [options] -- COMMAND" >&2; exit 2; }
mkdir -p "$logdir"
pids=()
stop_burners() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_burners EXIT INT TERM
for _ in $(seq 1 "$burners"); do
    nice -n "$niceness" sh -c 'while :; do :; done' &
    pids+=("$!")
done
runs=0; failures=0; end=$((SECONDS + seconds))
while [ "$SECONDS" -lt "$end" ]; do
    runs=$((runs + 1))
    log="$logdir/run-$runs.log"
    t0=$SECONDS
    if "$@" >"$log" 2>&1; then
        rm -f "$log"
        echo "stress: run $runs passed ($((SECONDS - t0)) s)"
    else
        failures=$((failures + 1))
        echo "stress: run $runs FAILED ($((SECONDS - t0)) s), log: $log"
        grep -E '^not ok|^# (fail|pass)|FAILED|Error|error:' "$log" | head -20 | sed 's/^/    /' || true
    fi
done
echo "stress: $runs runs, $failures failed, $burners burners at nice $niceness, ${seconds} s: $*"
[ "$failures" -eq 0 ]
