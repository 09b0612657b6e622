#!/usr/bin/env bash
# Checks every file in deploy/ with its own tool, builds the Debian package,
# installs it, and runs the installed binary:
#
#   - caddy validate on deploy/Caddyfile and deploy/Caddyfile.prefix, then a
#     copy of each, run on loopback in front of the installed server: the
#     public routes pass, the client's address is not forwarded, bodies over
#     the limit are refused, and a 502 leaves nothing identifying in Caddy's
#     log;
#   - tor --verify-config on deploy/torrc (as it is, and under Debian's
#     service defaults);
#   - systemd-analyze verify on the unit, and systemd-analyze security
#     --offline=true with an overall exposure at or under 2.0;
#   - cargo deb, dpkg -i (twice: install, then reinstall over itself), the
#     user, the data directory, the unit and the examples, and the
#     installed binary serving /v1/health as the user sotto, traced with
#     strace: every system call it makes must be allowed by the unit's
#     SystemCallFilter, and no socket, mapping or namespace the unit forbids;
#   - dpkg --purge at the end: the binary goes, /var/lib/sotto and the user
#     stay (the package never deletes data).
#
# It installs what it needs from Debian if missing (caddy, tor, systemd,
# strace, curl, python3; apt-get update only then), and cargo-deb from
# crates.io at a pinned version. (On a host that runs systemd, installing
# Debian's caddy and tor starts their services, as Debian does; the checks
# never use those.) Run as root or with sudo available, on a test machine,
# never on a live server (it installs and purges the package).
# One line per check; exits non-zero at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

CARGO_DEB_VERSION=3.8.0
MAX_EXPOSURE=2.0
# The body limit in the Caddyfiles: --max-envelope-bytes (16 MiB) * 4/3 + 64 KiB.
MAX_BODY=22435157

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

ok() { printf 'ok   %s\n' "$*"; }
fail() {
    printf 'FAIL %s\n' "$*" >&2
    exit 1
}

# --- tools -------------------------------------------------------------------
missing=()
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
command -v tor >/dev/null 2>&1 || missing+=(tor)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "== installing from Debian: ${missing[*]}"
    $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 \
        install -y -qq "${missing[@]}" >/dev/null
fi
if ! cargo deb --version 2>/dev/null | grep -qF "$CARGO_DEB_VERSION"; then
    echo "== installing cargo-deb $CARGO_DEB_VERSION from crates.io"
    cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked --quiet
fi

# --- cleanup -----------------------------------------------------------------
WORK="$(mktemp -d /tmp/sotto-check-deploy.XXXXXX)"
chmod 0755 "$WORK"
pids=()
cleared_data=""
installed=""
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    # The check's own database, if it made one in an empty /var/lib/sotto.
    if [ -n "$cleared_data" ] && [ -d /var/lib/sotto ]; then
        $sudo find /var/lib/sotto -mindepth 1 -delete || true
    fi
    # A failed run does not leave the package installed either.
    if [ -n "$installed" ]; then
        dpkg_wait --purge sotto >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# dpkg, waiting (up to 5 minutes) while another apt or dpkg holds its lock:
