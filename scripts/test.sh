#!/usr/bin/env bash
# Runs every test Sotto has, on a fresh machine: installs what the tests need
# (a Python virtualenv with pyrage, for interop), then format, lints, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# pyrage: an independent age implementation the interop tests decrypt with.
if ! .venv/bin/python -c 'import pyrage' 2>/dev/null; then
    echo "== installing pyrage into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check 'pyrage>=1.2,<2'
fi
export SOTTO_PYTHON="$PWD/.venv/bin/python"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked
