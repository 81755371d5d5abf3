//! The insurer's files as they are (SPEC §3.1), end to end through the `regwatch` binary: an
//! Excel export read through an import profile gives exactly what the same data in regwatch's
//! own CSV gives (check output and stored notices), profile errors and line numbers, the
//! 個人番号記載 column, registration results keyed by member, employers' e-Gov files, and the
//! encodings and re-keyed 受付番号 that are refused by name. Tests that load a database run on
//! SQLite, and on PostgreSQL when REGWATCH_TEST_POSTGRES_URL is set.
mod common;

use chrono::NaiveDate;
use common::{add_insurer, regwatch_bin as regwatch, ymd as date, TestDb};
use diesel::prelude::*;
use regwatch::domain::InsurerKind;
use regwatch::store::schema::{employers, import_batches, import_rejects, members, notices};
use regwatch::store::DbConn;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::path::{Path, PathBuf};
use std::process::Output;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The valid My Number of the SPEC's examples (its check digit is right).
const MY_NUMBER: &str = "123456789018";
/// The same with a wrong check digit.
const BAD_MY_NUMBER: &str = "123456789017";

/// A valid My Number from 11 leading digits.
fn my_number(lead: &str) -> String {
    let digits: Vec<u8> = lead.bytes().map(|b| b - b'0').collect();
    format!(
        "{lead}{}",
        regwatch::domain::my_number::check_digit(&digits)
    )
}

/// `regwatch --database-url … <args>`.
fn regwatch_db(db: &TestDb, args: &[&str]) -> Output {
    let mut all = vec!["--database-url", db.url.as_str()];
    all.extend_from_slice(args);
    regwatch(&all)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn both(o: &Output) -> String {
    format!("{}\n{}", stdout(o), stderr(o))
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Writes `text` with CRLF line ends in Shift_JIS (as the insurers' systems do).
fn write_sjis(path: &Path, text: &str) {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&crlf);
    assert!(!unmappable, "test data is Shift_JIS-encodable");
    std::fs::write(path, bytes).unwrap();
}

/// `regwatch check` as of 2024-06-30 in jsonl.
fn check(notices: &Path, registrations: Option<&Path>, profile: Option<&Path>) -> Output {
    check_with(notices, registrations, profile, "jsonl", &[])
}

fn check_with(
    notices: &Path,
    registrations: Option<&Path>,
    profile: Option<&Path>,
    format: &str,
    extra: &[&str],
) -> Output {
    let mut args = vec!["check", "--notices", p(notices), "--format", format];
    if !extra.contains(&"--as-of") {
        args.extend(["--as-of", "2024-06-30"]);
    }
    if let Some(r) = registrations {
        args.extend(["--registrations", p(r)]);
    }
    if let Some(pr) = profile {
        args.extend(["--profile", p(pr)]);
    }
    args.extend_from_slice(extra);
    regwatch(&args)
}

fn jsonl(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn by_id<'a>(rows: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["notice_id"] == id)
        .unwrap_or_else(|| panic!("{id} not in the output: {rows:?}"))
}

/// `regwatch import notices|registrations FILE --insurer N …` as of 2024-06-30.
fn import(db: &TestDb, what: &str, file: &Path, insurer: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "import",
        what,
        p(file),
        "--insurer",
        insurer,
        "--as-of",
        "2024-06-30",
    ];
    args.extend_from_slice(extra);
    regwatch_db(db, &args)
}

/// A notice as stored, with its member and employer: everything the rules and the screens use.
#[derive(Debug, PartialEq, Eq)]
struct StoredNotice {
    notice_id: String,
    kind: String,
    employer_code: String,
    employer_name: Option<String>,
    symbol: String,
    number: String,
    dependent_seq: String,
    name: Option<String>,
    event_date: NaiveDate,
    received_on: NaiveDate,
    my_number_status: String,
    submission_deadline: NaiveDate,
    registration_deadline: NaiveDate,
    registration_rule: String,
    registered_on: Option<NaiveDate>,
}

type StoredTuple = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    NaiveDate,
    NaiveDate,
    String,
    NaiveDate,
    NaiveDate,
    String,
    Option<NaiveDate>,
);

/// The notices of insurer `number`, by 受付番号.
fn stored(c: &mut DbConn, number: &str) -> Vec<StoredNotice> {
    let ins = regwatch::store::insurers::find_by_number(
        c,
        &regwatch::domain::InsurerNumber::parse(number).unwrap(),
    )
    .unwrap();
    let rows: Vec<StoredTuple> = notices::table
        .inner_join(members::table)
        .inner_join(employers::table)
        .filter(notices::insurer_id.eq(ins.id.0))
        .order(notices::notice_id.asc())
        .select((
            notices::notice_id,
            notices::kind,
            employers::code,
            employers::name,
            members::symbol,
            members::number,
            members::dependent_seq,
            members::name,
            notices::event_date,
            notices::received_on,
            notices::my_number_status,
            notices::submission_deadline,
            notices::registration_deadline,
            notices::registration_rule,
            notices::registered_on,
        ))
        .load(c)
        .unwrap();
    rows.into_iter()
        .map(|t| StoredNotice {
            notice_id: t.0,
            kind: t.1,
            employer_code: t.2,
            employer_name: t.3,
            symbol: t.4,
            number: t.5,
            dependent_seq: t.6,
            name: t.7,
            event_date: t.8,
            received_on: t.9,
            my_number_status: t.10,
            submission_deadline: t.11,
            registration_deadline: t.12,
            registration_rule: t.13,
            registered_on: t.14,
        })
        .collect()
}

fn notice_count(c: &mut DbConn) -> i64 {
    notices::table.count().get_result(c).unwrap()
}

/// Every byte the database holds: the SQLite file and its WAL, or every row of every table as
/// text (as in tests/import.rs).
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

/// Asserts that none of `numbers` appears in `text`, also not with the digits split by spaces
/// or hyphens.
fn assert_no_numbers(what: &str, text: &str, numbers: &[&str]) {
    let squeezed: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
        .collect();
    for n in numbers {
        assert!(
            !text.contains(n) && !squeezed.contains(n),
            "My Number {n} found in the {what}:\n{text}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Excel workbooks as insurers' systems export them
// ---------------------------------------------------------------------------------------------

/// One cell of a test workbook.
#[derive(Clone)]
enum Cell {
    /// Text.
    T(String),
    /// A number cell.
    N(f64),
    /// A date cell shown `yyyy/m/d`.
    D(u16, u8, u8),
    /// A date cell shown in the Japanese era (`令和6年4月3日`), as Japanese Excel does.
    Wareki(u16, u8, u8),
    Blank,
}

fn t(s: &str) -> Cell {
    Cell::T(s.to_string())
}

/// Writes a workbook with a note sheet first and the data on sheet `sheet`; `rows` are
/// (1-based sheet row, cells).
fn write_book(path: &Path, sheet: &str, rows: &[(u32, Vec<Cell>)]) {
    let mut wb = Workbook::new();
    let slash = Format::new().set_num_format("yyyy/m/d");
    let wareki = Format::new().set_num_format("[$-ja-JP-x-gannen]ggge\"年\"m\"月\"d\"日\"");
    let note = wb.add_worksheet();
    note.set_name("説明").unwrap();
    note.write_string(0, 0, "このブックは受付システムから出力しました")
        .unwrap();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).unwrap();
    for (row, cells) in rows {
        let r = row - 1;
        for (c, cell) in cells.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::T(s) => {
                    ws.write_string(r, c, s).unwrap();
                }
                Cell::N(n) => {
                    ws.write_number(r, c, *n).unwrap();
                }
                Cell::D(y, m, d) => {
                    let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                    ws.write_datetime_with_format(r, c, &dt, &slash).unwrap();
                }
                Cell::Wareki(y, m, d) => {
                    let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                    ws.write_datetime_with_format(r, c, &dt, &wareki).unwrap();
                }
                Cell::Blank => {}
            }
        }
    }
    wb.save(path).unwrap();
}