# other test scripts may be installing packages at the same time.
dpkg_wait() {
    local i out
    for i in $(seq 1 150); do
        if out=$($sudo dpkg "$@" 2>&1); then
            return 0
        fi
        if ! grep -q 'lock' <<<"$out"; then
            printf '%s\n' "$out" >&2
            return 1
        fi
        sleep 2
    done
    printf '%s\n' "$out" >&2
    return 1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $2 seconds for file $1 to hold a line matching $3.
wait_for_line() {
    local i
    for i in $(seq 1 $(($2 * 10))); do
        if grep -qE "$3" "$1" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

# --- Caddy: the files as they are --------------------------------------------
# Caddy's own state (autosave, certificates) goes to the work directory.
export XDG_DATA_HOME="$WORK/caddy-data" XDG_CONFIG_HOME="$WORK/caddy-config"
for f in Caddyfile Caddyfile.prefix; do
    if out=$(SOTTO_DOMAIN=report.example.org caddy validate --adapter caddyfile \
        --config "deploy/$f" 2>&1); then
        ok "caddy validate deploy/$f"
    else
        printf '%s\n' "$out" | tail -n 5 >&2
        fail "caddy validate deploy/$f"
    fi
done

# --- Tor ---------------------------------------------------------------------
if out=$(tor --verify-config -f deploy/torrc 2>&1); then
    ok "tor --verify-config -f deploy/torrc"
else
    printf '%s\n' "$out" | tail -n 5 >&2
    fail "tor --verify-config -f deploy/torrc"
fi
if [ -f /usr/share/tor/tor-service-defaults-torrc ]; then
    if out=$(tor --verify-config --defaults-torrc /usr/share/tor/tor-service-defaults-torrc \
        -f deploy/torrc 2>&1); then
        ok "tor --verify-config with Debian's service defaults"
    else
        printf '%s\n' "$out" | tail -n 5 >&2
        fail "tor --verify-config with Debian's service defaults"
    fi
fi
for opt in "SocksPort 0" "HiddenServiceDir /var/lib/tor/sotto/" \
    "HiddenServicePort 80 127.0.0.1:8080" "HiddenServicePoWDefensesEnabled 1" \
    "HiddenServiceNonAnonymousMode 0"; do
    grep -qxF "$opt" deploy/torrc || fail "deploy/torrc lacks '$opt'"
done
ok "deploy/torrc: onion only, proof of work on, no SOCKS port"

# --- systemd: exposure (needs no binary) -------------------------------------
sec_out=$(systemd-analyze security --offline=true deploy/sotto.service 2>&1) || true
exposure=$(printf '%s\n' "$sec_out" | sed -n 's/.*Overall exposure level for sotto\.service: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] || {
    printf '%s\n' "$sec_out" | tail -n 5 >&2
    fail "systemd-analyze security printed no overall exposure"
}
if awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'; then
    ok "systemd-analyze security --offline=true deploy/sotto.service: exposure $exposure (at most $MAX_EXPOSURE)"
else
    printf '%s\n' "$sec_out" | grep '✗' >&2 || true
    fail "systemd-analyze security: exposure $exposure is over $MAX_EXPOSURE"
fi

# --- the Debian package ------------------------------------------------------
echo "== cargo deb (release build)"
deb_out=$(cargo deb --locked --quiet) || fail "cargo deb --locked"
deb=$(printf '%s\n' "$deb_out" | grep -E '\.deb$' | tail -n 1)
[ -f "$deb" ] || fail "cargo deb printed no package path (got: $deb_out)"
ok "cargo deb: $deb"

contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/sotto ./usr/lib/systemd/system/sotto.service \
    ./usr/share/doc/sotto/examples/Caddyfile ./usr/share/doc/sotto/examples/Caddyfile.prefix \
    ./usr/share/doc/sotto/examples/torrc ./usr/share/doc/sotto/examples/resources.example.json \
    ./usr/share/doc/sotto/examples/README.md ./usr/share/doc/sotto/copyright; do
    printf '%s\n' "$contents" | grep -qE " ${path//./\\.}\$" || fail "the package lacks $path"
done
depends=$(dpkg-deb -f "$deb" Depends)
case "$depends" in
*libc6*adduser* | *adduser*libc6*) ok "package contents, and Depends: $depends" ;;
*) fail "package Depends is '$depends' (wants libc6 and adduser)" ;;
esac

# Install twice: the second run is the upgrade path (user and directory exist).
installed=1
dpkg_wait -i "$deb" || fail "dpkg -i $deb"
dpkg_wait -i "$deb" || fail "dpkg -i $deb (again, over itself)"
ok "dpkg -i (install, then reinstall)"

version=$(/usr/bin/sotto --version) || fail "/usr/bin/sotto --version"
ok "/usr/bin/sotto --version: $version"

getent passwd sotto >/dev/null || fail "no user sotto"
getent group sotto >/dev/null || fail "no group sotto"
[ "$(id -gn sotto)" = sotto ] || fail "user sotto's primary group is $(id -gn sotto)"
case "$(getent passwd sotto | cut -d: -f7)" in
*/nologin | */false) ;;
*) fail "user sotto has a login shell" ;;
esac
[ "$(id -u sotto)" -lt 1000 ] || fail "user sotto is not a system user"
ok "user and group sotto (system, no login shell)"

