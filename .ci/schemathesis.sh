#!/usr/bin/env bash
# Property-based test of the JSON API against its own OpenAPI document (schemathesis, PyPI).
#
# Starts the demo (two insurers, a year of data) on a free loopback port with a fresh SQLite
# database, signs in as the demo staff user, and lets schemathesis generate requests for every
# operation of /api/v1/openapi.json: examples, coverage (boundaries, missing and wrong values),
# fuzzing and stateful sequences (an id one call returns fed into the next). It fails on any 5xx,
# any response that does not match its documented schema, status code, content type or headers,
# and on a method outside the document that is not answered 405 with the right `Allow`.
#
# Not checked: whether every schema-valid request is accepted and every invalid one refused. The
# optional query parameters treat an empty value as "not given" (the pages' forms send them empty),
# and some rules span fields or the data (from ≤ to, a question id that exists) where OpenAPI has
# no words for them.
#
# Excluded: POST /api/v1/logout, which would end the session the run signs in with.
#
# Usage: .ci/schemathesis.sh            (after `cargo build` or `cargo test`)
#   REGWATCH_BIN=path         the binary to test (default: $CARGO_TARGET_DIR/debug/regwatch, built
#                             with `cargo build --bin regwatch` when missing)
#   SCHEMATHESIS_EXAMPLES=N   test cases per operation and phase (default 20)
#   SCHEMATHESIS_SEED=N       the generator's seed (default 17: the same requests every run)
set -euo pipefail
cd "$(dirname "$0")/.."

examples="${SCHEMATHESIS_EXAMPLES:-20}"
seed="${SCHEMATHESIS_SEED:-17}"
bin="${REGWATCH_BIN:-${CARGO_TARGET_DIR:-target}/debug/regwatch}"
if [ ! -x "$bin" ]; then
  cargo build --bin regwatch
fi
command -v schemathesis >/dev/null 2>&1 || {
  echo "schemathesis is not installed: python3 -m pip install schemathesis" >&2
  exit 2
}

work=$(mktemp -d)
# A copy of the binary: another build in the same target directory cannot replace it mid-run.
cp "$bin" "$work/regwatch"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the system picks a free port and the demo prints its URL.
(cd "$work" && exec ./regwatch demo --bind 127.0.0.1:0 --database-url "sqlite://$work/demo.db" \
  >"$work/server.log" 2>&1) &
server=$!
base=""
for _ in $(seq 1 120); do
  base=$(grep -o -m1 'http://127\.0\.0\.1:[0-9]*' "$work/server.log" 2>/dev/null || true)
  if [ -n "$base" ] && curl -sf "$base/readyz" >/dev/null 2>&1; then break; fi
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done
curl -sf "$base/readyz" >/dev/null || { echo "the demo did not become ready" >&2; cat "$work/server.log" >&2; exit 1; }

sign_in() {
  curl -sf -X POST "$base/api/v1/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"regwatch-demo\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

# run NAME EMAIL [filters…]: one schemathesis pass signed in as EMAIL; its events go to NAME.ndjson.
status=0
hooks="$PWD/.ci/schemathesis_hooks.py"
run() {
  local name=$1 email=$2
  shift 2
  local token
  token=$(sign_in "$email")
  echo "== schemathesis as $email"
  # From the scratch directory: schemathesis keeps a cache of what it found in the current one.
  (cd "$work" && SCHEMATHESIS_HOOKS="$hooks" schemathesis run "$base/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --exclude-checks positive_data_acceptance,negative_data_rejection \
    --max-examples "$examples" --seed "$seed" \
    --generation-database none \
    --request-timeout 60 \
    --report ndjson --report-ndjson-path "$work/$name.ndjson" \
    --no-color "$@") >"$work/$name.log" 2>&1 || status=1
  # The whole report of a failing pass; of a passing one, its summary.
  if grep -q '^Failures:\|^Errors:' "$work/$name.log"; then
    cat "$work/$name.log"
  else
    sed -n '/=== SUMMARY ===/,$p' "$work/$name.log"
  fi
}

# Everything but sign-out as staff (imports, letters, e-mails: the most operations of one role),
# then what only an admin may do (users, settings, audit log, e-mail settings) as admin.
run staff kenpo-staff@example.jp --exclude-path /api/v1/logout
run admin kenpo-admin@example.jp \
  --include-path-regex '^/api/v1/(users|settings|audit|mail/settings|mail/preview)'

# The figures of both passes, from schemathesis' own event log, and the server's panics.
python3 - "$work/server.log" "$status" "$work"/*.ndjson <<'PY'
import json, sys

log, status, reports = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
operations, requests, server_errors = set(), 0, 0
failed = {}
for report in reports:
    for line in open(report):
        (kind, body), = json.loads(line).items()
        if kind != "ScenarioFinished":
            continue
        recorder = body.get("recorder", {})
        if body.get("phase") != "stateful":
            operations.add(recorder.get("label"))
        for interaction in recorder.get("interactions", {}).values():
            requests += 1
            if ((interaction.get("response") or {}).get("status_code") or 0) >= 500:
                server_errors += 1
        for checks in recorder.get("checks", {}).values():
            for check in checks:
                if check.get("status") == "failure":
                    failed[check["name"]] = failed.get(check["name"], 0) + 1
panics = sum(1 for line in open(log, errors="replace") if "panicked at" in line)
operations.discard(None)
by_check = "".join(f" {name}: {n}" for name, n in sorted(failed.items()))
print(
    f"schemathesis: {len(operations)} operations, {requests} requests; "
    f"{server_errors} server errors, {failed.get('response_schema_conformance', 0)} schema violations, "
    f"{sum(failed.values())} failed checks{by_check}, {panics} panics in the server log"
)
sys.exit(1 if status or server_errors or failed or panics else 0)
PY