const SHEET: &str = "届書一覧";

fn title_row() -> (u32, Vec<Cell>) {
    (1, vec![t("資格取得届等 受付一覧（令和6年度）")])
}

fn header_row() -> (u32, Vec<Cell>) {
    (
        3,
        [
            "受付No",
            "届出区分",
            "事業所番号",
            "事業所名",
            "記号",
            "番号",
            "枝番",
            "氏名",
            "資格取得日",
            "受付年月日",
            "マイナンバー記載",
        ]
        .iter()
        .map(|h| t(h))
        .collect(),
    )
}

/// A data row of the insurer's export (the header of `header_row`).
#[allow(clippy::too_many_arguments)]
fn xrow(
    id: &str,
    kind: Cell,
    employer: (&str, &str),
    member: (&str, &str, &str),
    name: &str,
    event: Cell,
    received: Cell,
    my_number: &str,
) -> Vec<Cell> {
    vec![
        t(id),
        kind,
        t(employer.0),
        t(employer.1),
        t(member.0),
        t(member.1),
        if member.2.is_empty() {
            Cell::Blank
        } else {
            t(member.2)
        },
        t(name),
        event,
        received,
        t(my_number),
    ]
}

/// The import profile of the Done-when case: the notices sheet, and registration results of
/// the intermediate server that name the member, not the 受付番号.
const PROFILE: &str = r#"
[notices]
sheet = "届書一覧"
header_row = 3
[notices.columns]
notice_id = "受付No"
kind = "届出区分"
employer_code = "事業所番号"
employer_name = "事業所名"
member_symbol = "記号"
member_number = "番号"
dependent_seq = "枝番"
name = "氏名"
event_date = "資格取得日"
received_on = "受付年月日"
my_number_status = "マイナンバー記載"
[notices.values.kind]
"01" = "acquisition"
"02" = "dependent"
"03" = "loss"
[notices.values.my_number_status]
"有" = "valid"
"無" = "missing"
"誤り" = "invalid"

[registrations]
[registrations.columns]
member_symbol = "被保険者記号"
member_number = "被保険者番号"
dependent_seq = "枝番"
result = "処理結果"
registered_at = "登録完了日時"
[registrations.values.result]
"正常終了" = "ok"
"異常終了" = "error"
"#;

const E01: (&str, &str) = ("E01", "株式会社テスト");
const E02: (&str, &str) = ("E02", "テスト商事");

/// The insurer's Excel export: a title at row 1, the header at row 3, codes for the kinds
/// (some as number cells, as Excel keeps `01` typed into a number cell), event dates as date
/// cells and receipt dates as date cells in 和暦 format or as 和暦 text.
fn done_when_rows() -> Vec<(u32, Vec<Cell>)> {
    vec![
        title_row(),
        header_row(),
        (
            4,
            xrow(
                "A-0001",
                Cell::N(1.0),
                E01,
                ("100", "1", ""),
                "山田 太郎",
                Cell::D(2024, 4, 1),
                Cell::Wareki(2024, 4, 3),
                "有",
            ),
        ),
        (
            5,
            xrow(
                "A-0002",
                t("02"),
                E01,
                ("100", "1", "01"),
                "山田 花子",
                t("令和6年4月1日"),
                t("令和6年4月15日"),
                "無",
            ),
        ),
        (
            6,
            xrow(
                "A-0003",
                t("03"),
                E02,
                ("200", "7", ""),
                "佐藤 一郎",
                Cell::D(2024, 3, 31),
                t("R6.4.2"),
                "誤り",
            ),
        ),
        (
            7,
            xrow(
                "A-0004",
                t("01"),
                E02,
                ("200", "8", ""),
                "鈴木 次郎",
                Cell::D(2024, 4, 22),
                t("令和6年4月26日"),
                "有",
            ),
        ),
        (
            8,
            xrow(
                "A-0005",
                t("01"),
                E01,
                ("100", "2", ""),
                "高橋 三郎",
                Cell::D(2024, 4, 5),
                Cell::D(2024, 4, 5),
                "有",
            ),
        ),
        (
            9,
            xrow(
                "A-0006",
                Cell::N(3.0),
                E01,
                ("100", "2", ""),
                "高橋 三郎",
                Cell::D(2024, 5, 15),
                t("令和6年5月20日"),
                "有",
            ),
        ),
        (
            10,
            xrow(
                "A-0007",
                t("01"),
                E02,
                ("200", "9", ""),
                "伊藤 四郎",
                Cell::Wareki(2024, 6, 20),
                t("令和6年6月24日"),
                "無",
            ),
        ),
    ]
}

/// The intermediate server's results by member, Shift_JIS (no 受付番号).
const MEMBER_RESULTS: &str = "被保険者記号,被保険者番号,枝番,処理結果,登録完了日時\n\
100,1,,正常終了,2024/04/08 10:30:00\n\
100,1,01,異常終了,2024/04/20 09:00:00\n\
100,1,01,正常終了,2024/05/10 14:00:00\n\
200,7,,正常終了,2024/04/04 11:00\n\
200,8,,正常終了,2024-05-07T01:30:00Z\n\
100,2,,正常終了,2024/04/09 10:00\n\
100,2,,正常終了,2024/05/21 10:00\n";

/// The same notices in regwatch's format: statuses as words or codes, one row with the number
/// and the status that agrees with it.
fn regwatch_notices() -> String {
    format!(
        "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号,個人番号記載\n\
A-0001,資格取得,E01,株式会社テスト,100,1,,山田 太郎,2024-04-01,2024-04-03,{MY_NUMBER},有・正\n\
A-0002,被扶養者,E01,株式会社テスト,100,1,01,山田 花子,2024-04-01,2024-04-15,,無・未記載\n\
A-0003,資格喪失,E02,テスト商事,200,7,,佐藤 一郎,2024-03-31,2024-04-02,,誤り・不備\n\
A-0004,資格取得,E02,テスト商事,200,8,,鈴木 次郎,2024-04-22,2024-04-26,,valid\n\
A-0005,資格取得,E01,株式会社テスト,100,2,,高橋 三郎,2024-04-05,2024-04-05,,有・正\n\
A-0006,資格喪失,E01,株式会社テスト,100,2,,高橋 三郎,2024-05-15,2024-05-20,,valid\n\
A-0007,資格取得,E02,テスト商事,200,9,,伊藤 四郎,2024-06-20,2024-06-24,,missing\n"
    )
}

const REGWATCH_RESULTS: &str = "受付番号,登録完了日時,処理結果\n\
A-0001,2024/04/08 10:30:00,正常\n\
A-0002,2024/04/20 09:00:00,エラー\n\
A-0002,2024/05/10 14:00:00,正常\n\
A-0003,2024/04/04 11:00,正常\n\
A-0004,2024-05-07T01:30:00Z,正常\n\
A-0005,2024/04/09 10:00,正常\n\
A-0006,2024/05/21 10:00,正常\n";

/// The Done-when files in `dir`: (book.xlsx, results.csv, profile.toml, notices.csv,
/// registrations.csv).
struct DoneWhen {
    book: PathBuf,
    results: PathBuf,
    profile: PathBuf,
    notices: PathBuf,
    registrations: PathBuf,
}

