//! Reading insurers' real-world files end to end: encodings, header variants, per-line errors.
mod common;

use common::{data_path, ymd as day};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use regwatch::domain::my_number::MyNumberStatus;
use regwatch::domain::types::NoticeKind;
use regwatch::ingest::{
    open_notices, open_registrations, FileError, NoticeReadOptions, NoticeReader, NoticeRow,
    ReadStats, RegResult, RegistrationRow, RowError, SourceEncoding, SourceOptions,
};

/// The Shift_JIS twin of `notices_iso_utf8.csv`: Japanese headers in another order with two
/// extra columns, era dates in every written form, full-width digits and letters, CRLF.
/// `notices_era_sjis.csv` is exactly these bytes in Shift_JIS (see `regenerate_shift_jis_fixtures`).
const NOTICES_ERA_SJIS: &str = "\
受付日,受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,氏名カナ,性別,事実発生日,個人番号,遅延理由,保険者番号,備考\r
令和6年4月3日,Ｎ０００１,資格取得,Ｅ００１,株式会社みなと商事,１００,１００１,,山田　太郎,ヤマダ　タロウ,男,令和６年４月１日,１２３４ ５６７８ ９０１８,,０６１２３４５６,\r
Ｒ６．４．２２,Ｎ０００２,被扶養者,Ｅ００１,株式会社みなと商事,１００,１００１,０１,山田　花子,ヤマダ　ハナコ,女,R06.04.10,９８７６５４３２１０９３,事業主の提出遅れ,０６１２３４５６,配偶者\r
R6/4/1,Ｎ０００３,資格喪失,Ｅ００２,有限会社さくら,２００,２００２,,佐藤　次郎,サトウ　ジロウ,男,令和６年３月３１日,,,０６１２３４５６,\r
r6-4-15,Ｎ０００４,資格取得,Ｅ００２,有限会社さくら,２００,２００３,,鈴木　一郎,スズキ　イチロウ,男,Ｒ０６．０５．０１,１２３４５６７８９０１２,,０６１２３４５６,内定者\r
平成31年4月30日,Ｎ０００５,資格取得,Ｅ００３,,３００,３００１,,高橋　三郎,タカハシ　サブロウ,男,令和元年5月1日,,,０６１２３４５６,\r
";

/// The Shift_JIS twin of `registrations_en.csv`, as `registrations_ja_sjis.csv`.
const REGISTRATIONS_JA_SJIS: &str = "\
担当者,受付番号,登録完了日時,処理結果,エラーコード,エラー内容\r
鈴木,Ｎ０００１,,エラー,Ｅ１０１,個人番号 １２３４５６７８９０１８ が住民基本台帳と一致しません\r
鈴木,Ｎ０００１,令和6年4月5日 10:00:00,正常,,\r
,Ｎ０００２,Ｒ６．４．２４　９：３０,正常,,\r
,Ｎ０００３,令和6年4月2日17時00分,,,\r
,Ｎ０００４,,正常,,\r
,Ｎ０００５,令和元年5月7日,保留,,\r
,Ｎ０００５,R1.5.7 9:00,正常,,\r
,Ｎ０００６,令和6年5月1日 0:30,正常,,\r
";

fn fixture(name: &str) -> PathBuf {
    data_path("ingest").join(name)
}

fn opts() -> NoticeReadOptions {
    NoticeReadOptions {
        as_of: day(2024, 6, 30),
    }
}

type NoticeRead = (
    Vec<Result<NoticeRow, RowError>>,
    Result<ReadStats, FileError>,
);

fn read_notices(name: &str) -> NoticeRead {
    let mut reader = open_notices(&fixture(name), opts(), SourceOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let rows: Vec<_> = reader.by_ref().collect();
    (rows, reader.finish())
}

fn accepted(name: &str) -> (Vec<NoticeRow>, ReadStats) {
    let (rows, stats) = read_notices(name);
    let rows = rows
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect();
    (rows, stats.unwrap())
}

fn errors(rows: &[Result<NoticeRow, RowError>]) -> Vec<(u64, String)> {
    rows.iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| (e.line, e.reason.clone()))
        .collect()
}