[ -d /var/lib/sotto ] || fail "/var/lib/sotto missing"
perm=$(stat -c '%a %U:%G' /var/lib/sotto)
[ "$perm" = "700 sotto:sotto" ] || fail "/var/lib/sotto is $perm, wants 700 sotto:sotto"
ok "/var/lib/sotto: $perm"

unit=/usr/lib/systemd/system/sotto.service
cmp -s "$unit" deploy/sotto.service || fail "$unit differs from deploy/sotto.service"
for f in Caddyfile Caddyfile.prefix torrc resources.example.json; do
    cmp -s "/usr/share/doc/sotto/examples/$f" "deploy/$f" || fail "examples/$f differs from deploy/$f"
done
ok "unit and examples installed as in deploy/"

# Not enabled or started by the package: the log origin comes first.
[ ! -e /etc/systemd/system/multi-user.target.wants/sotto.service ] ||
    fail "the package enabled sotto.service"
if out=$(systemd-analyze verify "$unit" 2>&1); then
    ok "systemd-analyze verify $unit"
else
    printf '%s\n' "$out" >&2
    fail "systemd-analyze verify $unit"
fi

# --- the installed binary serves, as sotto, under strace ----------------------
data=/var/lib/sotto
if [ -z "$(ls -A /var/lib/sotto)" ]; then
    cleared_data=1
else
    # Someone's data: leave it alone and serve from a directory of our own.
    data="$WORK/data"
    $sudo install -d -o sotto -g sotto -m 0700 "$data"
    echo "   /var/lib/sotto is not empty: serving from $data instead"
fi
serve_out="$WORK/serve.out"
trace="$WORK/strace.txt"
# setpriv, not runuser: it execs the server itself, so the traced process and
# the one stopped below are the server. Same environment and umask as the unit.
(
    umask 0077
    exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin SOTTO_LOG=info \
        SOTTO_LOG_ORIGIN=check-deploy.invalid/sotto \
        strace -f -qq -o "$trace" \
        setpriv --reuid=sotto --regid=sotto --init-groups \
        /usr/bin/sotto serve --data "$data" --listen 127.0.0.1:0
) >"$serve_out" 2>"$WORK/serve.err" &
strace_pid=$!
pids+=("$strace_pid")
wait_for_line "$serve_out" 60 'listening on http://127\.0\.0\.1:[0-9]+/' || {
    cat "$WORK/serve.err" >&2
    fail "the installed sotto did not start as user sotto"
}
port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$serve_out" | head -n 1)
server_pid=$(pgrep -P "$strace_pid" | head -n 1)
[ -n "$server_pid" ] || fail "cannot find the server's process"
pids+=("$server_pid")
[ "$(stat -c %U "$data/sotto.db")" = sotto ] || fail "$data/sotto.db is not owned by sotto"
health=$(curl -fsS "http://127.0.0.1:$port/v1/health") || fail "GET /v1/health on the installed server"
ok "installed sotto serves as user sotto on port $port: /v1/health -> $health"

# --- Caddy in front of it ----------------------------------------------------
# A copy of each Caddyfile: the site on plain HTTP on a free loopback port,
# the upstream on the server's port, and no admin endpoint. The global log
# block, the headers, the body limit and the proxy are as in deploy/.
caddy_copy() { # $1 source, $2 caddy port, $3 upstream port, $4 destination
    sed -e "s|^{\\\$SOTTO_DOMAIN} {|http://127.0.0.1:$2 {|" \
        -e "s|reverse_proxy 127\\.0\\.0\\.1:8080|reverse_proxy 127.0.0.1:$3|" \
        -e 's|^{$|{\n\tadmin off|' "$1" >"$4"
    grep -q "http://127.0.0.1:$2 {" "$4" && grep -q "reverse_proxy 127.0.0.1:$3" "$4" &&
        grep -q 'admin off' "$4" || fail "could not make a test copy of $1"
}
start_caddy() { # $1 config, $2 port, $3 log file
    caddy run --adapter caddyfile --config "$1" >"$3" 2>&1 &
    caddy_pid=$!
    pids+=("$caddy_pid")
    local i
    for i in $(seq 1 100); do
        if curl -s -o /dev/null "http://127.0.0.1:$2/"; then return 0; fi
        sleep 0.1
    done
    cat "$3" >&2
    fail "caddy did not start with $1"
}
stop_caddy() {
    kill "$caddy_pid" 2>/dev/null || true
    wait "$caddy_pid" 2>/dev/null || true
}
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

