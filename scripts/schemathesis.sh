#!/usr/bin/env bash
# Schemathesis (PyPI) against the real binary, from the description the
# server itself serves at /v1/openapi.yaml (docs/openapi.yaml): no 5xx, and
# every status code, content type and body as described there.
#
# Loopback only, bounded in examples and time, and the server is stopped
# at the end whatever happens. Two runs:
#   1. every route, with whatever credentials Schemathesis makes up, so
#      that each route's refusals are checked against the description;
#   2. the reporter's routes with the handle of a real case, opened with
#      the real CLI on a desk with a reader, so that the answers that carry
#      a case (its status, its receipt) are checked too.
# Signed desk routes get unsigned or badly signed requests only: their
# answers are the 401s, which must match the description too.
# Headers holding control characters are not generated
# (scripts/schemathesis_hooks.py): the HTTP parser refuses them before any
# route, with a bare 400 that docs/api.md describes.
#
# Called by scripts/test.sh; runs alone too. Uses target/debug/sotto (or
# $SOTTO_BIN), building it if it is missing. For a longer hunt by hand:
# SOTTO_SCHEMATHESIS_EXAMPLES=1000 SOTTO_SCHEMATHESIS_TIMEOUT=3600.
set -euo pipefail
cd "$(dirname "$0")/.."
here="$PWD"

version=4.32.5
venv="$PWD/.venv-st"
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $version" ]; then
    echo "== installing schemathesis $version into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

bin="${SOTTO_BIN:-$PWD/target/debug/sotto}"
if [ ! -x "$bin" ]; then
    cargo build --locked --quiet
fi

work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# An easy proof of work and a checkpoint every second, as in tests/api.
SOTTO_POW_DIFFICULTY=4 SOTTO_CHECKPOINT_INTERVAL=1 SOTTO_WORKERS=2 \
    "$bin" serve --listen 127.0.0.1:0 --data "$work/data" \
    >"$work/serve.out" 2>"$work/serve.err" &
server=$!
url=""
for _ in $(seq 1 300); do
    url="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.out" | head -n1 || true)"
    if [ -n "$url" ]; then break; fi
    if ! kill -0 "$server" 2>/dev/null; then
        cat "$work/serve.err" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "the server did not start within 30 s" >&2
    exit 1
fi

# Something to find: a reader on each of two desks, a referral directory,
# and one case, opened by the real CLI.
export SOTTO_SERVER="$url"
"$bin" admin add-desk --data "$work/data" --name other --description "Another desk." >/dev/null
for who in "Alice Ombud:default" "Olga Other:other"; do
    card="$("$bin" desk keygen --name "${who%%:*}" --identity "$work/${who##*:}.key" 2>/dev/null)"
    "$bin" admin add-recipient --data "$work/data" --desk "${who##*:}" --card "$card" >/dev/null
done
"$bin" admin resources import --data "$work/data" deploy/resources.example.json >/dev/null
# (It warns that the log does not show the readers yet: they were added
# a moment ago. That is expected here, so its stderr is shown only if it
# fails.)
if ! echo "Schemathesis was here." |
    "$bin" report submit --json --no-remember --accept-readers \
        >"$work/submitted.json" 2>"$work/submit.err"; then
    cat "$work/submit.err" >&2
    exit 1
fi
# The handle, derived from the token as crates/envelope/src/token.rs does:
# the token's 16 bytes (its 26 Bech32 characters before the checksum),
# then HKDF-SHA256 with an empty salt under "sotto/v1/token/handle".
handle="$("$venv/bin/python" - "$work/submitted.json" <<'EOF'
import base64, hashlib, hmac, json, sys

token = json.load(open(sys.argv[1]))["token"]
alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
acc, bits, raw = 0, 0, bytearray()
for c in token.replace("-", "")[:-6]:
    acc, bits = (acc << 5 | alphabet.index(c)) & 0xFFFF, bits + 5
    if bits >= 8:
        bits -= 8
        raw.append(acc >> bits & 0xFF)
prk = hmac.new(bytes(32), bytes(raw[:16]), hashlib.sha256).digest()
okm = hmac.new(prk, b"sotto/v1/token/handle\x01", hashlib.sha256).digest()
print(base64.urlsafe_b64encode(okm).rstrip(b"=").decode())
EOF
)"
if ! "$venv/bin/python" - "$url" "$handle" <<'EOF'
import sys, urllib.request

request = urllib.request.Request(sys.argv[1] + "/v1/reporter/case", headers={"sotto-handle": sys.argv[2]})
with urllib.request.urlopen(request, timeout=10) as answer:
    assert answer.status == 200
EOF
then
    echo "the derived handle does not reach the case just opened" >&2
    exit 1
fi

examples="${SOTTO_SCHEMATHESIS_EXAMPLES:-60}"
limit="${SOTTO_SCHEMATHESIS_TIMEOUT:-240}"
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
run() {
    # One worker: with several, Hypothesis parses lambdas' source in
    # threads, which CPython 3.11 does not always survive ("SystemError:
    # AST constructor recursion depth mismatch", CPython issue 106905),
    # and the generation is bound by the GIL anyway. A hard stop well past
    # the usual run time (under a minute for both runs on a busy 2-core
    # machine), should anything hang. In the scratch folder, so that
    # Schemathesis's and Hypothesis's caches go with it.
    (cd "$work" && PYTHONPATH="$here/scripts" SCHEMATHESIS_HOOKS=schemathesis_hooks \
        timeout "$limit" "$venv/bin/schemathesis" run "$url/v1/openapi.yaml" \
        --url "$url" \
        --checks "$checks" \
        --workers 1 \
        --request-timeout 10 \
        --generation-database none \
        --no-color \
        "$@")
}
status=0
echo "== schemathesis $version: every route"
run --max-examples "$examples" || status=1
echo "== schemathesis $version: the reporter's routes, with the handle of a real case"
run --max-examples "$examples" --include-tag reporter \
    --generation-with-security-parameters false \
    -H "sotto-handle: $handle" || status=1

if grep -q 'panicked' "$work/serve.err"; then
    echo "the server panicked:" >&2
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "-- the server's diagnostics:" >&2
    tail -n 50 "$work/serve.err" >&2
fi
exit "$status"
