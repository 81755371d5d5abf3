//! 要因分析 (issue 15 part 5): intermediate-server error results give the cause of a late
//! registration (J-LIS errors are the J-LIS cause without any 遅延理由), the insurer's table of
//! error codes, the 「ー」 keywords, and checklist 1-①/② evidence over 資格取得届・被扶養者届 only.
mod common;

use common::{
    date as d, import_notices_csv, import_registrations_csv, login_cookie, login_token, TestApp,
};
use regwatch::domain::InsurerKind;
use regwatch::reports::analysis::{self, Cause};
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse 1";
/// A valid My Number (check digit), never echoed anywhere.
const VALID: &str = "123456789018";

fn cause_count(a: &analysis::Analysis, cause: Cause) -> (u64, u64) {
    let row = a.causes.iter().find(|c| c.cause == cause.code()).unwrap();
    (row.submission, row.registration)
}

/// Received 2026-04-01 (Wednesday): registration due 04-06 (valid number); as of 2026-05-01.
fn load(conn: &mut regwatch::store::DbConn, insurer: &regwatch::store::insurers::Insurer) {
    let notices = format!(
        "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日,個人番号,遅延理由\n\
         J-1,資格取得,E01,1,1,2026-03-30,2026-04-01,{VALID},\n\
         X-1,資格取得,E01,1,2,2026-03-30,2026-04-01,{VALID},\n\
         M-1,資格取得,E01,1,3,2026-03-30,2026-04-01,{VALID},マイナンバーの再提出待ち\n\
         L-1,資格喪失,E01,1,4,2026-03-01,2026-04-01,,\n"
    );
    let s = import_notices_csv(conn, insurer, "n.csv", &notices, d("2026-05-01"));
    assert_eq!(s.rejected, 0, "{:?}", s.rejects);
    let regs = "受付番号,登録完了日時,処理結果,エラーコード,エラー内容\n\
        J-1,,エラー,E0101,J-LIS照会結果不一致\n\
        J-1,2026-04-20 10:00:00,正常,,\n\
        X-1,,エラー,X9,その他のエラー\n\
        M-1,2026-04-20 10:00:00,正常,,\n\
        L-1,2026-04-02 10:00:00,正常,,\n";
    let s = import_registrations_csv(conn, insurer, "r.csv", regs);
    assert_eq!(s.rejected, 0, "{:?}", s.rejects);
}

#[tokio::test]
async fn error_results_give_the_cause_of_late_registrations_and_the_table_is_per_insurer() {
    let app = TestApp::builder()
        .with_insurer("06130001", InsurerKind::Kenpo)
        .with_insurer("06130002", InsurerKind::Kenpo)
        .with_staff("06130001", "staff@example.jp", PASSWORD)
        .with_viewer("06130001", "viewer@example.jp", PASSWORD)
        .with_seed(|c, ins| {
            load(c, &ins[0]);
            load(c, &ins[1]);
        })
        .spawn()
        .await;
    let mut c = app.conn();
    let a = app.insurer("06130001").clone();
    let b = app.insurer("06130002").clone();
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
            app.put_json(&token, "/api/v1/analysis/error-causes", body)
                .await
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
        .get_as(&viewer, "/api/v1/analysis/error-causes")
        .await
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
        let (app, s) = (&app, &s);
        let path = path.to_string();
        async move { app.get_as(s, &path).await.text().await.unwrap() }
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
    let r = app
        .post_form(
            &s,
            "/analysis/error-causes",
            &[
                ("csrf", s.csrf.as_str()),
                ("code_0", ""),
                ("cause_0", "document_deficiency"),
                ("code_1", "E0101"),
                ("cause_1", "jlis_mismatch"),
            ],
        )
        .await;
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
