//! `regwatch check` and `regwatch gen` end to end: formats, exit statuses, rejected rows, and
//! that no My Number ever reaches the output.
mod common;

use common::{data_path, regwatch_bin as regwatch};
use std::process::Output;

fn data(name: &str) -> String {
    data_path("check").join(name).display().to_string()
}

fn check(format: &str) -> Output {
    regwatch(&[
        "check",
        "--notices",
        &data("notices.csv"),
        "--registrations",
        &data("registrations.csv"),
        "--as-of",
        "2024-05-31",
        "--format",
        format,
    ])
}

fn jsonl() -> Vec<serde_json::Value> {
    let out = check("jsonl");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn jsonl_has_one_line_per_accepted_notice_in_input_order_duplicates_once() {
    let rows = jsonl();
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r["notice_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["N-001", "N-002", "N-003", "N-004"]);
}

#[test]
fn jsonl_golden_week_registration_deadline_and_utc_timestamp() {
    let r = &jsonl()[0];
    assert_eq!(r["kind"], "acquisition");
    assert_eq!(r["my_number_status"], "valid");
    // Event 2024-04-22 + 5 = 04-27 (Saturday) → 04-30; received 04-28 → met.
    assert_eq!(r["submission"]["deadline"], "2024-04-30");
    assert_eq!(r["submission"]["status"], "met");
    assert_eq!(r["submission"]["days_over"], serde_json::Value::Null);
    // Received 04-28 + 5 = 05-03 憲法記念日 → 05-07. 2024-05-07T01:30Z is 10:30 JST on 05-07: met.
    assert_eq!(r["registration"]["rule"], "five_day");
    assert_eq!(r["registration"]["deadline"], "2024-05-07");
    assert_eq!(r["registration"]["status"], "met");
    assert_eq!(r["ex_officio_card"]["required"], false);
    assert_eq!(r["e2e_days"], 15);
    let expl = r["explanation"]["registration"].as_str().unwrap();
    assert!(
        expl.contains("2024-05-03") && expl.contains("憲法記念日") && expl.contains("2024-05-07"),
        "{expl}"
    );
}

#[test]
fn jsonl_missing_number_uses_the_standard_rule_and_late_submission_is_breached() {
    let r = &jsonl()[1];
    assert_eq!(r["my_number_status"], "missing");
    // Event 04-01 + 5 = 04-06 (Sat) → 04-08; received 04-15 → 7 days over.
    assert_eq!(r["submission"]["status"], "breached");
    assert_eq!(r["submission"]["days_over"], 7);
    // Received 04-15 + 14 = 04-29 昭和の日 → 04-30; registered 05-10 (after an error row) → 10 over.
    assert_eq!(r["registration"]["rule"], "standard");
    assert_eq!(r["registration"]["deadline"], "2024-04-30");
    assert_eq!(r["registration"]["status"], "breached");
    assert_eq!(r["registration"]["days_over"], 10);
}

#[test]
fn jsonl_pre_hire_notice_is_met_and_unregistered_one_is_breached_as_of() {
    let r = &jsonl()[3];
    // Received 04-20 before the event 05-01 (内定者): met.
    assert_eq!(r["submission"]["status"], "met");
    // 123456789017 has a wrong check digit → invalid → standard: 04-20 + 14 = 05-04 → 05-07.
    assert_eq!(r["my_number_status"], "invalid");
    assert_eq!(r["registration"]["deadline"], "2024-05-07");
    assert_eq!(r["registration"]["status"], "breached");
    assert_eq!(r["registration"]["days_over"], 24);
    assert_eq!(r["e2e_days"], serde_json::Value::Null);
}

#[test]
fn rejected_rows_go_to_stderr_with_line_numbers_and_exit_3() {
    let out = check("jsonl");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("line 7:"), "unknown kind on line 7: {err}");
    assert!(err.contains("line 8:"), "bad date on line 8: {err}");
    assert!(
        !err.contains("line 6:"),
        "an identical duplicate is not an error: {err}"
    );
}

#[test]
fn no_my_number_in_any_output_format() {
    for format in ["jsonl", "table", "csv", "summary"] {
        let out = check(format);
        for stream in [&out.stdout, &out.stderr] {
            let s = String::from_utf8_lossy(stream);
            assert!(
                !s.contains("123456789018") && !s.contains("9018"),
                "{format}: {s}"
            );
            assert!(!s.contains("123456789017"), "{format}: {s}");
        }
    }
}

#[test]
fn csv_starts_with_a_bom_and_has_japanese_headers() {
    let out = check("csv");
    assert!(out.stdout.starts_with("\u{feff}".as_bytes()));
    let s = String::from_utf8(out.stdout).unwrap();
    let mut lines = s.lines();
    assert!(lines.next().unwrap().contains("受付番号"));
    assert_eq!(lines.count(), 4);
}

#[test]
fn table_is_japanese_and_summary_counts_each_rule() {
    let t = String::from_utf8(check("table").stdout).unwrap();
    assert!(
        t.contains("受付番号") && t.contains("期限超過") && t.contains("4 件"),
        "{t}"
    );
    let s = String::from_utf8(check("summary").stdout).unwrap();
    assert!(s.contains("届書: 4 件"), "{s}");
    assert!(
        s.contains("5日ルール") && s.contains("標準処理期間") && s.contains("中央値"),
        "{s}"
    );
}

#[test]
fn a_missing_required_column_is_exit_1_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("n.csv");
    std::fs::write(&p, "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日\nA,資格取得,E,1,2,2024-04-01\n").unwrap();
    let out = regwatch(&[
        "check",
        "--notices",
        p.to_str().unwrap(),
        "--as-of",
        "2024-05-01",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("受付日"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn an_unreadable_file_is_exit_1() {
    let out = regwatch(&["check", "--notices", "/nonexistent/notices.csv"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn registration_before_receipt_rejects_the_result_row_and_keeps_the_notice() {
    let dir = tempfile::tempdir().unwrap();
    let n = dir.path().join("n.csv");
    let r = dir.path().join("r.csv");
    std::fs::write(&n, "notice_id,kind,employer_code,member_symbol,member_number,event_date,received_on\nA,acquisition,E,1,2,2024-04-01,2024-04-05\nB,acquisition,E,1,3,2024-04-01,2024-04-05\nC,acquisition,E,1,4,2024-04-01,2024-04-05\n").unwrap();
    std::fs::write(
        &r,
        "notice_id,registered_at\nA,2024-04-03 10:00\nB,2024-04-06 10:00\nC,2024-04-02 10:00\nC,2024-04-08 10:00\n",
    )
    .unwrap();
    let out = regwatch(&[
        "check",
        "--notices",
        n.to_str().unwrap(),
        "--registrations",
        r.to_str().unwrap(),
        "--as-of",
        "2024-05-01",
        "--format",
        "jsonl",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("registrations line 2: 登録完了日 2024-04-03 が受付日 2024-04-05（届書 line 2）より前です"),
        "{err}"
    );
    assert!(err.contains("registrations line 4:"), "{err}");
    let s = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = s
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "no notice vanishes because of a bad result row: {s}"
    );
    // A: the bad row does not count; not registered, so breached as of 05-01.
    assert_eq!(lines[0]["notice_id"], "A");
    assert_eq!(lines[0]["registration"]["status"], "breached");
    assert_eq!(lines[1]["registration"]["status"], "met");
    // C: the later, good row counts.
    assert_eq!(lines[2]["registration"]["status"], "met");
}

#[test]
fn rules_file_changes_the_deadlines_and_bad_keys_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "[rules]\npolicy = \"strict\"\n").unwrap();
    let out = regwatch(&[
        "check",
        "--notices",
        &data("notices.csv"),
        "--as-of",
        "2024-05-31",
        "--format",
        "jsonl",
        "--rules",
        rules.to_str().unwrap(),
    ]);
    let first: serde_json::Value = serde_json::from_str(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        first["registration"]["deadline"], "2024-05-03",
        "strict: never moved"
    );
    std::fs::write(&rules, "[rules]\nwarn_dayz = 2\n").unwrap();
    let out = regwatch(&[
        "check",
        "--notices",
        &data("notices.csv"),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("warn_dayz"));
}

#[test]
fn gen_is_deterministic_and_realistic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for d in [&a, &b] {
        let out = regwatch(&[
            "gen",
            "--notices",
            "3000",
            "--seed",
            "7",
            "--end",
            "2025-03-31",
            "--out",
            d.path().to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let na = std::fs::read(a.path().join("notices.csv")).unwrap();
    assert_eq!(na, std::fs::read(b.path().join("notices.csv")).unwrap());
    assert_eq!(
        std::fs::read(a.path().join("registrations.csv")).unwrap(),
        std::fs::read(b.path().join("registrations.csv")).unwrap()
    );
    let text = String::from_utf8(na).unwrap();
    assert_eq!(text.lines().count(), 3001);

    // Everything generated is accepted by check, with a spread of statuses.
    let out = regwatch(&[
        "check",
        "--notices",
        a.path().join("notices.csv").to_str().unwrap(),
        "--registrations",
        a.path().join("registrations.csv").to_str().unwrap(),
        "--as-of",
        "2025-03-31",
        "--format",
        "jsonl",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3000);
    let count = |f: &dyn Fn(&serde_json::Value) -> bool| rows.iter().filter(|r| f(r)).count();
    let bad = count(&|r| r["my_number_status"] != "valid");
    assert!(
        (150..=600).contains(&bad),
        "about 10% missing or wrong My Numbers, got {bad}"
    );
    assert!(count(&|r| r["submission"]["status"] == "breached") > 100);
    assert!(count(&|r| r["submission"]["status"] == "met") > 1000);
    assert!(
        count(
            &|r| r["registration"]["status"] == "open" || r["registration"]["status"] == "at_risk"
        ) > 0
    );
    assert!(
        count(&|r| r["submission"]["days_over"].as_i64().unwrap_or(0) > 30) > 0,
        "some retroactive"
    );
    let employers: std::collections::HashSet<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(employers.len(), 40);
    // April peak: more notices received in April than in any other month.
    let month = |m: &str| {
        text.lines()
            .skip(1)
            .filter(|l| l.split(',').nth(10).unwrap().starts_with(m))
            .count()
    };
    assert!(month("2024-04") > 2 * month("2024-06"), "April peak");
}
