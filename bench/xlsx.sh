#!/usr/bin/env bash
# Benchmark of Excel input: the same ROWS generated notices as CSV and as .xlsx, each
#   - imported with `regwatch import notices` into a fresh SQLite database, and
#   - evaluated with `regwatch check --format summary` (no database),
# printing wall seconds, CPU seconds (user+sys) and peak RSS from /usr/bin/time -v.
# The .xlsx is what an insurer's own system exports (bench/xlsx_from_csv.py): a title row, the
# header in row 3, 事実発生日 and 受付日 as real Excel date cells (yyyy/mm/dd), and three
# headers named its own way (受付No, 資格取得日, 受付年月日), read through an import profile
# (sheet, header_row = 3, columns) — so it goes through the converter's profile path as well.
# Both imports must report the same counts (N 件新規、…) and store the same notices, employers
# and members (the workbook's line numbers 2 further down), and both checks must print the same
# summary; the script exits 1 otherwise (an import or check that fails prints its error).
# The load average is printed before each run: on a shared machine a busy core shows up as
# wall > CPU. Usage: bash bench/xlsx.sh [ROWS]   (default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
as_of=2026-03-31
insurer=06123456

if [ ! -x /usr/bin/time ]; then
  apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
fi
python3 -c 'import openpyxl' 2>/dev/null || python3 -m pip install -q openpyxl
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed (apt-get install sqlite3)"; exit 1; }

cargo build --release --quiet
bin=$PWD/target/release/regwatch
out=bench/out/xlsx-$n
mkdir -p "$out"
csv=$out/notices.csv
xlsx=$out/notices.xlsx
profile=$out/profile.toml

if [ ! -s "$csv" ]; then
  echo "generating $n notices into $out ..."
  "$bin" gen --notices "$n" --seed 1 --end "$as_of" --out "$out" >/dev/null
fi
if [ ! -s "$xlsx" ] || [ ! -s "$profile" ] || [ "$csv" -nt "$xlsx" ] || [ bench/xlsx_from_csv.py -nt "$xlsx" ]; then
  echo "converting $csv to .xlsx (openpyxl, write_only) ..."
  t0=$(date +%s.%N)
  python3 bench/xlsx_from_csv.py "$csv" "$xlsx.tmp" "$profile"
  mv "$xlsx.tmp" "$xlsx"
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "  (conversion took %.1f s)\n", b - a }'
fi
size() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MB", b / 1048576 }'; }
csv_size=$(size "$csv"); xlsx_size=$(size "$xlsx")
echo "== $n notices: $csv $csv_size, $xlsx $xlsx_size; profile $profile:"
sed 's/^/     /' "$profile"
echo "   $(nproc) cores; release build of $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ' + uncommitted src changes')"