#[test]
fn shift_jis_era_file_reads_exactly_like_its_utf8_iso_twin() {
    let (iso, iso_stats) = accepted("notices_iso_utf8.csv");
    let (era, era_stats) = accepted("notices_era_sjis.csv");
    assert_eq!(iso.len(), 5);
    assert_eq!(iso_stats.encoding, SourceEncoding::Utf8);
    assert_eq!(era_stats.encoding, SourceEncoding::ShiftJis);
    // Whole rows, so ids, kinds, dates, My Number statuses, names and content hashes all agree.
    assert_eq!(era, iso);

    let kinds: Vec<NoticeKind> = iso.iter().map(|r| r.kind).collect();
    use NoticeKind::*;
    assert_eq!(
        kinds,
        [Acquisition, Dependent, Loss, Acquisition, Acquisition]
    );
    let statuses: Vec<MyNumberStatus> = era.iter().map(|r| r.my_number).collect();
    use MyNumberStatus::*;
    assert_eq!(statuses, [Valid, Valid, Missing, Invalid, Missing]);
    assert_eq!(era[4].received_on, day(2019, 4, 30));
    assert_eq!(era[4].event_date, day(2019, 5, 1));
    assert_eq!(era[0].name.as_deref(), Some("山田 太郎"));
    assert_eq!(
        era[0].insurer_number.as_ref().map(|n| n.as_str()),
        Some("06123456")
    );
}

#[test]
fn bom_file_with_japanese_alias_headers_reads_like_the_plain_utf8_file() {
    let (plain, _) = accepted("notices_iso_utf8.csv");
    let (bom, stats) = accepted("notices_bom_ja.csv");
    assert_eq!(stats.encoding, SourceEncoding::Utf8WithBom);
    assert_eq!(bom, plain);
}

#[test]
fn english_headers_in_another_order_with_extra_columns() {
    let text =
        "received_on,Notice ID,extra,KIND,member_number,employer_code,event_date,member_symbol\n\
                2024-04-03,X1,whatever,loss,7,E9,2024-04-01,ＡＢ\n";
    let mut reader = NoticeReader::new(text.as_bytes(), opts()).unwrap();
    let row = reader.next().unwrap().unwrap();
    assert_eq!(row.notice_id.as_str(), "X1");
    assert_eq!(row.kind, NoticeKind::Loss);
    assert_eq!(row.member_symbol, "AB");
    assert_eq!(row.my_number, MyNumberStatus::Missing);
    assert!(reader.next().is_none());
    assert_eq!(reader.finish().unwrap().accepted, 1);
}

#[test]
fn each_row_rule_is_reported_with_its_line() {
    let (rows, stats) = read_notices("notices_row_errors.csv");
    assert_eq!(
        errors(&rows),
        [
            (3, "受付日 (received_on) が日付として読めません: \"2024-13-01\"（存在しない日付です）".into()),
            (4, "届書種別 (kind) が不明です（資格取得 / 被扶養者 / 資格喪失、または acquisition / dependent / loss）: \"転居\"".into()),
            (5, "被保険者番号 (member_number) が空です".into()),
            (6, "受付日 (received_on) 2024-07-01 が基準日 2024-06-30 より後です".into()),
            (7, "事実発生日 (event_date) 2024-12-01 が受付日 (received_on) 2024-05-01 より180日を超えて後です".into()),
            (8, "受付番号 A001 が line 2 と異なる内容で重複しています".into()),
            (10, "事実発生日 (event_date) が日付として読めません: \"平成32年1月10日\"（平成は1989年1月8日から2019年4月30日までです）".into()),
            (11, "事実発生日 (event_date) が日付として読めません: \"2023-02-29\"（存在しない日付です）".into()),
        ]
    );
    let ok_lines: Vec<u64> = rows
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.line)
        .collect();
    assert_eq!(ok_lines, [2, 12]);
    let stats = stats.unwrap();
    assert_eq!(
        (stats.rows, stats.accepted, stats.rejected, stats.duplicates),
        (11, 2, 8, 1),
        "line 9 repeats line 2 exactly and is skipped"
    );
    assert_eq!(
        rows[1].as_ref().unwrap_err().to_string().split(':').next(),
        Some("line 3")
    );
}

#[test]
fn missing_required_column_is_named_in_japanese_and_english() {
    let err = open_notices(
        &fixture("notices_missing_column.csv"),
        opts(),
        SourceOptions::default(),
    )
    .err()
    .unwrap();
    assert!(matches!(&err, FileError::MissingColumns(c) if c == &["受付日 (received_on)"]));
    assert_eq!(
        err.to_string(),
        "必須の列がありません: 受付日 (received_on)"
    );
}

