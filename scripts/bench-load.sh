#!/usr/bin/env bash
# The load benchmark, by hand (issue 14; source: examples/load.rs and the
# bare actix-web ceiling, examples/ceiling.rs): release builds of both,
# Sotto filled with 10,000 cases through its own API, then wrk (from
# Debian) against each, on loopback only. Prints one table of requests/s,
# p50, p99 and the ratio to the ceiling measured in the same run, with
# each process's CPU an answer and resident memory. docs/benchmarks.md
# quotes one run.
#
# The no-JS submission is measured again on a small and a large database
# (SOTTO_BENCH_SMALL_CASES, 1000, and SOTTO_BENCH_BIG_CASES, 100000; 40 and
# 400 with --smoke), filled at the store level with no server running
# (about 50 s for 100,000 cases), each warmed up by one timed submission
# (the first after a start sets up the form client's place in the log):
# the two figures should be close. SOTTO_BENCH_ONLY=no-JS runs only the
# no-JS rows (and the ceiling); SOTTO_BENCH_ONLY="k cases" only the sized.
#
#   scripts/bench-load.sh                  # the full run, some minutes
#   SOTTO_BENCH_CASES=1000 SOTTO_BENCH_SECONDS=4 scripts/bench-load.sh
#   SOTTO_BENCH_ONLY=no-JS SOTTO_BENCH_BIG_CASES=20000 scripts/bench-load.sh
#   scripts/bench-load.sh --smoke          # seconds, debug builds: no
#                                          # error, and no speed asserted
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
    echo "== installing wrk from Debian"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 \
        install -y -qq wrk >/dev/null
fi

if [ "${1:-}" = "--smoke" ]; then
    cargo build --locked --quiet --bin sotto --example ceiling --example load
    export SOTTO_BENCH_SMOKE=1
    export SOTTO_BIN="$PWD/target/debug/sotto"
    export SOTTO_CEILING_BIN="$PWD/target/debug/examples/ceiling"
    exec target/debug/examples/load
fi

cargo build --locked --release --quiet --bin sotto --example ceiling --example load
export SOTTO_BIN="$PWD/target/release/sotto"
export SOTTO_CEILING_BIN="$PWD/target/release/examples/ceiling"
echo "== $(date -u +%F), $(nproc) cores, $(uname -m); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
exec target/release/examples/load
