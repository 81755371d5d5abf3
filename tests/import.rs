//! Loading files into the database, on SQLite and (with REGWATCH_TEST_POSTGRES_URL) PostgreSQL:
//! one batch per file, idempotent, nothing half-written, no My Number anywhere.
mod common;

use chrono::NaiveDate;
use common::{add_insurer, test_actor as actor, TestDb};
use diesel::prelude::*;
use regwatch::domain::{InsurerKind, RuleSettings};
use regwatch::store::import::{self, ImportError, ImportSummary};
use regwatch::store::insurers::Insurer;
use regwatch::store::schema::{import_batches, import_rejects, notices};
use regwatch::store::DbConn;

const HEADER: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号,遅延理由\n";

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 30).unwrap()
}

fn load(conn: &mut DbConn, ins: &Insurer, body: &str) -> Result<ImportSummary, ImportError> {
    import::import_notices(
        conn,
        ins,
        body.as_bytes(),
        "notices.csv",
        &actor(),
        as_of(),
        &mut |_| {},
    )
}

fn load_regs(conn: &mut DbConn, ins: &Insurer, body: &str) -> Result<ImportSummary, ImportError> {
    import::import_registrations(
        conn,
        ins,
        body.as_bytes(),
        "registrations.csv",
        &actor(),
        &mut |_| {},
    )
}

fn notice_count(conn: &mut DbConn) -> i64 {
    notices::table.count().get_result(conn).unwrap()
}

fn batch_count(conn: &mut DbConn) -> i64 {
    import_batches::table.count().get_result(conn).unwrap()
}

fn three_rows() -> String {
    format!(
        "{HEADER}N-1,資格取得,E01,株式会社テスト,100,1,,山田 太郎,2024-04-22,2024-04-28,123456789018,\n\
         N-2,被扶養者,E01,株式会社テスト,100,1,01,山田 花子,2024-04-01,2024-04-15,,事業主の提出遅延\n\
         N-3,資格喪失,E02,テスト商事,200,7,,佐藤 一郎,2024-03-31,2024-04-02,,\n"
    )
}

#[test]
fn a_file_loads_with_stored_deadlines_and_reloading_changes_nothing() {
    let db = TestDb::new();
    let mut c = db.conn();
    let ins = add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    let s = load(&mut c, &ins, &three_rows()).unwrap();
    assert_eq!(
        (s.new, s.changed, s.unchanged, s.rejected, s.rows_read),
        (3, 0, 0, 0, 3)
    );
    assert_eq!(s.sha256.len(), 64);
    let (sub, reg, rule): (NaiveDate, NaiveDate, String) = notices::table
        .filter(notices::notice_id.eq("N-1"))
        .select((
            notices::submission_deadline,
            notices::registration_deadline,
            notices::registration_rule,
        ))
        .first(&mut c)
        .unwrap();
    assert_eq!(sub, NaiveDate::from_ymd_opt(2024, 4, 30).unwrap());
    assert_eq!(
        reg,
        NaiveDate::from_ymd_opt(2024, 5, 7).unwrap(),
        "Golden Week moves 05-03 to 05-07"
    );
    assert_eq!(rule, "five_day");

    let again = load(&mut c, &ins, &three_rows()).unwrap();
    assert_eq!((again.new, again.changed, again.unchanged), (0, 0, 3));
    assert_eq!(
        again.line_ja(),
        "0 件新規、0 件変更、3 件変更なし、0 行却下（3 行読込）"
    );
    assert_eq!(notice_count(&mut c), 3);
    assert_ne!(again.batch_id, s.batch_id);
}

#[test]
fn a_changed_row_updates_the_notice_and_counts_as_changed() {
    let db = TestDb::new();
    let mut c = db.conn();
    let ins = add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    load(&mut c, &ins, &three_rows()).unwrap();
    let changed = three_rows().replace("2024-04-15,,事業主", "2024-04-16,,事業主");
    let s = load(&mut c, &ins, &changed).unwrap();
    assert_eq!((s.new, s.changed, s.unchanged), (0, 1, 2));
    let received: NaiveDate = notices::table
        .filter(notices::notice_id.eq("N-2"))
        .select(notices::received_on)
        .first(&mut c)
        .unwrap();
    assert_eq!(received, NaiveDate::from_ymd_opt(2024, 4, 16).unwrap());
}

