#!/usr/bin/env bash
# Benchmark of `regwatch import notices` against each engine's own bulk loader:
#   (a) regwatch import into a fresh SQLite file   (b) sqlite3 .import of the same CSV into a bare table
#   (c) regwatch import into a fresh PostgreSQL db  (d) psql \copy of the same CSV into a bare table
# and, as the floor for regwatch's own tables (their indexes, unique keys and foreign keys), the
# rows (a) / (c) stored — employers, members, notices, already parsed, checked and given their
# deadlines — loaded by the engine alone into an empty regwatch database:
#   (e) SQLite INSERT … SELECT from (a)'s file      (f) psql \copy of (c)'s tables
# then the registration results of the same notices (g) into (a)'s database and (h) into (c)'s,
# against (i) psql \copy of that CSV into a bare table and (j) the engine alone storing (h)'s rows
# (\copy of the results, one UPDATE of the notices), (k) the floor (f) with every index built after
# the load instead of during it, and each file loaded again unchanged.
# Prints each time, the ratios a/b, c/d, e/b, f/d, a/e, c/f, h/i and the peak RSS of the imports.
# Usage: bash bench/import.sh [N ...]   (default 1000000; e.g. "1000000 2000000" to show RSS is flat)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-1000000}")
pg=${REGWATCH_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
export PGOPTIONS='-c client_min_messages=warning'   # no NOTICE for DROP … IF EXISTS and CASCADE
# REGWATCH_BENCH_BIN: a binary already built (e.g. a copy, while other builds use target/).
if [ -n "${REGWATCH_BENCH_BIN:-}" ]; then bin=$REGWATCH_BENCH_BIN; else
  cargo build --release --quiet; bin=$PWD/target/release/regwatch; fi
# What a notices import writes, parents first (the floor runs (e) and (f) load these).
tables="import_batches employers members notices"

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
timed() { # out-var-prefix, command...: sets T (seconds) and M (peak RSS MB)
  local t0 t1; t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o /tmp/regwatch-bench-rss "$@" >/tmp/regwatch-bench-out 2>&1 || { cat /tmp/regwatch-bench-out; exit 1; }
  t1=$(date +%s.%N); T=$(secs "$t0" "$t1"); M=$(awk '{printf "%.1f", $1/1024}' /tmp/regwatch-bench-rss)
}

# The notices and then their results imported into the database at $1, then both again unchanged.
# Sets L: notices seconds and peak RSS, results seconds and peak RSS, the two reloads' seconds.
load_and_reload() {
  local file kind
  L=()
  for kind in notices registrations notices registrations; do
    file=$out/$kind.csv
    if [ $kind = notices ]; then
      timed "$bin" --database-url "$1" import notices "$file" --insurer 06123456 --as-of 2026-03-31
    else
      timed "$bin" --database-url "$1" import registrations "$file" --insurer 06123456
    fi
    tail -n1 /tmp/regwatch-bench-out
    if [ ${#L[@]} -lt 4 ]; then L+=("$T" "$M"); else L+=("$T"); fi
  done
}

for n in "${sizes[@]}"; do
  out=bench/out/import-$n
  mkdir -p "$out"
  [ -s "$out/notices.csv" ] || "$bin" gen --notices "$n" --seed 42 --end 2026-03-31 --out "$out" >/dev/null
  echo "== $n notices ($(du -m "$out/notices.csv" | cut -f1) MB)"

  rm -f "$out"/a.db*
  "$bin" --database-url "sqlite://$out/a.db" insurer add --number 06123456 --name ベンチ健保 --kind kenpo >/dev/null
  load_and_reload "sqlite://$out/a.db"
  a=${L[0]} a_rss=${L[1]} ar=${L[2]} ar_rss=${L[3]} a2=${L[4]} ar2=${L[5]}

  # (e) The engine alone, no parsing or checking: INSERT … SELECT of the rows (a) stored into an
  #     empty regwatch database, in one transaction, with foreign keys on and the page cache
  #     regwatch's import gets (64 MB). (sqlite3's .import of the same rows as CSV is slower still.)
  rm -f "$out"/e.db*
  "$bin" --database-url "sqlite://$out/e.db" insurer add --number 06123456 --name ベンチ健保 --kind kenpo >/dev/null
  copies=(); for t in $tables; do copies+=("INSERT INTO $t SELECT * FROM a.$t"); done
  timed sqlite3 "$out/e.db" "PRAGMA foreign_keys = ON" "PRAGMA cache_size = -65536" \
    "ATTACH '$out/a.db' AS a" "BEGIN" "${copies[@]}" "COMMIT"
  e=$T
  [ "$(sqlite3 "$out/e.db" 'SELECT count(*) FROM notices')" = "$(sqlite3 "$out/a.db" 'SELECT count(*) FROM notices')" ] \
    || { echo "(e) did not load every notice"; exit 1; }
  rm -f "$out"/e.db*

  rm -f "$out"/b.db*
  cols=$(head -n1 "$out/notices.csv" | tr -d '\r')
  sqlite3 "$out/b.db" "CREATE TABLE notices_raw ($(echo "$cols" | sed 's/[^,]*/"&" TEXT/g'));"
  timed sqlite3 "$out/b.db" ".mode csv" ".import --skip 1 $out/notices.csv notices_raw"
  b=$T

  db="regwatch_bench_$$"
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db" >/dev/null
  "$bin" --database-url "$pg/$db" insurer add --number 06123456 --name ベンチ健保 --kind kenpo >/dev/null
  load_and_reload "$pg/$db"
  c=${L[0]} c_rss=${L[1]} cr=${L[2]} cr_rss=${L[3]} c2=${L[4]} cr2=${L[5]}

  # (f) The engine alone on PostgreSQL: (c)'s tables copied out and, with \copy (its fastest path;
  #     it has no INSERT … SELECT across databases), into an empty regwatch database in one transaction.
  for t in $tables; do psql "$pg/$db" -qc "\\copy (SELECT * FROM $t ORDER BY id) TO '$out/f-$t.csv' WITH (FORMAT csv)"; done
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS ${db}_f" -qc "CREATE DATABASE ${db}_f" >/dev/null
  "$bin" --database-url "$pg/${db}_f" insurer add --number 06123456 --name ベンチ健保 --kind kenpo >/dev/null
  copies=(); for t in $tables; do copies+=(-c "\\copy $t FROM '$out/f-$t.csv' WITH (FORMAT csv)"); done
  timed psql "$pg/${db}_f" -q -1 "${copies[@]}"
  f=$T

  # (j) The floor of the registration results on PostgreSQL: in (f)'s database with the notices'
  #     registration cleared (and vacuumed, so the pages have room), (h)'s stored results \copy'd
  #     into registration_results and every notice given its earliest success by one UPDATE.
  psql "$pg/$db" -qc "\\copy (SELECT * FROM registration_results ORDER BY id) TO '$out/f-results.csv' WITH (FORMAT csv)"
  psql "$pg/${db}_f" -qc "UPDATE notices SET registered_at = NULL, registered_on = NULL" -qc "VACUUM notices"
  timed psql "$pg/${db}_f" -q -1 -c "\\copy registration_results FROM '$out/f-results.csv' WITH (FORMAT csv)" \
    -c "UPDATE notices n SET registered_at = r.at, registered_on = CAST(r.at + INTERVAL '9 hours' AS DATE)
        FROM (SELECT insurer_id, notice_id, MIN(registered_at) AS at FROM registration_results
              WHERE result = 'ok' GROUP BY insurer_id, notice_id) r
        WHERE n.insurer_id = r.insurer_id AND n.notice_id = r.notice_id"
  j=$T
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS ${db}_f WITH (FORCE)" >/dev/null

  # (k) The floor if the indexes were built after the load (what a first load into an empty
  #     per-insurer partition could do at best): the same \copy into the tables stripped of every
  #     key and index, then each of their indexes built (unique ones as unique indexes).
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS ${db}_k" -qc "CREATE DATABASE ${db}_k" >/dev/null
  "$bin" --database-url "$pg/${db}_k" insurer add --number 06123456 --name ベンチ健保 --kind kenpo >/dev/null
  in_tables="'$(echo $tables | sed "s/ /','/g")'"
  psql "$pg/${db}_k" -Atc "SELECT indexdef || ';' FROM pg_indexes WHERE schemaname = 'public' AND tablename IN ($in_tables)" >"$out/k-indexes.sql"
  psql "$pg/${db}_k" -qAt >/dev/null <<SQL
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I CASCADE', conrelid::regclass, conname)
  FROM pg_constraint WHERE conrelid::regclass::text IN ($in_tables) AND contype IN ('p', 'u', 'f') \\gexec
SELECT format('DROP INDEX %I', indexname) FROM pg_indexes
  WHERE schemaname = 'public' AND tablename IN ($in_tables) \\gexec
SQL
  timed psql "$pg/${db}_k" -q -1 "${copies[@]}" -f "$out/k-indexes.sql"
  k=$T
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS ${db}_k WITH (FORCE)" >/dev/null
  rm -f "$out"/f-*.csv "$out/k-indexes.sql"

  psql "$pg/$db" -qc "CREATE TABLE notices_raw ($(echo "$cols" | sed 's/[^,]*/"&" TEXT/g'))" >/dev/null
  timed psql "$pg/$db" -qc "\\copy notices_raw FROM '$out/notices.csv' WITH (FORMAT csv, HEADER true)"
  d=$T
  rcols=$(head -n1 "$out/registrations.csv" | tr -d '\r')
  psql "$pg/$db" -qc "CREATE TABLE registrations_raw ($(echo "$rcols" | sed 's/[^,]*/"&" TEXT/g'))" >/dev/null
  timed psql "$pg/$db" -qc "\\copy registrations_raw FROM '$out/registrations.csv' WITH (FORMAT csv, HEADER true)"
  dr=$T
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null

  row() { printf '%-50s %8ss%s\n' "$@"; }
  row "(a) regwatch import → SQLite" "$a" "  peak RSS $a_rss MB"
  row "(b) sqlite3 .import (bare table)" "$b"
  row "(c) regwatch import → PostgreSQL" "$c" "  peak RSS $c_rss MB"
  row "(d) psql \\copy (bare table)" "$d"
  row "(e) SQLite INSERT … SELECT (regwatch tables)" "$e"
  row "(f) psql \\copy (regwatch tables)" "$f"
  row "(g) regwatch import registrations → SQLite" "$ar" "  peak RSS $ar_rss MB"
  row "(h) regwatch import registrations → PostgreSQL" "$cr" "  peak RSS $cr_rss MB"
  row "(i) psql \\copy registrations (bare table)" "$dr"
  row "(j) psql \\copy + UPDATE of (h)'s rows (floor)" "$j"
  row "(k) (f) into tables without indexes, then built" "$k"
  row "reload unchanged, SQLite: notices, results" "$a2" "  / ${ar2} s"
  row "reload unchanged, PostgreSQL: notices, results" "$c2" "  / ${cr2} s"
  awk -v h="$cr" -v i="$dr" -v j="$j" 'BEGIN { printf "registration results on PostgreSQL: h/i = %.2f   floor j/i = %.2f   h/j = %.2f\n", h/i, j/i, h/j }'
  awk -v k="$k" -v d="$d" -v f="$f" 'BEGIN { printf "indexes built after the load: k/d = %.2f (f/d = %.2f)\n", k/d, f/d }'
  awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" -v e="$e" -v f="$f" -v n="$n" 'BEGIN {
    printf "a/b = %.2f   c/d = %.2f   (SQLite %.0f rows/s, PostgreSQL %.0f rows/s)\n", a/b, c/d, n/a, n/c
    printf "floor of the tables: e/b = %.2f   f/d = %.2f;   regwatch over that floor: a/e = %.2f   c/f = %.2f\n", e/b, f/d, a/e, c/f }'
done