cport=$(free_port)
caddy_copy deploy/Caddyfile "$cport" "$port" "$WORK/Caddyfile"
start_caddy "$WORK/Caddyfile" "$cport" "$WORK/caddy.log"
base="http://127.0.0.1:$cport"
headers=$(curl -fsS -D - -o /dev/null "$base/v1/health") || fail "GET /v1/health through Caddy"
grep -qi '^strict-transport-security: max-age=63072000; includeSubDomains' <<<"$headers" ||
    fail "no HSTS header through Caddy"
grep -qi '^content-security-policy:' <<<"$headers" || fail "Sotto's CSP did not pass through Caddy"
grep -qi '^content-encoding:' <<<"$headers" && fail "Caddy compressed a response"
ok "through Caddy: /v1/health, with HSTS and Sotto's own headers"
for path in /log/checkpoint /v1/log /transparency; do
    code=$(status "$base$path")
    [ "$code" = 200 ] || fail "GET $path through Caddy: $code"
done
ok "through Caddy: the public /log/checkpoint, /v1/log and /transparency pass"
head -c "$((MAX_BODY + 1))" /dev/zero >"$WORK/too-big"
code=$(status -H 'Content-Type: application/json' --data-binary @"$WORK/too-big" "$base/v1/cases")
[ "$code" = 413 ] || fail "a body of $((MAX_BODY + 1)) bytes through Caddy: $code, wants 413"
ok "through Caddy: a body of $((MAX_BODY + 1)) bytes gets 413"

# What reaches the upstream: a stand-in that records the headers it gets, on
# the server's port once the server is stopped.
kill "$server_pid"
wait "$strace_pid" 2>/dev/null || true
cat >"$WORK/upstream.py" <<'EOF'
import http.server, json, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"path": self.path,
                                "headers": {k.lower(): v for k, v in self.headers.items()}}) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
EOF
start_upstream() { # $1 file the stand-in records requests in
    python3 "$WORK/upstream.py" "$port" "$1" &
    upstream_pid=$!
    pids+=("$upstream_pid")
    local i
    for i in $(seq 1 50); do
        if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
            : >"$1"
            return 0
        fi
        sleep 0.1
    done
    fail "the stand-in upstream did not start on port $port"
}
start_upstream "$WORK/upstream.jsonl"
code=$(status -H 'X-Forwarded-For: 192.0.2.1' -H 'X-Real-IP: 192.0.2.1' \
    -H 'Forwarded: for=192.0.2.1' -H 'Via: 1.1 check' "$base/v1/health")
[ "$code" = 200 ] || fail "GET through Caddy to the stand-in upstream: $code"
got=$(python3 -c 'import json, sys; print(" ".join(sorted(json.loads(open(sys.argv[1]).readline())["headers"])))' "$WORK/upstream.jsonl") ||
    fail "the stand-in upstream recorded nothing"
for h in x-forwarded-for x-real-ip forwarded via; do
    tr ' ' '\n' <<<"$got" | grep -qx "$h" && fail "Caddy passed $h upstream (it got: $got)"
done
ok "through Caddy: no X-Forwarded-For, X-Real-IP, Forwarded or Via reaches the upstream"
kill "$upstream_pid"
wait "$upstream_pid" 2>/dev/null || true

# Upstream down: Caddy answers 502, and its log must not hold the request.
marker_ua="SottoCheckAgent/$RANDOM$RANDOM"
code=$(status -A "$marker_ua" -e "https://referrer.invalid/$marker_ua" "$base/v1/health")
[ "$code" = 502 ] || fail "with the upstream down, Caddy answered $code, wants 502"
stop_caddy
for needle in "$marker_ua" remote_ip remote_addr client_ip User-Agent Referer "handled request"; do
    if grep -qF "$needle" "$WORK/caddy.log"; then
        grep -F "$needle" "$WORK/caddy.log" >&2
        fail "Caddy's log holds '$needle'"
    fi
