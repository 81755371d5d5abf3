//! 要因分析 (issue 15 part 5): intermediate-server error results give the cause of a late
//! registration (J-LIS errors are the J-LIS cause without any 遅延理由), the insurer's table of
//! error codes, the 「ー」 keywords, and checklist 1-①/② evidence over 資格取得届・被扶養者届 only.
mod common;

use chrono::NaiveDate;
use common::{add_insurer, add_user, login_cookie, login_token, spawn_app};
use regwatch::domain::InsurerKind;
use regwatch::reports::analysis::{self, Cause};
use regwatch::store::import::{import_notices, import_registrations, Actor};
use regwatch::store::users::Role;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse 1";
/// A valid My Number (check digit), never echoed anywhere.
const VALID: &str = "123456789018";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn cause_count(a: &analysis::Analysis, cause: Cause) -> (u64, u64) {
    let row = a.causes.iter().find(|c| c.cause == cause.code()).unwrap();
    (row.submission, row.registration)
}

/// Received 2026-04-01 (Wednesday): registration due 04-06 (valid number); as of 2026-05-01.
fn load(conn: &mut regwatch::store::DbConn, insurer: &regwatch::store::insurers::Insurer) {
    let actor = Actor {
        user: None,
        label: "test".into(),
    };
    let notices = format!(
        "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日,個人番号,遅延理由\n\
         J-1,資格取得,E01,1,1,2026-03-30,2026-04-01,{VALID},\n\
         X-1,資格取得,E01,1,2,2026-03-30,2026-04-01,{VALID},\n\
         M-1,資格取得,E01,1,3,2026-03-30,2026-04-01,{VALID},マイナンバーの再提出待ち\n\
         L-1,資格喪失,E01,1,4,2026-03-01,2026-04-01,,\n"
    );
    let s = import_notices(
        conn,
        insurer,
        notices.as_bytes(),
        "n.csv",
        &actor,
        d("2026-05-01"),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(s.rejected, 0, "{:?}", s.rejects);
    let regs = "受付番号,登録完了日時,処理結果,エラーコード,エラー内容\n\
        J-1,,エラー,E0101,J-LIS照会結果不一致\n\
        J-1,2026-04-20 10:00:00,正常,,\n\
        X-1,,エラー,X9,その他のエラー\n\
        M-1,2026-04-20 10:00:00,正常,,\n\
        L-1,2026-04-02 10:00:00,正常,,\n";
    let s =
        import_registrations(conn, insurer, regs.as_bytes(), "r.csv", &actor, &mut |_| {}).unwrap();
    assert_eq!(s.rejected, 0, "{:?}", s.rejects);
}

#[tokio::test]
async fn error_results_give_the_cause_of_late_registrations_and_the_table_is_per_insurer() {
    let app = spawn_app().await;
    let mut c = app.db.conn();
    let a = add_insurer(&mut c, "06130001", InsurerKind::Kenpo);
    let b = add_insurer(&mut c, "06130002", InsurerKind::Kenpo);
    add_user(&mut c, &a, "staff@example.jp", Role::Staff, PASSWORD);
    add_user(&mut c, &a, "viewer@example.jp", Role::Viewer, PASSWORD);
    load(&mut c, &a);
    load(&mut c, &b);
    let compute = |c: &mut regwatch::store::DbConn, i: &regwatch::store::insurers::Insurer| {
        let i = regwatch::store::insurers::get(c, i.id).unwrap();
        analysis::compute(c, &i, d("2026-04-01"), d("2026-04-30"), d("2026-05-01")).unwrap()
    };

    // J-1: its J-LIS error result, no 遅延理由. M-1: 「マイナンバー」 in the text (「ー」 kept
    // matching). X-1: an unknown code: unknown. L-1: a late 資格喪失届 submission.
    let an = compute(&mut c, &a);
    assert_eq!(an.registration_late, 3);
    assert_eq!(cause_count(&an, Cause::JLisMismatch), (0, 1));
    assert_eq!(cause_count(&an, Cause::MyNumber), (0, 1));
    assert_eq!(cause_count(&an, Cause::Unknown), (0, 1));
    assert_eq!(an.submission_late, 1);
    // Checklist 1-①/1-②: 資格取得届・被扶養者届 only — the loss notice's late submission is out.
    assert_eq!(an.new_member_submission_late, 0);
    assert_eq!(an.new_member_registration_late, 3);

    // The insurer maps its own code X9; the other insurer's analysis does not change.
    let staff = login_token(&app, "staff@example.jp", PASSWORD).await;
    let viewer = login_token(&app, "viewer@example.jp", PASSWORD).await;
    let put = |token: String, body: Value| {
        let app = &app;
        async move {
            app.client
                .put(format!("{}/api/v1/analysis/error-causes", app.address))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let r = put(
        viewer.clone(),
        json!({"entries": [{"error_code": "X9", "cause": "document_deficiency"}]}),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = put(
        staff.clone(),
        json!({"entries": [{"error_code": "X9", "cause": "paperwork"}]}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let msg: Value = r.json().await.unwrap();
    assert!(
        msg["error"]["message"]
            .as_str()
            .unwrap()
            .contains("paperwork"),
        "{msg}"
    );
    let r = put(
        staff.clone(),
        json!({"entries": [{"error_code": " x9 ", "cause": "document_deficiency"}]}),
    )
    .await;
    assert_eq!(r.status(), 204);
    let got: Value = app
        .client
        .get(format!("{}/api/v1/analysis/error-causes", app.address))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        got,
        json!({"entries": [{"error_code": "X9", "cause": "document_deficiency"}]})
    );
    let an = compute(&mut c, &a);
    assert_eq!(cause_count(&an, Cause::DocumentDeficiency), (0, 1));
    assert_eq!(cause_count(&an, Cause::Unknown), (0, 0));
    let other = compute(&mut c, &b);
    assert_eq!(cause_count(&other, Cause::Unknown), (0, 1));
    assert_eq!(cause_count(&other, Cause::DocumentDeficiency), (0, 0));
    // Audited.
    use diesel::prelude::*;
    use regwatch::store::schema::audit_log;
    let n: i64 = audit_log::table
        .filter(audit_log::action.eq("error_causes_set"))
        .filter(audit_log::insurer_id.eq(a.id.0))
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(n, 1);

    // The page: the table and the form; the checklist's 1-① evidence names the population.
    let s = login_cookie(&app, "staff@example.jp", PASSWORD).await;
    let page = |path: &str| {
        let app = &app;
        let path = path.to_string();
        let cookie = s.cookie.clone();
        async move {
            reqwest::Client::new()
                .get(format!("{}{}", app.address, path))
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let html = page("/analysis?from=2026-04-01&to=2026-04-30").await;
    assert!(html.contains("id=\"error-causes\""), "{html}");
    assert!(html.contains("value=\"X9\""));
    let html = page("/checklist?from=2026-04-01&to=2026-04-30").await;
    assert!(
        html.contains("資格取得届・被扶養者届の登録期限超過"),
        "{html}"
    );
    // The form replaces the table (a blank code drops the row).
    let r = reqwest::Client::new()
        .post(format!("{}/analysis/error-causes", app.address))
        .header("Cookie", s.cookie.clone())
        .form(&[
            ("csrf", s.csrf.as_str()),
            ("code_0", ""),
            ("cause_0", "document_deficiency"),
            ("code_1", "E0101"),
            ("cause_1", "jlis_mismatch"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection());
    assert_eq!(
        regwatch::store::error_causes::mapping(&mut c, a.id).unwrap(),
        vec![("E0101".to_string(), Cause::JLisMismatch)]
    );
}

#[test]
fn keywords_with_the_long_vowel_mark_match_and_dashes_are_one() {
    use analysis::cause_from_text;
    assert_eq!(
        cause_from_text("マイナンバーの提出待ち"),
        Some(Cause::MyNumber)
    );
    assert_eq!(
        cause_from_text("JーLIS照会エラー"),
        Some(Cause::JLisMismatch)
    );
    assert_eq!(cause_from_text("Ｊ－ＬＩＳ"), Some(Cause::JLisMismatch));
    let table = std::collections::HashMap::from([("E0101".to_string(), Cause::JLisMismatch)]);
    assert_eq!(
        analysis::error_cause(&table, Some(" e0101"), None),
        Some(Cause::JLisMismatch)
    );
    assert_eq!(
        analysis::error_cause(&table, Some("E7"), Some("住基ネット照会不一致")),
        Some(Cause::JLisMismatch)
    );
    assert_eq!(
        analysis::error_cause(&table, Some("E7"), Some("その他")),
        None
    );
}
