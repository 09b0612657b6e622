#!/usr/bin/env bash
# Runs every test Sotto has, on a fresh machine. It installs what the tests
# need itself: a Python virtualenv with pyrage (interop), the web page's npm
# packages (from web/package-lock.json), and Debian's Chromium (browser
# tests). Then: format, lints, the reproducible bundle, the JavaScript
# tests, the Rust tests, and the browser tests against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."

# pyrage: an independent age implementation the interop tests decrypt with.
if ! .venv/bin/python -c 'import pyrage' 2>/dev/null; then
    echo "== installing pyrage into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check 'pyrage>=1.2,<2'
fi
export SOTTO_PYTHON="$PWD/.venv/bin/python"

# Chromium for the browser tests: Debian's, never a downloaded one.
if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing Debian's chromium"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
export SOTTO_CHROMIUM="$(command -v chromium)"

echo "== npm ci (web/)"
(cd web && npm ci --no-audit --no-fund --loglevel=error)

echo "== the committed web bundle is what its sources build"
(cd web && node build.mjs --check)

echo "== JavaScript tests (shared vectors with the Rust client)"
(cd web && node --test test/unit.test.mjs)

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked

echo "== browser tests (Chromium, with and without JavaScript)"
cargo build --locked --quiet
export SOTTO_BIN="$PWD/target/debug/sotto"
(cd web && node --test --test-reporter=spec test/e2e.test.mjs)
echo "   screenshots of every page: target/screenshots/"