fn done_when_files(dir: &Path) -> DoneWhen {
    let f = DoneWhen {
        book: dir.join("受付一覧.xlsx"),
        results: dir.join("登録結果.csv"),
        profile: dir.join("profile.toml"),
        notices: dir.join("notices.csv"),
        registrations: dir.join("registrations.csv"),
    };
    write_book(&f.book, SHEET, &done_when_rows());
    write_sjis(&f.results, MEMBER_RESULTS);
    std::fs::write(&f.profile, PROFILE).unwrap();
    std::fs::write(&f.notices, regwatch_notices()).unwrap();
    std::fs::write(&f.registrations, REGWATCH_RESULTS).unwrap();
    f
}

// ---------------------------------------------------------------------------------------------
// 1. The Done-when case
// ---------------------------------------------------------------------------------------------

#[test]
fn an_excel_export_through_a_profile_checks_exactly_like_the_regwatch_files() {
    let dir = tempfile::tempdir().unwrap();
    let f = done_when_files(dir.path());

    let theirs = check(&f.book, Some(&f.results), Some(&f.profile));
    let ours = check(&f.notices, Some(&f.registrations), None);
    assert_eq!(theirs.status.code(), Some(0), "{}", stderr(&theirs));
    assert_eq!(ours.status.code(), Some(0), "{}", stderr(&ours));
    assert_eq!(
        stdout(&theirs),
        stdout(&ours),
        "the insurer's files and regwatch's give the same jsonl"
    );

    let rows = jsonl(&theirs);
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r["notice_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["A-0001", "A-0002", "A-0003", "A-0004", "A-0005", "A-0006", "A-0007"]
    );
    // Codes mapped: 1 (a number cell) and 01 → acquisition, 02 → dependent, 3 → loss.
    let kinds: Vec<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "acquisition",
            "dependent",
            "loss",
            "acquisition",
            "acquisition",
            "loss",
            "acquisition"
        ]
    );
    let statuses: Vec<&str> = rows
        .iter()
        .map(|r| r["my_number_status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["valid", "missing", "invalid", "valid", "valid", "valid", "missing"]
    );

    // A-0001: event 04-01 (a date cell) + 5 = 04-06 (Sat) → 04-08; received 04-03 (a 和暦
    // formatted date cell) → met. Registered 04-08 10:30 by member 100/1 → 04-03 + 5 = 04-08: met.
    let a1 = by_id(&rows, "A-0001");
    assert_eq!(a1["submission"]["deadline"], "2024-04-08");
    assert_eq!(a1["submission"]["status"], "met");
    assert_eq!(a1["registration"]["rule"], "five_day");
    assert_eq!(a1["registration"]["deadline"], "2024-04-08");
    assert_eq!(a1["registration"]["status"], "met");
    assert_eq!(a1["e2e_days"], 7);
    // A-0002 (和暦 text): received 04-15 + 14 = 04-29 昭和の日 → 04-30; the error row of 04-20
    // does not count, the success of 05-10 does: 10 days over.
    let a2 = by_id(&rows, "A-0002");
    assert_eq!(a2["registration"]["rule"], "standard");
    assert_eq!(a2["registration"]["deadline"], "2024-04-30");
    assert_eq!(a2["registration"]["status"], "breached");
    assert_eq!(a2["registration"]["days_over"], 10);
    // A-0004: 2024-05-07T01:30Z is 10:30 JST on 05-07; 04-26 + 5 = 05-01 → met? No: 05-01 is a
    // working day, so 05-07 is 6 days over.
    let a4 = by_id(&rows, "A-0004");
    assert_eq!(a4["registration"]["deadline"], "2024-05-01");
    assert_eq!(a4["registration"]["status"], "breached");
    assert_eq!(a4["registration"]["days_over"], 6);
    // Member 100/2 has two notices: the result of 04-09 goes to A-0005 (received 04-05), the one
    // of 05-21 to A-0006 (received 05-20, a 資格喪失届: 2 days → 05-22, met).
    let a5 = by_id(&rows, "A-0005");
    assert_eq!(a5["registration"]["status"], "met");
    assert_eq!(a5["e2e_days"], 4);
    let a6 = by_id(&rows, "A-0006");
    assert_eq!(a6["registration"]["deadline"], "2024-05-22");
    assert_eq!(a6["registration"]["status"], "met");
    // A-0007 has no result: received 06-24 + 14 = 07-08, open as of 06-30.
    let a7 = by_id(&rows, "A-0007");
    assert_eq!(a7["registration"]["status"], "open");
    assert_eq!(a7["e2e_days"], serde_json::Value::Null);

    // The other formats agree too.
    for format in ["csv", "summary", "table"] {
        let a = check_with(&f.book, Some(&f.results), Some(&f.profile), format, &[]);
        let b = check_with(&f.notices, Some(&f.registrations), None, format, &[]);
        assert_eq!(stdout(&a), stdout(&b), "{format}");
        assert_no_numbers(format, &both(&b), &[MY_NUMBER]);
    }
    assert_no_numbers("check output", &both(&ours), &[MY_NUMBER]);
}

#[test]
fn an_excel_export_through_a_profile_imports_like_the_regwatch_files_and_reimports_nothing() {
    let db = TestDb::new();
    let mut c = db.conn();
    add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    add_insurer(&mut c, "06654321", InsurerKind::Kenpo);
    drop(c);
    let dir = tempfile::tempdir().unwrap();
    let f = done_when_files(dir.path());
    let profile = ["--profile", p(&f.profile)];

    let first = import(&db, "notices", &f.book, "06123456", &profile);
    assert_eq!(first.status.code(), Some(0), "{}", both(&first));
    assert!(
        stdout(&first).contains("7 件新規、0 件変更、0 件変更なし、0 行却下（7 行読込）"),
        "{}",
        both(&first)
    );
    let again = import(&db, "notices", &f.book, "06123456", &profile);
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));
    assert!(
        stdout(&again).contains("0 件新規、0 件変更、7 件変更なし"),
        "{}",
        both(&again)
    );
    let regs = import(&db, "registrations", &f.results, "06123456", &profile);
    assert_eq!(regs.status.code(), Some(0), "{}", both(&regs));
    let regs_again = import(&db, "registrations", &f.results, "06123456", &profile);
    assert_eq!(regs_again.status.code(), Some(0), "{}", both(&regs_again));
    assert!(
        stdout(&regs_again).contains("0 件新規、0 件変更"),
        "{}",
        both(&regs_again)
    );

    // The same data in regwatch's files, into the other insurer.
    let ours = import(&db, "notices", &f.notices, "06654321", &[]);
    assert_eq!(ours.status.code(), Some(0), "{}", both(&ours));
    assert!(stdout(&ours).contains("7 件新規"), "{}", both(&ours));
    let ours_regs = import(&db, "registrations", &f.registrations, "06654321", &[]);
    assert_eq!(ours_regs.status.code(), Some(0), "{}", both(&ours_regs));
    for o in [&first, &again, &regs, &regs_again, &ours, &ours_regs] {
        assert_no_numbers("import output", &both(o), &[MY_NUMBER]);
    }

    let mut c = db.conn();
    let theirs = stored(&mut c, "06123456");
    let ours = stored(&mut c, "06654321");
    assert_eq!(theirs.len(), 7);
    assert_eq!(theirs, ours, "the stored notices are the same");
    let a1 = &theirs[0];
    assert_eq!(
        (
            a1.kind.as_str(),
            a1.employer_code.as_str(),
            a1.employer_name.as_deref(),
            a1.symbol.as_str(),
            a1.number.as_str(),
            a1.name.as_deref()
        ),
        (
            "acquisition",
            "E01",
            Some("株式会社テスト"),
            "100",
            "1",
            Some("山田 太郎")
        )
    );
    assert_eq!(
        (a1.event_date, a1.received_on, a1.registered_on),
        (date(2024, 4, 1), date(2024, 4, 3), Some(date(2024, 4, 8)))
    );
    assert_eq!(theirs[1].dependent_seq, "01");
    assert_eq!(theirs[1].registered_on, Some(date(2024, 5, 10)));
    assert_eq!(theirs[4].registered_on, Some(date(2024, 4, 9)), "A-0005");
    assert_eq!(theirs[5].registered_on, Some(date(2024, 5, 21)), "A-0006");
    assert_eq!(theirs[6].registered_on, None, "A-0007");
    assert_no_numbers("database", &dump_database(&db, &mut c), &[MY_NUMBER]);
}