#[test]
fn truncated_last_line_is_a_row_error() {
    let (rows, stats) = read_notices("notices_truncated.csv");
    assert_eq!(rows.len(), 3);
    assert!(rows[0].is_ok() && rows[1].is_ok());
    assert_eq!(
        rows[2].as_ref().unwrap_err().to_string(),
        "line 4: 列の数が見出しと合いません（見出し 7 列、この行 6 列）"
    );
    assert_eq!(stats.unwrap().rejected, 1);
}

#[test]
fn binary_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A broken workbook is named as one.
    let path = dir.path().join("notices.xlsx");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml")
        .unwrap();
    drop(f);
    let err = open_notices(&path, opts(), SourceOptions::default())
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .starts_with("Excel ファイルを読み込めません"),
        "{err}"
    );
    // Anything else with NUL bytes is a binary.
    let path = dir.path().join("notices.png");
    std::fs::write(&path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01").unwrap();
    let err = open_notices(&path, opts(), SourceOptions::default())
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "バイナリファイルのようです。CSV または Excel のファイルを指定してください"
    );
    assert!(matches!(
        open_registrations(&path, SourceOptions::default()),
        Err(FileError::Binary)
    ));
}

#[test]
fn empty_file_is_refused() {
    let err = open_notices(&fixture("empty.csv"), opts(), SourceOptions::default())
        .err()
        .unwrap();
    assert_eq!(err.to_string(), "ファイルが空です");
    let bom_only = NoticeReader::new(&b"\xEF\xBB\xBF\r\n"[..], opts())
        .err()
        .unwrap();
    assert!(matches!(bom_only, FileError::Empty));
}

#[test]
fn header_only_file_has_no_data_rows() {
    let (rows, stats) = read_notices("notices_header_only.csv");
    assert!(rows.is_empty());
    assert_eq!(stats.unwrap_err().to_string(), "データ行がありません");
}

#[test]
fn a_missing_file_names_its_path() {
    let err = open_notices(
        &fixture("no_such_file.csv"),
        opts(),
        SourceOptions::default(),
    )
    .err()
    .unwrap();
    let msg = err.to_string();
    assert!(
        msg.starts_with("ファイルを開けません: ") && msg.contains("no_such_file.csv"),
        "{msg}"
    );
}

#[test]
fn my_number_never_appears_in_errors_or_rows() {
    let numbers = [
        "202404010010",
        "555555555557",
        "314159265352",
        "271828182840",
        "987654321093",
        "123456789018",
    ];
    let (rows, stats) = read_notices("notices_my_numbers.csv");
    let stats = stats.unwrap();
    assert_eq!((stats.accepted, stats.rejected), (2, 7));
    for r in &rows {
        let shown = match r {
            Ok(row) => format!("{row:?}"),
            Err(e) => format!("{e} {e:?}"),
        };
        let digits_only: String = shown
            .chars()
            .filter_map(|c| match c {
                '0'..='9' => Some(c),
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
                _ => None,
            })
            .collect();
        for n in numbers {
            assert!(!digits_only.contains(n), "{n} leaked: {shown}");
        }
    }
    let m7 = rows
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .find(|r| r.notice_id.as_str() == "M7");
    let m7 = m7.unwrap();
    assert_eq!(m7.my_number, MyNumberStatus::Valid);
    assert_eq!(m7.name.as_deref(), Some("************"));
    assert_eq!(
        m7.delay_cause.as_deref(),
        Some("番号 ************ の誤記載")
    );
    let lines: Vec<u64> = errors(&rows).iter().map(|e| e.0).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 9, 10]);
}