#[test]
fn bad_rows_are_rejected_with_their_line_and_the_good_rows_load() {
    let db = TestDb::new();
    let mut c = db.conn();
    let ins = add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    let body = format!(
        "{}N-4,転居,E01,,100,2,,,2024-04-01,2024-04-02,,\nN-5,資格取得,E01,,100,3,,,2024-02-30,2024-04-02,,\n",
        three_rows()
    );
    let s = load(&mut c, &ins, &body).unwrap();
    assert_eq!((s.new, s.rejected), (3, 2));
    let lines: Vec<u64> = s.rejects.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![5, 6]);
    let stored: Vec<(i64, String)> = import_rejects::table
        .filter(import_rejects::batch_id.eq(s.batch_id))
        .order(import_rejects::line.asc())
        .select((import_rejects::line, import_rejects::reason))
        .load(&mut c)
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].0, 5);
    let csv = regwatch::reports::export::rejects_csv(
        &regwatch::store::import::rejects(&mut c, ins.id, s.batch_id).unwrap(),
    )
    .unwrap();
    assert!(csv.starts_with("\u{feff}".as_bytes()));
    let text = String::from_utf8(csv).unwrap();
    assert!(
        text.contains("行,理由") && text.contains("\n5,") && text.contains("\n6,"),
        "{text}"
    );
}

#[test]
fn whole_file_errors_change_nothing() {
    let db = TestDb::new();
    let mut c = db.conn();
    let ins = add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    load(&mut c, &ins, &three_rows()).unwrap();
    let before = (notice_count(&mut c), batch_count(&mut c));

    let other =
        "保険者番号,受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日\n\
                 06123456,X-1,資格取得,E9,1,1,2024-04-01,2024-04-02\n\
                 06999999,X-2,資格取得,E9,1,2,2024-04-01,2024-04-02\n";
    let e = load(&mut c, &ins, other).unwrap_err();
    assert!(matches!(e, ImportError::WrongInsurer { .. }), "{e}");
    assert!(e.to_string().contains("06999999"));

    for (body, what) in [
        ("", "空"),
        (HEADER, "データ行"),
        ("\u{0}\u{1}\u{2}PK\u{3}\u{4}binary\u{0}\u{0}", "バイナリ"),
    ] {
        let e = load(&mut c, &ins, body).unwrap_err();
        assert!(e.to_string().contains(what), "{what}: {e}");
    }
    let truncated = format!("{}N-9,資格取得,E01,株式会社テスト,100,9", three_rows());
    let e = load(&mut c, &ins, &truncated).unwrap_err();
    assert!(matches!(e, ImportError::Truncated { line: 5 }), "{e}");
    assert!(e.to_string().contains("途中で切れています"));

    assert_eq!(
        (notice_count(&mut c), batch_count(&mut c)),
        before,
        "nothing stored changed"
    );
}

