//! Letters to members and 資格確認書 (SPEC §2.4, §4, §6; seed 002 2-(1)–(3)) against the real server,
//! on SQLite and (with REGWATCH_TEST_POSTGRES_URL) PostgreSQL.
//!
//! The PDF tests need `chromium` and `pdftotext`/`pdfinfo` (Debian: chromium, poppler-utils) and a
//! Japanese font (fonts-ipaexfont). They run under `REGWATCH_BROWSER_TEST=1` (CI), where a missing
//! tool is a failure, and are listed as ignored otherwise; a test whose HTML checks stand alone runs
//! them always and has a `…pdf…` twin that adds the PDF's. The PDFs are kept under
//! `target/letters/` to be looked at (`pdftoppm -png`).
mod common;

use chrono::{Days, NaiveDate};
use common::{
    add_user, artifact_dir, audit_count, db_id, employer_db_id, import_notices_csv,
    import_registrations_csv, login_cookie, login_token, on_path, require_tool, Auth, TestApp,
};
use diesel::prelude::*;
use regwatch::domain::InsurerKind;
use regwatch::store::insurers::Insurer;
use regwatch::store::users::Role;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const PASSWORD: &str = "letters-test-password";
const STAFF: &str = "staff-a@example.jp";
const VIEWER: &str = "viewer-a@example.jp";
const OTHER: &str = "staff-b@example.jp";
const DATE: &str = "2025-06-30";
const VALID_MY_NUMBER: &str = "123456789018";
const INVALID_MY_NUMBER: &str = "123456789012";

/// V-1 valid My Number, M-1 missing, I-1 invalid, D-1 a dependent of V-1's insured (missing),
/// R-1 registered on 6/5, L-1 a loss notice. All received after 2024-12-02, none registered but R-1.
const NOTICES: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,氏名カナ,事実発生日,受付日,個人番号\n\
V-1,資格取得,E01,株式会社テスト,100,1,,山田太郎,ヤマダタロウ,2025-06-20,2025-06-23,123456789018\n\
M-1,資格取得,E01,株式会社テスト,100,2,,鈴木花子,スズキハナコ,2025-06-20,2025-06-23,\n\
I-1,資格取得,E02,テスト商事,200,3,,佐藤次郎,,2025-06-20,2025-06-24,123456789012\n\
D-1,被扶養者,E01,株式会社テスト,100,1,01,山田桜,,2025-06-21,2025-06-25,\n\
R-1,資格取得,E02,テスト商事,200,4,,高橋一郎,,2025-06-01,2025-06-02,123456789018\n\
L-1,資格喪失,E01,株式会社テスト,100,5,,田中三郎,,2025-06-01,2025-06-03,123456789018\n";

const REGISTRATIONS: &str = "受付番号,登録完了日時,処理結果\nR-1,2025-06-05T10:00:00+09:00,正常\n";

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()
}

struct Seeded {
    a: Insurer,
    b: Insurer,
}

const B_NOTICES: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号\n\
B-1,資格取得,K01,所属所B,1,1,,共済太郎,2025-06-01,2025-06-02,\n";

