#!/usr/bin/env bash
# Benchmark of `regwatch check`: generates N notices (default 1,000,000) and times
# `check --format summary` and `check --format jsonl > /dev/null`, each best of RUNS (default 3)
# by wall time, printing wall seconds, user+sys CPU seconds, rows/s and peak RSS.
# The load average is printed first: on a shared machine a busy core shows up as wall ≈ CPU.
# Usage: bash bench/check.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
runs=${2:-3}
out=bench/out/check-$n
cargo build --release --quiet
bin=target/release/regwatch
mkdir -p "$out"
if [ ! -s "$out/notices.csv" ]; then
  echo "generating $n notices into $out ..."
  "$bin" gen --notices "$n" --seed 42 --end 2026-03-31 --out "$out" >/dev/null
fi
ls -l "$out"/*.csv | awk '{printf "  %-40s %8.1f MB\n", $9, $5/1048576}'
echo "  cores: $(nproc), load average: $(cut -d' ' -f1-3 /proc/loadavg)"

measure() { # label, stdout file, then the command; prints the best of $runs by wall time
  local label=$1 dest=$2; shift 2
  local best="" i rc
  for ((i = 0; i < runs; i++)); do
    rc=0
    /usr/bin/time -f '%e %U %S %M' -o "$out/time.txt" "$@" >"$dest" 2>"$out/stderr.txt" || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
      echo "$label failed ($rc)"; cat "$out/stderr.txt"; exit 1
    fi
    local t; t=$(tail -n1 "$out/time.txt")
    if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[1] < y[1]) }'; then
      best=$t
    fi
  done
  awk -v l="$label" -v t="$best" -v n="$n" -v r="$runs" 'BEGIN {
    split(t, x, " "); s = x[1] < 0.005 ? 0.005 : x[1]
    printf "%-28s %7.3f s wall  %6.3f s cpu  %10.0f rows/s  peak RSS %6.1f MB  (best of %d)\n",
      l, x[1], x[2] + x[3], n / s, x[4] / 1024, r }'
}

as_of=2026-03-31
measure "check --format summary" "$out/stdout.txt" "$bin" check --notices "$out/notices.csv" --registrations "$out/registrations.csv" --as-of $as_of --format summary
head -n 40 "$out/stdout.txt"
measure "check --format jsonl" /dev/null "$bin" check --notices "$out/notices.csv" --registrations "$out/registrations.csv" --as-of $as_of --format jsonl