done
ok "Caddy's log after a 502: no address, user agent, referrer or request line"

# The prefix variant, with the stand-in upstream back on the same port.
start_upstream "$WORK/upstream-prefix.jsonl"
pport=$(free_port)
caddy_copy deploy/Caddyfile.prefix "$pport" "$port" "$WORK/Caddyfile.prefix"
start_caddy "$WORK/Caddyfile.prefix" "$pport" "$WORK/caddy-prefix.log"
pbase="http://127.0.0.1:$pport"
[ "$(status "$pbase/report")" = 308 ] || fail "prefix: /report does not redirect"
for path in /report/ /report/v1/health /report/log/checkpoint /report/v1/log /report/transparency; do
    code=$(status "$pbase$path")
    [ "$code" = 200 ] || fail "prefix: GET $path: $code"
done
[ "$(status "$pbase/elsewhere")" = 404 ] || fail "prefix: a path outside /report/ reached Sotto"
got=$(python3 -c 'import json, sys; print(" ".join(json.loads(l)["path"] for l in open(sys.argv[1])))' "$WORK/upstream-prefix.jsonl")
[ "$got" = "/ /v1/health /log/checkpoint /v1/log /transparency" ] ||
    fail "prefix: the upstream got the paths '$got'"
stop_caddy
kill "$upstream_pid"
wait "$upstream_pid" 2>/dev/null || true
ok "prefix: /report/... reaches the upstream with the prefix stripped; other paths do not"

# --- system calls against the unit's filter ----------------------------------
python3 - "$trace" <<'EOF' || fail "the server made calls the unit forbids (above)"
import re, subprocess, sys

def groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True,
                         text=True, check=True).stdout
    sets, name = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            name = line.strip()
            sets[name] = []
        elif name and line.startswith("    ") and not line.strip().startswith("#"):
            sets[name].append(line.strip())
        elif not line.strip():
            name = None
    return sets

sets = groups()
def expand(item, seen=()):
    if not item.startswith("@"):
        return {item}
    out = set()
    for x in sets[item]:
        if x not in seen:
            out |= expand(x, seen + (item,))
    return out

allowed = (expand("@system-service") | expand("@default")) - expand("@privileged") - expand("@resources")

lines = open(sys.argv[1]).read().splitlines()
start = next(i for i, l in enumerate(lines) if 'execve("/usr/bin/sotto"' in l)
used, bad = set(), []
call = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)\(")
for l in lines[start:]:
    m = call.match(l)
    if not m:
        continue
    name = m.group(1)
    used.add(name)
    if "socket(" in l and not re.search(r"socket\((AF_INET|AF_INET6|AF_UNIX),", l):
        bad.append("socket of a family the unit forbids: " + l)
    if re.search(r"PROT_WRITE\|PROT_EXEC|PROT_EXEC\|PROT_WRITE", l):
        bad.append("writable and executable memory (MemoryDenyWriteExecute): " + l)
    if "CLONE_NEW" in l:
        bad.append("a new namespace (RestrictNamespaces): " + l)
for name in sorted(used - allowed):
    bad.append("system call outside SystemCallFilter: " + name)
for b in bad:
    print(b, file=sys.stderr)
if bad:
    sys.exit(1)
print("ok   the server's %d distinct system calls are all allowed by the unit's SystemCallFilter" % len(used))
EOF

# --- remove --------------------------------------------------------------------
dpkg_wait --purge sotto || fail "dpkg --purge sotto"
installed=""
[ ! -e /usr/bin/sotto ] || fail "/usr/bin/sotto left after purge"
[ ! -e "$unit" ] || fail "$unit left after purge"
[ -d /var/lib/sotto ] || fail "purge removed /var/lib/sotto"
getent passwd sotto >/dev/null || fail "purge removed the user sotto"
ok "dpkg --purge: binary and unit gone; /var/lib/sotto and the user kept"

echo "deploy: all checks passed"