/// Insurer A (with sender fields) with the notices above and a staff and a viewer; insurer B with
/// one notice and a staff user.
async fn seeded() -> (TestApp, Seeded) {
    let app = TestApp::builder()
        .with_insurer("06123456", InsurerKind::Kenpo)
        .with_insurer("34123456", InsurerKind::Kyosai)
        .with_notices("06123456", "a.csv", NOTICES, as_of())
        .with_registrations("06123456", "r.csv", REGISTRATIONS)
        .with_notices("34123456", "b.csv", B_NOTICES, as_of())
        .with_seed(|c, ins| {
            regwatch::store::letters::update_sender_fields(
                c,
                ins[0].id,
                &regwatch::store::letters::SenderFields {
                    address: Some("〒100-0001\n東京都千代田区千代田1-1".into()),
                    contact: Some("適用課 電話 03-0000-0000（平日9時〜17時）".into()),
                    seal_text: Some("公印省略".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        })
        .with_staff("06123456", STAFF, PASSWORD)
        .with_viewer("06123456", VIEWER, PASSWORD)
        .with_staff("34123456", OTHER, PASSWORD)
        .spawn()
        .await;
    let s = Seeded {
        a: app.insurer("06123456").clone(),
        b: app.insurer("34123456").clone(),
    };
    (app, s)
}

/// The letter of `kind` for a notice as printable HTML.
async fn letter_html(app: &TestApp, token: &str, id: i64, kind: &str) -> String {
    let r = app
        .get_as(
            token,
            &format!("/api/v1/notices/{id}/letters/{kind}?format=html&date={DATE}"),
        )
        .await;
    assert_eq!(r.status(), 200, "{kind} for {id}");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    r.text().await.unwrap()
}

/// Every run of 12 digits in a text (a My Number would be one), separators removed first.
fn twelve_digit_runs(text: &str) -> Vec<String> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}' | '\n'))
        .collect();
    let mut out = Vec::new();
    let mut run = String::new();
    for ch in digits.chars().chain(std::iter::once('x')) {
        if ch.is_ascii_digit() {
            run.push(ch);
        } else {
            if run.len() >= 12 {
                out.push(run.clone());
            }
            run.clear();
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Wording by My Number status (SPEC §4-1, seed 002 2-(1) ①–④)

#[tokio::test]
async fn registration_period_letter_takes_the_variant_of_the_my_number_status() {
    let (app, s) = seeded().await;
    let t = login_token(&app, STAFF, PASSWORD).await;

    // Always: ① no card before registration, ④ check マイナポータル, 2-(2)-② 資格情報のお知らせ.
    let always = [
        "データ登録が完了するまでは、マイナンバーカードによる受診はできません",
        "マイナポータルにアクセスし、医療保険の資格情報として資格変更後の情報が登録されていることをご確認ください",
        "資格情報のお知らせが届いてから、マイナンバーカードによる受診が可能です",
        "令和7年6月30日",
        "テスト保険者06123456",
        "東京都千代田区千代田1-1",
        "公印省略",
        "適用課 電話 03-0000-0000",
    ];

    let valid = letter_html(&app, &t, db_id(&app, &s.a, "V-1"), "registration-period").await;
    for p in always {
        assert!(valid.contains(p), "valid: {p}");
    }
    assert!(valid.contains("マイナンバー等が正確に記載されていました"));
    assert!(valid.contains("<strong>5日以内</strong>にデータ登録が完了します"));
    assert!(!valid.contains("相当の期間"));
    assert!(!valid.contains("標準的な処理期間"));
    assert!(valid.contains("山田太郎"));
    // After 2024-12-02 the card is no longer issued: ④ without 「保険証発行終了までの間も含め」.
    assert!(!valid.contains("保険証発行終了までの間も含め"));

    // Missing, and the employer is not marked late with My Numbers: 「相当の期間」, naming nobody
    // (SPEC §4.1; the standard-days wording is tested with a marked employer below).
    let missing = letter_html(&app, &t, db_id(&app, &s.a, "M-1"), "registration-period").await;
    for p in always {
        assert!(missing.contains(p), "missing: {p}");
    }
    assert!(missing.contains("マイナンバーが記載されていませんでした"));
    assert!(missing.contains("<strong>相当の期間</strong>が必要になります"));
    assert!(missing.contains("データ登録が完了するまでは、マイナ保険証を利用できません"));
    assert!(!missing.contains("速やかなマイナンバーの提出がなされていません"));
    assert!(!missing.contains("標準的な処理期間"));
    assert!(!missing.contains("5日以内</strong>にデータ登録が完了します"));

    // Invalid: 「相当の期間」.
    let invalid = letter_html(&app, &t, db_id(&app, &s.a, "I-1"), "registration-period").await;
    for p in always {
        assert!(invalid.contains(p), "invalid: {p}");
    }
    assert!(invalid.contains("マイナンバーが正確に記載されていませんでした"));
    assert!(invalid.contains(
        "法令上、資格取得届等にはマイナンバーの記載が求められており、データ登録にはマイナンバーの記載が必要です"
    ));
    assert!(invalid.contains("<strong>相当の期間</strong>が必要になります"));
    assert!(!invalid.contains("標準的な処理期間"));
    assert!(!invalid.contains("5日以内</strong>にデータ登録が完了します"));

    // A dependent's letter goes to the insured person and names the dependent.
    let dep = letter_html(&app, &t, db_id(&app, &s.a, "D-1"), "registration-period").await;
    assert!(
        dep.contains("山田太郎　<small>様</small>"),
        "addressed to the insured"
    );
    assert!(dep.contains("被扶養者　山田桜　様に関する被扶養者届"));

    // Each letter is recorded with its variant and template version.
    let rec = app
        .get_as(
            &t,
            &format!("/api/v1/notices/{}/letters", db_id(&app, &s.a, "M-1")),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let letters = rec["letters"].as_array().unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["kind"], "registration_period");
    assert_eq!(letters[0]["variant"], "considerable");
    assert_eq!(letters[0]["format"], "html");
    assert_eq!(letters[0]["letter_date"], DATE);
    assert_eq!(letters[0]["created_by"], STAFF);
    assert!(letters[0]["template_version"]
        .as_str()
        .unwrap()
        .starts_with("1-"));

    // A registered notice and a loss notice get no such letter.
    for (n, code) in [("R-1", "already_registered"), ("L-1", "loss_notice")] {
        let r = app
            .get_as(
                &t,
                &format!(
                    "/api/v1/notices/{}/letters/registration-period?format=html",
                    db_id(&app, &s.a, n)
                ),
            )
            .await;
        assert_eq!(r.status(), 409, "{n}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], code);
    }
}

// ---------------------------------------------------------------------------------------------
// 資格情報のお知らせ only after registration (2-(2)-①)

#[tokio::test]
async fn qualification_info_is_refused_before_registration() {
    let (app, s) = seeded().await;
    let t = login_token(&app, STAFF, PASSWORD).await;
    let v1 = db_id(&app, &s.a, "V-1");
    for format in ["pdf", "html"] {
        let r = app
            .get_as(
                &t,
                &format!("/api/v1/notices/{v1}/letters/qualification-info?format={format}"),
            )
            .await;
        assert_eq!(r.status(), 409);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("json"));
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], "not_registered");
        assert!(e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("データ登録が完了していないため、資格情報のお知らせは作成できません"));
    }
    // Nothing was recorded for the refused letter.
    let rec: Value = app
        .get_as(&t, &format!("/api/v1/notices/{v1}/letters"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rec["letters"].as_array().unwrap().len(), 0);
    let opt = rec["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "qualification-info")
        .unwrap();
    assert_eq!(opt["available"], false);

    // The page says so too, with 409.
    let cs = login_cookie(&app, STAFF, PASSWORD).await;
    let p = app
        .get_as(&cs, &format!("/notices/{v1}/letters/qualification-info"))
        .await;
    assert_eq!(p.status(), 409);
    assert!(p
        .text()
        .await
        .unwrap()
        .contains("資格情報のお知らせは作成できません"));

    // After registration: the letter with the registration date and the qualification data.
    let r1 = db_id(&app, &s.a, "R-1");
    let html = letter_html(&app, &t, r1, "qualification-info").await;
    assert!(html.contains("資格情報のお知らせ"));
    assert!(html.contains("登録完了日 令和7年6月5日"));
    assert!(html.contains("記号 200　番号 4"));
    assert!(html.contains("06123456"));
    assert!(html.contains("このお知らせのみでは医療機関等を受診できません"));
}

// ---------------------------------------------------------------------------------------------
// 資格確認書: validity at most one month (SPEC §2.4, 2-(3)-①), cover letter (2-(3)-②)

#[tokio::test]
async fn a_certificate_valid_for_more_than_one_month_is_refused() {
    let (app, s) = seeded().await;
    let t = login_token(&app, STAFF, PASSWORD).await;
    let m1 = db_id(&app, &s.a, "M-1");
    let path = format!("/api/v1/notices/{m1}/certificates");

    let r = app
        .post_json(
            &t,
            &path,
            json!({"issued_on": "2025-06-30", "valid_until": "2025-07-31"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("資格確認書の有効期限は交付日から1か月以内です"));
    // Month ends: issued 1/31 may be valid until 2/28 at most (Civil Code art. 143).
    let r = app
        .post_json(
            &t,
            &path,
            json!({"issued_on": "2026-01-31", "valid_until": "2026-03-01"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    // Before the issue date, before the receipt: refused.
    for body in [
        json!({"issued_on": "2025-06-30", "valid_until": "2025-06-29"}),
        json!({"issued_on": "2025-06-01", "valid_until": "2025-06-30"}),
    ] {
        assert_eq!(app.post_json(&t, &path, body).await.status(), 400);
    }
    // A loss notice, a registered notice: no certificate.
    for n in ["L-1", "R-1"] {
        let r = app
            .post_json(
                &t,
                &format!("/api/v1/notices/{}/certificates", db_id(&app, &s.a, n)),
                json!({"issued_on": "2025-06-30", "valid_until": "2025-07-29"}),
            )
            .await;
        assert_eq!(r.status(), 400, "{n}");
    }
    // The cover letter needs a recorded certificate.
    let r = app
        .get_as(
            &t,
            &format!("/api/v1/notices/{m1}/letters/certificate?format=html"),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "no_certificate"
    );

    // Exactly one month is accepted.
    let r = app
        .post_json(
            &t,
            &path,
            json!({"issued_on": "2025-06-30", "valid_until": "2025-07-29"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["valid_until"], "2025-07-29");
    assert_eq!(c["issued_by"], STAFF);

    let html = letter_html(&app, &t, m1, "certificate").await;
    assert!(html.contains("資格確認書（職権交付）のご案内"));
    assert!(html.contains("資格確認書を職権により交付します"));
    assert!(html.contains("<strong>令和7年7月29日</strong>まで"));
    assert!(html.contains("マイナンバーの提出のお願い"));
    assert!(html.contains("事業主を通じて正確なマイナンバーをご提出ください"));
    assert!(html.contains("マイナポータル"));

    // A viewer may not record one; the page form records one with CSRF.
    let tv = login_token(&app, VIEWER, PASSWORD).await;
    assert_eq!(
        app.post_json(&tv, &path, json!({"valid_until": "2025-07-29"}))
            .await
            .status(),
        403
    );
    let cs = login_cookie(&app, STAFF, PASSWORD).await;
    let i1 = db_id(&app, &s.a, "I-1");
    let r = app
        .post_form(
            &cs,
            &format!("/notices/{i1}/certificates"),
            &[("issued_on", "2025-06-30"), ("valid_until", "2025-08-01")],
        )
        .await;
    assert_eq!(r.status(), 400, "over one month from the page form");
    // The refusal is shown on the case page's form, with the dates as typed (not an error page).
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"cert-error\""), "{body}");
    assert!(body.contains("2025-07-29 まで"), "{body}");
    assert!(body.contains("value=\"2025-08-01\""), "{body}");
    assert!(body.contains("id=\"issue-certificate\""), "{body}");
    let r = app
        .post_form(
            &cs,
            &format!("/notices/{i1}/certificates"),
            &[("issued_on", "2025-06-30"), ("valid_until", "2025-07-15")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let audit: i64 = {
        use regwatch::store::schema::audit_log;
        let mut c = app.db.conn();
        audit_log::table
            .filter(audit_log::action.eq("certificate_issued"))
            .count()
            .get_result(&mut c)
            .unwrap()
    };
    assert_eq!(audit, 2);
}

#[tokio::test]
async fn case_page_and_case_list_show_certificates_required_issued_and_expiring() {
    let (app, s) = seeded().await;
    let t = login_token(&app, STAFF, PASSWORD).await;
    let cs = login_cookie(&app, STAFF, PASSWORD).await;
    let today = regwatch::time::today_jst();
    let m1 = db_id(&app, &s.a, "M-1");
    let i1 = db_id(&app, &s.a, "I-1");

    // Before any: M-1 and I-1 need one (My Number missing / invalid, not registered).
    let list = app
        .get_as(&cs, "/notices?ex_officio=1&sort=notice_id")
        .await;
    assert_eq!(list.status(), 200);
    let body = list.text().await.unwrap();
    assert!(body.contains("要交付"));
    assert!(body.contains("id=\"bulk-letters\""));

    // M-1: valid for 20 more days; I-1: ends in 3 days (expiring).
    let issued = today.to_string();
    let long = (today + Days::new(20)).to_string();
    let short = (today + Days::new(3)).to_string();
    let r = app
        .post_json(
            &t,
            &format!("/api/v1/notices/{m1}/certificates"),
            json!({"issued_on": issued, "valid_until": long}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(
            &t,
            &format!("/api/v1/notices/{i1}/certificates"),
            json!({"issued_on": issued, "valid_until": short}),
        )
        .await;
    assert_eq!(r.status(), 201);

    let body = app
        .get_as(&cs, "/notices?ex_officio=1&sort=notice_id")
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains(&format!("交付済 〜{long}")), "issued mark");
    assert!(
        body.contains(&format!("期限間近 〜{short}")),
        "expiring mark"
    );
    // D-1 still needs one.
    assert!(body.contains("要交付"));

    let state: Value = app
        .get_as(&t, &format!("/api/v1/notices/{i1}/letters"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["certificate_state"]["state"], "expiring");
    assert_eq!(state["certificates"].as_array().unwrap().len(), 1);

    // The case page shows the certificate, the letter options and, once made, the letter.
    let r = app
        .get_as(
            &t,
            &format!("/api/v1/notices/{m1}/letters/certificate?format=html"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let case = app.get_as(&cs, &format!("/notices/{m1}")).await;
    assert_eq!(case.status(), 200);
    let case = case.text().await.unwrap();
    assert!(case.contains("id=\"letters\""));
    assert!(case.contains("交付済"));
    assert!(case.contains(&long));
    assert!(case.contains("id=\"letter-history\""));
    assert!(case.contains("資格確認書（職権交付）のご案内"));
    assert!(case.contains(&format!("/notices/{m1}/letters/registration-period")));
    assert!(case.contains("id=\"issue-certificate\""));
}

// ---------------------------------------------------------------------------------------------
// Roles, preview, tenant isolation

#[tokio::test]
async fn viewers_may_preview_but_not_generate() {
    let (app, s) = seeded().await;
    let v1 = db_id(&app, &s.a, "V-1");
    let tv = login_token(&app, VIEWER, PASSWORD).await;
    let r = app
        .get_as(
            &tv,
            &format!("/api/v1/notices/{v1}/letters/registration-period?format=html"),
        )
        .await;
    assert_eq!(r.status(), 403);

    let cs = login_cookie(&app, VIEWER, PASSWORD).await;
    // Dated before V-1's deadline (later it is the overdue wording).
    let p = app
        .get_as(
            &cs,
            &format!("/notices/{v1}/letters/registration-period?date={DATE}"),
        )
        .await;
    assert_eq!(p.status(), 200);
    let body = p.text().await.unwrap();
    assert!(body.contains("個人番号あり（5日以内に登録）"));
    assert!(!body.contains("id=\"generate-pdf\""), "no generate button");
    let prev = app
        .get_as(
            &cs,
            &format!("/notices/{v1}/letters/registration-period/preview"),
        )
        .await;
    assert_eq!(prev.status(), 200);
    let prev = prev.text().await.unwrap();
    assert!(prev.contains("見　本"), "a preview is marked");
    assert!(prev.contains("データ登録完了までの期間のお知らせ"));
    let r = app
        .post_form(
            &cs,
            &format!("/notices/{v1}/letters/registration-period"),
            &[("format", "html")],
        )
        .await;
    assert_eq!(r.status(), 403);

    // Staff see the buttons; a form post without CSRF is refused.
    let ss = login_cookie(&app, STAFF, PASSWORD).await;
    let body = app
        .get_as(&ss, &format!("/notices/{v1}/letters/registration-period"))
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("id=\"generate-pdf\""));
    let r = app
        .post_form(
            Auth::Cookie(&ss.cookie),
            &format!("/notices/{v1}/letters/registration-period"),
            &[("format", "html")],
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .post_form(
            &ss,
            &format!("/notices/{v1}/letters/registration-period"),
            &[("format", "html"), ("date", DATE)],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("令和7年6月30日"));

    // Previews are not recorded; the generated one is, and audited.
    let rec: Value = app
        .get_as(
            &login_token(&app, STAFF, PASSWORD).await,
            &format!("/api/v1/notices/{v1}/letters"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rec["letters"].as_array().unwrap().len(), 1);
    use regwatch::store::schema::audit_log;
    let mut c = app.db.conn();
    let actions: Vec<String> = audit_log::table
        .filter(audit_log::action.like("letter%"))
        .select(audit_log::action)
        .load(&mut c)
        .unwrap();
    assert!(actions.contains(&"letter_previewed".to_string()));
    assert!(actions.contains(&"letters_generated".to_string()));
}

#[tokio::test]
async fn another_insurers_notice_is_not_found_on_every_letters_route() {
    let (app, s) = seeded().await;
    let b1 = db_id(&app, &s.b, "B-1");
    let t = login_token(&app, STAFF, PASSWORD).await;
    for kind in ["registration-period", "qualification-info", "certificate"] {
        let r = app
            .get_as(&t, &format!("/api/v1/notices/{b1}/letters/{kind}"))
            .await;
        assert_eq!(r.status(), 404, "{kind}");
    }
    assert_eq!(
        app.get_as(&t, &format!("/api/v1/notices/{b1}/letters"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.post_json(&t, &format!("/api/v1/notices/{b1}/certificates"), json!({}))
            .await
            .status(),
        404
    );
    let cs = login_cookie(&app, STAFF, PASSWORD).await;
    for path in [
        format!("/notices/{b1}/letters/registration-period"),
        format!("/notices/{b1}/letters/registration-period/preview"),
    ] {
        assert_eq!(app.get_as(&cs, &path).await.status(), 404, "{path}");
    }
    for (path, fields) in [
        (
            format!("/notices/{b1}/letters/registration-period"),
            vec![("format", "html")],
        ),
        (
            format!("/notices/{b1}/certificates"),
            vec![("valid_until", "2025-07-01")],
        ),
    ] {
        assert_eq!(
            app.post_form(&cs, &path, &fields).await.status(),
            404,
            "{path}"
        );
    }
    // An unknown kind is a page that does not exist.
    let a1 = db_id(&app, &s.a, "V-1");
    assert_eq!(
        app.get_as(&t, &format!("/api/v1/notices/{a1}/letters/nope"))
            .await
            .status(),
        404
    );
    // A bulk run only ever sees the caller's insurer.
    let tb = login_token(&app, OTHER, PASSWORD).await;
    let r = app
        .post_json(
            &tb,
            "/api/v1/letters/bulk",
            json!({"kind": "registration-period", "format": "html", "date": DATE}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-letters-count"], "1");
    let html = r.text().await.unwrap();
    assert!(html.contains("共済太郎"));
    assert!(html.contains("所属所"), "共済組合等 say 所属所");
    assert!(!html.contains("山田太郎"));
}

// ---------------------------------------------------------------------------------------------
// No My Number in any letter (SPEC §6)

#[tokio::test]
async fn no_my_number_appears_in_any_letter() {
    no_my_number_appears_in_any_letter_checks(false).await
}

#[tokio::test]
#[cfg_attr(
    not(regwatch_browser_test),
    ignore = "needs Chromium and poppler: REGWATCH_BROWSER_TEST=1 cargo test"
)]
async fn no_my_number_appears_in_any_letter_pdf_either() {
    no_my_number_appears_in_any_letter_checks(true).await
}

/// The checks of [`no_my_number_appears_in_any_letter`]; `pdf`: also those of the PDF.
async fn no_my_number_appears_in_any_letter_checks(pdf: bool) {
    let (app, s) = seeded().await;
    let t = login_token(&app, STAFF, PASSWORD).await;
    for n in ["M-1", "I-1", "V-1"] {
        let r = app
            .post_json(
                &t,
                &format!("/api/v1/notices/{}/certificates", db_id(&app, &s.a, n)),
                json!({"issued_on": "2025-06-30", "valid_until": "2025-07-29"}),
            )
            .await;
        assert_eq!(r.status(), 201, "{n}");
    }
    let mut texts = Vec::new();
    for (n, kind) in [
        ("V-1", "registration-period"),
        ("M-1", "registration-period"),
        ("I-1", "registration-period"),
        ("D-1", "registration-period"),
        ("R-1", "qualification-info"),
        ("V-1", "certificate"),
        ("M-1", "certificate"),
        ("I-1", "certificate"),
    ] {
        texts.push(letter_html(&app, &t, db_id(&app, &s.a, n), kind).await);
    }
    let bulk = app
        .post_json(
            &t,
            "/api/v1/letters/bulk",
            json!({"kind": "registration-period", "format": "html", "date": DATE, "again": true}),
        )
        .await;
    assert_eq!(bulk.status(), 200);
    texts.push(bulk.text().await.unwrap());
    if pdf {
        let tools = pdf_tools();
        let pdf = app
            .get_as(
                &t,
                &format!(
                    "/api/v1/notices/{}/letters/registration-period?date={DATE}&again=1",
                    db_id(&app, &s.a, "V-1")
                ),
            )
            .await;
        assert_eq!(pdf.status(), 200);
        let path = out_dir().join("no-my-number.pdf");
        std::fs::write(&path, pdf.bytes().await.unwrap()).unwrap();
        texts.push(tools.text(&path));
    }
    for text in &texts {
        assert!(!text.contains(VALID_MY_NUMBER));
        assert!(!text.contains(INVALID_MY_NUMBER));
        assert!(!text.contains("1234 5678 9018") && !text.contains("1234-5678-9018"));
        assert_eq!(twelve_digit_runs(text), Vec::<String>::new());
    }
}

// ---------------------------------------------------------------------------------------------
// PDF: one letter per page, Japanese text extractable (poppler)

struct PdfTools;

impl PdfTools {
    fn text(&self, pdf: &Path) -> String {
        let out = Command::new("pdftotext")
            .args(["-enc", "UTF-8"])
            .arg(pdf)
            .arg("-")
            .output()
            .expect("pdftotext runs");
        assert!(out.status.success(), "pdftotext failed");
        String::from_utf8(out.stdout).unwrap()
    }

    fn pages(&self, pdf: &Path) -> usize {
        let out = Command::new("pdfinfo").arg(pdf).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .map(|v| v.trim().parse().unwrap())
            .expect("pdfinfo prints Pages")
    }

    /// (font name, embedded) of each font.
    fn fonts(&self, pdf: &Path) -> Vec<(String, bool)> {
        let out = Command::new("pdffonts").arg(pdf).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(2)
            .filter_map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                let n = cols.len();
                (n >= 6).then(|| (cols[0].to_string(), cols[n - 5] == "yes"))
            })
            .collect()
    }
}

/// The PDF tools: Chromium, poppler and a Japanese font must be installed (the PDF tests run under
/// `REGWATCH_BROWSER_TEST=1`, else they are ignored).
fn pdf_tools() -> PdfTools {
    let chromium = std::env::var_os("REGWATCH_CHROMIUM")
        .map(|p| Path::new(&p).is_file())
        .unwrap_or_else(|| on_path("chromium"));
    let poppler = on_path("pdftotext") && on_path("pdfinfo") && on_path("pdffonts");
    let fonts = Command::new("fc-list")
        .arg(":lang=ja")
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    require_tool(
        chromium && poppler && fonts,
        &format!("chromium ({chromium}), poppler-utils ({poppler}) and a Japanese font ({fonts})"),
    );
    PdfTools
}

/// `$CARGO_TARGET_DIR/letters` (else `target/letters`): the PDFs are kept to be looked at.
fn out_dir() -> PathBuf {
    artifact_dir("letters")
}

const FAMILY: [&str; 20] = [
    "青木", "石井", "上田", "遠藤", "岡田", "加藤", "菊地", "久保", "小林", "斎藤", "清水", "鈴木",
    "高橋", "田中", "中村", "西村", "野口", "橋本", "藤田", "松本",
];
const GIVEN: [&str; 25] = [
    "愛子",
    "明美",
    "一郎",
    "和也",
    "健太",
    "浩二",
    "さくら",
    "翔太",
    "真一",
    "大輔",
    "千尋",
    "翼",
    "智子",
    "直樹",
    "菜々子",
    "陽菜",
    "浩",
    "文子",
    "誠",
    "美咲",
    "恵",
    "裕子",
    "洋平",
    "涼子",
    "和子",
];

#[tokio::test]
#[cfg_attr(
    not(regwatch_browser_test),
    ignore = "needs Chromium and poppler: REGWATCH_BROWSER_TEST=1 cargo test"
)]
async fn bulk_letters_make_one_pdf_page_per_letter_with_extractable_names() {
    let tools = pdf_tools();
    let (app, s) = seeded().await;
    // 500 more notices of insurer A with a correct My Number, received 2025-07-01, not registered.
    let mut csv = String::from(
        "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号\n",
    );
    let mut names = Vec::new();
    for i in 0..500 {
        let name = format!("{}{}", FAMILY[i / 25], GIVEN[i % 25]);
        csv.push_str(&format!(
            "BULK-{i:04},資格取得,E09,株式会社一括,900,{i},,{name},2025-06-30,2025-07-01,{VALID_MY_NUMBER}\n"
        ));
        names.push(name);
    }
    {
        let mut c = app.db.conn();
        import_notices_csv(
            &mut c,
            &s.a,
            "bulk.csv",
            &csv,
            NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
        );
    }
    let t = login_token(&app, STAFF, PASSWORD).await;
    let started = std::time::Instant::now();
    let r = app
        .post_json(
            &t,
            "/api/v1/letters/bulk",
            json!({
                "kind": "registration-period",
                "date": "2025-07-02",
                "filter": {"employer": "E09", "sort": "notice_id"}
            }),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["x-letters-count"], "500");
    assert_eq!(r.headers()["x-letters-skipped"], "0");
    let pdf = r.bytes().await.unwrap();
    eprintln!(
        "500 letters: {} KB in {:.1}s",
        pdf.len() / 1024,
        started.elapsed().as_secs_f64()
    );
    let path = out_dir().join("bulk-500.pdf");
    std::fs::write(&path, &pdf).unwrap();

    assert_eq!(tools.pages(&path), 500, "one page per letter");
    let fonts = tools.fonts(&path);
    assert!(!fonts.is_empty());
    assert!(
        fonts.iter().all(|(_, embedded)| *embedded),
        "every font embedded: {fonts:?}"
    );
    assert!(
        fonts
            .iter()
            .any(|(n, _)| n.contains("IPAex") || n.contains("IPA")),
        "a Japanese font: {fonts:?}"
    );
    let text: String = tools
        .text(&path)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for n in &names {
        assert!(text.contains(&format!("{n}様")), "{n} not extractable");
    }
    assert_eq!(
        text.matches("データ登録完了までの期間のお知らせ").count(),
        500
    );
    assert_eq!(twelve_digit_runs(&text), Vec::<String>::new());

    // All 500 recorded under one run.
    use regwatch::store::schema::letters;
    let mut c = app.db.conn();
    let runs: Vec<String> = letters::table
        .filter(letters::insurer_id.eq(s.a.id.0))
        .select(letters::run_id)
        .distinct()
        .load(&mut c)
        .unwrap();
    let n: i64 = letters::table
        .filter(letters::insurer_id.eq(s.a.id.0))
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!((runs.len(), n), (1, 500));
}

#[tokio::test]
async fn bulk_certificates_for_the_notices_that_need_one_record_them_and_print_the_letters() {
    let (app, s) = seeded().await;
    let t = login_token(&app, STAFF, PASSWORD).await;
    let today = regwatch::time::today_jst();
    let until = (today + Days::new(14)).to_string();

    // Without recording certificates, nobody has one: nothing to print.
    let r = app
        .post_json(
            &t,
            "/api/v1/letters/bulk",
            json!({"kind": "certificate", "format": "html", "filter": {"ex_officio": "1"}}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "no_letters"
    );
    // Over one month: refused before anything is recorded.
    let r = app
        .post_json(
            &t,
            "/api/v1/letters/bulk",
            json!({"kind": "certificate", "format": "html", "filter": {"ex_officio": "1"},
               "issue_valid_until": (today + Days::new(40)).to_string()}),
        )
        .await;
    assert_eq!(r.status(), 400);

    // As of today every unregistered acquisition/dependent notice here needs one (SPEC §2.4).
    let r = app
        .post_json(
            &t,
            "/api/v1/letters/bulk",
            json!({"kind": "certificate", "format": "html", "filter": {"ex_officio": "1"},
               "issue_valid_until": until}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-letters-count"], "4");
    let html = r.text().await.unwrap();
    assert_eq!(html.matches("class=\"page letter-certificate\"").count(), 4);
    // V-1's My Number is correct: no request for it.
    assert_eq!(html.matches("マイナンバーの提出のお願い").count(), 3);

    use regwatch::store::schema::certificates;
    let mut c = app.db.conn();
    let n: i64 = certificates::table
        .filter(certificates::insurer_id.eq(s.a.id.0))
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(n, 4);

    // A second run reuses the certificates in force instead of recording new ones (the letters
    // were produced already: only with `again`).
    let r = app
        .post_json(
            &t,
            "/api/v1/letters/bulk",
            json!({"kind": "certificate", "format": "html", "filter": {"ex_officio": "1"},
               "issue_valid_until": until, "again": true}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let n2: i64 = certificates::table
        .filter(certificates::insurer_id.eq(s.a.id.0))
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(n2, 4);

    // The bulk preview page counts and previews for a viewer too.
    let cs = login_cookie(&app, VIEWER, PASSWORD).await;
    let p = app
        .get_as(&cs, "/letters/bulk?ex_officio=1&kind=certificate&again=1")
        .await;
    assert_eq!(p.status(), 200);
    let body = p.text().await.unwrap();
    assert!(body.contains("id=\"count\">4 通"), "{body}");
    assert!(!body.contains("id=\"bulk-generate\""));
    let prev = app
        .get_as(
            &cs,
            "/letters/bulk/preview?ex_officio=1&kind=certificate&again=1",
        )
        .await;
    assert_eq!(prev.status(), 200);
    assert_eq!(
        prev.text().await.unwrap().matches("見　本").count(),
        3,
        "the first three letters"
    );
    // The survey counts (issue 8) see the letters and certificates.
    let counts = regwatch::store::letters::counts(
        &mut c,
        s.a.id,
        today - Days::new(1),
        today + Days::new(1),
    )
    .unwrap();
    assert_eq!(counts.certificate_letters, 4);
    assert_eq!(counts.certificates_issued, 4);
}

#[tokio::test]
#[cfg_attr(
    not(regwatch_browser_test),
    ignore = "needs Chromium and poppler: REGWATCH_BROWSER_TEST=1 cargo test"
)]
async fn one_letter_as_pdf_is_one_a4_page_with_embedded_japanese_font() {
    let tools = pdf_tools();
    let (app, s) = seeded().await;
    let t = login_token(&app, STAFF, PASSWORD).await;
    let m1 = db_id(&app, &s.a, "M-1");
    let r1 = db_id(&app, &s.a, "R-1");
    let r = app
        .post_json(
            &t,
            &format!("/api/v1/notices/{m1}/certificates"),
            json!({"issued_on": DATE, "valid_until": "2025-07-29"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    for (id, kind, file, expect) in [
        (
            db_id(&app, &s.a, "V-1"),
            "registration-period",
            "registration-period-valid.pdf",
            "5日以内",
        ),
        (
            m1,
            "registration-period",
            "registration-period-missing.pdf",
            "相当の期間",
        ),
        (
            db_id(&app, &s.a, "I-1"),
            "registration-period",
            "registration-period-invalid.pdf",
            "相当の期間",
        ),
        (
            r1,
            "qualification-info",
            "qualification-info.pdf",
            "登録完了日",
        ),
        (m1, "certificate", "certificate.pdf", "有効期限"),
    ] {
        let r = app
            .get_as(
                &t,
                &format!("/api/v1/notices/{id}/letters/{kind}?date={DATE}"),
            )
            .await;
        assert_eq!(r.status(), 200, "{kind}");
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let path = out_dir().join(file);
        std::fs::write(&path, r.bytes().await.unwrap()).unwrap();
        assert_eq!(tools.pages(&path), 1, "{file}: one page");
        let info = Command::new("pdfinfo").arg(&path).output().unwrap();
        let info = String::from_utf8_lossy(&info.stdout).to_string();
        assert!(info.contains("(A4)"), "A4: {info}");
        let text: String = tools
            .text(&path)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert!(text.contains(expect), "{file}: {expect}");
        assert!(text.contains("マイナポータル"), "{file}");
    }
}

#[tokio::test]
async fn the_letters_page_lists_runs_and_only_admins_change_the_sender() {
    let (app, s) = seeded().await;
    {
        let mut c = app.db.conn();
        add_user(&mut c, &s.a, "admin-a@example.jp", Role::Admin, PASSWORD);
    }
    let t = login_token(&app, STAFF, PASSWORD).await;
    letter_html(&app, &t, db_id(&app, &s.a, "V-1"), "registration-period").await;

    let staff = login_cookie(&app, STAFF, PASSWORD).await;
    let p = app.get_as(&staff, "/letters").await;
    assert_eq!(p.status(), 200);
    let body = p.text().await.unwrap();
    assert!(body.contains("作成の記録"));
    assert!(body.contains("<td>データ登録完了までの期間のお知らせ</td><td class=\"num\">1</td>"));
    assert!(body.contains("変更は管理者が行えます"));
    let r = app
        .post_form(&staff, "/letters/sender", &[("address", "x")])
        .await;
    assert_eq!(r.status(), 403);

    let admin = login_cookie(&app, "admin-a@example.jp", PASSWORD).await;
    let long = "あ".repeat(201);
    let r = app
        .post_form(&admin, "/letters/sender", &[("address", &long)])
        .await;
    assert_eq!(r.status(), 400);
    let r = app
        .post_form(
            &admin,
            "/letters/sender",
            &[
                ("address", "〒105-0011\r\n東京都港区芝公園1-1-1"),
                ("contact", "適用グループ 03-1234-5678"),
                ("seal_text", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let html = letter_html(&app, &t, db_id(&app, &s.a, "M-1"), "registration-period").await;
    assert!(html.contains("<div>東京都港区芝公園1-1-1</div>"));
    assert!(html.contains("適用グループ 03-1234-5678"));
    assert!(
        !html.contains("公印省略"),
        "a blank seal text prints nothing"
    );
    use regwatch::store::schema::audit_log;
    let mut c = app.db.conn();
    let n: i64 = audit_log::table
        .filter(audit_log::action.eq("letter_sender_changed"))
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(n, 1);
}

// ---------------------------------------------------------------------------------------------
// Issue 15: the employer's 「マイナンバー提出遅延」 mark (SPEC §4.1), overdue letters, producing a
// letter again, downloading a past letter as it was, 発送済

/// The letter as printable HTML on `date`, produced again if it was before.
async fn letter_on(app: &TestApp, token: &str, id: i64, kind: &str, date: &str) -> String {
    let r = app
        .get_as(
            token,
            &format!("/api/v1/notices/{id}/letters/{kind}?format=html&date={date}&again=1"),
        )
        .await;
    assert_eq!(r.status(), 200, "{kind} for {id} on {date}");
    r.text().await.unwrap()
}

/// The letters recorded for a notice, newest first.
async fn recorded(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    app.get_as(token, &format!("/api/v1/notices/{id}/letters"))
        .await
        .json::<Value>()
        .await
        .unwrap()["letters"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn the_employer_is_named_only_when_the_insurer_marked_it_late() {
    let (app, s) = seeded().await;
    let t = login_token(&app, STAFF, PASSWORD).await;
    let e01 = employer_db_id(&mut app.conn(), &s.a, "E01");
    let e02 = employer_db_id(&mut app.conn(), &s.a, "E02");
    let m1 = db_id(&app, &s.a, "M-1");
    let late_words =
        "株式会社テスト（事業主）においては、速やかなマイナンバーの提出がなされていません";

    // Not marked: the API says so.
    let e: Value = app
        .get_as(&t, &format!("/api/v1/employers/{e01}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(e["my_number_late"], false);
    assert_eq!(e["my_number_late_since"], Value::Null);
    let list: Value = app
        .get_as(&t, "/api/v1/employers")
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["my_number_late"] == false && e["my_number_late_since"].is_null()));

    // Marked since 2025-06-01 through the existing PUT (contacts untouched).
    let r = app
        .put_json(
            &t,
            &format!("/api/v1/employers/{e01}"),
            json!({"my_number_late": true, "my_number_late_since": "2025-06-01"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["my_number_late"], true);
    assert_eq!(e["my_number_late_since"], "2025-06-01");
    assert_eq!(e["my_number_late_by"], STAFF);
    assert_eq!(e["contact_emails"], json!([]));
    let listed: Value = app
        .get_as(&t, "/api/v1/employers")
        .await
        .json()
        .await
        .unwrap();
    let row = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "E01")
        .unwrap()
        .clone();
    assert_eq!(row["my_number_late"], true);
    assert_eq!(row["my_number_late_since"], "2025-06-01");

    // Missing My Number at a marked employer: the standard days, naming the employer.
    let html = letter_on(&app, &t, m1, "registration-period", DATE).await;
    assert!(html.contains(late_words));
    assert!(html.contains("マイナンバーが記載されていませんでした"));
    assert!(html.contains(
        "J-LIS からマイナンバーを取得できなかった場合等を除いた標準的な処理期間）である<strong>14日</strong>"
    ));
    assert!(!html.contains("相当の期間"));
    assert_eq!(recorded(&app, &t, m1).await[0]["variant"], "standard_days");
    // The dependent of the same employer too; a correct number keeps the 5-day wording.
    let dep = letter_on(
        &app,
        &t,
        db_id(&app, &s.a, "D-1"),
        "registration-period",
        DATE,
    )
    .await;
    assert!(dep.contains(late_words));
    let valid = letter_on(
        &app,
        &t,
        db_id(&app, &s.a, "V-1"),
        "registration-period",
        DATE,
    )
    .await;
    assert!(valid.contains("<strong>5日以内</strong>にデータ登録が完了します"));
    assert!(!valid.contains("速やかなマイナンバーの提出がなされていません"));
    // Another employer, not marked: 「相当の期間」, nobody named.
    let i1 = db_id(&app, &s.a, "I-1");
    let other = letter_on(&app, &t, i1, "registration-period", DATE).await;
    assert!(other.contains("<strong>相当の期間</strong>"));
    assert!(!other.contains("速やかなマイナンバーの提出がなされていません"));

    // A mark from a later date does not reach back to a letter dated before it.
    let r = app
        .put_json(
            &t,
            &format!("/api/v1/employers/{e01}"),
            json!({"my_number_late": true, "my_number_late_since": "2025-07-15"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = letter_on(&app, &t, m1, "registration-period", DATE).await;
    assert!(!html.contains(late_words));
    assert!(html.contains("<strong>相当の期間</strong>"));

    // Cleared: 「相当の期間」 again.
    let r = app
        .put_json(
            &t,
            &format!("/api/v1/employers/{e01}"),
            json!({"my_number_late": false}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["my_number_late"], false);
    assert_eq!(e["my_number_late_since"], Value::Null);
    assert_eq!(e["my_number_late_by"], Value::Null);
    let html = letter_on(&app, &t, m1, "registration-period", "2025-07-01").await;
    assert!(!html.contains("速やかなマイナンバーの提出がなされていません"));
    assert_eq!(recorded(&app, &t, m1).await[0]["variant"], "considerable");

    // A wrong number at a marked employer: standard days, 「正確に記載されていませんでした」.
    let r = app
        .put_json(
            &t,
            &format!("/api/v1/employers/{e02}"),
            json!({"my_number_late": true, "my_number_late_since": "2025-06-01"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = letter_on(&app, &t, i1, "registration-period", DATE).await;
    assert!(html.contains("マイナンバーが正確に記載されていませんでした"));
    assert!(html
        .contains("テスト商事（事業主）においては、速やかなマイナンバーの提出がなされていません"));

    // A date in the future, a date without the flag, a viewer: refused.
    let tomorrow = (regwatch::time::today_jst() + Days::new(1)).to_string();
    let r = app
        .put_json(
            &t,
            &format!("/api/v1/employers/{e01}"),
            json!({"my_number_late": true, "my_number_late_since": tomorrow}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("今日より後"));
    let r = app
        .put_json(
            &t,
            &format!("/api/v1/employers/{e01}"),
            json!({"my_number_late_since": "2025-06-01"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let tv = login_token(&app, VIEWER, PASSWORD).await;
    let r = app
        .put_json(
            &tv,
            &format!("/api/v1/employers/{e01}"),
            json!({"my_number_late": true}),
        )
        .await;
    assert_eq!(r.status(), 403);

    // Set, date changed, cleared (E01) and set (E02): four audit entries.
    assert_eq!(audit_count(&mut app.conn(), "employer_my_number_late"), 4);

    // A 資格喪失届 gets no such letter: 409 with a Japanese reason.
    let r = app
        .get_as(
            &t,
            &format!(
                "/api/v1/notices/{}/letters/registration-period?format=html",
                db_id(&app, &s.a, "L-1")
            ),
        )
        .await;
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "loss_notice");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("資格喪失届は新たに加入する方の届書ではないため"));
}

#[tokio::test]
async fn staff_set_and_clear_the_mark_on_the_employer_page() {
    let (app, s) = seeded().await;
    let e01 = employer_db_id(&mut app.conn(), &s.a, "E01");
    let cs = login_cookie(&app, STAFF, PASSWORD).await;
    let body = app
        .get_as(&cs, "/employers/E01")
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("id=\"my-number-late\""));
    assert!(body.contains("設定されていません"));
    assert!(body.contains("id=\"save-late\""));

    let r = app
        .post_form(
            &cs,
            &format!("/employers/{e01}/my-number-late"),
            &[
                ("my_number_late", "1"),
                ("my_number_late_since", "2025-06-02"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let body = app
        .get_as(&cs, "/employers/E01")
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("2025-06-02 から設定"), "{body}");
    assert!(body.contains(STAFF));
    let list = app.get_as(&cs, "/employers").await.text().await.unwrap();
    assert!(list.contains("マイナンバー提出遅延"));

    // A bad date is refused; a viewer sees the mark but no form and may not post.
    let r = app
        .post_form(
            &cs,
            &format!("/employers/{e01}/my-number-late"),
            &[("my_number_late", "1"), ("my_number_late_since", "2025/06")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let vs = login_cookie(&app, VIEWER, PASSWORD).await;
    let body = app
        .get_as(&vs, "/employers/E01")
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("2025-06-02 から設定"));
    assert!(!body.contains("id=\"save-late\""));
    let r = app
        .post_form(
            &vs,
            &format!("/employers/{e01}/my-number-late"),
            &[("my_number_late", "1")],
        )
        .await;
    assert_eq!(r.status(), 403);

    // Unticked: cleared.
    let r = app
        .post_form(&cs, &format!("/employers/{e01}/my-number-late"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let body = app
        .get_as(&cs, "/employers/E01")
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("設定されていません"));

    use regwatch::store::schema::audit_log;
    let mut c = app.db.conn();
    let rows: Vec<(Option<String>, Option<String>)> = audit_log::table
        .filter(audit_log::action.eq("employer_my_number_late"))
        .order(audit_log::id)
        .select((audit_log::target, audit_log::detail))
        .load(&mut c)
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0.as_deref(), Some("E01"));
    assert!(rows[0]
        .1
        .as_deref()
        .unwrap()
        .contains("設定（2025-06-02 から）"));
    assert!(rows[1].1.as_deref().unwrap().contains("解除"));
}

#[tokio::test]
async fn an_overdue_letter_says_registration_is_delayed_and_promises_no_date() {
    an_overdue_letter_says_registration_is_delayed_and_promises_no_date_checks(false).await
}

#[tokio::test]
#[cfg_attr(
    not(regwatch_browser_test),
    ignore = "needs Chromium and poppler: REGWATCH_BROWSER_TEST=1 cargo test"
)]
async fn an_overdue_letter_says_the_same_in_its_pdf() {
    an_overdue_letter_says_registration_is_delayed_and_promises_no_date_checks(true).await
}

/// The checks of [`an_overdue_letter_says_registration_is_delayed_and_promises_no_date`]; `pdf`: also those of the PDF.
async fn an_overdue_letter_says_registration_is_delayed_and_promises_no_date_checks(pdf: bool) {
    let (app, s) = seeded().await;
    let t = login_token(&app, STAFF, PASSWORD).await;
    let v1 = db_id(&app, &s.a, "V-1");
    let m1 = db_id(&app, &s.a, "M-1");

    // V-1 (correct number, received 6/23) had until 6/30: a letter dated 7/1 is overdue.
    let html = letter_on(&app, &t, v1, "registration-period", "2025-07-01").await;
    for p in [
        "データ登録が遅れています",
        "受診の際は資格確認書をご利用ください",
        "資格確認書を職権により交付します",
        "医療機関・薬局の窓口で資格確認書をご提示ください",
        "お問い合わせ先　テスト保険者06123456　適用課 電話 03-0000-0000",
        "データ登録が完了するまでは、マイナンバーカードによる受診はできません",
        "マイナポータル",
    ] {
        assert!(html.contains(p), "overdue: {p}");
    }
    for p in ["登録が完了します", "目安", "5日以内", "令和7年6月30日"] {
        assert!(!html.contains(p), "overdue letter promises: {p}");
    }
    assert_eq!(recorded(&app, &t, v1).await[0]["variant"], "overdue");

    // M-1 (no number, 14 days from 6/23: 7/7) with a 資格確認書 in force on 7/8: it is named.
    let r = app
        .post_json(
            &t,
            &format!("/api/v1/notices/{m1}/certificates"),
            json!({"issued_on": "2025-07-08", "valid_until": "2025-08-01"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let html = letter_on(&app, &t, m1, "registration-period", "2025-07-08").await;
    assert!(html.contains("資格確認書を職権により交付しています"));
    assert!(html.contains("有効期限 令和7年8月1日まで"));
    assert!(html.contains("マイナンバーが記載されていませんでした"));
    assert!(!html.contains("登録が完了します"));
    assert!(!html.contains("相当の期間") && !html.contains("標準的な処理期間"));

    // In bulk on 7/10 every unregistered letter is overdue: none promises anything.
    let r = app.post_json(&t,
        "/api/v1/letters/bulk",
        json!({"kind": "registration-period", "format": "html", "date": "2025-07-10", "again": true}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-letters-count"], "4");
    let bulk = r.text().await.unwrap();
    assert_eq!(bulk.matches("データ登録が遅れています").count(), 4);
    assert!(!bulk.contains("登録が完了します"));

    // The preview page names the variant.
    let cs = login_cookie(&app, STAFF, PASSWORD).await;
    let body = app
        .get_as(
            &cs,
            &format!("/notices/{v1}/letters/registration-period?date=2025-07-01"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("登録の遅れ（期限経過後・資格確認書のご案内）"));

    // The PDF says the same (pdftotext).
    if !pdf {
        return;
    }
    let tools = pdf_tools();
    let r = app
        .get_as(
            &t,
            &format!("/api/v1/notices/{v1}/letters/registration-period?date=2025-07-01&again=1"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let path = out_dir().join("registration-period-overdue.pdf");
    std::fs::write(&path, r.bytes().await.unwrap()).unwrap();
    assert_eq!(tools.pages(&path), 1, "one page");
    let text: String = tools
        .text(&path)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for p in [
        "データ登録が遅れています",
        "資格確認書を職権により交付します",
        "03-0000-0000",
        "マイナポータル",
    ] {
        assert!(text.contains(p), "overdue PDF: {p}");
    }
    assert!(!text.contains("登録が完了します"));
    assert!(!text.contains("目安"));
}

#[tokio::test]
async fn a_letter_already_produced_needs_again_or_a_confirmation() {
    let (app, s) = seeded().await;
    let t = login_token(&app, STAFF, PASSWORD).await;
    let v1 = db_id(&app, &s.a, "V-1");
    let path = format!("/api/v1/notices/{v1}/letters/registration-period?format=html&date={DATE}");
    assert_eq!(app.get_as(&t, &path).await.status(), 200);
    let first = recorded(&app, &t, v1).await;
    assert_eq!(first.len(), 1);

    // Again without again=1: 409 naming when it was produced.
    let r = app.get_as(&t, &path).await;
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "already_produced");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.contains("作成済み"), "{msg}");
    assert!(
        msg.contains(first[0]["created_at_jst"].as_str().unwrap()),
        "{msg}"
    );
    assert!(msg.contains("again=1"), "{msg}");
    assert_eq!(recorded(&app, &t, v1).await.len(), 1, "nothing recorded");
    // Another kind of letter for the same notice is not affected; again=1 produces it again.
    assert_eq!(
        app.get_as(&t, &format!("{path}&again=1")).await.status(),
        200
    );
    assert_eq!(recorded(&app, &t, v1).await.len(), 2);

    // The page: the letter page says it was produced; the generate button asks for confirmation.
    let cs = login_cookie(&app, STAFF, PASSWORD).await;
    let body = app
        .get_as(&cs, &format!("/notices/{v1}/letters/registration-period"))
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("id=\"produced\""));
    let r = app
        .post_form(
            &cs,
            &format!("/notices/{v1}/letters/registration-period"),
            &[("format", "html"), ("date", DATE)],
        )
        .await;
    assert_eq!(r.status(), 409);
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"confirm-again\""));
    assert!(body.contains("name=\"again\" value=\"1\""));
    assert!(body.contains("id=\"generate-again\""));
    assert!(body.contains("/download?format=pdf"));
    assert_eq!(recorded(&app, &t, v1).await.len(), 2);
    let r = app
        .post_form(
            &cs,
            &format!("/notices/{v1}/letters/registration-period"),
            &[("format", "html"), ("date", DATE), ("again", "1")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("データ登録完了までの期間のお知らせ"));
    assert_eq!(recorded(&app, &t, v1).await.len(), 3);

    // Bulk: notices that have the letter are skipped unless `again`.
    let bulk = |again: bool| {
        json!({"kind": "registration-period", "format": "html", "date": DATE,
               "filter": {"employer": "E02"}, "again": again})
    };
    let r = app.post_json(&t, "/api/v1/letters/bulk", bulk(false)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-letters-count"], "1", "I-1");
    let r = app.post_json(&t, "/api/v1/letters/bulk", bulk(false)).await;
    assert_eq!(r.status(), 409, "everything was produced already");
    let r = app.post_json(&t, "/api/v1/letters/bulk", bulk(true)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-letters-count"], "1");
    let p = app
        .get_as(&cs, "/letters/bulk?employer=E02&kind=registration-period")
        .await
        .text()
        .await
        .unwrap();
    assert!(p.contains("対象外: 作成済み"), "{p}");
}

#[tokio::test]
async fn a_past_letter_downloads_again_exactly_as_it_was() {
    a_past_letter_downloads_again_exactly_as_it_was_checks(false).await
}

#[tokio::test]
#[cfg_attr(
    not(regwatch_browser_test),
    ignore = "needs Chromium and poppler: REGWATCH_BROWSER_TEST=1 cargo test"
)]
async fn a_past_letter_downloads_again_as_pdf_exactly_as_it_was() {
    a_past_letter_downloads_again_exactly_as_it_was_checks(true).await
}

/// The checks of [`a_past_letter_downloads_again_exactly_as_it_was`]; `pdf`: also those of the PDF.
async fn a_past_letter_downloads_again_exactly_as_it_was_checks(pdf: bool) {
    let (app, s) = seeded().await;
    let t = login_token(&app, STAFF, PASSWORD).await;
    let m1 = db_id(&app, &s.a, "M-1");
    let r = app
        .get_as(
            &t,
            &format!("/api/v1/notices/{m1}/letters/registration-period?format=html&date={DATE}"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let original = r.text().await.unwrap();
    let first = recorded(&app, &t, m1).await[0].clone();
    assert_eq!(first["kept"], true);
    let first_id = first["id"].as_i64().unwrap();

    // The sender and the employer mark change; the letter produced now reads differently.
    {
        let mut c = app.db.conn();
        regwatch::store::letters::update_sender_fields(
            &mut c,
            s.a.id,
            &regwatch::store::letters::SenderFields {
                address: Some("大阪府大阪市北区1-1".into()),
                contact: Some("新しい窓口 06-0000-0000".into()),
                seal_text: None,
                ..Default::default()
            },
        )
        .unwrap();
    }
    let e01 = employer_db_id(&mut app.conn(), &s.a, "E01");
    app.put_json(
        &t,
        &format!("/api/v1/employers/{e01}"),
        json!({"my_number_late": true, "my_number_late_since": "2025-06-01"}),
    )
    .await;
    let now = letter_on(&app, &t, m1, "registration-period", DATE).await;
    assert_ne!(now, original);
    assert!(now.contains("新しい窓口"));

    // The first letter, again: byte for byte what was produced.
    let r = app
        .get_as(&t, &format!("/api/v1/letters/{first_id}?format=html"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), original);
    let cs = login_cookie(&app, STAFF, PASSWORD).await;
    let r = app
        .get_as(&cs, &format!("/letters/{first_id}/download?format=html"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), original);
    let case = app
        .get_as(&cs, &format!("/notices/{m1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(case.contains(&format!("/letters/{first_id}/download?format=pdf")));
    assert!(audit_count(&mut app.conn(), "letter_downloaded") >= 2);

    // A letter of a bulk run is kept as its own one-page document.
    let r = app
        .post_json(
            &t,
            "/api/v1/letters/bulk",
            json!({"kind": "registration-period", "format": "html", "date": DATE,
               "filter": {"employer": "E02"}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let i1 = db_id(&app, &s.a, "I-1");
    let bulk_id = recorded(&app, &t, i1).await[0]["id"].as_i64().unwrap();
    let kept = app
        .get_as(&t, &format!("/api/v1/letters/{bulk_id}?format=html"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(kept.matches("class=\"page letter-").count(), 1);
    assert!(kept.contains("佐藤次郎"));

    // Viewers may not; a letter recorded before the wording was kept says so.
    let tv = login_token(&app, VIEWER, PASSWORD).await;
    assert_eq!(
        app.get_as(&tv, &format!("/api/v1/letters/{first_id}"))
            .await
            .status(),
        403
    );
    let old_id: i64 = {
        use regwatch::store::letters::{self as ls, By, NewLetter, Run};
        use regwatch::store::schema::letters;
        let mut c = app.db.conn();
        let by = By {
            user: None,
            label: "old".into(),
        };
        ls::record_letters(
            &mut c,
            s.a.id,
            &Run {
                id: "old-run",
                format: "pdf",
                letter_date: as_of(),
                by: &by,
            },
            &[NewLetter {
                notice: regwatch::store::notices::NoticeDbId(i1),
                kind: "registration_period",
                variant: "considerable",
                template_version: "1-old".into(),
                certificate: None,
                html: None,
            }],
        )
        .unwrap();
        letters::table
            .filter(letters::run_id.eq("old-run"))
            .select(letters::id)
            .first(&mut c)
            .unwrap()
    };
    let r = app.get_as(&t, &format!("/api/v1/letters/{old_id}")).await;
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "not_kept"
    );

    // As PDF, printed again from the kept document.
    if !pdf {
        return;
    }
    let tools = pdf_tools();
    let r = app.get_as(&t, &format!("/api/v1/letters/{first_id}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let path = out_dir().join("downloaded-again.pdf");
    std::fs::write(&path, r.bytes().await.unwrap()).unwrap();
    let text: String = tools
        .text(&path)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(text.contains("適用課電話03-0000-0000"), "the old contact");
    assert!(!text.contains("新しい窓口"));
    assert!(text.contains("相当の期間"), "the wording of then");
}

#[tokio::test]
async fn a_letter_is_marked_sent_from_the_api_and_the_case_page() {
    let (app, s) = seeded().await;
    let t = login_token(&app, STAFF, PASSWORD).await;
    let today = regwatch::time::today_jst();
    let v1 = db_id(&app, &s.a, "V-1");
    letter_on(&app, &t, v1, "registration-period", DATE).await;
    let id = recorded(&app, &t, v1).await[0]["id"].as_i64().unwrap();
    let sent = format!("/api/v1/letters/{id}/sent");

    for bad in [(today + Days::new(1)).to_string(), "2020-01-01".to_string()] {
        let r = app.post_json(&t, &sent, json!({"sent_on": bad})).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    let tv = login_token(&app, VIEWER, PASSWORD).await;
    assert_eq!(app.post_json(&tv, &sent, json!({})).await.status(), 403);
    let r = app.post_json(&t, &sent, json!({})).await;
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["sent_on"], today.to_string());
    assert_eq!(b["sent_by"], STAFF);
    let r = app.post_json(&t, &sent, json!({})).await;
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "already_sent");
    assert!(e["error"]["message"].as_str().unwrap().contains("発送済"));
    assert_eq!(
        recorded(&app, &t, v1).await[0]["sent_on"],
        today.to_string()
    );

    // From the case page.
    let m1 = db_id(&app, &s.a, "M-1");
    letter_on(&app, &t, m1, "registration-period", DATE).await;
    let id2 = recorded(&app, &t, m1).await[0]["id"].as_i64().unwrap();
    let cs = login_cookie(&app, STAFF, PASSWORD).await;
    let case = app
        .get_as(&cs, &format!("/notices/{m1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(case.contains(&format!("action=\"/letters/{id2}/sent\"")));
    let r = app
        .post_form(
            &cs,
            &format!("/letters/{id2}/sent"),
            &[("sent_on", &today.to_string())],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/notices/{m1}?sent=1#letters").as_str()
    );
    let case = app
        .get_as(&cs, &format!("/notices/{m1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(case.contains(&format!(
        "id=\"sent-{id2}\"><span class=\"badge s-met\">発送済</span> {today}"
    )));
    assert_eq!(audit_count(&mut app.conn(), "letter_sent"), 2);
}

#[tokio::test]
async fn another_insurers_letters_and_employers_are_not_found() {
    let (app, s) = seeded().await;
    // B's staff produce a letter for B-1.
    let tb = login_token(&app, OTHER, PASSWORD).await;
    let b1 = db_id(&app, &s.b, "B-1");
    letter_on(&app, &tb, b1, "registration-period", DATE).await;
    let b_letter = recorded(&app, &tb, b1).await[0]["id"].as_i64().unwrap();
    let k01 = employer_db_id(&mut app.conn(), &s.b, "K01");

    let t = login_token(&app, STAFF, PASSWORD).await;
    assert_eq!(
        app.get_as(&t, &format!("/api/v1/letters/{b_letter}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.post_json(&t, &format!("/api/v1/letters/{b_letter}/sent"), json!({}))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.put_json(
            &t,
            &format!("/api/v1/employers/{k01}"),
            json!({"my_number_late": true})
        )
        .await
        .status(),
        404
    );
    let cs = login_cookie(&app, STAFF, PASSWORD).await;
    assert_eq!(
        app.get_as(&cs, &format!("/letters/{b_letter}/download"))
            .await
            .status(),
        404
    );
    for (path, fields) in [
        (format!("/letters/{b_letter}/sent"), vec![]),
        (
            format!("/employers/{k01}/my-number-late"),
            vec![("my_number_late", "1")],
        ),
    ] {
        assert_eq!(
            app.post_form(&cs, &path, &fields).await.status(),
            404,
            "{path}"
        );
    }
    // B's letter and employer are as they were.
    assert_eq!(recorded(&app, &tb, b1).await[0]["sent_on"], Value::Null);
    let e: Value = app
        .get_as(&tb, &format!("/api/v1/employers/{k01}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(e["my_number_late"], false);
}

// ---------------------------------------------------------------------------------------------
// Issue 15 part 7: 以上, the issuer word, the representative, 生年月日, the 〒/address block

#[tokio::test]
async fn every_letter_ends_with_ijo_after_the_body() {
    let (app, s) = seeded().await;
    let t = login_token(&app, STAFF, PASSWORD).await;
    let m1 = db_id(&app, &s.a, "M-1");
    let r = app
        .post_json(
            &t,
            &format!("/api/v1/notices/{m1}/certificates"),
            json!({"issued_on": DATE, "valid_until": "2025-07-29"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    for (id, kind) in [
        (db_id(&app, &s.a, "V-1"), "registration-period"),
        (db_id(&app, &s.a, "R-1"), "qualification-info"),
        (m1, "certificate"),
    ] {
        let html = letter_html(&app, &t, id, kind).await;
        let end = html.find("<p class=\"end\">以上</p>").expect(kind);
        let portal = html.find("マイナポータルでの確認のお願い").expect(kind);
        let contact = html.find("<div class=\"contact\">").expect(kind);
        assert!(
            portal < end && end < contact,
            "{kind}: 以上 closes the body"
        );
    }
}

#[tokio::test]
async fn the_issuer_word_follows_the_insurer_kind_or_its_setting_and_the_representative_is_printed()
{
    let (app, s) = seeded().await;
    {
        let mut c = app.db.conn();
        add_user(&mut c, &s.a, "admin-a@example.jp", Role::Admin, PASSWORD);
        add_user(&mut c, &s.b, "viewer-b@example.jp", Role::Viewer, PASSWORD);
    }
    let t = login_token(&app, STAFF, PASSWORD).await;
    let m1 = db_id(&app, &s.a, "M-1");

    // 健康保険組合 by default: 当組合; no representative line.
    let html = letter_on(&app, &t, m1, "registration-period", DATE).await;
    assert!(html.contains("を当組合で受け付けました"));
    assert!(!html.contains("class=\"rep\""));

    // 共済組合等 by default: 当共済組合 (never 当組合).
    let tb = login_token(&app, OTHER, PASSWORD).await;
    let html = letter_html(&app, &tb, db_id(&app, &s.b, "B-1"), "registration-period").await;
    assert!(html.contains("を当共済組合で受け付けました"));
    assert!(!html.contains("当組合"));
    let viewer_b = login_cookie(&app, "viewer-b@example.jp", PASSWORD).await;
    let body = app
        .get_as(&viewer_b, "/letters")
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("<dt>自称</dt><dd>当共済組合</dd>"));

    // The admin sets 当会 and the representative on /letters.
    let admin = login_cookie(&app, "admin-a@example.jp", PASSWORD).await;
    let r = app
        .post_form(
            &admin,
            "/letters/sender",
            &[("issuer_word", &"あ".repeat(21))],
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = app
        .post_form(
            &admin,
            "/letters/sender",
            &[
                ("address", "〒100-0001\r\n東京都千代田区千代田1-1"),
                ("contact", "適用課 03-0000-0000"),
                ("issuer_word", " 当会 "),
                ("representative", "理事長　山田 太郎"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let body = app.get_as(&admin, "/letters").await.text().await.unwrap();
    assert!(body.contains("name=\"issuer_word\" value=\"当会\""));
    assert!(body.contains("name=\"representative\" value=\"理事長　山田 太郎\""));
    let html = letter_on(&app, &t, m1, "registration-period", DATE).await;
    assert!(html.contains("を当会で受け付けました"));
    assert!(html.contains("当会から資格確認書をお送りします"));
    assert!(
        !html.contains("当組合"),
        "the setting replaces every 当組合"
    );
    let name = html.find("<div class=\"name\">").unwrap();
    let rep = html
        .find("<div class=\"rep\">理事長　山田 太郎</div>")
        .expect("representative");
    let addr = html.find("<div>東京都千代田区千代田1-1</div>").unwrap();
    assert!(name < rep && rep < addr, "under the insurer name");
    let html = letter_on(
        &app,
        &t,
        db_id(&app, &s.a, "R-1"),
        "qualification-info",
        DATE,
    )
    .await;
    assert!(html.contains("当会によるデータ登録が完了しました"));

    // Cleared: back to the default by kind.
    let r = app
        .post_form(
            &admin,
            "/letters/sender",
            &[("issuer_word", ""), ("representative", "")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let html = letter_on(&app, &t, m1, "registration-period", DATE).await;
    assert!(html.contains("を当組合で受け付けました"));
    assert!(!html.contains("class=\"rep\""));
}

#[tokio::test]
async fn birth_date_is_printed_on_qualification_info_only_when_imported() {
    birth_date_is_printed_on_qualification_info_only_when_imported_checks(false).await
}

#[tokio::test]
#[cfg_attr(
    not(regwatch_browser_test),
    ignore = "needs Chromium and poppler: REGWATCH_BROWSER_TEST=1 cargo test"
)]
async fn birth_date_is_printed_on_the_qualification_info_pdf() {
    birth_date_is_printed_on_qualification_info_only_when_imported_checks(true).await
}

/// The checks of [`birth_date_is_printed_on_qualification_info_only_when_imported`]; `pdf`: also those of the PDF.
async fn birth_date_is_printed_on_qualification_info_only_when_imported_checks(pdf: bool) {
    let (app, s) = seeded().await;
    {
        let mut c = app.db.conn();
        let file = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号,生年月日\n\
B-2,資格取得,E02,テスト商事,200,6,,伊藤五郎,2025-06-01,2025-06-02,123456789018,昭和60年4月2日\n";
        import_notices_csv(&mut c, &s.a, "birth.csv", file, as_of());
        import_registrations_csv(
            &mut c,
            &s.a,
            "r2.csv",
            "受付番号,登録完了日時,処理結果\nB-2,2025-06-05T10:00:00+09:00,正常\n",
        );
        // The same notices again with a blank 生年月日 column: nothing changes, nothing is erased.
        let again = format!(
            "{},生年月日\n{}",
            NOTICES.lines().next().unwrap(),
            NOTICES
                .lines()
                .skip(1)
                .map(|l| format!("{l},\n"))
                .collect::<String>()
        );
        import_notices_csv(&mut c, &s.a, "again.csv", &again, as_of());
    }
    let t = login_token(&app, STAFF, PASSWORD).await;
    let b2 = db_id(&app, &s.a, "B-2");
    let html = letter_html(&app, &t, b2, "qualification-info").await;
    assert!(html.contains("<tr><th>生年月日</th><td>昭和60年4月2日</td></tr>"));
    let html = letter_html(&app, &t, db_id(&app, &s.a, "R-1"), "qualification-info").await;
    assert!(!html.contains("生年月日</th>"), "not known: no line");

    if !pdf {
        return;
    }
    let tools = pdf_tools();
    let r = app
        .get_as(
            &t,
            &format!("/api/v1/notices/{b2}/letters/qualification-info?date={DATE}&again=1"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let path = out_dir().join("qualification-info-birth-date.pdf");
    std::fs::write(&path, r.bytes().await.unwrap()).unwrap();
    let text: String = tools
        .text(&path)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(text.contains("生年月日昭和60年4月2日"), "{text}");
    assert!(text.contains("以上"));
}

#[tokio::test]
async fn the_address_block_prints_the_member_address_or_goes_via_the_employer_address() {
    the_address_block_prints_the_member_address_or_goes_via_the_employer_address_checks(false).await
}

#[tokio::test]
#[cfg_attr(
    not(regwatch_browser_test),
    ignore = "needs Chromium and poppler: REGWATCH_BROWSER_TEST=1 cargo test"
)]
async fn the_address_block_is_in_the_pdf_and_its_page_is_a4() {
    the_address_block_prints_the_member_address_or_goes_via_the_employer_address_checks(true).await
}

/// The checks of [`the_address_block_prints_the_member_address_or_goes_via_the_employer_address`]; `pdf`: also those of the PDF.
async fn the_address_block_prints_the_member_address_or_goes_via_the_employer_address_checks(
    pdf: bool,
) {
    let (app, s) = seeded().await;
    {
        let mut c = app.db.conn();
        let file = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号,郵便番号,住所\n\
A-2,資格取得,E02,テスト商事,200,7,,渡辺六郎,2025-06-20,2025-06-23,123456789018,１５０－０００２,東京都渋谷区渋谷2-2-2 渋谷ハイツ101\n";
        import_notices_csv(&mut c, &s.a, "address.csv", file, as_of());
    }
    let t = login_token(&app, STAFF, PASSWORD).await;
    let m1 = db_id(&app, &s.a, "M-1");
    let i1 = db_id(&app, &s.a, "I-1");
    let a2 = db_id(&app, &s.a, "A-2");

    // Neither address: today's block, no address invented.
    let html = letter_html(&app, &t, m1, "registration-period").await;
    assert!(html.contains("<div class=\"via\">株式会社テスト　気付</div>"));
    assert!(!html.contains("class=\"zip\"") && !html.contains("class=\"addr\""));
    assert!(html.contains("鈴木花子　<small>様</small>"));

    // The employer's address on the employer page (staff) and in the PUT API.
    let staff = login_cookie(&app, STAFF, PASSWORD).await;
    let e01 = employer_db_id(&mut app.conn(), &s.a, "E01");
    let r = app
        .post_form(
            &staff,
            &format!("/employers/{e01}/address"),
            &[("postal_code", "12-345"), ("address", "東京都")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = app
        .post_form(
            &staff,
            &format!("/employers/{e01}/address"),
            &[
                ("postal_code", "〒1000005"),
                ("address", "東京都千代田区丸の内1-1-1\r\nテストビル5階"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let body = app
        .get_as(&staff, "/employers/E01")
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("value=\"100-0005\""));
    let e02 = employer_db_id(&mut app.conn(), &s.a, "E02");
    let r = app
        .put_json(
            &t,
            &format!("/api/v1/employers/{e02}"),
            json!({"postal_code": "530-0001", "address": "大阪府大阪市北区梅田1-1"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["postal_code"], "530-0001");
    assert_eq!(v["address"], "大阪府大阪市北区梅田1-1");
    let r = app
        .put_json(
            &t,
            &format!("/api/v1/employers/{e02}"),
            json!({"postal_code": "abc"}),
        )
        .await;
    assert_eq!(r.status(), 400);

    // No member address: 〒 + employer address, employer 気付, the member 様.
    let html = letter_on(&app, &t, m1, "registration-period", DATE).await;
    let zip = html.find("<div class=\"zip\">〒100-0005</div>").unwrap();
    let addr = html
        .find("<div class=\"addr\">東京都千代田区丸の内1-1-1</div>")
        .unwrap();
    let via = html
        .find("<div class=\"via\">株式会社テスト　気付</div>")
        .unwrap();
    let to = html.find("鈴木花子　<small>様</small>").unwrap();
    assert!(zip < addr && addr < via && via < to);
    assert!(html.contains("<div class=\"addr\">テストビル5階</div>"));
    let html = letter_html(&app, &t, i1, "registration-period").await;
    assert!(html.contains("<div class=\"zip\">〒530-0001</div>"));
    assert!(html.contains("<div class=\"via\">テスト商事　気付</div>"));

    // The member's own address: no 気付 (the employer's address is not used).
    let html = letter_html(&app, &t, a2, "registration-period").await;
    assert!(html.contains("<div class=\"zip\">〒150-0002</div>"));
    assert!(html.contains("<div class=\"addr\">東京都渋谷区渋谷2-2-2 渋谷ハイツ101</div>"));
    assert!(!html.contains("気付"));
    assert!(!html.contains("530-0001"));
    assert!(html.contains("渡辺六郎　<small>様</small>"));

    if !pdf {
        return;
    }
    let tools = pdf_tools();
    for (id, file, want) in [
        (
            a2,
            "address-member.pdf",
            vec![
                "〒150-0002",
                "東京都渋谷区渋谷2-2-2渋谷ハイツ101",
                "渡辺六郎",
            ],
        ),
        (
            m1,
            "address-via-employer.pdf",
            vec![
                "〒100-0005",
                "東京都千代田区丸の内1-1-1",
                // 様 is set smaller: pdftotext may read it after the sender block.
                "株式会社テスト気付鈴木花子",
            ],
        ),
    ] {
        let r = app
            .get_as(
                &t,
                &format!("/api/v1/notices/{id}/letters/registration-period?date={DATE}&again=1"),
            )
            .await;
        assert_eq!(r.status(), 200);
        let path = out_dir().join(file);
        std::fs::write(&path, r.bytes().await.unwrap()).unwrap();
        assert_eq!(tools.pages(&path), 1, "{file}");
        let text: String = tools
            .text(&path)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for w in want {
            assert!(text.contains(w), "{file}: {w} in {text}");
        }
        // A picture of the page, kept beside the PDF to be looked at: one A4 page at 60 dpi.
        let png = out_dir().join(file.replace(".pdf", ""));
        let ok = std::process::Command::new("pdftoppm")
            .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&path)
            .arg(&png)
            .status()
            .expect("pdftoppm (poppler-utils)");
        assert!(ok.success(), "pdftoppm {file}");
        let bytes = std::fs::read(png.with_extension("png")).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let (w, h) = (
            u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
            u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
        );
        assert!(
            (490..=500).contains(&w) && (695..=705).contains(&h),
            "{file}: an A4 page at 60 dpi, got {w}×{h}"
        );
    }
}