// ---------------------------------------------------------------------------------------------
// 2. Profile errors, 3. Excel line numbers
// ---------------------------------------------------------------------------------------------

#[test]
fn a_profile_with_an_unknown_key_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = done_when_files(dir.path());
    for (bad, key) in [
        (
            PROFILE.replace("header_row = 3", "header_rows = 3"),
            "header_rows",
        ),
        (
            PROFILE.replace(
                "received_on = \"受付年月日\"",
                "receipt_day = \"受付年月日\"",
            ),
            "receipt_day",
        ),
        (
            PROFILE.replace("\"03\" = \"loss\"", "\"03\" = \"lost\""),
            "lost",
        ),
    ] {
        std::fs::write(&f.profile, &bad).unwrap();
        let o = check(&f.book, None, Some(&f.profile));
        assert_eq!(o.status.code(), Some(1), "{key}: {}", both(&o));
        assert!(stderr(&o).contains(key), "{key}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{key}: {}", stdout(&o));
    }

    // import refuses it as well and stores nothing.
    let db = TestDb::new();
    let mut c = db.conn();
    add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    drop(c);
    std::fs::write(
        &f.profile,
        PROFILE.replace("header_row = 3", "header_rows = 3"),
    )
    .unwrap();
    let o = import(
        &db,
        "notices",
        &f.book,
        "06123456",
        &["--profile", p(&f.profile)],
    );
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(stderr(&o).contains("header_rows"), "{}", stderr(&o));
    let mut c = db.conn();
    assert_eq!(notice_count(&mut c), 0);
}

#[test]
fn a_mapped_header_the_file_lacks_refuses_the_file_naming_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let f = done_when_files(dir.path());
    std::fs::write(
        &f.profile,
        PROFILE.replace("received_on = \"受付年月日\"", "received_on = \"受付日付\""),
    )
    .unwrap();
    let o = check(&f.book, None, Some(&f.profile));
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let err = stderr(&o);
    assert!(
        err.contains("「受付日付」") && err.contains("3行目"),
        "names the header and the header row: {err}"
    );
    assert!(stdout(&o).is_empty());

    // The registrations part alike.
    std::fs::write(
        &f.profile,
        PROFILE.replace(
            "registered_at = \"登録完了日時\"",
            "registered_at = \"処理日時\"",
        ),
    )
    .unwrap();
    let o = check(&f.book, Some(&f.results), Some(&f.profile));
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(stderr(&o).contains("「処理日時」"), "{}", stderr(&o));

    // A sheet the workbook lacks is named with those it has.
    std::fs::write(
        &f.profile,
        PROFILE.replace("sheet = \"届書一覧\"", "sheet = \"受付簿\""),
    )
    .unwrap();
    let o = check(&f.book, None, Some(&f.profile));
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(
        stderr(&o).contains("受付簿") && stderr(&o).contains("届書一覧"),
        "{}",
        stderr(&o)
    );

    let db = TestDb::new();
    let mut c = db.conn();
    add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    drop(c);
    std::fs::write(
        &f.profile,
        PROFILE.replace("received_on = \"受付年月日\"", "received_on = \"受付日付\""),
    )
    .unwrap();
    let o = import(
        &db,
        "notices",
        &f.book,
        "06123456",
        &["--profile", p(&f.profile)],
    );
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    assert!(stderr(&o).contains("「受付日付」"), "{}", stderr(&o));
    let mut c = db.conn();
    assert_eq!(notice_count(&mut c), 0);
    let batches: i64 = import_batches::table.count().get_result(&mut c).unwrap();
    assert_eq!(batches, 0);
}

