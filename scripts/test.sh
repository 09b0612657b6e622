#!/usr/bin/env bash
# Runs every test Sotto has, on a fresh machine. It installs what the tests
# need itself: a Python virtualenv with pyrage (interop), another with
# Schemathesis (scripts/schemathesis.sh), the web page's npm
# packages (from web/package-lock.json), Debian's Chromium, Caddy and
# microsocks, wrk (in bench-load.sh), and (in check-deploy.sh) tor,
# systemd's tools and cargo-deb. Then: format, lints, the reproducible
# bundle, the JavaScript tests, the Rust tests (over HTTPS and SOCKS5
# too), Schemathesis against the real binary from docs/openapi.yaml, the
# load benchmark's smoke run, the browser tests against the real
# binary (directly, and behind Caddy), and every file of deploy/.
set -euo pipefail
cd "$(dirname "$0")/.."

# pyrage: an independent age implementation the interop tests decrypt with.
if ! .venv/bin/python -c 'import pyrage' 2>/dev/null; then
    echo "== installing pyrage into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check 'pyrage>=1.2,<2'
fi
export SOTTO_PYTHON="$PWD/.venv/bin/python"

# From Debian, never downloaded builds: Chromium for the browser tests,
# Caddy and microsocks for the field tests (HTTPS in front of the server,
# a SOCKS5 proxy between it and the clients).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v caddy >/dev/null 2>&1 || need+=(caddy)
command -v microsocks >/dev/null 2>&1 || need+=(microsocks)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
if [ "${#need[@]}" -gt 0 ]; then
    echo "== installing from Debian: ${need[*]}"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 \
        install -y -qq "${need[@]}" >/dev/null
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

cargo build --locked --quiet
export SOTTO_BIN="$PWD/target/debug/sotto"

echo "== Schemathesis against the real binary: no 5xx, every answer as docs/openapi.yaml describes it"
bash scripts/schemathesis.sh

echo "== the load benchmark, as a smoke test: every scenario answered as expected (no speed asserted)"
bash scripts/bench-load.sh --smoke

echo "== browser tests (Chromium, with and without JavaScript)"
(cd web && node --test --test-reporter=spec test/e2e.test.mjs)
echo "   screenshots of every page: target/screenshots/"

echo "== browser tests behind Caddy, over HTTPS: at the root of a host, then under /report/"
(cd web && SOTTO_E2E_FRONT=https node --test --test-reporter=spec test/e2e.test.mjs)
(cd web && SOTTO_E2E_FRONT=https-prefix node --test --test-reporter=spec test/e2e.test.mjs)

echo "== deploy/: Caddy, tor and the systemd unit by their own tools; the Debian package built, installed and run"
bash scripts/check-deploy.sh