fn read_registrations(name: &str) -> (Vec<Result<RegistrationRow, RowError>>, ReadStats) {
    let mut reader = open_registrations(&fixture(name), SourceOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let rows: Vec<_> = reader.by_ref().collect();
    (rows, reader.finish().unwrap())
}

#[test]
fn registrations_file_keeps_every_attempt() {
    let (rows, stats) = read_registrations("registrations_en.csv");
    assert_eq!(stats.encoding, SourceEncoding::Utf8);
    assert_eq!((stats.rows, stats.accepted, stats.rejected), (8, 6, 2));
    let errs: Vec<String> = rows
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        errs,
        [
            "line 6: 登録完了日時 (registered_at) が空です（処理結果が正常の行には必要です）",
            "line 7: 処理結果 (result) が不明です（正常 / エラー、または ok / error）: \"保留\"",
        ]
    );
    let ok: Vec<&RegistrationRow> = rows.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(
        (ok[0].notice_id.as_ref().unwrap().as_str(), ok[0].result),
        ("N0001", RegResult::Error)
    );
    assert_eq!(ok[0].error_code.as_deref(), Some("E101"));
    assert_eq!(
        ok[0].error_message.as_deref(),
        Some("個人番号 ************ が住民基本台帳と一致しません")
    );
    assert_eq!(
        (ok[1].notice_id.as_ref().unwrap().as_str(), ok[1].result),
        ("N0001", RegResult::Ok)
    );
    let jst: Vec<Option<NaiveDate>> = ok
        .iter()
        .map(|r| r.registered_at.map(|t| t.jst_date))
        .collect();
    assert_eq!(
        jst,
        [
            None,
            Some(day(2024, 4, 5)),
            Some(day(2024, 4, 24)),
            Some(day(2024, 4, 2)),
            Some(day(2019, 5, 7)),
            Some(day(2024, 5, 1)),
        ]
    );
    assert_eq!(ok[5].line, 9);
}

#[test]
fn shift_jis_registrations_read_like_their_utf8_twin() {
    let (en, _) = read_registrations("registrations_en.csv");
    let (ja, stats) = read_registrations("registrations_ja_sjis.csv");
    assert_eq!(stats.encoding, SourceEncoding::ShiftJis);
    assert_eq!(ja, en);
}

#[test]
fn shift_jis_fixtures_match_their_source() {
    for (name, source) in shift_jis_fixtures() {
        let bytes = std::fs::read(fixture(name)).unwrap();
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "{name} must not be valid UTF-8"
        );
        let (decoded, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(&bytes);
        assert!(!had_errors, "{name}");
        assert_eq!(
            decoded, source,
            "{name}: run the ignored test regenerate_shift_jis_fixtures"
        );
    }
}

fn shift_jis_fixtures() -> [(&'static str, &'static str); 2] {
    [
        ("notices_era_sjis.csv", NOTICES_ERA_SJIS),
        ("registrations_ja_sjis.csv", REGISTRATIONS_JA_SJIS),
    ]
}

/// `cargo test --test ingest_files -- --ignored regenerate_shift_jis_fixtures`
#[test]
#[ignore = "writes fixtures"]
fn regenerate_shift_jis_fixtures() {
    for (name, source) in shift_jis_fixtures() {
        let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(source);
        assert!(!unmappable, "{name} has characters outside Shift_JIS");
        std::fs::write(fixture(name), bytes).unwrap();
    }
}

/// `cargo test --release --test ingest_files -- --ignored --nocapture throughput`
#[test]
#[ignore = "timing; run in release"]
fn throughput_of_a_million_row_utf8_file() {
    const ROWS: u64 = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(out, "notice_id,kind,employer_code,employer_name,member_symbol,member_number,name,event_date,received_on,my_number").unwrap();
    for i in 0..ROWS {
        let kind = ["acquisition", "dependent", "loss"][(i % 3) as usize];
        let d = 1 + i % 28;
        writeln!(
            out,
            "N{i:08},{kind},E{:04},株式会社みなと商事,{},{},山田 太郎,2024-03-{d:02},2024-04-{d:02},123456789018",
            i % 5000,
            100 + i % 7,
            i,
        )
        .unwrap();
    }
    drop(out);
    let started = Instant::now();
    let cpu_started = thread_cpu_ns();
    let mut reader = open_notices(&path, opts(), SourceOptions::default()).unwrap();
    let mut accepted = 0u64;
    for row in reader.by_ref() {
        accepted += u64::from(row.is_ok());
    }
    let stats = reader.finish().unwrap();
    let wall = started.elapsed().as_secs_f64();
    // On a shared machine the thread's own CPU time is the fair measure of "one core".
    let secs = match (cpu_started, thread_cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e9,
        _ => wall,
    };
    let rate = ROWS as f64 / secs;
    println!("{ROWS} rows: {secs:.3} s on CPU, {wall:.3} s wall: {rate:.0} rows/s");
    assert_eq!((accepted, stats.accepted), (ROWS, ROWS));
    if !cfg!(debug_assertions) {
        assert!(rate > 1_000_000.0, "{rate:.0} rows/s");
    }
}

/// Time this thread has spent on a CPU (Linux); `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}