# timed NAME command...: runs it under /usr/bin/time -v with stdout/stderr in $out/NAME.{out,err};
# exit codes 0 and 3 (rows rejected) are accepted. Sets W (wall s), C (user+sys s), M (peak RSS MB).
timed() {
  local name=$1; shift
  local rc=0
  echo "-- $name   (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  /usr/bin/time -v -o "$out/$name.time" "$@" >"$out/$name.out" 2>"$out/$name.err" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    echo "$name FAILED (exit $rc): $*"
    echo "--- stderr:"; grep -v '^\s*\(Command being timed\|Exit status\)' "$out/$name.err" || true
    echo "--- stdout:"; cat "$out/$name.out"
    exit 1
  fi
  read -r W C M < <(awk -F': ' '
    /Elapsed \(wall clock\)/ { k = split($NF, p, ":"); w = 0; for (i = 1; i <= k; i++) w = w * 60 + p[i] }
    /User time \(seconds\)/ { c += $NF }
    /System time \(seconds\)/ { c += $NF }
    /Maximum resident set size/ { m = $NF / 1024 }
    END { printf "%.2f %.2f %.1f\n", w, c, m }' "$out/$name.time")
  printf '   %.2f s wall, %.2f s CPU, peak RSS %.1f MB (exit %d)\n' "$W" "$C" "$M" "$rc"
}

fresh_db() { # path: a new SQLite database with the benchmark insurer
  rm -f "$1" "$1-wal" "$1-shm" "$1-journal"
  "$bin" --database-url "sqlite://$1" insurer add --number "$insurer" --name ベンチ健保 --kind kenpo >/dev/null
}
counts() { sed -n 's/^.*: \(.*件.*\)。取込番号.*$/\1/p' "$1"; }

fresh_db "$out/csv.db"
timed import-csv "$bin" --database-url "sqlite://$out/csv.db" import notices "$csv" --insurer "$insurer" --as-of "$as_of"
ic_w=$W ic_c=$C ic_m=$M
echo "   $(tail -n1 "$out/import-csv.out")"

fresh_db "$out/xlsx.db"
timed import-xlsx "$bin" --database-url "sqlite://$out/xlsx.db" import notices "$xlsx" --insurer "$insurer" --as-of "$as_of" --profile "$profile"
ix_w=$W ix_c=$C ix_m=$M
echo "   $(tail -n1 "$out/import-xlsx.out")"

timed check-csv "$bin" check --notices "$csv" --as-of "$as_of" --format summary
cc_w=$W cc_c=$C cc_m=$M
timed check-xlsx "$bin" check --notices "$xlsx" --profile "$profile" --as-of "$as_of" --format summary
cx_w=$W cx_c=$C cx_m=$M

# Same outcome both ways: the import counts, the stored notices (every column but the ids and
# the batch), and the check summary.
ok=1
c_counts=$(counts "$out/import-csv.out"); x_counts=$(counts "$out/import-xlsx.out")
if [ -z "$c_counts" ] || [ "$c_counts" != "$x_counts" ]; then
  ok=0; echo "!! import counts differ: CSV「$c_counts」 xlsx「$x_counts」"
  echo "--- CSV import stderr:"; head -n 20 "$out/import-csv.err"
  echo "--- xlsx import stderr:"; head -n 20 "$out/import-xlsx.err"
fi
# Every column but ids, timestamps and the line (the workbook's rows are 2 further down: title
# and empty row above the header), joined on the natural keys.
same() { # table, key columns: prints the rows that differ between the two databases
  local cols
  cols=$(sqlite3 "$out/csv.db" "SELECT group_concat(name, ', ') FROM pragma_table_info('$1')
    WHERE name NOT IN ('id', 'batch_id', 'line', 'created_at', 'updated_at')")
  sqlite3 "$out/csv.db" "ATTACH '$out/xlsx.db' AS x;
    SELECT (SELECT count(*) FROM (SELECT $cols FROM main.$1 EXCEPT SELECT $cols FROM x.$1))
         + (SELECT count(*) FROM (SELECT $cols FROM x.$1 EXCEPT SELECT $cols FROM main.$1))"
}
diff_rows=$(( $(same notices) + $(same employers) + $(same members) ))
line_off=$(sqlite3 "$out/csv.db" "ATTACH '$out/xlsx.db' AS x;
  SELECT count(*) FROM main.notices a JOIN x.notices b USING (notice_id) WHERE b.line != a.line + 2")
stored=$(sqlite3 "$out/csv.db" "SELECT count(*) FROM notices")
if [ "$diff_rows" != 0 ] || [ "$line_off" != 0 ]; then
  ok=0; echo "!! the stored rows differ: $diff_rows notices/employers/members rows, $line_off lines not CSV line + 2"
fi
if ! diff -q "$out/check-csv.out" "$out/check-xlsx.out" >/dev/null; then
  ok=0; echo "!! check summaries differ:"; diff "$out/check-csv.out" "$out/check-xlsx.out" | head -n 40 || true
fi

echo
echo "$n notices, as of $as_of; $(nproc) cores, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "import counts: CSV「$c_counts」 xlsx「$x_counts」; $stored notices stored, notices, employers and members identical in both databases (line numbers + 2): $([ "$diff_rows$line_off" = 00 ] && echo yes || echo NO)"
echo
row() { printf '| %-34s | %-32s | %-32s | %-7s |\n' "$@"; }
cell() { printf '%.1f s (CPU %.1f s), %.0f MB' "$1" "$2" "$3"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / (a > 0 ? a : 0.01) }'; }
row "" "CSV ($csv_size)" ".xlsx ($xlsx_size)" "xlsx/CSV"
row "---" "---" "---" "---"
row "import notices → SQLite (fresh db)" "$(cell "$ic_w" "$ic_c" "$ic_m")" "$(cell "$ix_w" "$ix_c" "$ix_m")" "$(ratio "$ic_w" "$ix_w")"
row "check --format summary" "$(cell "$cc_w" "$cc_c" "$cc_m")" "$(cell "$cx_w" "$cx_c" "$cx_m")" "$(ratio "$cc_w" "$cx_w")"
echo "(seconds are wall clock, CPU is user+sys, MB is peak RSS; xlsx/CSV is the ratio of wall times)"
[ "$ok" = 1 ] || { echo "!! CSV and xlsx did not give the same result (see above)"; exit 1; }
