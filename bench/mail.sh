#!/usr/bin/env bash
# Mail delivery benchmark: N e-mails (default 2,000) queued for one insurer, then delivered by one
# `regwatch outbox run --once` (one worker, batches of 50, each message marked sent right after the
# server's 250) to a local aiosmtpd that accepts and counts them; on SQLite, then PostgreSQL.
# Prints, per backend: messages queued, messages received by the server (distinct Message-IDs),
# seconds of the delivery run, messages/s.
# Usage: bash bench/mail.sh [N]     env: REGWATCH_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432),
#        REGWATCH_BENCH_BACKENDS (default "sqlite postgres"), REGWATCH_BENCH_PROFILE (release | debug,
#        default release), CARGO_TARGET_DIR (where the binary is built), REGWATCH_BENCH_BIN (use this
#        binary instead of building one, e.g. to compare two versions).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
pg=${REGWATCH_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
backends=${REGWATCH_BENCH_BACKENDS:-sqlite postgres}
profile=${REGWATCH_BENCH_PROFILE:-release}
export PGOPTIONS='-c client_min_messages=warning'

if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  python3 -m pip install --quiet aiosmtpd 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages aiosmtpd
fi
if [ -n "${REGWATCH_BENCH_BIN:-}" ]; then
  bin=$REGWATCH_BENCH_BIN
else
  if [ "$profile" = release ]; then
    cargo build --release --quiet
  else
    cargo build --quiet
  fi
  bin=${CARGO_TARGET_DIR:-$PWD/target}/$profile/regwatch
fi

work=$(mktemp -d)
sink_pid=
cleanup() {
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The SMTP server: aiosmtpd on a free loopback port, writing each Message-ID it accepts to a file.
cat >"$work/sink.py" <<'PY'
import sys, socket, asyncio
from aiosmtpd.controller import Controller
out = open(sys.argv[1], "a", buffering=1)
class Handler:
    async def handle_DATA(self, server, session, envelope):
        for line in envelope.content.split(b"\r\n"):
            if line[:11].lower() == b"message-id:":
                out.write(line[11:].strip().decode() + "\n")
                break
            if not line:
                break
        return "250 OK"
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
c = Controller(Handler(), hostname="127.0.0.1", port=port)
c.start()
print(port, flush=True)
sys.stdin.read()
PY

printf '%-10s %8s %9s %9s %10s\n' backend queued received seconds 'msgs/s'
for backend in $backends; do
  ids=$work/ids-$backend
  : >"$ids"
  mkfifo "$work/in-$backend"
  python3 -u "$work/sink.py" "$ids" <"$work/in-$backend" >"$work/port-$backend" &
  sink_pid=$!
  exec 9>"$work/in-$backend"   # keeps the sink's stdin open
  for _ in $(seq 100); do [ -s "$work/port-$backend" ] && break; sleep 0.1; done
  port=$(cat "$work/port-$backend")

  case $backend in
    sqlite)
      url="sqlite://$work/mail.db"
      run_sql() { sqlite3 "$work/mail.db"; }
      series="WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n) SELECT i FROM s"
      ;;
    postgres)
      db=regwatch_mailbench_$$
      psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
      url="$pg/$db"
      run_sql() { psql -q -v ON_ERROR_STOP=1 "$url" >/dev/null; }
      series="SELECT i FROM generate_series(1, $n) AS s(i)"
      ;;
  esac
  "$bin" --database-url "$url" insurer add --number 06123456 --name 負荷試験健保 --kind kenpo >/dev/null
  body=$(printf '事業所ご担当者様\n\nいつもお世話になっております。届出の状況をお知らせします。%.0s\n' $(seq 12))
  run_sql <<SQL
INSERT INTO employers (insurer_id, code, name, contact_emails, opt_out, created_at, updated_at)
VALUES (1, 'B01', '負荷試験株式会社', 'load@example.jp', FALSE, '2025-06-30 00:00:00', '2025-06-30 00:00:00');
INSERT INTO outbox (insurer_id, employer_id, kind, dedupe_key, recipients, subject, body_text,
                    body_html, status, attempts, next_attempt_at, as_of, created_at, updated_at)
SELECT 1, 1, 'weekly_digest', 'bench:' || i, 'load@example.jp', '【負荷試験健保】週次のご案内 ' || i,
       '$body', '<p>$body</p>', 'pending', 0, '2000-01-01 00:00:00', '2025-06-30',
       '2025-06-30 00:00:00', '2025-06-30 00:00:00'
FROM ($series) AS q;
SQL

  start=$(date +%s.%N)
  REGWATCH_SMTP_URL="smtp://127.0.0.1:$port" REGWATCH_MAIL_FROM='負荷試験 <noreply@example.jp>' \
    REGWATCH_MAIL_RATE_PER_MINUTE=100000000 \
    env -u REGWATCH_CONFIG "$bin" --database-url "$url" outbox run --once --as-of 2025-06-30 >"$work/run-$backend.txt"
  end=$(date +%s.%N)
  received=$(sort -u "$ids" | wc -l)
  awk -v b="$backend" -v n="$n" -v r="$received" -v s="$start" -v e="$end" \
    'BEGIN { printf "%-10s %8d %9d %9.2f %10.0f\n", b, n, r, e - s, n / (e - s) }'
  exec 9>&-
  wait "$sink_pid" 2>/dev/null || true
  sink_pid=
  if [ "$backend" = postgres ]; then
    psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  fi
done