#[test]
fn registrations_keep_the_earliest_success_and_replace_an_error() {
    let db = TestDb::new();
    let mut c = db.conn();
    let ins = add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    load(&mut c, &ins, &three_rows()).unwrap();
    let regs = "受付番号,登録完了日時,処理結果,エラーコード,エラー内容\n\
                N-2,,エラー,E0101,J-LIS照会結果不一致\n\
                N-1,2024-05-07T01:30:00Z,正常,,\n\
                N-2,2024-05-10 10:00:00,正常,,\n\
                N-2,2024-05-12 10:00:00,正常,,\n\
                N-3,2024-04-01 10:00:00,正常,,\n\
                N-77,2024-05-01 10:00:00,正常,,\n\
                N-1,2024-05-07T01:30:00Z,正常,,\n";
    let s = load_regs(&mut c, &ins, regs).unwrap();
    // Line 8 repeats line 3 exactly: unchanged. N-1 and N-2 get their registration.
    assert_eq!(
        (s.accepted, s.new, s.unchanged, s.changed),
        (6, 5, 1, 2),
        "{s:?}"
    );
    assert_eq!(
        s.rejected, 1,
        "N-3 registered before receipt: {:?}",
        s.rejects
    );
    assert_eq!(s.rejects[0].line, 6);
    assert_eq!(s.without_notice, 1);
    let reg: Vec<(String, Option<NaiveDate>)> = notices::table
        .order(notices::notice_id.asc())
        .select((notices::notice_id, notices::registered_on))
        .load(&mut c)
        .unwrap();
    assert_eq!(
        reg[0].1,
        NaiveDate::from_ymd_opt(2024, 5, 7),
        "UTC 01:30 is 10:30 JST"
    );
    assert_eq!(
        reg[1].1,
        NaiveDate::from_ymd_opt(2024, 5, 10),
        "earliest success kept"
    );
    assert_eq!(reg[2].1, None);

    let again = load_regs(&mut c, &ins, regs).unwrap();
    assert_eq!(
        (again.new, again.changed, again.unchanged, again.rejected),
        (0, 0, 6, 1)
    );
    let stored: i64 = regwatch::store::schema::registration_results::table
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(stored, 5, "nothing stored twice");

    // A registration that arrived before its notice is linked when the notice is loaded.
    let late = format!("{HEADER}N-77,資格取得,E01,,100,5,,,2024-04-20,2024-04-25,123456789018,\n");
    load(&mut c, &ins, &late).unwrap();
    let on: Option<NaiveDate> = notices::table
        .filter(notices::notice_id.eq("N-77"))
        .select(notices::registered_on)
        .first(&mut c)
        .unwrap();
    assert_eq!(on, NaiveDate::from_ymd_opt(2024, 5, 1));
}

