#!/usr/bin/env bash
# The soak, by hand: a release build of the server, status polls, new
# cases, follow-ups and desk reads mixed at half the capacity it measures
# first, for SOAK_MINUTES (30) minutes, on loopback only. Prints the
# request rate, the server's resident memory and the WAL's size every
# minute; fails if a request fails, if the WAL passes 64 MiB, or if the
# second half of the run needed a quarter more memory than the first.
#
#   scripts/soak.sh            # 30 minutes
#   SOAK_MINUTES=5 scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${SOAK_MINUTES:-30}"
SOTTO_SOAK_SECONDS=$((minutes * 60)) \
  cargo test --release --test api soak:: -- --nocapture --test-threads 1