#[test]
fn a_code_the_profile_does_not_map_rejects_that_row_with_its_sheet_row() {
    let dir = tempfile::tempdir().unwrap();
    let f = done_when_files(dir.path());
    let mut rows = done_when_rows();
    // Sheet row 6 (A-0003) gets 届出区分 04, which the profile does not list.
    rows[4].1[1] = t("04");
    write_book(&f.book, SHEET, &rows);

    let o = check(&f.book, None, Some(&f.profile));
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    let err = stderr(&o);
    assert!(
        err.contains("line 6:") && err.contains("「04」") && err.contains("届出区分"),
        "{err}"
    );
    assert_eq!(err.matches("line ").count(), 1, "only that row: {err}");
    let ids: Vec<String> = jsonl(&o)
        .iter()
        .map(|r| r["notice_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        ["A-0001", "A-0002", "A-0004", "A-0005", "A-0006", "A-0007"]
    );

    let db = TestDb::new();
    let mut c = db.conn();
    add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    drop(c);
    let o = import(
        &db,
        "notices",
        &f.book,
        "06123456",
        &["--profile", p(&f.profile)],
    );
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    assert!(
        stdout(&o).contains("6 件新規、0 件変更、0 件変更なし、1 行却下"),
        "{}",
        both(&o)
    );
    assert!(stderr(&o).contains("line 6:"), "{}", stderr(&o));
    let mut c = db.conn();
    assert_eq!(notice_count(&mut c), 6);
    let lines: Vec<i64> = import_rejects::table
        .select(import_rejects::line)
        .load(&mut c)
        .unwrap();
    assert_eq!(lines, [6]);
}

#[test]
fn an_error_on_sheet_row_7_is_reported_as_line_7() {
    let dir = tempfile::tempdir().unwrap();
    let f = done_when_files(dir.path());
    // Title, blank row, header at 3, rows 4 and 5, a blank row 6, a bad date at row 7, row 8.
    let rows = vec![
        title_row(),
        header_row(),
        (
            4,
            xrow(
                "L-4",
                t("01"),
                E01,
                ("100", "41", ""),
                "行 四",
                Cell::D(2024, 4, 1),
                Cell::D(2024, 4, 2),
                "有",
            ),
        ),
        (
            5,
            xrow(
                "L-5",
                t("01"),
                E01,
                ("100", "51", ""),
                "行 五",
                Cell::D(2024, 4, 1),
                Cell::D(2024, 4, 2),
                "有",
            ),
        ),
        (
            7,
            xrow(
                "L-7",
                t("01"),
                E01,
                ("100", "71", ""),
                "行 七",
                t("令和6年2月30日"),
                Cell::D(2024, 4, 2),
                "有",
            ),
        ),
        (
            8,
            xrow(
                "L-8",
                t("01"),
                E01,
                ("100", "81", ""),
                "行 八",
                Cell::D(2024, 4, 1),
                Cell::D(2024, 4, 2),
                "有",
            ),
        ),
    ];
    write_book(&f.book, SHEET, &rows);
    let o = check(&f.book, None, Some(&f.profile));
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    let err = stderr(&o);
    assert!(err.contains("line 7:"), "{err}");
    assert_eq!(err.matches("line ").count(), 1, "{err}");
    assert_eq!(jsonl(&o).len(), 3);

    let db = TestDb::new();
    let mut c = db.conn();
    add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    drop(c);
    let o = import(
        &db,
        "notices",
        &f.book,
        "06123456",
        &["--profile", p(&f.profile)],
    );
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    assert!(stderr(&o).contains("line 7:"), "{}", stderr(&o));
    assert!(stdout(&o).contains("3 件新規"), "{}", both(&o));
    let mut c = db.conn();
    let lines: Vec<i64> = import_rejects::table
        .select(import_rejects::line)
        .load(&mut c)
        .unwrap();
    assert_eq!(lines, [7]);
}

// ---------------------------------------------------------------------------------------------
// 4. The 個人番号記載 column
// ---------------------------------------------------------------------------------------------

fn status_file() -> String {
    format!(
        "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日,個人番号,個人番号記載\n\
S-1,資格取得,E01,100,1,2024-04-22,2024-04-28,,有・正\n\
S-2,資格取得,E01,100,2,2024-04-22,2024-04-28,,無・未記載\n\
S-3,資格取得,E01,100,3,2024-04-22,2024-04-28,,誤り・不備\n\
S-4,資格取得,E01,100,4,2024-04-22,2024-04-28,{MY_NUMBER},有・正\n\
S-5,資格取得,E01,100,5,2024-04-22,2024-04-28,{MY_NUMBER},無・未記載\n\
S-6,資格取得,E01,100,6,2024-04-22,2024-04-28,{BAD_MY_NUMBER},有\n\
S-7,資格取得,E01,100,7,2024-04-22,2024-04-28,,たぶん\n\
S-8,資格取得,E01,100,8,2024-04-22,2024-04-28,{BAD_MY_NUMBER},invalid\n\
S-9,資格取得,E01,100,9,2024-04-22,2024-04-28,,missing\n"
    )
}

#[test]
fn the_my_number_status_column_is_applied_and_a_disagreeing_number_rejects_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notices.csv");
    std::fs::write(&path, status_file()).unwrap();
    let o = check(&path, None, None);
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    let rows = jsonl(&o);
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["notice_id"].as_str().unwrap(),
                r["my_number_status"].as_str().unwrap(),
                r["registration"]["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("S-1", "valid", "five_day"),
            ("S-2", "missing", "standard"),
            ("S-3", "invalid", "standard"),
            ("S-4", "valid", "five_day"),
            ("S-8", "invalid", "standard"),
            ("S-9", "missing", "standard"),
        ]
    );
    // Received 04-28 + 5 = 05-03 → 05-07; + 14 = 05-12 (Sunday) → 05-13.
    assert_eq!(
        by_id(&rows, "S-1")["registration"]["deadline"],
        "2024-05-07"
    );
    assert_eq!(
        by_id(&rows, "S-2")["registration"]["deadline"],
        "2024-05-13"
    );
    let err = stderr(&o);
    for line in ["line 6:", "line 7:", "line 8:"] {
        assert!(err.contains(line), "{line}: {err}");
    }
    assert_eq!(err.lines().filter(|l| l.starts_with("line ")).count(), 3);
    for format in ["jsonl", "table", "csv", "summary"] {
        let o = check_with(&path, None, None, format, &[]);
        assert_no_numbers(format, &both(&o), &[MY_NUMBER, BAD_MY_NUMBER]);
    }

    let db = TestDb::new();
    let mut c = db.conn();
    let ins = add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    drop(c);
    let o = import(&db, "notices", &path, "06123456", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    assert!(
        stdout(&o).contains("6 件新規、0 件変更、0 件変更なし、3 行却下"),
        "{}",
        both(&o)
    );
    assert_no_numbers("import output", &both(&o), &[MY_NUMBER, BAD_MY_NUMBER]);
    let mut c = db.conn();
    let statuses: Vec<(String, String)> = notices::table
        .order(notices::notice_id.asc())
        .select((notices::notice_id, notices::my_number_status))
        .load(&mut c)
        .unwrap();
    let statuses: Vec<(&str, &str)> = statuses
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("S-1", "valid"),
            ("S-2", "missing"),
            ("S-3", "invalid"),
            ("S-4", "valid"),
            ("S-8", "invalid"),
            ("S-9", "missing"),
        ]
    );
    let batch: i64 = import_batches::table
        .select(import_batches::id)
        .first(&mut c)
        .unwrap();
    let rejects = String::from_utf8(
        regwatch::reports::export::rejects_csv(
            &regwatch::store::import::rejects(&mut c, ins.id, batch).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(
        rejects.contains("\n6,") && rejects.contains("\n8,"),
        "{rejects}"
    );
    assert_no_numbers("rejected rows", &rejects, &[MY_NUMBER, BAD_MY_NUMBER]);
    assert_no_numbers(
        "database",
        &dump_database(&db, &mut c),
        &[MY_NUMBER, BAD_MY_NUMBER],
    );
}

#[test]
fn a_my_number_in_an_excel_number_cell_is_classified_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let f = done_when_files(dir.path());
    let second = my_number("98765432101");
    let profile = PROFILE.replace(
        "my_number_status = \"マイナンバー記載\"",
        "my_number_status = \"マイナンバー記載\"\nmy_number = \"個人番号\"",
    );
    std::fs::write(&f.profile, profile).unwrap();
    let mut rows = vec![title_row(), header_row()];
    rows[1].1.push(t("個人番号"));
    let with = |id: &str, n: &str, number: Cell, status: &str, row: u32| {
        let mut cells = xrow(
            id,
            t("01"),
            E01,
            ("100", n, ""),
            "番号 試験",
            Cell::D(2024, 4, 22),
            Cell::D(2024, 4, 28),
            status,
        );
        cells.push(number);
        (row, cells)
    };
    // Excel keeps a 12-digit number typed into a cell as a number.
    rows.push(with(
        "X-1",
        "1",
        Cell::N(MY_NUMBER.parse::<f64>().unwrap()),
        "有",
        4,
    ));
    rows.push(with("X-2", "2", Cell::T(second.clone()), "", 5));
    rows.push(with(
        "X-3",
        "3",
        Cell::N(second.parse::<f64>().unwrap()),
        "無",
        6,
    ));
    rows.push(with("X-4", "4", Cell::Blank, "誤り", 7));
    write_book(&f.book, SHEET, &rows);
    let o = check(&f.book, None, Some(&f.profile));
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    let rows = jsonl(&o);
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["notice_id"].as_str().unwrap(),
                r["my_number_status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("X-1", "valid"), ("X-2", "valid"), ("X-4", "invalid")]
    );
    assert!(stderr(&o).contains("line 6:"), "{}", stderr(&o));
    for format in ["jsonl", "table", "csv", "summary"] {
        let o = check_with(&f.book, None, Some(&f.profile), format, &[]);
        assert_no_numbers(format, &both(&o), &[MY_NUMBER, &second]);
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Registration results keyed by member
// ---------------------------------------------------------------------------------------------

const MEMBER_NOTICES: &str =
    "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,枝番,事実発生日,受付日,個人番号記載\n\
M-1,資格取得,E01,300,1,,2024-04-01,2024-04-05,有\n\
M-2,資格喪失,E01,300,1,,2024-05-08,2024-05-10,有\n\
M-3,資格取得,E01,300,2,,2024-04-01,2024-04-10,有\n\
M-4,資格喪失,E01,300,2,,2024-04-08,2024-04-10,有\n\
M-5,被扶養者,E01,300,1,01,2024-04-01,2024-04-05,無\n";

/// Line 2 → M-1, 3 → M-2 (the latest on or before 05-12), 4: two notices of 300/2 received the
/// same day, 5: a member without notices, 6: a result before any notice of the member was
/// received, 7: the dependent 01 → M-5, 8: an error row without a date → the latest (M-2).
const MEMBER_REGS: &str = "被保険者記号,被保険者番号,枝番,処理結果,登録完了日時\n\
300,1,,正常,2024-04-08 10:00\n\
300,1,,正常,2024-05-12 10:00\n\
300,2,,正常,2024-04-12 10:00\n\
399,9,,正常,2024-04-12 10:00\n\
300,1,,正常,2024-04-01 10:00\n\
300,1,01,正常,2024-04-20 10:00\n\
300,1,,エラー,\n";

#[test]
fn member_keyed_results_go_to_the_latest_notice_received_on_or_before_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let n = dir.path().join("notices.csv");
    let r = dir.path().join("results.csv");
    std::fs::write(&n, MEMBER_NOTICES).unwrap();
    write_sjis(&r, MEMBER_REGS);

    let o = check(&n, Some(&r), None);
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    let err = stderr(&o);
    let rejected: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("registrations line"))
        .collect();
    assert_eq!(rejected.len(), 3, "{err}");
    assert!(
        err.contains("registrations line 4:") && err.contains("記号 300 番号 2"),
        "ambiguous: {err}"
    );
    assert!(
        err.contains("registrations line 5:") && err.contains("記号 399 番号 9"),
        "{err}"
    );
    assert!(
        err.contains("registrations line 6:") && err.contains("2024-04-01"),
        "{err}"
    );
    let rows = jsonl(&o);
    assert_eq!(rows.len(), 5);
    // M-1: received 04-05 + 5 = 04-10, registered 04-08.
    assert_eq!(by_id(&rows, "M-1")["registration"]["status"], "met");
    assert_eq!(by_id(&rows, "M-1")["e2e_days"], 7);
    // M-2: received 05-10 + 2 = 05-12 (Sunday) → 05-13; registered 05-12.
    assert_eq!(by_id(&rows, "M-2")["registration"]["status"], "met");
    assert_eq!(by_id(&rows, "M-2")["e2e_days"], 4);
    // M-3 and M-4: the ambiguous result went to neither.
    for id in ["M-3", "M-4"] {
        assert_eq!(
            by_id(&rows, id)["e2e_days"],
            serde_json::Value::Null,
            "{id}"
        );
        assert_eq!(by_id(&rows, id)["registration"]["status"], "breached");
    }
    assert_eq!(by_id(&rows, "M-5")["e2e_days"], 19);

    let db = TestDb::new();
    let mut c = db.conn();
    add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    drop(c);
    let o = import(&db, "notices", &n, "06123456", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let o = import(&db, "registrations", &r, "06123456", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    let err = stderr(&o);
    assert!(
        err.contains("line 4:") && err.contains("line 5:") && err.contains("line 6:"),
        "{err}"
    );
    assert_eq!(err.lines().filter(|l| l.starts_with("line ")).count(), 3);
    assert!(stdout(&o).contains("3 行却下"), "{}", both(&o));
    let mut c = db.conn();
    let got: Vec<(String, Option<NaiveDate>)> = stored(&mut c, "06123456")
        .into_iter()
        .map(|n| (n.notice_id, n.registered_on))
        .collect();
    assert_eq!(
        got,
        [
            ("M-1".to_string(), Some(date(2024, 4, 8))),
            ("M-2".to_string(), Some(date(2024, 5, 12))),
            ("M-3".to_string(), None),
            ("M-4".to_string(), None),
            ("M-5".to_string(), Some(date(2024, 4, 20))),
        ]
    );
    let reasons: Vec<(i64, String)> = import_rejects::table
        .order(import_rejects::line.asc())
        .select((import_rejects::line, import_rejects::reason))
        .load(&mut c)
        .unwrap();
    assert_eq!(
        reasons.iter().map(|r| r.0).collect::<Vec<_>>(),
        [4, 5, 6],
        "{reasons:?}"
    );
    assert!(reasons[0].1.contains("2024-04-10"), "{reasons:?}");
    drop(c);

    // Loading the results again adds nothing and rejects the same rows.
    let again = import(&db, "registrations", &r, "06123456", &[]);
    assert_eq!(again.status.code(), Some(3), "{}", both(&again));
    assert!(
        stdout(&again).contains("0 件新規、0 件変更"),
        "{}",
        both(&again)
    );
}

#[test]
fn a_member_keyed_result_loaded_before_its_member_has_notices_is_rejected_with_its_line() {
    let db = TestDb::new();
    let mut c = db.conn();
    add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    drop(c);
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("results.csv");
    std::fs::write(
        &r,
        "被保険者記号,被保険者番号,処理結果,登録完了日時\n300,1,正常,2024-04-08 10:00\n",
    )
    .unwrap();
    let o = import(&db, "registrations", &r, "06123456", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    assert!(
        stderr(&o).contains("line 2:") && stderr(&o).contains("記号 300 番号 1"),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------------------------------------
// 6. e-Gov files
// ---------------------------------------------------------------------------------------------

/// A record of `n` items with `set` (1-based item, value) filled.
fn egov_record(n: usize, set: &[(usize, &str)]) -> String {
    let mut items = vec![String::new(); n];
    for (i, v) in set {
        items[i - 1] = v.to_string();
    }
    items.join(",")
}

/// An SHFD0006.CSV of one employer (事業所番号 12345): two 資格取得届 (with and without My
/// Number), a 資格喪失届 with a wrong number and a 平成 date, and a 被扶養者(異動)届 adding a spouse.
fn shfd0006(mn_taro: &str, mn_hanako: &str) -> String {
    let office = [(2, "13"), (3, "01"), (4, "ｱｲｳ"), (5, "12345")];
    let with_office = |extra: &[(usize, &'static str)]| -> Vec<(usize, String)> {
        office
            .iter()
            .chain(extra.iter())
            .map(|(i, v)| (*i, v.to_string()))
            .collect()
    };
    let rec = |n: usize, items: Vec<(usize, String)>| -> String {
        let refs: Vec<(usize, &str)> = items.iter().map(|(i, v)| (*i, v.as_str())).collect();
        egov_record(n, &refs)
    };
    let mut taro = with_office(&[
        (1, "2200700"),
        (6, "101"),
        (7, "ﾔﾏﾀﾞ ﾀﾛｳ"),
        (8, "山田　太郎"),
        (9, "7"),
        (10, "020515"),
        (11, "1"),
        (12, "1"),
        (18, "9"),
        (19, "070401"),
        (20, "1"),
        (21, "0300000"),
    ]);
    taro.push((13, mn_taro.to_string()));
    let jiro = with_office(&[
        (1, "2200700"),
        (6, "102"),
        (7, "ｽｽﾞｷ ｼﾞﾛｳ"),
        (8, "鈴木　次郎"),
        (9, "7"),
        (10, "050101"),
        (11, "1"),
        (12, "1"),
        (18, "9"),
        (19, "070407"),
        (20, "1"),
        (21, "0250000"),
    ]);
    let mut saburo = with_office(&[
        (1, "2201700"),
        (6, "090"),
        (7, "ｻﾄｳ ｻﾌﾞﾛｳ"),
        (8, "佐藤　三郎"),
        (9, "5"),
        (10, "600101"),
        (14, "7"),
        (15, "310430"),
        (16, "4"),
    ]);
    saburo.push((11, BAD_MY_NUMBER.to_string()));
    let mut hanako = with_office(&[
        (1, "2202700"),
        (8, "101"),
        (9, "ﾔﾏﾀﾞ ﾀﾛｳ"),
        (10, "山田　太郎"),
        (21, "1"),
        (24, "ﾔﾏﾀﾞ ﾊﾅｺ"),
        (25, "山田　花子"),
        (26, "7"),
        (27, "040303"),
        (44, "9"),
        (45, "070410"),
    ]);
    hanako.push((29, mn_hanako.to_string()));
    [
        "13,01,ｱｲｳ,001,20250410,22223".to_string(),
        "[kanri]".to_string(),
        ",001".to_string(),
        "13,01,ｱｲｳ,12345,100,0013,東京都千代田区霞が関１－２－２,健保サービス株式会社,健保　良一,03,1234,5678".to_string(),
        "[data]".to_string(),
        rec(36, taro),
        rec(36, jiro),
        rec(20, saburo),
        rec(139, hanako),
    ]
    .join("\r\n")
        + "\r\n"
}

#[test]
fn an_egov_file_loads_with_its_received_date_and_reloading_changes_nothing() {
    let mn_taro = my_number("31415926535");
    let mn_hanako = my_number("27182818284");
    let secrets = [mn_taro.as_str(), mn_hanako.as_str(), BAD_MY_NUMBER];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("SHFD0006.CSV");
    write_sjis(&path, &shfd0006(&mn_taro, &mn_hanako));
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the file is Shift_JIS"
    );
    assert_eq!(bytes.windows(2).filter(|w| *w == b"\r\n").count(), 9);

    // check reads it too, with the received date given.
    let o = check_with(
        &path,
        None,
        None,
        "jsonl",
        &["--received-on", "2025-04-11", "--as-of", "2025-04-30"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let rows = jsonl(&o);
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["notice_id"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["my_number_status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("EG20250410-E12345-S001-L0006", "acquisition", "valid"),
            ("EG20250410-E12345-S001-L0007", "acquisition", "missing"),
            ("EG20250410-E12345-S001-L0008", "loss", "invalid"),
            ("EG20250410-E12345-S001-L0009", "dependent", "valid"),
        ]
    );
    for format in ["jsonl", "table", "csv", "summary"] {
        let o = check_with(
            &path,
            None,
            None,
            format,
            &["--received-on", "2025-04-11", "--as-of", "2025-04-30"],
        );
        assert_no_numbers(format, &both(&o), &secrets);
    }

    let db = TestDb::new();
    let mut c = db.conn();
    add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    drop(c);
    let args = ["--received-on", "2025-04-11", "--as-of", "2025-04-30"];
    let first = regwatch_db(
        &db,
        &[
            "import",
            "notices",
            p(&path),
            "--insurer",
            "06123456",
            args[0],
            args[1],
            args[2],
            args[3],
        ],
    );
    assert_eq!(first.status.code(), Some(0), "{}", both(&first));
    assert!(
        stdout(&first).contains("4 件新規、0 件変更、0 件変更なし、0 行却下"),
        "{}",
        both(&first)
    );
    let again = regwatch_db(
        &db,
        &[
            "import",
            "notices",
            p(&path),
            "--insurer",
            "06123456",
            args[0],
            args[1],
            args[2],
            args[3],
        ],
    );
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));
    assert!(
        stdout(&again).contains("0 件新規、0 件変更、4 件変更なし"),
        "{}",
        both(&again)
    );

    let mut c = db.conn();
    let got = stored(&mut c, "06123456");
    let summary: Vec<(&str, &str, &str, &str, NaiveDate, NaiveDate, &str)> = got
        .iter()
        .map(|n| {
            (
                n.notice_id.as_str(),
                n.kind.as_str(),
                n.number.as_str(),
                n.dependent_seq.as_str(),
                n.event_date,
                n.received_on,
                n.my_number_status.as_str(),
            )
        })
        .collect();
    let r = date(2025, 4, 11);
    assert_eq!(
        summary,
        [
            (
                "EG20250410-E12345-S001-L0006",
                "acquisition",
                "101",
                "",
                date(2025, 4, 1),
                r,
                "valid"
            ),
            (
                "EG20250410-E12345-S001-L0007",
                "acquisition",
                "102",
                "",
                date(2025, 4, 7),
                r,
                "missing"
            ),
            (
                "EG20250410-E12345-S001-L0008",
                "loss",
                "090",
                "",
                date(2019, 4, 30),
                r,
                "invalid"
            ),
            (
                "EG20250410-E12345-S001-L0009",
                "dependent",
                "101",
                "配偶者",
                date(2025, 4, 10),
                r,
                "valid"
            ),
        ]
    );
    for n in &got {
        assert_eq!(n.employer_code, "12345");
        assert_eq!(n.employer_name.as_deref(), Some("健保サービス株式会社"));
        assert_eq!(n.symbol, "12345");
    }
    // Names as the file gives them, the 全角スペース made half-width like every name.
    assert_eq!(got[0].name.as_deref(), Some("山田 太郎"));
    assert_eq!(got[3].name.as_deref(), Some("山田 花子"));
    // 2025-04-11 + 5 = 04-16 for a valid number; + 14 = 04-25 without; a loss notice has its own
    // rule whatever its number: + 2 = 04-13 (Sunday) → 04-14.
    assert_eq!(got[0].registration_rule, "five_day");
    assert_eq!(got[0].registration_deadline, date(2025, 4, 16));
    assert_eq!(got[1].registration_rule, "standard");
    assert_eq!(got[1].registration_deadline, date(2025, 4, 25));
    assert_eq!(got[2].registration_rule, "loss");
    assert_eq!(got[2].registration_deadline, date(2025, 4, 14));

    for o in [&first, &again] {
        assert_no_numbers("import output", &both(o), &secrets);
    }
    assert_no_numbers("database", &dump_database(&db, &mut c), &secrets);
}

#[test]
fn an_egov_record_with_a_bad_era_or_an_unknown_form_is_rejected_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("SHFD0006.CSV");
    let mut text = shfd0006(&my_number("31415926535"), &my_number("27182818284"));
    // Line 10: a 資格取得届 dated in 元号 3 (unknown); line 11: a form that is not read.
    text.push_str(&egov_record(
        36,
        &[(1, "2200700"), (6, "103"), (18, "3"), (19, "070401")],
    ));
    text.push_str("\r\n");
    text.push_str(&egov_record(20, &[(1, "2221700"), (6, "104")]));
    text.push_str("\r\n");
    write_sjis(&path, &text);
    let o = check_with(
        &path,
        None,
        None,
        "jsonl",
        &["--received-on", "2025-04-11", "--as-of", "2025-04-30"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    let err = stderr(&o);
    assert!(
        err.contains("line 10:") && err.contains("元号"),
        "unknown era: {err}"
    );
    assert!(
        err.contains("line 11:") && err.contains("2221700"),
        "unknown form: {err}"
    );
    assert_eq!(jsonl(&o).len(), 4);
}

// ---------------------------------------------------------------------------------------------
// 7. Clear refusals, tab-separated text, a 受付番号 re-sent for another member
// ---------------------------------------------------------------------------------------------

#[test]
fn euc_jp_and_utf16_files_are_refused_naming_the_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let text = regwatch_notices();
    let euc = dir.path().join("euc.csv");
    let (bytes, _, _) = encoding_rs::EUC_JP.encode(&text);
    std::fs::write(&euc, bytes).unwrap();
    let utf16 = dir.path().join("utf16.csv");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    std::fs::write(&utf16, bytes).unwrap();
    // Without a byte-order mark, in either byte order; the names have characters whose NUL
    // byte is on the other side from the ASCII ones' (一 U+4E00, 全角スペース U+3000).
    let spaced = text.replace("佐藤 一郎", "佐藤\u{3000}一郎");
    let utf16_nobom = dir.path().join("utf16_nobom.csv");
    std::fs::write(
        &utf16_nobom,
        spaced
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let utf16le_nobom = dir.path().join("utf16le_nobom.csv");
    std::fs::write(
        &utf16le_nobom,
        spaced
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
    .unwrap();

    let db = TestDb::new();
    let mut c = db.conn();
    add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    drop(c);
    for (path, name) in [
        (&euc, "EUC-JP"),
        (&utf16, "UTF-16"),
        (&utf16_nobom, "UTF-16"),
        (&utf16le_nobom, "UTF-16"),
    ] {
        let o = check(path, None, None);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", both(&o));
        assert!(stderr(&o).contains(name), "{name}: {}", stderr(&o));
        assert!(stdout(&o).is_empty());
        let o = import(&db, "notices", path, "06123456", &[]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", both(&o));
        assert!(stderr(&o).contains(name), "{name}: {}", stderr(&o));
        // Through a profile too.
        let profile = dir.path().join("p.toml");
        std::fs::write(
            &profile,
            "[notices.columns]\nnotice_id = \"受付番号\"\n[notices.values.kind]\n\"01\" = \"acquisition\"\n",
        )
        .unwrap();
        let o = check(path, None, Some(&profile));
        assert_eq!(o.status.code(), Some(1), "{name}: {}", both(&o));
        assert!(stderr(&o).contains(name), "{name}: {}", stderr(&o));
    }
    let mut c = db.conn();
    assert_eq!(notice_count(&mut c), 0);
    // The same text in Shift_JIS is read.
    let sjis = dir.path().join("sjis.csv");
    write_sjis(&sjis, &text);
    let o = check(&sjis, None, None);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert_eq!(jsonl(&o).len(), 7);
}

#[test]
fn tab_separated_text_is_read_with_and_without_a_profile() {
    let dir = tempfile::tempdir().unwrap();
    let f = done_when_files(dir.path());
    let tsv = dir.path().join("notices.txt");
    std::fs::write(&tsv, regwatch_notices().replace(',', "\t")).unwrap();
    let a = check(&tsv, Some(&f.registrations), None);
    let b = check(&f.notices, Some(&f.registrations), None);
    assert_eq!(a.status.code(), Some(0), "{}", both(&a));
    assert_eq!(stdout(&a), stdout(&b));
    assert_eq!(jsonl(&a).len(), 7);

    // The insurer's own tab-separated export (Shift_JIS, a title line, its own headers and
    // codes) through the profile gives the same again.
    let mut own = String::from("資格取得届等 受付一覧\n\n");
    own.push_str("受付No\t届出区分\t事業所番号\t事業所名\t記号\t番号\t枝番\t氏名\t資格取得日\t受付年月日\tマイナンバー記載\n");
    for l in [
        "A-0001\t01\tE01\t株式会社テスト\t100\t1\t\t山田 太郎\t2024/4/1\t令和6年4月3日\t有",
        "A-0002\t02\tE01\t株式会社テスト\t100\t1\t01\t山田 花子\t令和6年4月1日\t令和6年4月15日\t無",
        "A-0003\t03\tE02\tテスト商事\t200\t7\t\t佐藤 一郎\t2024/3/31\tR6.4.2\t誤り",
        "A-0004\t01\tE02\tテスト商事\t200\t8\t\t鈴木 次郎\t2024/4/22\t令和6年4月26日\t有",
        "A-0005\t01\tE01\t株式会社テスト\t100\t2\t\t高橋 三郎\t2024/4/5\t2024/4/5\t有",
        "A-0006\t03\tE01\t株式会社テスト\t100\t2\t\t高橋 三郎\t2024/5/15\t令和6年5月20日\t有",
        "A-0007\t01\tE02\tテスト商事\t200\t9\t\t伊藤 四郎\t2024/6/20\t令和6年6月24日\t無",
    ] {
        own.push_str(l);
        own.push('\n');
    }
    let own_path = dir.path().join("受付一覧.txt");
    write_sjis(&own_path, &own);
    let c = check(&own_path, Some(&f.results), Some(&f.profile));
    assert_eq!(c.status.code(), Some(0), "{}", both(&c));
    assert_eq!(stdout(&c), stdout(&b));

    // A bad row in it reports its physical line.
    let broken = own.replace("\t03\tE02\t", "\t09\tE02\t");
    write_sjis(&own_path, &broken);
    let c = check(&own_path, None, Some(&f.profile));
    assert_eq!(c.status.code(), Some(3), "{}", both(&c));
    assert!(stderr(&c).contains("line 6:"), "{}", stderr(&c));
}

#[test]
fn a_receipt_number_resent_for_another_member_is_rejected_naming_both_lines() {
    let db = TestDb::new();
    let mut c = db.conn();
    add_insurer(&mut c, "06123456", InsurerKind::Kenpo);
    drop(c);
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.csv");
    std::fs::write(
        &first,
        "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日,個人番号記載\n\
R-1,資格取得,E01,100,1,2024-04-01,2024-04-03,有\n\
R-2,資格取得,E01,100,2,2024-04-01,2024-04-03,有\n\
R-3,資格取得,E01,100,3,2024-04-01,2024-04-03,有\n",
    )
    .unwrap();
    let o = import(&db, "notices", &first, "06123456", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let batch1: i64 = {
        let mut c = db.conn();
        import_batches::table
            .select(import_batches::id)
            .order(import_batches::id.desc())
            .first(&mut c)
            .unwrap()
    };
    let mut c = db.conn();
    let before = stored(&mut c, "06123456");
    drop(c);

    // R-2 (stored from line 3 of the first file) comes back at line 4 for member 100/9.
    let second = dir.path().join("second.csv");
    std::fs::write(
        &second,
        "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日,個人番号記載\n\
R-1,資格取得,E01,100,1,2024-04-01,2024-04-03,有\n\
R-4,資格取得,E01,100,4,2024-04-02,2024-04-04,有\n\
R-2,資格取得,E01,100,9,2024-04-05,2024-04-08,無\n",
    )
    .unwrap();
    let o = import(&db, "notices", &second, "06123456", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", both(&o));
    assert!(
        stdout(&o).contains("1 件新規、0 件変更、1 件変更なし、1 行却下"),
        "{}",
        both(&o)
    );
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.starts_with("line 4:"))
        .unwrap_or_else(|| panic!("line 4 rejected: {err}"));
    assert!(
        line.contains("R-2")
            && line.contains(&format!("取込 #{batch1} の line 3"))
            && line.contains("記号 100 番号 2"),
        "names the stored notice's batch, line and member: {line}"
    );

    let mut c = db.conn();
    let after = stored(&mut c, "06123456");
    assert_eq!(after.len(), 4);
    let r2 = |v: &[StoredNotice]| {
        v.iter()
            .find(|n| n.notice_id == "R-2")
            .map(|n| {
                (
                    n.number.clone(),
                    n.event_date,
                    n.received_on,
                    n.my_number_status.clone(),
                    n.registration_deadline,
                )
            })
            .unwrap()
    };
    assert_eq!(r2(&after), r2(&before), "the stored notice is unchanged");
    assert_eq!(r2(&after).0, "2");
    let member9: i64 = members::table
        .filter(members::number.eq("9"))
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(member9, 0, "no member made from the rejected row");
}
