//! Issue 8: the checklist (別添1/別添2) and the follow-up survey (別添3) word for word as in seed 002,
//! the 要因分析 figures, the xlsx/CSV exports read back with calamine, the pre-fill rules and the
//! staff's answers, plan and history.
mod common;

use calamine::{Data, Range, Reader, Xlsx};
use chrono::NaiveDate;
use common::{
    add_insurer, add_user, date as d, import_notices_csv, import_registrations_csv, login_cookie,
    login_token, notice_db_id, Auth, TestApp,
};
use diesel::prelude::*;
use regwatch::domain::InsurerKind;
use regwatch::reports::checklist::{self, ChecklistItem};
use regwatch::reports::survey::{self as followup, SurveyFacts};
use regwatch::store::insurers::Insurer;
use regwatch::store::letters::LetterCounts;
use regwatch::store::users::Role;
use serde_json::Value;

/// Lines 116–230 of seed 002, copied byte for byte (see tests/data/survey/README.md).
const SEED: &str = include_str!("data/survey/seed_002_annex_1_2_3.txt");

const KENPO_START: &str = "# 【健保組合向け】";
const KYOSAI_START: &str = "# 【共済組合等向け】";
const SURVEY_START: &str = "# フォローアップ調査のイメージ";

fn region(start: &str, end: Option<&str>) -> &'static str {
    let s = SEED.find(start).expect("start of region");
    let rest = &SEED[s..];
    match end {
        Some(e) => &rest[..rest.find(e).expect("end of region")],
        None => rest,
    }
}

/// (section, mark, text) of every checkbox line of a checklist region of the seed.
fn seed_checklist(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h.to_string();
        } else if let Some(item) = line.strip_suffix("\t<input type=\"checkbox\"/>") {
            let mark = item.chars().next().unwrap().to_string();
            let text = item[mark.len()..]
                .strip_prefix(' ')
                .expect("space after mark");
            out.push((section.clone(), mark, text.to_string()));
        }
    }
    out
}

fn ours(items: &[ChecklistItem]) -> Vec<(String, String, String)> {
    items
        .iter()
        .map(|i| {
            (
                i.section.to_string(),
                i.mark.to_string(),
                i.text.to_string(),
            )
        })
        .collect()
}

/// One question as the seed prints it.
#[derive(Debug, PartialEq, Eq)]
struct SeedQuestion {
    section: String,
    subsection: String,
    text: String,
    details: Vec<String>,
    choices: String,
}

fn seed_survey() -> Vec<SeedQuestion> {
    let mut section = String::new();
    let mut subsection = String::new();
    let mut out: Vec<SeedQuestion> = Vec::new();
    for line in region(SURVEY_START, None).lines().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(h) = line.strip_prefix("### ") {
            subsection = h.to_string();
        } else if let Some(h) = line.strip_prefix("## ") {
            section = h.to_string();
            subsection.clear();
        } else if let Some(body) = line.trim_start().strip_prefix("- ") {
            if body.starts_with('・') || body.starts_with('※') {
                out.last_mut().unwrap().details.push(body.to_string());
            } else {
                out.push(SeedQuestion {
                    section: section.clone(),
                    subsection: subsection.clone(),
                    text: body.to_string(),
                    details: vec![],
                    choices: String::new(),
                });
            }
        } else {
            out.last_mut().unwrap().choices = line.to_string();
        }
    }
    out
}

#[test]
fn the_checklists_are_word_for_word_those_of_the_seed() {
    let kenpo = region(KENPO_START, Some(KYOSAI_START));
    let kyosai = region(KYOSAI_START, Some(SURVEY_START));
    assert!(kenpo.contains("別添 1") && kyosai.contains("別添2"));
    assert_eq!(seed_checklist(kenpo), ours(&checklist::KENPO));
    assert_eq!(seed_checklist(kyosai), ours(&checklist::KYOSAI));
    assert!(kenpo.starts_with(&format!("# {}（その1）", checklist::KENPO_TITLE)));
    assert!(kyosai.starts_with(&format!("# {}（その1）", checklist::KYOSAI_TITLE)));
    assert_eq!(checklist::items_for(InsurerKind::Kenpo).len(), 16);
    assert_eq!(checklist::items_for(InsurerKind::Kyosai).len(), 15);
}

#[test]
fn the_survey_questions_and_choices_are_word_for_word_those_of_the_seed() {
    assert!(SEED.contains(&format!("# {}\n", followup::TITLE)));
    let ours: Vec<SeedQuestion> = followup::QUESTIONS
        .iter()
        .map(|q| SeedQuestion {
            section: q.section.to_string(),
            subsection: q.subsection.to_string(),
            text: q.text.to_string(),
            details: q.details.iter().map(|d| d.to_string()).collect(),
            choices: q.choices.join(" "),
        })
        .collect();
    assert_eq!(seed_survey(), ours);
}

// ---------------------------------------------------------------------------------------------
// Pre-fill rules (each with the reason it shows)

fn facts() -> SurveyFacts {
    SurveyFacts {
        ex_officio_days: 10,
        scheduled_actions: 0,
        letters: LetterCounts::default(),
    }
}

fn pre(f: &SurveyFacts, id: &str) -> followup::Prefill {
    followup::prefill(f)
        .into_iter()
        .find(|p| p.question == id)
        .unwrap()
}

#[test]
fn prefill_1_is_plan_drawn_up_when_a_plan_with_a_schedule_exists() {
    let mut f = facts();
    let p = pre(&f, "1");
    assert_eq!(p.choice, None);
    assert!(p.reason.contains("改善計画"), "{}", p.reason);
    f.scheduled_actions = 2;
    let p = pre(&f, "1");
    assert_eq!(p.choice, Some("計画策定済"));
    assert!(p.reason.contains("2 件"), "{}", p.reason);
}

#[test]
fn prefill_2_3_days_come_from_the_ex_officio_days_setting() {
    let mut f = facts();
    f.ex_officio_days = 7;
    let p = pre(&f, "2-(3)-a");
    assert_eq!(p.days, Some(7));
    assert_eq!(p.choice, None);
    assert!(p.reason.contains("7 日"), "{}", p.reason);
    f.letters.certificates_issued = 3;
    f.letters.notices_with_certificate = 2;
    let p = pre(&f, "2-(3)-a");
    assert_eq!(p.choice, Some("準備完了・対応中"));
    assert!(p.reason.contains("3 件"), "{}", p.reason);
    let q = followup::find("2-(3)-a").unwrap();
    assert!(followup::text_with_days(q, Some(7)).contains("届書提出から7日以上経過"));
}

#[test]
fn prefill_2_1_is_done_when_registration_period_letters_were_issued() {
    let mut f = facts();
    assert_eq!(pre(&f, "2-(1)-a").choice, None);
    assert_eq!(pre(&f, "2-(1)-b").choice, None);
    f.letters.registration_period = 5;
    for id in ["2-(1)-a", "2-(1)-b"] {
        let p = pre(&f, id);
        assert_eq!(p.choice, Some("対応済"), "{id}");
        assert!(p.reason.contains("データ登録完了までの期間のお知らせ"));
        assert!(p.reason.contains("5 件"));
    }
    assert_eq!(pre(&f, "2-(2)-b").choice, Some("準備完了・対応中"));
}