#[test]
fn notices_of_two_insurers_with_the_same_ids_stay_apart() {
    let db = TestDb::new();
    let mut c = db.conn();
    let a = add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    let b = add_insurer(&mut c, "31123456", InsurerKind::Kyosai);
    load(&mut c, &a, &three_rows()).unwrap();
    let s = load(&mut c, &b, &three_rows()).unwrap();
    assert_eq!(
        s.new, 3,
        "the same 受付番号 at another insurer is another notice"
    );
    let regs = "受付番号,登録完了日時\nN-1,2024-05-01 10:00\n";
    load_regs(&mut c, &a, regs).unwrap();
    let b_reg: Option<NaiveDate> = notices::table
        .filter(notices::insurer_id.eq(b.id.0))
        .filter(notices::notice_id.eq("N-1"))
        .select(notices::registered_on)
        .first(&mut c)
        .unwrap();
    assert_eq!(b_reg, None, "A's registration must not touch B's notice");
    load_regs(&mut c, &b, regs).unwrap();

    // Without per-row foreign keys (issue 20), every stored reference still resolves to a row of
    // the same insurer: the merge resolves ids within the insurer, and nothing deletes the rows.
    #[derive(QueryableByName, Debug)]
    struct Broken {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let q = "SELECT COUNT(*) AS n FROM notices x \
             LEFT JOIN employers e ON e.id = x.employer_id AND e.insurer_id = x.insurer_id \
             LEFT JOIN members m ON m.id = x.member_id AND m.insurer_id = x.insurer_id \
             LEFT JOIN import_batches b ON b.id = x.batch_id AND b.insurer_id = x.insurer_id \
             LEFT JOIN insurers i ON i.id = x.insurer_id \
             WHERE e.id IS NULL OR m.id IS NULL OR b.id IS NULL OR i.id IS NULL \
             UNION ALL SELECT COUNT(*) FROM members x \
             LEFT JOIN employers e ON e.id = x.employer_id AND e.insurer_id = x.insurer_id \
             WHERE e.id IS NULL \
             UNION ALL SELECT COUNT(*) FROM registration_results x \
             LEFT JOIN import_batches b ON b.id = x.batch_id AND b.insurer_id = x.insurer_id \
             AND b.file_kind = 'registrations' WHERE b.id IS NULL";
    let broken: Vec<Broken> = match &mut c {
        DbConn::Sqlite(s) => diesel::sql_query(q).load(s).unwrap(),
        DbConn::Pg(p) => diesel::sql_query(q).load(p).unwrap(),
    };
    assert!(broken.iter().all(|b| b.n == 0), "{broken:?}");
    let total: i64 = notices::table.count().get_result(&mut c).unwrap();
    assert_eq!(total, 6);
}

#[test]
fn changing_the_rules_recomputes_stored_deadlines_in_one_go() {
    let db = TestDb::new();
    let mut c = db.conn();
    let ins = add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    let other = add_insurer(&mut c, "31123456", InsurerKind::Kyosai);
    load(&mut c, &ins, &three_rows()).unwrap();
    load(&mut c, &other, &three_rows()).unwrap();
    let deadlines = |c: &mut DbConn, insurer: &Insurer| -> Vec<(String, NaiveDate, NaiveDate)> {
        notices::table
            .filter(notices::insurer_id.eq(insurer.id.0))
            .order(notices::notice_id.asc())
            .select((
                notices::notice_id,
                notices::submission_deadline,
                notices::registration_deadline,
            ))
            .load(c)
            .unwrap()
    };
    let others_before = deadlines(&mut c, &other);
    let strict = RuleSettings::from_toml_str("[rules]\npolicy = \"strict\"\n").unwrap();
    let preview = import::preview_deadline_changes(&mut c, &ins, &strict).unwrap();
    let changed = import::recompute_deadlines(&mut c, &ins, &strict).unwrap();
    assert!(changed >= 1);
    assert_eq!(
        preview, changed,
        "the preview counts what the recompute changes"
    );
    let reg: NaiveDate = notices::table
        .filter(notices::insurer_id.eq(ins.id.0))
        .filter(notices::notice_id.eq("N-1"))
        .select(notices::registration_deadline)
        .first(&mut c)
        .unwrap();
    assert_eq!(reg, NaiveDate::from_ymd_opt(2024, 5, 3).unwrap());
    assert_eq!(
        deadlines(&mut c, &other),
        others_before,
        "another insurer's deadlines stay as they were"
    );
    let reloaded = regwatch::store::insurers::get(&mut c, ins.id).unwrap();
    assert_eq!(reloaded.rules, strict);
    assert_eq!(
        import::recompute_deadlines(&mut c, &reloaded, &strict).unwrap(),
        0
    );
}

#[test]
fn two_imports_for_one_insurer_at_once_both_complete() {
    let db = TestDb::new();
    let ins = {
        let mut c = db.conn();
        add_insurer(&mut c, "06123456", InsurerKind::Kenpo)
    };
    let file = |prefix: &str| {
        let mut s = HEADER.to_string();
        for i in 0..3000 {
            s.push_str(&format!(
                "{prefix}-{i},資格取得,E{:02},事業所{},1,{prefix}{i},,,2024-04-01,2024-04-03,,\n",
                i % 30,
                i % 30
            ));
        }
        s
    };
    let handles: Vec<_> = ["A", "B"]
        .into_iter()
        .map(|p| {
            let url = db.url.clone();
            let ins = ins.clone();
            let body = file(p);
            std::thread::spawn(move || {
                let mut c =
                    regwatch::store::establish(&regwatch::store::DatabaseUrl::parse(&url).unwrap())
                        .unwrap();
                load(&mut c, &ins, &body).unwrap()
            })
        })
        .collect();
    for h in handles {
        let s = h.join().unwrap();
        assert_eq!(s.new, 3000);
    }
    let mut c = db.conn();
    assert_eq!(notice_count(&mut c), 6000);
}

/// 10,000 valid My Numbers go in; none of the 12-digit numbers comes out anywhere.
#[test]
fn no_my_number_reaches_the_database_the_rejects_or_the_logs() {
    let db = TestDb::new();
    let mut c = db.conn();
    add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    drop(c);
    let mut body = HEADER.to_string();
    let mut numbers = Vec::new();
    for i in 0..10_000u64 {
        let lead = format!("{:011}", 31_415_926_535u64 + i * 7_919);
        let digits: Vec<u8> = lead.bytes().map(|b| b - b'0').collect();
        let n = format!(
            "{lead}{}",
            regwatch::domain::my_number::check_digit(&digits)
        );
        // Every 50th row is bad (unknown kind), so rejected rows exist too.
        let kind = if i % 50 == 0 {
            "不明"
        } else {
            "資格取得"
        };
        body.push_str(&format!(
            "M-{i},{kind},E1,,1,{i},,,2024-04-01,2024-04-03,{n},\n"
        ));
        numbers.push(n);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notices.csv");
    std::fs::write(&path, &body).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_regwatch"))
        .args([
            "--database-url",
            &db.url,
            "import",
            "notices",
            path.to_str().unwrap(),
            "--insurer",
            "06123456",
            "--as-of",
            "2024-06-30",
        ])
        .env("REGWATCH_LOG", "trace")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(logs.contains("9800 件新規"), "{logs}");

    let mut c = db.conn();
    let batch: i64 = import_batches::table
        .select(import_batches::id)
        .first(&mut c)
        .unwrap();
    let ins = regwatch::store::insurers::find_by_number(
        &mut c,
        &regwatch::domain::InsurerNumber::parse("06123456").unwrap(),
    )
    .unwrap();
    let rejects = String::from_utf8(
        regwatch::reports::export::rejects_csv(
            &regwatch::store::import::rejects(&mut c, ins.id, batch).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let stored = dump_database(&db, &mut c);
    assert!(
        stored.len() > 100_000,
        "the dump holds the data: {} bytes",
        stored.len()
    );
    let numbers: std::collections::HashSet<String> = numbers.into_iter().collect();
    assert_eq!(numbers.len(), 10_000);
    for (what, text) in [
        ("database", &stored),
        ("output/logs", &logs),
        ("rejected rows", &rejects),
    ] {
        assert_eq!(
            twelve_digit_windows(text).intersection(&numbers).count(),
            0,
            "My Number found in the {what}"
        );
    }
}

/// Every 12-digit window inside a run of ASCII digits: a linear scan instead of 10,000 searches.
fn twelve_digit_windows(text: &str) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for run in text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| r.len() >= 12)
    {
        for i in 0..=run.len() - 12 {
            out.insert(run[i..i + 12].to_string());
        }
    }
    out
}

/// Every byte the database holds: the SQLite file and its WAL, or every row of every table as text.
fn dump_database(db: &TestDb, c: &mut DbConn) -> String {
    if db.is_postgres() {
        #[derive(QueryableByName)]
        struct T {
            #[diesel(sql_type = diesel::sql_types::Text)]
            t: String,
        }
        let tables: Vec<T> = diesel::sql_query(
            "SELECT tablename::text AS t FROM pg_tables WHERE schemaname = 'public'",
        )
        .load(c)
        .unwrap();
        let mut all = String::new();
        for t in tables {
            let rows: Vec<T> = diesel::sql_query(format!("SELECT x::text AS t FROM \"{}\" x", t.t))
                .load(c)
                .unwrap();
            for r in rows {
                all.push_str(&r.t);
                all.push('\n');
            }
        }
        all
    } else {
        let path = db.url.trim_start_matches("sqlite://").to_string();
        let mut bytes = std::fs::read(&path).unwrap();
        if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
            bytes.extend(wal);
        }
        String::from_utf8_lossy(&bytes).to_string()
    }
}

/// SIGKILL in the middle of a file: nothing of the batch is visible, and running the command
/// again loads the whole file. The file is fed through a FIFO, so the importer is certainly
/// mid-file (blocked reading) when it is killed.
#[test]
fn a_killed_import_leaves_nothing_and_a_rerun_completes() {
    use std::io::Write;
    let db = TestDb::new();
    let mut c = db.conn();
    add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("notices.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let mut body = HEADER.to_string();
    for i in 0..5000 {
        body.push_str(&format!(
            "K-{i},資格取得,E{:02},,1,{i},,,2024-04-01,2024-04-03,,\n",
            i % 20
        ));
    }
    let (first_half, _) = body.split_at(body.len() / 2);
    let first_half = &first_half[..first_half.rfind('\n').unwrap() + 1];
    let import = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_regwatch"))
            .args([
                "--database-url",
                &db.url,
                "import",
                "notices",
                file.to_str().unwrap(),
                "--insurer",
                "06123456",
                "--as-of",
                "2024-06-30",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut child = import(&fifo);
    let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    w.write_all(first_half.as_bytes()).unwrap();
    w.flush().unwrap();
    // Give it time to write a few chunks into its open transaction, then kill it mid-file.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "still waiting for the rest of the file"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    drop(w);

    let mut c = db.conn();
    assert_eq!(
        notice_count(&mut c),
        0,
        "nothing of the killed batch is visible"
    );
    assert_eq!(batch_count(&mut c), 0);
    drop(c);

    let path = dir.path().join("notices.csv");
    std::fs::write(&path, &body).unwrap();
    let out = import(&path).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("5000 件新規"));
    let mut c = db.conn();
    assert_eq!(notice_count(&mut c), 5000);
}

#[test]
fn names_take_the_files_last_non_empty_value_and_a_notice_after_an_earlier_bad_registration_is_kept(
) {
    use regwatch::store::schema::{employers, members};
    let db = TestDb::new();
    let mut c = db.conn();
    let ins = add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    load(&mut c, &ins, &three_rows()).unwrap();
    // The same member twice in one file (a corrected name, then none), a new member whose two rows
    // name two employers, an employer renamed and one row without an employer name.
    let body = format!(
        "{HEADER}N-10,資格喪失,E01,株式会社テスト新,100,1,,山田 太朗,2024-05-31,2024-06-03,,\n\
         N-11,資格喪失,E01,,100,1,,,2024-06-01,2024-06-04,,\n\
         N-12,資格取得,E02,,300,9,,鈴木 一,2024-06-01,2024-06-04,,\n\
         N-13,資格喪失,E01,,300,9,,,2024-06-10,2024-06-12,,\n"
    );
    let s = load(&mut c, &ins, &body).unwrap();
    assert_eq!((s.new, s.changed, s.unchanged, s.rejected), (4, 0, 0, 0));
    let emp: Vec<(String, Option<String>)> = employers::table
        .order(employers::code.asc())
        .select((employers::code, employers::name))
        .load(&mut c)
        .unwrap();
    assert_eq!(
        emp,
        vec![
            ("E01".to_string(), Some("株式会社テスト新".to_string())),
            ("E02".to_string(), Some("テスト商事".to_string())),
        ],
        "renamed by the file; an empty name keeps the stored one"
    );
    let member = |c: &mut DbConn, number: &str| -> (Option<String>, String) {
        members::table
            .inner_join(employers::table.on(employers::id.nullable().eq(members::employer_id)))
            .filter(members::number.eq(number))
            .filter(members::dependent_seq.eq(""))
            .select((members::name, employers::code))
            .first(c)
            .unwrap()
    };
    assert_eq!(
        member(&mut c, "1"),
        (Some("山田 太朗".to_string()), "E01".to_string())
    );
    assert_eq!(
        member(&mut c, "9"),
        (Some("鈴木 一".to_string()), "E02".to_string()),
        "a new member belongs to the employer of its first row"
    );
    let count: i64 = members::table.count().get_result(&mut c).unwrap();
    assert_eq!(count, 4);

    // A registration stored before its notice arrives that predates the notice's receipt.
    let regs = "受付番号,登録完了日時,処理結果,エラーコード,エラー内容\n\
                N-20,2024-06-01 10:00:00,正常,,\n";
    load_regs(&mut c, &ins, regs).unwrap();
    let late = format!(
        "{HEADER}N-20,資格取得,E01,,400,1,,,2024-06-01,2024-06-05,,\n\
         N-21,資格取得,E01,,400,2,,,2024-06-01,2024-06-05,,\n"
    );
    // SPEC §2.5: the notice is loaded (never lost for a bad result row); the result, dated before
    // its receipt, does not count as its registration.
    let s = load(&mut c, &ins, &late).unwrap();
    assert_eq!((s.new, s.rejected), (2, 0));
    use regwatch::store::schema::notices;
    let registered: Option<chrono::NaiveDateTime> = notices::table
        .filter(notices::notice_id.eq("N-20"))
        .select(notices::registered_at)
        .first(&mut c)
        .unwrap();
    assert_eq!(registered, None);
    // A later, good result for it counts.
    load_regs(
        &mut c,
        &ins,
        "受付番号,登録完了日時,処理結果,エラーコード,エラー内容\nN-20,2024-06-06 10:00:00,正常,,\n",
    )
    .unwrap();
    let registered: Option<chrono::NaiveDate> = notices::table
        .filter(notices::notice_id.eq("N-20"))
        .select(notices::registered_on)
        .first(&mut c)
        .unwrap();
    assert_eq!(registered, chrono::NaiveDate::from_ymd_opt(2024, 6, 6));
}

#[test]
fn a_receipt_number_repeated_in_one_file_keeps_its_first_row() {
    use regwatch::store::schema::members;
    let db = TestDb::new();
    let mut c = db.conn();
    let ins = add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    // Line 4 repeats line 2 exactly; line 5 repeats its 受付番号 with another name, line 6 that of
    // line 3 with another date. The repeats are found in the stage, not by the reader.
    let body = format!(
        "{HEADER}N-1,資格取得,E01,株式会社テスト,100,1,,山田 太郎,2024-04-22,2024-04-28,,\n\
         N-2,資格喪失,E02,テスト商事,200,7,,佐藤 一郎,2024-03-31,2024-04-02,,\n\
         N-1,資格取得,E01,株式会社テスト,100,1,,山田 太郎,2024-04-22,2024-04-28,,\n\
         N-1,資格取得,E01,株式会社テスト,100,1,,山田 次郎,2024-04-22,2024-04-28,,\n\
         N-2,資格喪失,E02,テスト商事,200,7,,佐藤 一郎,2024-03-31,2024-04-03,,\n"
    );
    let s = load(&mut c, &ins, &body).unwrap();
    assert_eq!(
        (s.new, s.changed, s.unchanged, s.rejected, s.rows_read),
        (2, 0, 0, 2, 5)
    );
    let rejects: Vec<(u64, &str)> = s
        .rejects
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(
        rejects,
        vec![
            (5, "受付番号 N-1 が line 2 と異なる内容で重複しています"),
            (6, "受付番号 N-2 が line 3 と異なる内容で重複しています"),
        ]
    );
    let stored: i64 = import_rejects::table
        .filter(import_rejects::batch_id.eq(s.batch_id))
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(stored, 2);
    let name: Option<String> = members::table
        .filter(members::number.eq("1"))
        .select(members::name)
        .first(&mut c)
        .unwrap();
    assert_eq!(name.as_deref(), Some("山田 太郎"), "the first row stands");
    let received: NaiveDate = notices::table
        .filter(notices::notice_id.eq("N-2"))
        .select(notices::received_on)
        .first(&mut c)
        .unwrap();
    assert_eq!(received, NaiveDate::from_ymd_opt(2024, 4, 2).unwrap());

    let again = load(&mut c, &ins, &body).unwrap();
    assert_eq!(
        (again.new, again.changed, again.unchanged, again.rejected),
        (0, 0, 2, 2)
    );
    assert_eq!(notice_count(&mut c), 2);
}

#[test]
fn a_file_of_thousands_of_bad_rows_stores_every_reject() {
    let db = TestDb::new();
    let mut c = db.conn();
    let ins = add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    // More rejects than one chunk holds, and one good row at the end: they are written as they
    // come (the process does not keep them all), and the good row still loads.
    let mut body = HEADER.to_string();
    for i in 0..25_000 {
        body.push_str(&format!(
            "B-{i},資格取得,E01,,100,{i},,,2024-02-30,2024-04-02,,\n"
        ));
    }
    body.push_str("G-1,資格取得,E01,,100,1,,,2024-04-01,2024-04-02,,\n");
    let s = load(&mut c, &ins, &body).unwrap();
    assert_eq!((s.new, s.rejected, s.rows_read), (1, 25_000, 25_001));
    assert_eq!(
        s.rejects.len(),
        50,
        "the summary keeps the first rejects only"
    );
    let stored: i64 = import_rejects::table
        .filter(import_rejects::batch_id.eq(s.batch_id))
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(stored, 25_000);
    let last: i64 = import_rejects::table
        .filter(import_rejects::batch_id.eq(s.batch_id))
        .select(diesel::dsl::max(import_rejects::line))
        .first::<Option<i64>>(&mut c)
        .unwrap()
        .unwrap();
    assert_eq!(last, 25_001);
}
