#!/usr/bin/env bash
# Benchmark of `regwatch check`: generates N notices (default 1,000,000) and times
# `check --format summary` and `check --format jsonl > /dev/null`, printing rows/s and peak RSS.
# Usage: bash bench/check.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
out=bench/out/check-$n
cargo build --release --quiet
bin=target/release/regwatch
mkdir -p "$out"
if [ ! -s "$out/notices.csv" ]; then
  echo "generating $n notices into $out ..."
  "$bin" gen --notices "$n" --seed 42 --end 2026-03-31 --out "$out" >/dev/null
fi
ls -l "$out"/*.csv | awk '{printf "  %-40s %8.1f MB\n", $9, $5/1048576}'

measure() { # label, stdout file, then the command; prints wall seconds, rows/s, peak RSS
  local label=$1 dest=$2; shift 2
  local t0 t1 rss
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$out/time.txt" "$@" >"$dest" 2>"$out/stderr.txt" || {
    local rc=$?; [ "$rc" -eq 3 ] || { echo "$label failed ($rc)"; cat "$out/stderr.txt"; exit 1; }; }
  t1=$(date +%s.%N)
  rss=$(tail -n1 "$out/time.txt")
  awk -v l="$label" -v a="$t0" -v b="$t1" -v n="$n" -v r="$rss" \
    'BEGIN { s=b-a; printf "%-28s %7.3f s  %12.0f rows/s  peak RSS %6.1f MB\n", l, s, n/s, r/1024 }'
}

as_of=2026-03-31
measure "check --format summary" "$out/stdout.txt" "$bin" check --notices "$out/notices.csv" --registrations "$out/registrations.csv" --as-of $as_of --format summary
head -n 40 "$out/stdout.txt"
measure "check --format jsonl" /dev/null "$bin" check --notices "$out/notices.csv" --registrations "$out/registrations.csv" --as-of $as_of --format jsonl