#[test]
fn prefill_2_2_is_ready_when_qualification_letters_were_issued() {
    let mut f = facts();
    assert_eq!(pre(&f, "2-(2)-a").choice, None);
    f.letters.qualification_info = 1;
    let p = pre(&f, "2-(2)-a");
    assert_eq!(p.choice, Some("準備完了・対応中"));
    assert!(p.reason.contains("資格情報のお知らせ"));
}

#[test]
fn prefill_2_3_b_is_ready_when_certificate_letters_were_issued() {
    let mut f = facts();
    assert_eq!(pre(&f, "2-(3)-b").choice, None);
    f.letters.certificate_letters = 4;
    assert_eq!(pre(&f, "2-(3)-b").choice, Some("準備完了・対応中"));
    // Every pre-fill is one of the question's own choices and says why.
    for p in followup::prefill(&f) {
        let q = followup::find(p.question).unwrap();
        if let Some(c) = p.choice {
            assert!(q.choices.contains(&c));
        }
        assert!(!p.reason.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// A known data set, end to end

const AS_OF: &str = "2026-06-30";
const VALID: &str = "123456789018";
const PERIOD: &str = "from=2026-03-01&to=2026-06-30&as_of=2026-06-30";

/// Six notices whose figures are worked out by hand (see the comments), one 資格確認書 and letters.
fn load_known(conn: &mut regwatch::store::DbConn, insurer: &Insurer) {
    let notices = format!(
        "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,氏名カナ,事実発生日,受付日,個人番号,遅延理由\n\
         K-1,資格取得,E01,株式会社一,E01,1,00,山田 一,ヤマダ イチ,2026-04-01,2026-04-02,{VALID},\n\
         K-2,資格取得,E01,株式会社一,E01,2,00,山田 二,ヤマダ ニ,2026-03-02,2026-04-06,{VALID},事業主の提出遅延\n\
         K-3,資格取得,E02,株式会社二,E02,3,00,山田 三,ヤマダ サン,2026-04-01,2026-04-02,,\n\
         K-4,被扶養者,E02,株式会社二,E02,4,01,山田 四,ヤマダ シ,2026-04-10,2026-04-13,{VALID},被扶養者認定待ち\n\
         K-5,資格取得,E01,株式会社一,E01,5,00,山田 五,ヤマダ ゴ,2026-05-01,2026-05-01,{VALID},\n\
         K-6,資格取得,E02,株式会社二,E02,6,00,山田 六,ヤマダ ロク,2026-05-20,2026-05-11,{VALID},\n"
    );
    let s = import_notices_csv(conn, insurer, "notices.csv", &notices, d(AS_OF));
    assert_eq!(s.rejected, 0, "{:?}", s.rejects);
    let regs = "受付番号,登録完了日時,処理結果,エラーコード,エラー内容\n\
        K-1,2026-04-03 10:00:00,正常,,\n\
        K-2,2026-04-07 10:00:00,正常,,\n\
        K-3,2026-05-20 10:00:00,正常,,\n\
        K-4,2026-05-15 10:00:00,正常,,\n\
        K-6,2026-05-12 10:00:00,正常,,\n";
    import_registrations_csv(conn, insurer, "registrations.csv", regs);
}

struct Known {
    app: TestApp,
    insurer: Insurer,
    token: String,
}

async fn known() -> Known {
    let app = TestApp::builder()
        .with_insurer("06130001", InsurerKind::Kenpo)
        .with_staff("06130001", "staff@example.jp", "correct horse 1")
        .with_seed(|c, ins| load_known(c, &ins[0]))
        // Another insurer with its own data: never seen by the first.
        .with_insurer("06130002", InsurerKind::Kyosai)
        .with_seed(|c, ins| load_known(c, &ins[1]))
        .spawn()
        .await;
    let insurer = app.insurer("06130001").clone();
    let mut c = app.conn();
    use regwatch::store::letters::{self, By, NewLetter, Run};
    let by = By {
        user: None,
        label: "test".into(),
    };
    let k5 = regwatch::store::notices::NoticeDbId(notice_db_id(&mut c, &insurer, "K-5"));
    letters::insert_certificate(
        &mut c,
        insurer.id,
        k5,
        d("2026-06-01"),
        d("2026-06-30"),
        &by,
    )
    .unwrap();
    let k1 = regwatch::store::notices::NoticeDbId(notice_db_id(&mut c, &insurer, "K-1"));
    letters::record_letters(
        &mut c,
        insurer.id,
        &Run {
            id: "run-1",
            format: "html",
            letter_date: d("2026-04-02"),
            by: &by,
        },
        &[NewLetter {
            notice: k1,
            kind: "registration_period",
            variant: "valid",
            template_version: "1".into(),
            certificate: None,
            html: None,
        }],
    )
    .unwrap();
    let token = login_token(&app, "staff@example.jp", "correct horse 1").await;
    Known {
        app,
        insurer,
        token,
    }
}

fn cell(r: &Range<Data>, row: u32, col: u32) -> String {
    r.get_value((row, col))
        .map(|c| c.to_string())
        .unwrap_or_default()
}

fn num(r: &Range<Data>, row: u32, col: u32) -> f64 {
    match r.get_value((row, col)) {
        Some(Data::Float(f)) => *f,
        Some(Data::Int(i)) => *i as f64,
        other => panic!("no number at ({row}, {col}): {other:?}"),
    }
}

#[tokio::test]
async fn factor_analysis_counts_late_cases_by_cause_employer_and_month() {
    let k = known().await;
    let r = k
        .app
        .get_as(&k.token, &format!("/api/v1/analysis?{PERIOD}"))
        .await;
    assert_eq!(r.status(), 200);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["notices"], 6);
    assert_eq!(a["submission_late"], 1);
    assert_eq!(a["registration_late"], 3);
    assert_eq!(a["received_before_event"], 1);
    let cause = |code: &str| {
        a["causes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["cause"] == code)
            .unwrap()
            .clone()
    };
    // K-2: its 遅延理由 names the employer.
    assert_eq!(cause("employer_late")["submission"], 1);
    // K-3: no reason given; its My Number is missing.
    assert_eq!(cause("my_number")["registration"], 1);
    // K-4: 被扶養者認定待ち.
    assert_eq!(cause("dependent_pending")["registration"], 1);
    // K-5: not registered, no reason, valid number.
    assert_eq!(cause("unknown")["registration"], 1);
    assert_eq!(a["from_text"], 2);
    let months = a["by_month"].as_array().unwrap();
    assert_eq!(months[0]["key"], "2026-04");
    assert_eq!(months[0]["notices"], 4);
    assert_eq!(months[0]["submission_late"], 1);
    assert_eq!(months[0]["registration_late"], 2);
    assert_eq!(months[1]["key"], "2026-05");
    assert_eq!(months[1]["registration_late"], 1);
    let emps = a["by_employer"].as_array().unwrap();
    assert_eq!(emps.len(), 2);
    let e01 = emps.iter().find(|e| e["key"] == "E01").unwrap();
    assert_eq!(e01["submission_late"], 1);
    assert_eq!(e01["registration_late"], 1);
    let e02 = emps.iter().find(|e| e["key"] == "E02").unwrap();
    assert_eq!(e02["registration_late"], 2);
    assert_eq!(e02["name"], "株式会社二");
}

#[tokio::test]
async fn the_survey_xlsx_holds_the_mhlw_wording_answers_and_monthly_figures() {
    let k = known().await;
    let r = k
        .app
        .get_as(&k.token, &format!("/api/v1/survey/followup.xlsx?{PERIOD}"))
        .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let ws = wb.worksheet_range("フォローアップ調査").unwrap();
    assert_eq!(cell(&ws, 0, 0), "06130001 テスト保険者06130001");
    assert_eq!(cell(&ws, 1, 0), followup::TITLE);
    assert_eq!(cell(&ws, 3, 2), "設問（厚生労働省の記載）");
    let seed = seed_survey();
    for (i, q) in seed.iter().enumerate() {
        let row = i as u32 + 4;
        assert_eq!(cell(&ws, row, 2), q.text, "question text row {row}");
        assert_eq!(cell(&ws, row, 3), q.details.join("\n"));
        assert_eq!(cell(&ws, row, 4), q.choices);
    }
    assert_eq!(cell(&ws, 4 + seed.len() as u32, 2), "");
    // Answers: the registration-period letter of K-1 → 対応済 for 2-(1); the certificate of K-5
    // → 準備完了・対応中 for 2-(3)-a with the default 10 days; no plan yet → section 1 empty.
    assert_eq!(cell(&ws, 4, 0), "1");
    assert_eq!(cell(&ws, 4, 5), "");
    assert_eq!(cell(&ws, 5, 5), "対応済");
    assert_eq!(cell(&ws, 6, 5), "対応済");
    assert_eq!(cell(&ws, 7, 5), "");
    assert_eq!(cell(&ws, 8, 5), "準備完了・対応中");
    assert_eq!(cell(&ws, 9, 0), "2-(3)-a");
    assert_eq!(cell(&ws, 9, 5), "準備完了・対応中");
    assert_eq!(cell(&ws, 9, 6), "10");
    assert!(cell(&ws, 9, 8).contains("10 日"));

    let st = wb.worksheet_range("月別統計").unwrap();
    assert_eq!(cell(&st, 3, 0), "月");
    assert_eq!(cell(&st, 3, 5), "資格喪失届の件数");
    assert_eq!(cell(&st, 3, 6), "資格確認書の交付件数");
    // April: K-1..K-4; submission met 3 of 4; 5-day rule met 2 of 3 (K-3 is standard).
    assert_eq!(cell(&st, 4, 0), "2026-04");
    assert_eq!(num(&st, 4, 1), 4.0);
    assert!((num(&st, 4, 2) - 0.75).abs() < 1e-9);
    assert!((num(&st, 4, 3) - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(num(&st, 4, 4), 1.0);
    assert_eq!(num(&st, 4, 6), 0.0);
    // May: K-5 (not registered: breached), K-6 (met).
    assert_eq!(cell(&st, 5, 0), "2026-05");
    assert_eq!(num(&st, 5, 1), 2.0);
    assert!((num(&st, 5, 2) - 1.0).abs() < 1e-9);
    assert!((num(&st, 5, 3) - 0.5).abs() < 1e-9);
    // June: no notices, one 資格確認書.
    assert_eq!(cell(&st, 6, 0), "2026-06");
    assert_eq!(num(&st, 6, 1), 0.0);
    assert_eq!(num(&st, 6, 6), 1.0);

    let ca = wb.worksheet_range("要因分析").unwrap();
    assert_eq!(cell(&ca, 4, 0), "事業主の提出遅延");
    assert_eq!(num(&ca, 4, 1), 1.0);
}

#[tokio::test]
async fn the_checklist_xlsx_and_csv_hold_the_seed_items_for_the_insurer_kind() {
    let k = known().await;
    let r = k
        .app
        .get_as(&k.token, &format!("/api/v1/checklist.xlsx?{PERIOD}"))
        .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let ws = wb.worksheet_range("チェックリスト").unwrap();
    assert_eq!(cell(&ws, 0, 0), "06130001 テスト保険者06130001");
    assert!(cell(&ws, 1, 0).contains("別添1"));
    assert_eq!(cell(&ws, 3, 2), "チェック項目（厚生労働省の記載）");
    let seed = seed_checklist(region(KENPO_START, Some(KYOSAI_START)));
    for (i, (section, _, text)) in seed.iter().enumerate() {
        let row = i as u32 + 4;
        assert_eq!(&cell(&ws, row, 1), section);
        assert_eq!(&cell(&ws, row, 2), text);
    }
    assert_eq!(cell(&ws, 4, 0), "1-①");
    assert!(
        cell(&ws, 4, 5).contains("提出期限超過 1 件"),
        "{}",
        cell(&ws, 4, 5)
    );
    assert!(cell(&ws, 5, 5).contains("登録期限超過 3 件"));
    // 3-⑤ (内定者): K-6 was received before its event date.
    assert_eq!(cell(&ws, 17, 0), "3-⑤");
    assert!(
        cell(&ws, 17, 5).contains("1 件／6 件"),
        "{}",
        cell(&ws, 17, 5)
    );
    assert!(wb.worksheet_range("改善計画").is_ok());
    assert!(wb.worksheet_range("月別統計").is_ok());

    let r = k
        .app
        .get_as(&k.token, &format!("/api/v1/checklist.csv?{PERIOD}"))
        .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let mut rdr = csv::Reader::from_reader(&bytes[3..]);
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 16);
    assert_eq!(&rows[0][0], "06130001");
    for (row, (_, _, text)) in rows.iter().zip(&seed) {
        assert_eq!(&row[4], text.as_str());
    }

    let r = k
        .app
        .get_as(&k.token, &format!("/api/v1/survey/followup.csv?{PERIOD}"))
        .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    for q in seed_survey() {
        assert!(text.contains(&q.text), "{}", q.text);
    }

    let body: Value = k
        .app
        .get_as(&k.token, &format!("/api/v1/checklist?{PERIOD}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["annex"], "別添1");
    assert_eq!(body["items"].as_array().unwrap().len(), 16);
    assert_eq!(body["items"][0]["text"], checklist::KENPO[0].text);

    // Signed out: refused.
    let r = k
        .app
        .client
        .get(format!("{}/api/v1/checklist.xlsx", k.app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_kyosai_insurer_gets_annex_2() {
    let app = TestApp::builder()
        .with_insurer("31130001", InsurerKind::Kyosai)
        .with_viewer("31130001", "k@example.jp", "correct horse 1")
        .spawn()
        .await;
    let t = login_token(&app, "k@example.jp", "correct horse 1").await;
    let bytes = app
        .get_as(&t, "/api/v1/checklist.xlsx")
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let ws = wb.worksheet_range("チェックリスト").unwrap();
    assert!(cell(&ws, 1, 0).contains("別添2"));
    let seed = seed_checklist(region(KYOSAI_START, Some(SURVEY_START)));
    assert_eq!(seed.len(), 15);
    for (i, (_, _, text)) in seed.iter().enumerate() {
        assert_eq!(&cell(&ws, i as u32 + 4, 2), text);
    }
}

#[tokio::test]
async fn staff_answer_the_checklist_keep_a_plan_and_edit_and_submit_the_survey() {
    let k = known().await;
    let app = &k.app;
    let s = login_cookie(app, "staff@example.jp", "correct horse 1").await;
    let csrf = s.csrf.as_str();

    // The checklist page saves every answer of its one form in one submit.
    let r = app
        .post_form(
            Auth::Cookie(&s.cookie),
            "/checklist",
            &[
                ("csrf", csrf),
                ("answer:2-③", "partly"),
                ("note:2-③", "フロー案あり"),
                ("answer:1-①", "done"),
                ("note:1-①", ""),
                ("note:1-②", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/checklist?saved=2"), "{location}");
    // Submitted again with one change: only that item is written (and audited).
    let r = app
        .post_form(
            Auth::Cookie(&s.cookie),
            "/checklist",
            &[
                ("csrf", csrf),
                ("answer:2-③", "done"),
                ("note:2-③", "策定済み"),
                ("answer:1-①", "done"),
                ("note:1-①", ""),
                ("from", "2026-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, "/checklist?saved=1&from=2026-01-01");
    let html = app.page_text(&s, &location).await;
    assert!(html.contains("1 件の回答を保存しました"));
    assert!(html.contains("策定済み"));
    assert!(html.contains(checklist::KENPO[6].text));
    {
        use regwatch::store::schema::audit_log;
        let mut c = app.db.conn();
        let n: i64 = audit_log::table
            .filter(audit_log::action.eq("checklist_answer"))
            .count()
            .get_result(&mut c)
            .unwrap();
        assert_eq!(n, 3, "two answers, then one change");
    }
    // An unknown item, a note without an answer, or a missing CSRF token is refused, and
    // nothing of that submit is saved.
    for fields in [
        vec![
            ("csrf", csrf),
            ("answer:1-①", "not_done"),
            ("answer:9-①", "done"),
        ],
        vec![
            ("csrf", csrf),
            ("answer:1-①", "not_done"),
            ("note:1-③", "メモ"),
        ],
        vec![("csrf", "x"), ("answer:1-①", "not_done")],
    ] {
        let r = app
            .post_form(Auth::Cookie(&s.cookie), "/checklist", &fields)
            .await;
        assert_ne!(r.status(), 303, "{fields:?}");
    }
    let html = app.page_text(&s, "/checklist").await;
    assert!(
        !html.contains("value=\"not_done\" checked"),
        "nothing of a refused submit is saved"
    );

    // A plan action with a schedule, overdue as of today, and a dated review.
    let r = app
        .post_form(
            Auth::Cookie(&s.cookie),
            "/plan/actions",
            &[
                ("csrf", csrf),
                ("title", "事業主向け説明会"),
                ("checklist_item", "3-②"),
                ("owner", "適用課"),
                ("start_on", "2026-01-05"),
                ("due_on", "2026-02-27"),
                ("status", "in_progress"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let mut c = app.db.conn();
    let actions = regwatch::store::survey::plan_actions(&mut c, k.insurer.id).unwrap();
    assert_eq!(actions.len(), 1);
    assert!(actions[0].overdue(d(AS_OF)));
    let id = actions[0].id;
    let r = app
        .post_form(
            Auth::Cookie(&s.cookie),
            &format!("/plan/actions/{id}/reviews"),
            &[
                ("csrf", csrf),
                ("reviewed_on", "2026-02-01"),
                ("progress", "50"),
                ("note", "半数実施"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let html = app.page_text(&s, &format!("/plan?as_of={AS_OF}")).await;
    assert!(html.contains("期限超過") && html.contains("半数実施") && html.contains("<svg"));
    // Another insurer's action: not found, and left alone.
    let other = regwatch::store::insurers::find_by_number(
        &mut c,
        &regwatch::domain::InsurerNumber::parse("06130002").unwrap(),
    )
    .unwrap();
    let theirs = regwatch::store::survey::add_action(
        &mut c,
        other.id,
        &regwatch::store::survey::NewAction {
            title: "他保険者の取組",
            checklist_item: None,
            owner: "",
            start_on: None,
            due_on: None,
            status: "planned",
        },
    )
    .unwrap();
    for (path, form) in [
        (
            format!("/plan/actions/{theirs}/status"),
            vec![("csrf", csrf), ("status", "done")],
        ),
        (
            format!("/plan/actions/{theirs}/reviews"),
            vec![("csrf", csrf), ("note", "x")],
        ),
        (
            format!("/plan/actions/{}/status", theirs + 1000),
            vec![("csrf", csrf), ("status", "done")],
        ),
    ] {
        let r = app.post_form(Auth::Cookie(&s.cookie), &path, &form).await;
        assert_eq!(r.status(), 404, "{path}");
    }
    let theirs_now = regwatch::store::survey::plan_actions(&mut c, other.id).unwrap();
    assert_eq!(theirs_now[0].status, "planned");
    assert!(regwatch::store::survey::plan_reviews(&mut c, other.id)
        .unwrap()
        .is_empty());

    // With a scheduled plan, section 1 is pre-filled 計画策定済.
    let body: Value = app
        .get_as(&k.token, &format!("/api/v1/survey/followup?{PERIOD}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["questions"][0]["answer"], "計画策定済");
    assert_eq!(body["questions"][0]["source"], "prefill");

    // Staff override 2-(3)-a with their own days; a choice not offered is refused.
    let r = app
        .post_form(
            Auth::Cookie(&s.cookie),
            "/survey/answers",
            &[
                ("csrf", csrf),
                ("question_id", "2-(3)-a"),
                ("choice", "対応予定"),
                ("days", "14"),
                ("note", "規程改正中"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = app
        .post_form(
            Auth::Cookie(&s.cookie),
            "/survey/answers",
            &[("csrf", csrf), ("question_id", "1"), ("choice", "対応済")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = app
        .get_as(&k.token, &format!("/api/v1/survey/followup?{PERIOD}"))
        .await
        .json()
        .await
        .unwrap();
    let q = &body["questions"][5];
    assert_eq!(q["id"], "2-(3)-a");
    assert_eq!(q["answer"], "対応予定");
    assert_eq!(q["days"], 14);
    assert_eq!(q["source"], "staff");
    assert_eq!(q["prefill_choice"], "準備完了・対応中");

    // Submitted twice: two entries in the history.
    for _ in 0..2 {
        let r = app
            .post_form(
                Auth::Cookie(&s.cookie),
                "/survey/submissions",
                &[("csrf", csrf), ("from", "2026-03-01"), ("to", "2026-06-30")],
            )
            .await;
        assert_eq!(r.status(), 303);
    }
    use regwatch::store::schema::audit_log;
    let audited: Vec<String> = audit_log::table
        .filter(audit_log::insurer_id.eq(k.insurer.id.0))
        .select(audit_log::action)
        .load(&mut c)
        .unwrap();
    for a in [
        "checklist_answer",
        "plan_action_add",
        "plan_review",
        "survey_answer",
        "survey_submit",
    ] {
        assert!(audited.iter().any(|x| x == a), "{a} audited");
    }
    let subs = regwatch::store::survey::submissions(&mut c, k.insurer.id).unwrap();
    assert_eq!(subs.len(), 2);
    assert!(subs[0].answers_json.contains("対応予定"));
    let html = app.page_text(&s, &format!("/survey?{PERIOD}")).await;
    assert!(html.contains(followup::QUESTIONS[5].text));
    assert!(html.contains("提出の履歴"));
    let html = app.page_text(&s, &format!("/analysis?{PERIOD}")).await;
    assert!(html.contains("被扶養者認定待ち") && html.contains("株式会社二"));
}

#[tokio::test]
async fn viewers_may_read_but_not_answer() {
    let k = known().await;
    let mut c = k.app.db.conn();
    add_user(
        &mut c,
        &k.insurer,
        "viewer@example.jp",
        Role::Viewer,
        "correct horse 1",
    );
    let s = login_cookie(&k.app, "viewer@example.jp", "correct horse 1").await;
    k.app.page_text(&s, "/checklist").await;
    let r = k
        .app
        .post_form(
            Auth::Cookie(&s.cookie),
            "/checklist",
            &[("csrf", s.csrf.as_str()), ("answer:2-③", "done")],
        )
        .await;
    assert_eq!(r.status(), 403);
}

// ---------------------------------------------------------------------------------------------
// The April peak against staffing (checklist 2-②), with a generated data set

/// (received_on, days to registration) of every generated notice: three a day in the week of
/// 2026-03-30 (ISO week 14, the peak), one a day in the week of 2026-04-06, two in May. Delays are
/// either short (≤ 3: met under any deadline policy) or long (≥ 15: breached even across Golden
/// Week), so the breach count does not depend on the holiday calendar.
fn generated() -> Vec<(NaiveDate, i64)> {
    let mut out = Vec::new();
    let long_and_short = [1, 2, 3, 15, 20];
    let mut i = 0;
    for day in 0..5 {
        for _ in 0..3 {
            out.push((
                d("2026-03-30") + chrono::Days::new(day),
                long_and_short[i % 5],
            ));
            i += 1;
        }
    }
    for (day, delay) in [1, 1, 2, 2, 3].into_iter().enumerate() {
        out.push((d("2026-04-06") + chrono::Days::new(day as u64), delay));
    }
    out.push((d("2026-05-11"), 1));
    out.push((d("2026-05-12"), 2));
    out
}

/// Expected figures of a set of delays, computed here without the service's histogram:
/// (notices, median, p90, breached) with nearest-rank percentiles.
fn expected(delays: &[i64]) -> (u64, Option<i64>, Option<i64>, u64) {
    let mut v = delays.to_vec();
    v.sort();
    let rank =
        |p: f64| (!v.is_empty()).then(|| v[((p * v.len() as f64).ceil() as usize).max(1) - 1]);
    (
        v.len() as u64,
        rank(0.5),
        rank(0.9),
        v.iter().filter(|d| **d >= 15).count() as u64,
    )
}

fn load_generated_peak(conn: &mut regwatch::store::DbConn, insurer: &Insurer) {
    let mut notices = String::from(
        "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日,個人番号\n",
    );
    let mut regs = String::from("受付番号,登録完了日時\n");
    for (i, (received, delay)) in generated().into_iter().enumerate() {
        let event = received - chrono::Days::new(1);
        notices.push_str(&format!(
            "G-{i},資格取得,E01,E01,{i},{event},{received},{VALID}\n"
        ));
        regs.push_str(&format!(
            "G-{i},{} 09:00:00\n",
            received + chrono::Days::new(delay as u64)
        ));
    }
    let s = import_notices_csv(conn, insurer, "peak.csv", &notices, d(AS_OF));
    assert_eq!(s.rejected, 0, "{:?}", s.rejects);
    import_registrations_csv(conn, insurer, "regs.csv", &regs);
}

fn row<'a>(rows: &'a Value, period: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == period)
        .unwrap_or_else(|| panic!("no row {period}"))
}

#[tokio::test]
async fn the_april_peak_is_shown_against_staffing_by_week_and_by_month() {
    let app = TestApp::builder()
        .with_insurer("06130003", InsurerKind::Kenpo)
        .with_staff("06130003", "s@example.jp", "correct horse 1")
        .with_viewer("06130003", "v@example.jp", "correct horse 1")
        .with_seed(|c, ins| load_generated_peak(c, &ins[0]))
        .spawn()
        .await;
    let insurer = app.insurer("06130003").clone();
    let mut c = app.conn();
    // Another insurer's staffing is never used for this one.
    let other = add_insurer(&mut c, "06130004", InsurerKind::Kenpo);
    regwatch::store::staffing::set(
        &mut c,
        other.id,
        regwatch::domain::staffing::StaffingPeriod::parse("2026-05").unwrap(),
        Some(9.0),
        "",
        "x",
    )
    .unwrap();
    let t = login_token(&app, "s@example.jp", "correct horse 1").await;
    let gen = generated();
    let delays_in = |from: &str, to: &str| -> Vec<i64> {
        gen.iter()
            .filter(|(r, _)| *r >= d(from) && *r <= d(to))
            .map(|(_, x)| *x)
            .collect()
    };

    // Without staffing: the peak is shown, the ratio is not, and the page says why.
    let a: Value = app
        .get_as(&t, &format!("/api/v1/analysis?{PERIOD}"))
        .await
        .json()
        .await
        .unwrap();
    let w = &a["workload"];
    assert_eq!(w["peak_year"], 2026);
    assert_eq!(w["has_staffing"], false);
    let w14 = row(&w["weeks"], "2026-W14");
    assert_eq!(w14["notices"], 15);
    assert!(w14["per_staff"].is_null());
    assert_eq!(w["busiest_week"]["period"], "2026-W14");
    let s = login_cookie(&app, "s@example.jp", "correct horse 1").await;
    let html = app.page_text(&s, &format!("/analysis?{PERIOD}")).await;
    assert!(html.contains("職員数が入力されていません"));
    assert!(html.contains("3〜5月の週別の届書件数"));
    assert!(!html.contains("週別の職員1人当たり届書件数"));
    let cl: Value = app
        .get_as(&t, &format!("/api/v1/checklist?{PERIOD}"))
        .await
        .json()
        .await
        .unwrap();
    let ev = cl["items"][5]["evidence"].as_str().unwrap().to_string();
    assert_eq!(cl["items"][5]["id"], "2-②");
    assert!(ev.contains("2026-03-30 の週：届書 15 件"), "{ev}");
    assert!(ev.contains("職員数が未入力"), "{ev}");

    // Staffing by API: April, March, and a week-14 override; validation in Japanese; viewers 403.
    let r = app
        .put_json(
            &t,
            "/api/v1/analysis/staffing",
            serde_json::json!({"entries": [
                {"period": "2026-04", "staff": 3, "note": "通常体制"},
                {"period": "2026-03", "staff": 2},
                {"period": "2026-W14", "staff": 5, "note": "応援2名"}
            ]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["entries"].as_array().unwrap().len(), 3);
    for (bad, word) in [
        (
            serde_json::json!({"entries": [{"period": "2026-13", "staff": 3}]}),
            "期間",
        ),
        (
            serde_json::json!({"entries": [{"period": "2026-04", "staff": 0}]}),
            "職員数",
        ),
        (
            serde_json::json!({"entries": [{"period": "2026-04", "staff": 1}, {"period": "2026-04", "staff": 2}]}),
            "重複",
        ),
    ] {
        let r = app.put_json(&t, "/api/v1/analysis/staffing", bad).await;
        assert_eq!(r.status(), 400);
        let e: Value = r.json().await.unwrap();
        assert!(e["error"]["message"].as_str().unwrap().contains(word));
    }
    let tv = login_token(&app, "v@example.jp", "correct horse 1").await;
    let r = app
        .put_json(
            &tv,
            "/api/v1/analysis/staffing",
            serde_json::json!({"entries": []}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let got: Value = app
        .get_as(&tv, "/api/v1/analysis/staffing")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["entries"].as_array().unwrap().len(), 3);
    assert_eq!(got["entries"][0]["period"], "2026-03");

    // The weeks, against the figures computed here.
    let a: Value = app
        .get_as(&t, &format!("/api/v1/analysis?{PERIOD}"))
        .await
        .json()
        .await
        .unwrap();
    let w = &a["workload"];
    assert_eq!(w["has_staffing"], true);
    for (period, from, to, staff, source) in [
        (
            "2026-W14",
            "2026-03-30",
            "2026-04-05",
            Some(5.0),
            Some("week"),
        ),
        (
            "2026-W15",
            "2026-04-06",
            "2026-04-12",
            Some(3.0),
            Some("month"),
        ),
        ("2026-W20", "2026-05-11", "2026-05-17", None, None),
    ] {
        let (n, median, p90, breached) = expected(&delays_in(from, to));
        let r = row(&w["weeks"], period);
        assert_eq!(r["notices"], n, "{period}");
        assert_eq!(r["median_days"].as_i64(), median, "{period}");
        assert_eq!(r["p90_days"].as_i64(), p90, "{period}");
        assert_eq!(r["breached"], breached, "{period}");
        assert_eq!(r["staff"].as_f64(), staff, "{period}");
        assert_eq!(r["staff_source"].as_str(), source, "{period}");
        match staff {
            Some(s) => {
                assert!((r["per_staff"].as_f64().unwrap() - n as f64 / s).abs() < 1e-9)
            }
            None => assert!(r["per_staff"].is_null()),
        }
    }
    // Weeks with no notices are shown (the whole of March–May).
    assert_eq!(row(&w["weeks"], "2026-W10")["notices"], 0);
    // Months of the year: March (2 staff), April (3), May (none: the other insurer's 9 unused).
    for (period, from, to, staff) in [
        ("2026-03", "2026-03-01", "2026-03-31", Some(2.0)),
        ("2026-04", "2026-04-01", "2026-04-30", Some(3.0)),
        ("2026-05", "2026-05-01", "2026-05-31", None),
    ] {
        let (n, median, p90, breached) = expected(&delays_in(from, to));
        let r = row(&w["months"], period);
        assert_eq!(r["notices"], n, "{period}");
        assert_eq!(r["median_days"].as_i64(), median, "{period}");
        assert_eq!(r["p90_days"].as_i64(), p90, "{period}");
        assert_eq!(r["breached"], breached, "{period}");
        assert_eq!(r["staff"].as_f64(), staff, "{period}");
    }

    // The page draws the ratio, the checklist's 2-② evidence uses it and links to it.
    let html = app.page_text(&s, &format!("/analysis?{PERIOD}")).await;
    assert!(!html.contains("職員数が入力されていません"));
    assert!(html.contains("週別の職員1人当たり届書件数") && html.contains("<svg"));
    assert!(html.contains("応援2名"));
    let cl: Value = app
        .get_as(&t, &format!("/api/v1/checklist?{PERIOD}"))
        .await
        .json()
        .await
        .unwrap();
    let ev = cl["items"][5]["evidence"].as_str().unwrap().to_string();
    assert!(
        ev.contains("届書 15 件、職員 5 人で1人当たり 3.0 件"),
        "{ev}"
    );
    let (_, median, p90, breached) = expected(&delays_in("2026-03-30", "2026-04-05"));
    assert!(
        ev.contains(&format!(
            "登録日数 中央値 {}日・90%点 {}日、登録期限超過 {breached} 件",
            median.unwrap(),
            p90.unwrap()
        )),
        "{ev}"
    );
    let html = app.page_text(&s, &format!("/checklist?{PERIOD}")).await;
    assert!(html.contains("#peak"));

    // The xlsx exports carry the same figures.
    let bytes = app
        .get_as(&t, &format!("/api/v1/checklist.xlsx?{PERIOD}"))
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let ws = wb.worksheet_range("繁忙期と体制").unwrap();
    assert_eq!(cell(&ws, 3, 6), "職員1人当たり件数");
    let r = (4..ws.height() as u32)
        .find(|r| cell(&ws, *r, 1) == "2026-W14")
        .unwrap();
    assert_eq!(cell(&ws, r, 0), "週");
    assert_eq!(num(&ws, r, 4), 15.0);
    assert_eq!(num(&ws, r, 5), 5.0);
    assert_eq!(num(&ws, r, 6), 3.0);
    assert_eq!(num(&ws, r, 9), breached as f64);
    let m = (4..ws.height() as u32)
        .find(|r| cell(&ws, *r, 1) == "2026-05")
        .unwrap();
    assert_eq!(cell(&ws, m, 0), "月");
    assert_eq!(cell(&ws, m, 5), "");
    // … and the CSV the same rows as the sheet.
    let r = app
        .get_as(&t, &format!("/api/v1/analysis/workload.csv?{PERIOD}"))
        .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(&bytes[3..])
        .records()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(rows.len() as u32, ws.height() as u32 - 4);
    for (i, rec) in rows.iter().enumerate() {
        let r = i as u32 + 4;
        assert_eq!(&rec[0], "06130003");
        for c in 0..4 {
            assert_eq!(rec[c as usize + 2], cell(&ws, r, c), "row {r} col {c}");
        }
        for c in 4..10 {
            let sheet = match ws.get_value((r, c)) {
                Some(Data::Float(f)) => Some(*f),
                _ => None,
            };
            let text = &rec[c as usize + 2];
            let csv = (!text.is_empty()).then(|| text.parse::<f64>().unwrap());
            match (sheet, csv) {
                (Some(x), Some(y)) => assert!((x - y).abs() < 0.05, "row {r} col {c}"),
                (x, y) => assert_eq!(x, y, "row {r} col {c}"),
            }
        }
    }

    // The form on the page: sets a May figure, removes it with a blank count, refuses a bad one.
    for (form, status) in [
        (vec![("period", "2026-05"), ("staff", "1.5")], 303),
        (vec![("period", "2026-05"), ("staff", "")], 303),
        (vec![("period", "2026年5月"), ("staff", "2")], 400),
        (vec![("period", "2026-05"), ("staff", "2.25")], 400),
    ] {
        let mut f = form.clone();
        f.push(("csrf", s.csrf.as_str()));
        let r = app
            .post_form(Auth::Cookie(&s.cookie), "/analysis/staffing", &f)
            .await;
        assert_eq!(r.status(), status, "{form:?}");
        if status == 400 {
            let body = r.text().await.unwrap();
            assert!(body.contains("してください"), "{body}");
        }
    }
    let v = login_cookie(&app, "v@example.jp", "correct horse 1").await;
    let r = app
        .post_form(
            Auth::Cookie(&v.cookie),
            "/analysis/staffing",
            &[
                ("csrf", v.csrf.as_str()),
                ("period", "2026-05"),
                ("staff", "2"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    let entries = regwatch::store::staffing::entries(&mut c, insurer.id).unwrap();
    assert_eq!(entries.len(), 3);
    use regwatch::store::schema::audit_log;
    let audited: Vec<String> = audit_log::table
        .filter(audit_log::insurer_id.eq(insurer.id.0))
        .select(audit_log::action)
        .load(&mut c)
        .unwrap();
    assert!(audited.iter().any(|a| a == "staffing_replace"));
    assert_eq!(audited.iter().filter(|a| *a == "staffing_set").count(), 2);
    // The other insurer's figure is untouched.
    assert_eq!(
        regwatch::store::staffing::entries(&mut c, other.id).unwrap()[0].staff,
        9.0
    );
}

// ---------------------------------------------------------------------------------------------
// Printable HTML

/// The text of an HTML document: tags dropped, tera's escapes undone, whitespace runs kept as is.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&#x2F;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn the_print_views_hold_the_seed_wording_answers_and_notes_without_navigation() {
    let k = known().await;
    let app = &k.app;
    let r = app
        .put_json(
            &k.token,
            "/api/v1/checklist/answers",
            serde_json::json!({"item_id": "2-③", "answer": "done", "note": "対応フロー策定済み"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .get_as(&k.token, &format!("/api/v1/checklist.html?{PERIOD}"))
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("@page") && html.contains("A4"));
    assert!(!html.contains("<nav") && !html.contains("<form"));
    let text = text_of(&html);
    assert!(text.contains("06130001") && text.contains("テスト保険者06130001"));
    assert!(text.contains(checklist::KENPO_TITLE) && text.contains("別添1"));
    for (section, mark, item) in seed_checklist(region(KENPO_START, Some(KYOSAI_START))) {
        assert!(text.contains(&section), "{section}");
        assert!(text.contains(&format!("{mark} {item}")), "{item}");
    }
    assert!(text.contains("■ 実施済") && text.contains("対応フロー策定済み"));

    let r = app
        .get_as(&k.token, &format!("/api/v1/survey/followup.html?{PERIOD}"))
        .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("@page") && !html.contains("<nav"));
    let text = text_of(&html);
    assert!(text.contains(followup::TITLE) && text.contains("06130001"));
    for q in seed_survey() {
        assert!(text.contains(&q.section), "{}", q.section);
        assert!(text.contains(&q.subsection), "{}", q.subsection);
        assert!(text.contains(&q.text), "{}", q.text);
        for d in &q.details {
            assert!(text.contains(d.as_str()), "{d}");
        }
        for c in q.choices.split(' ') {
            assert!(text.contains(c), "{c}");
        }
    }
    // The pre-filled answer of 2-(1)-a (a registration-period letter exists) is marked.
    assert!(text.contains("■ 対応済"));
    assert!(text.contains("〇日 = 10日"));

    // The same documents as pages, for a signed-in browser.
    let s = login_cookie(app, "staff@example.jp", "correct horse 1").await;
    for path in ["/checklist/print", "/survey/print"] {
        let html = app.page_text(&s, &format!("{path}?{PERIOD}")).await;
        assert!(html.contains("@page") && !html.contains("<nav"), "{path}");
    }
}

// ---------------------------------------------------------------------------------------------
// API editing

#[tokio::test]
async fn staff_edit_the_checklist_survey_and_plan_through_the_api_with_the_forms_rules() {
    let k = known().await;
    let app = &k.app;
    let t = &k.token;
    let mut c = app.db.conn();
    add_user(
        &mut c,
        &k.insurer,
        "viewer@example.jp",
        Role::Viewer,
        "correct horse 1",
    );
    let tv = login_token(app, "viewer@example.jp", "correct horse 1").await;

    // Checklist answers.
    let r = app
        .put_json(
            t,
            "/api/v1/checklist/answers",
            serde_json::json!({"item_id": "2-③", "answer": "partly", "note": "案あり"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["answer_label"], "一部");
    for bad in [
        serde_json::json!({"item_id": "9-①", "answer": "done"}),
        serde_json::json!({"item_id": "2-③", "answer": "yes"}),
    ] {
        let r = app.put_json(t, "/api/v1/checklist/answers", bad).await;
        assert_eq!(r.status(), 400);
    }
    let r = app
        .put_json(
            &tv,
            "/api/v1/checklist/answers",
            serde_json::json!({"item_id": "2-③", "answer": "done"}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let body: Value = app
        .get_as(t, &format!("/api/v1/checklist?{PERIOD}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["items"][6]["answer"], "partly");
    assert_eq!(body["items"][6]["note"], "案あり");

    // Survey answers: the days only on 2-(3)-a, within 1–365; the choice must be offered.
    let r = app
        .put_json(
            t,
            "/api/v1/survey/answers",
            serde_json::json!({"question_id": "2-(3)-a", "choice": "対応予定", "days": 14}),
        )
        .await;
    assert_eq!(r.status(), 200);
    for bad in [
        serde_json::json!({"question_id": "2-(3)-a", "choice": "対応予定", "days": 0}),
        serde_json::json!({"question_id": "1", "choice": "対応済"}),
        serde_json::json!({"question_id": "9", "choice": "その他"}),
    ] {
        let r = app.put_json(t, "/api/v1/survey/answers", bad).await;
        assert_eq!(r.status(), 400);
    }
    let r = app
        .put_json(
            &tv,
            "/api/v1/survey/answers",
            serde_json::json!({"question_id": "1", "choice": "その他"}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let body: Value = app
        .get_as(t, &format!("/api/v1/survey/followup?{PERIOD}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["questions"][5]["answer"], "対応予定");
    assert_eq!(body["questions"][5]["days"], 14);

    // Plan actions, status and reviews.
    let r = app.post_json(t,
        "/api/v1/plan/actions",
        serde_json::json!({"title": "繁忙期の応援体制", "checklist_item": "2-②", "owner": "適用課",
                           "start_on": "2026-03-01", "due_on": "2026-05-31"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for bad in [
        serde_json::json!({"title": " "}),
        serde_json::json!({"title": "x", "start_on": "2026-05-01", "due_on": "2026-04-01"}),
        serde_json::json!({"title": "x", "checklist_item": "9-①"}),
        serde_json::json!({"title": "x", "status": "finished"}),
    ] {
        let r = app.post_json(t, "/api/v1/plan/actions", bad).await;
        assert_eq!(r.status(), 400);
    }
    let r = app
        .post_json(
            &tv,
            "/api/v1/plan/actions",
            serde_json::json!({"title": "x"}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .put_json(
            t,
            &format!("/api/v1/plan/actions/{id}/status"),
            serde_json::json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let r = app
        .post_json(
            t,
            &format!("/api/v1/plan/actions/{id}/reviews"),
            serde_json::json!({"reviewed_on": "2026-04-15", "progress": 40, "note": "応援2名配置"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(
            t,
            &format!("/api/v1/plan/actions/{id}/reviews"),
            serde_json::json!({"progress": 101}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = app
        .get_as(t, &format!("/api/v1/checklist?{PERIOD}"))
        .await
        .json()
        .await
        .unwrap();
    let plan = body["plan"].as_array().unwrap();
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0]["status"], "in_progress");
    assert_eq!(plan[0]["reviews"][0]["progress"], 40);

    // Another insurer's action: 404 for staff of this one, and left alone.
    let other = regwatch::store::insurers::find_by_number(
        &mut c,
        &regwatch::domain::InsurerNumber::parse("06130002").unwrap(),
    )
    .unwrap();
    let theirs = regwatch::store::survey::add_action(
        &mut c,
        other.id,
        &regwatch::store::survey::NewAction {
            title: "他保険者の取組",
            checklist_item: None,
            owner: "",
            start_on: None,
            due_on: None,
            status: "planned",
        },
    )
    .unwrap();
    let r = app
        .put_json(
            t,
            &format!("/api/v1/plan/actions/{theirs}/status"),
            serde_json::json!({"status": "done"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = app
        .post_json(
            t,
            &format!("/api/v1/plan/actions/{theirs}/reviews"),
            serde_json::json!({"note": "x"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        regwatch::store::survey::plan_actions(&mut c, other.id).unwrap()[0].status,
        "planned"
    );

    use regwatch::store::schema::audit_log;
    let audited: Vec<String> = audit_log::table
        .filter(audit_log::insurer_id.eq(k.insurer.id.0))
        .select(audit_log::action)
        .load(&mut c)
        .unwrap();
    for a in [
        "checklist_answer",
        "survey_answer",
        "plan_action_add",
        "plan_action_status",
        "plan_review",
    ] {
        assert!(audited.iter().any(|x| x == a), "{a} audited");
    }
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for p in [
        "/api/v1/checklist/answers",
        "/api/v1/survey/answers",
        "/api/v1/plan/actions",
        "/api/v1/plan/actions/{id}/status",
        "/api/v1/plan/actions/{id}/reviews",
        "/api/v1/analysis/staffing",
        "/api/v1/statistics.csv",
        "/api/v1/checklist.html",
        "/api/v1/survey/followup.html",
        "/api/v1/survey/submissions/{id}",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} documented");
    }
}

// ---------------------------------------------------------------------------------------------
// Submissions keep their evidence

#[tokio::test]
async fn a_submission_keeps_its_answers_reasons_and_figures_as_they_were() {
    let k = known().await;
    let app = &k.app;
    let s = login_cookie(app, "staff@example.jp", "correct horse 1").await;
    let r = app
        .post_form(
            Auth::Cookie(&s.cookie),
            "/survey/submissions",
            &[
                ("csrf", s.csrf.as_str()),
                ("from", "2026-03-01"),
                ("to", "2026-06-30"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let mut c = app.db.conn();
    let id = regwatch::store::survey::submissions(&mut c, k.insurer.id).unwrap()[0].id;
    // Afterwards the staff change an answer: the submission still shows the earlier one.
    let r = app
        .put_json(
            &k.token,
            "/api/v1/survey/answers",
            serde_json::json!({"question_id": "2-(1)-a", "choice": "その他", "note": "見直し中"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let sub: Value = app
        .get_as(&k.token, &format!("/api/v1/survey/submissions/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sub["period_from"], "2026-03-01");
    let q = &sub["questions"][1];
    assert_eq!(q["id"], "2-(1)-a");
    assert_eq!(q["answer"], "対応済");
    assert_eq!(q["source"], "prefill");
    assert!(q["reason"]
        .as_str()
        .unwrap()
        .contains("データ登録完了までの期間のお知らせ"));
    let ev = &sub["evidence"];
    assert_eq!(ev["facts"]["ex_officio_days"], 10);
    assert_eq!(ev["facts"]["letters"]["registration_period"], 1);
    assert_eq!(ev["facts"]["letters"]["certificates_issued"], 1);
    assert_eq!(ev["months"][0]["month"], "2026-04");
    assert_eq!(ev["months"][0]["notices"], 4);
    let html = app
        .page_text(&s, &format!("/survey/submissions/{id}"))
        .await;
    assert!(html.contains("記録した根拠の数値") && html.contains("対応済"));
    assert!(!html.contains("見直し中"));
    let html = app.page_text(&s, "/survey").await;
    assert!(html.contains(&format!("/survey/submissions/{id}")));
    // Another insurer's submission (and one that does not exist) is not found.
    let other = regwatch::store::insurers::find_by_number(
        &mut c,
        &regwatch::domain::InsurerNumber::parse("06130002").unwrap(),
    )
    .unwrap();
    regwatch::store::survey::record_submission(
        &mut c,
        other.id,
        (d("2026-01-01"), d("2026-06-30")),
        "[]",
        "{}",
        "other",
    )
    .unwrap();
    let theirs = regwatch::store::survey::submissions(&mut c, other.id).unwrap()[0].id;
    for i in [theirs, theirs + 1000] {
        let r = app
            .get_as(&k.token, &format!("/api/v1/survey/submissions/{i}"))
            .await;
        assert_eq!(r.status(), 404);
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics CSV

#[tokio::test]
async fn the_statistics_csv_agrees_with_the_xlsx_statistics_sheet() {
    let k = known().await;
    let r = k
        .app
        .get_as(&k.token, &format!("/api/v1/statistics.csv?{PERIOD}"))
        .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let mut rdr = csv::Reader::from_reader(&bytes[3..]);
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        vec![
            "保険者番号",
            "保険者名",
            "月",
            "届書件数",
            "提出期限内の割合",
            "5日以内登録の割合",
            "標準処理期間の対象件数",
            "資格喪失届の件数",
            "資格確認書の交付件数"
        ]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let bytes = k
        .app
        .get_as(&k.token, &format!("/api/v1/survey/followup.xlsx?{PERIOD}"))
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let st = wb.worksheet_range("月別統計").unwrap();
    for c in 0..7 {
        assert_eq!(cell(&st, 3, c), headers[c as usize + 2].to_string());
    }
    assert_eq!(rows.len() as u32, st.height() as u32 - 4);
    assert_eq!(rows.len(), 3);
    let pct = |r: &Range<Data>, row: u32, col: u32| match r.get_value((row, col)) {
        Some(Data::Float(f)) => format!("{:.1}%", f * 100.0),
        _ => String::new(),
    };
    for (i, rec) in rows.iter().enumerate() {
        let r = i as u32 + 4;
        assert_eq!(&rec[0], "06130001");
        assert_eq!(rec[2], cell(&st, r, 0));
        assert_eq!(rec[3].parse::<f64>().unwrap(), num(&st, r, 1));
        assert_eq!(rec[4], pct(&st, r, 2));
        assert_eq!(rec[5], pct(&st, r, 3));
        assert_eq!(rec[6].parse::<f64>().unwrap(), num(&st, r, 4));
        assert_eq!(rec[7].parse::<f64>().unwrap(), num(&st, r, 5));
        assert_eq!(rec[8].parse::<f64>().unwrap(), num(&st, r, 6));
    }
    // April: 3 of 4 submitted in time, 2 of 3 registered within 5 days (see load_known).
    assert_eq!(&rows[0][4], "75.0%");
    assert_eq!(&rows[0][5], "66.7%");
    // June: no notices, so no rates; one 資格確認書.
    assert_eq!(&rows[2][4], "");
    assert_eq!(&rows[2][7], "0");
    assert_eq!(&rows[2][8], "1");
}
