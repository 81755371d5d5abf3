//! 設定 → 表示 (issue 18, item 5): one date style per place. The insurer's pages show dates in the
//! style its admin chose (西暦 ISO by default, or 和暦); letters keep 和暦, e-mails 「2026年10月21日」,
//! files and the API ISO 8601 whatever the choice. Page and API, admin only, audited, per insurer.
//! Runs on SQLite and (with REGWATCH_TEST_POSTGRES_URL) PostgreSQL.
mod common;

use common::{audit_count, TestApp};
use regwatch::domain::InsurerKind;
use reqwest::Method;
use serde_json::json;

const PASSWORD: &str = "correct-horse-battery";
const A: &str = "06123456";
const B: &str = "06999999";
const ADMIN: &str = "admin@a.example.jp";
const STAFF: &str = "staff@a.example.jp";
const ADMIN_B: &str = "admin@b.example.jp";
const PERIOD: &str = "from=2025-04-01&to=2025-06-30&as_of=2025-07-15";
const NOTICES: &str =
    "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,氏名,事実発生日,受付日\n\
R-1,資格取得届,1010,山田商事,12,345,山田 花子,2025-05-01,2025-05-07\n";

async fn spawn() -> TestApp {
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 7, 15).unwrap();
    TestApp::builder()
        .with_insurer(A, InsurerKind::Kenpo)
        .with_insurer(B, InsurerKind::Kenpo)
        .with_admin(A, ADMIN, PASSWORD)
        .with_staff(A, STAFF, PASSWORD)
        .with_admin(B, ADMIN_B, PASSWORD)
        .with_notices(A, "a.csv", NOTICES, as_of)
        .with_notices(B, "b.csv", NOTICES, as_of)
        .spawn()
        .await
}

#[tokio::test]
async fn an_admin_chooses_wareki_for_the_insurers_pages_and_files_stay_iso() {
    let app = spawn().await;
    let admin = app.login_cookie(ADMIN, PASSWORD).await;
    let staff = app.login_token(STAFF, PASSWORD).await;
    let admin_b = app.login_cookie(ADMIN_B, PASSWORD).await;
    let checklist = format!("/checklist?{PERIOD}");

    // The default: ISO on the pages, and the API says so.
    let page = app.page_text(&admin, &checklist).await;
    assert!(page.contains("受付日 2025-04-01 ～ 2025-06-30（2025-07-15 時点）"));
    let (status, body) = app.get_json(&admin, "/api/v1/settings/display").await;
    assert_eq!((status, body), (200, json!({"date_style": "iso"})));
    let settings = app.page_text(&admin, "/settings").await;
    assert!(settings.contains(r#"value="iso" checked"#), "ISO is chosen");

    // Staff may not change it; a style that does not exist is refused; nothing changed.
    let (status, body) = app
        .call_json(
            staff.as_str(),
            Method::PUT,
            "/api/v1/settings/display",
            json!({"date_style": "wareki"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = app
        .call_json(
            &admin,
            Method::PUT,
            "/api/v1/settings/display",
            json!({"date_style": "showa"}),
        )
        .await;
    assert_eq!(status, 400);
    let r = app
        .post_form(&admin, "/settings/display", &[("date_style", "showa")])
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("日付の表示"));
    assert_eq!(audit_count(&mut app.conn(), "settings_changed"), 0);

    // The admin's form: 和暦 on every page of this insurer, audited once.
    let r = app
        .post_form(&admin, "/settings/display", &[("date_style", "wareki")])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/settings?display=1");
    let settings = app.page_text(&admin, "/settings?display=1").await;
    assert!(settings.contains("日付の表示を保存しました"));
    assert!(settings.contains(r#"value="wareki" checked"#));
    let page = app.page_text(&admin, &checklist).await;
    assert!(
        page.contains("受付日 令和7年4月1日 ～ 令和7年6月30日（令和7年7月15日 時点）"),
        "the checklist in 和暦"
    );
    let imports = app.page_text(&admin, "/imports").await;
    assert!(imports.contains("令和"), "the batch times in 和暦");
    let list = app.page_text(&admin, "/notices?as_of=2025-07-15").await;
    assert!(
        list.contains("令和7年5月7日"),
        "the case list's 受付日 in 和暦"
    );
    assert!(list.contains("（令和7年7月15日 時点）"));
    let (_, items) = app
        .get_json(&admin, "/api/v1/notices?as_of=2025-07-15")
        .await;
    let id = items["items"][0]["id"].as_i64().unwrap();
    let case = app
        .page_text(&admin, &format!("/notices/{id}?as_of=2025-07-15"))
        .await;
    assert!(
        case.contains("<dd>令和7年5月1日</dd>"),
        "事実発生日 in 和暦"
    );
    assert!(case.contains("期限と判定（令和7年7月15日 時点）"));
    let dashboard = app
        .page_text(
            &admin,
            "/dashboard?from=2025-04-01&to=2025-06-30&as_of=2025-07-15",
        )
        .await;
    assert!(dashboard.contains("判定日 令和7年7月15日（日本時間）"));
    assert_eq!(audit_count(&mut app.conn(), "settings_changed"), 1);
    let (_, log) = app.get_json(&admin, "/api/v1/audit").await;
    let text = log.to_string();
    assert!(
        text.contains("日付の表示: 西暦（2026-10-21） → 和暦（令和8年10月21日）"),
        "{text}"
    );
    // Saving the same style again writes nothing.
    let r = app
        .post_form(&admin, "/settings/display", &[("date_style", "wareki")])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(audit_count(&mut app.conn(), "settings_changed"), 1);

    // Files and the API keep ISO 8601.
    let (_, list) = app
        .get_json(&admin, "/api/v1/notices?as_of=2025-07-15")
        .await;
    assert_eq!(list["items"][0]["received_on"], "2025-05-07");
    let csv = app
        .get_as(&admin, "/api/v1/notices.csv?as_of=2025-07-15")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("2025-05-07") && !csv.contains("令和"), "{csv}");

    // The other insurer is untouched; its admin cannot see or change A's choice.
    let page_b = app.page_text(&admin_b, &checklist).await;
    assert!(page_b.contains("受付日 2025-04-01 ～ 2025-06-30"));
    let (_, body) = app.get_json(&admin_b, "/api/v1/settings/display").await;
    assert_eq!(body, json!({"date_style": "iso"}));

    // Back to ISO through the API.
    let (status, body) = app
        .call_json(
            &admin,
            Method::PUT,
            "/api/v1/settings/display",
            json!({"date_style": "iso"}),
        )
        .await;
    assert_eq!((status, body), (200, json!({"date_style": "iso"})));
    let page = app.page_text(&admin, &checklist).await;
    assert!(page.contains("受付日 2025-04-01 ～ 2025-06-30"));
    assert_eq!(audit_count(&mut app.conn(), "settings_changed"), 2);
}
