//! The web app against the real server, on SQLite and (with REGWATCH_TEST_POSTGRES_URL) PostgreSQL:
//! sign-in contract, lockout, revocation, CSRF, roles, case filters, dashboard figures, exports,
//! tenant isolation and the OpenAPI document.
mod common;

use chrono::NaiveDate;
use common::{
    bare_client, db_id, import_notices_csv, login_token, set_cookie_value, Auth, TestApp,
};
use diesel::prelude::*;
use regwatch::domain::InsurerKind;
use regwatch::store::insurers::Insurer;
use serde_json::Value;

const PASSWORD: &str = "correct-horse-battery";
const MY_NUMBER: &str = "123456789018";

/// As of 2025-06-30 (holidays: 4/29, 5/3–5/6):
/// - N-1 submission met, registration met (registered 4/25, deadline 4/30)
/// - N-2 submission breached (+13), registration breached and pending (deadline 5/26), 資格確認書
/// - N-3 missing My Number → standard rule (deadline 7/9), open, 資格確認書
/// - N-4 registration at risk (deadline 7/1)
/// - N-5 loss, registered 6/10 after its 2-day deadline 6/5 → breached (+5)
const NOTICES: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号,遅延理由\n\
N-1,資格取得,E01,株式会社テスト,100,1,,山田 太郎,2025-04-21,2025-04-24,123456789018,\n\
N-2,資格取得,E01,株式会社テスト,100,2,,山田 次郎,2025-05-01,2025-05-20,123456789018,事業主の提出遅延\n\
N-3,被扶養者,E02,テスト商事,200,7,01,佐藤 花子,2025-06-20,2025-06-25,,\n\
N-4,資格取得,E02,テスト商事,200,8,,佐藤 一郎,2025-06-25,2025-06-26,123456789018,\n\
N-5,資格喪失,E01,株式会社テスト,100,3,,山田 三郎,2025-06-01,2025-06-03,123456789018,\n";

const REGISTRATIONS: &str = "受付番号,登録完了日時,処理結果\n\
N-1,2025-04-25T10:00:00+09:00,正常\n\
N-5,2025-06-10 09:00:00,正常\n";

const AS_OF: &str = "2025-06-30";

struct Tenant {
    insurer: Insurer,
    admin: String,
}

const B_NOTICES: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号\n\
B-1,資格取得,K01,所属所B,1,1,,共済 太郎,2025-06-01,2025-06-02,\n";

/// Insurer A with the five notices above, insurer B with one notice of its own.
async fn seeded() -> (TestApp, (Tenant, Tenant)) {
    let as_of = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    let app = TestApp::builder()
        .with_insurer("06123456", InsurerKind::Kenpo)
        .with_insurer("34123456", InsurerKind::Kyosai)
        .with_notices("06123456", "a.csv", NOTICES, as_of)
        .with_registrations("06123456", "r.csv", REGISTRATIONS)
        .with_notices("34123456", "b.csv", B_NOTICES, as_of)
        .with_admin("06123456", "admin-a@example.jp", PASSWORD)
        .with_admin("34123456", "admin-b@example.jp", PASSWORD)
        .spawn()
        .await;
    let tenants = (
        Tenant {
            insurer: app.insurer("06123456").clone(),
            admin: "admin-a@example.jp".into(),
        },
        Tenant {
            insurer: app.insurer("34123456").clone(),
            admin: "admin-b@example.jp".into(),
        },
    );
    (app, tenants)
}

async fn api_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let body = serde_json::json!({"email": email, "password": password});
    app.post_json(Auth::Anonymous, "/api/v1/login", body).await
}

async fn get_json(app: &TestApp, token: &str, path: &str) -> Value {
    let (status, body) = app.get_json(token, path).await;
    assert_eq!(status, 200, "GET {path}");
    body
}

/// The whole `Set-Cookie` header of cookie `name` (its attributes are asserted on).
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.to_string())
}

fn hidden_csrf(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

/// Signs in through the page form; returns the session cookie value and the page CSRF token.
async fn page_login(app: &TestApp, email: &str, password: &str) -> (String, String) {
    let c = bare_client();
    let page = c
        .get(format!("{}/login", app.address))
        .send()
        .await
        .unwrap();
    let login_cookie = set_cookie_value(&page, "regwatch_login_csrf").unwrap();
    let csrf = hidden_csrf(&page.text().await.unwrap());
    let r = c
        .post(format!("{}/login", app.address))
        .header("Cookie", format!("regwatch_login_csrf={login_cookie}"))
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "sign-in redirects");
    assert_eq!(r.headers()["location"], "/dashboard");
    let sc = set_cookie(&r, "regwatch_session").expect("session cookie");
    assert!(sc.contains("HttpOnly"), "{sc}");
    assert!(sc.contains("Secure"), "{sc}");
    assert!(sc.contains("SameSite=Strict"), "{sc}");
    let session = set_cookie_value(&r, "regwatch_session").unwrap();
    let dash = c
        .get(format!("{}/dashboard", app.address))
        .header("Cookie", format!("regwatch_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(dash.status(), 200);
    let page_csrf = hidden_csrf(&dash.text().await.unwrap());
    (session, page_csrf)
}

async fn page_get(app: &TestApp, session: &str, path: &str) -> reqwest::Response {
    let cookie = format!("regwatch_session={session}");
    app.get_as(Auth::Cookie(&cookie), path).await
}

fn ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["notice_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn api_login_gives_a_bearer_token_and_bad_credentials_get_401_json() {
    let (app, (a, _)) = seeded().await;
    let r = api_login(&app, &a.admin, "wrong-password-1").await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_credentials");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("パスワード"));
    let r = api_login(&app, "nobody@example.jp", PASSWORD).await;
    assert_eq!(r.status(), 401);

    let anon = app.get("/api/v1/dashboard").await;
    assert_eq!(anon.status(), 401);
    assert_eq!(
        anon.json::<Value>().await.unwrap()["error"]["code"],
        "unauthorized"
    );
    let forged = app
        .get_as("eyJhbGciOiJIUzI1NiJ9.e30.x", "/api/v1/dashboard")
        .await;
    assert_eq!(forged.status(), 401);

    let t = login_token(&app, &a.admin, PASSWORD).await;
    let d = get_json(&app, &t, &format!("/api/v1/dashboard?as_of={AS_OF}")).await;
    assert!(d["submission"]["met_rate"].is_number());
}

#[tokio::test]
async fn sign_out_and_password_change_revoke_tokens() {
    let (app, (a, _)) = seeded().await;
    let t1 = login_token(&app, &a.admin, PASSWORD).await;
    let t2 = login_token(&app, &a.admin, PASSWORD).await;
    let out = app
        .client
        .post(format!("{}/api/v1/logout", app.address))
        .bearer_auth(&t1)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(app.get_as(&t1, "/api/v1/dashboard").await.status(), 401);
    assert_eq!(app.get_as(&t2, "/api/v1/dashboard").await.status(), 200);

    // A password change through the page revokes every session, the current one included.
    let (session, csrf) = page_login(&app, &a.admin, PASSWORD).await;
    let new_password = "another-long-password";
    let r = bare_client()
        .post(format!("{}/account/password", app.address))
        .header("Cookie", format!("regwatch_session={session}"))
        .form(&[
            ("current", PASSWORD),
            ("new", new_password),
            ("confirm", new_password),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.get_as(&t2, "/api/v1/dashboard").await.status(), 401);
    assert_eq!(page_get(&app, &session, "/dashboard").await.status(), 303);
    assert_eq!(api_login(&app, &a.admin, PASSWORD).await.status(), 401);
    assert_eq!(api_login(&app, &a.admin, new_password).await.status(), 200);
}

#[tokio::test]
async fn form_posts_without_the_csrf_token_are_refused() {
    let (app, (a, _)) = seeded().await;
    // Sign-in form without its double-submit cookie.
    let r = bare_client()
        .post(format!("{}/login", app.address))
        .form(&[
            ("email", a.admin.as_str()),
            ("password", PASSWORD),
            ("csrf", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(set_cookie(&r, "regwatch_session").is_none());

    let (session, csrf) = page_login(&app, &a.admin, PASSWORD).await;
    let cookie = format!("regwatch_session={session}");
    for (path, form) in [
        ("/logout", vec![("csrf", "")]),
        ("/logout", vec![("csrf", "0000")]),
        (
            "/account/password",
            vec![
                ("current", PASSWORD),
                ("new", "zzzzzzzzzzzz"),
                ("confirm", "zzzzzzzzzzzz"),
            ],
        ),
    ] {
        let r = bare_client()
            .post(format!("{}{}", app.address, path))
            .header("Cookie", &cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path} without a valid token");
    }
    // JSON calls riding on the cookie need the header; bearer calls do not.
    let r = bare_client()
        .post(format!("{}/api/v1/logout", app.address))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        page_get(&app, &session, "/dashboard").await.status(),
        200,
        "still signed in"
    );
    let r = bare_client()
        .post(format!("{}/logout", app.address))
        .header("Cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        page_get(&app, &session, "/dashboard").await.status(),
        303,
        "signed out"
    );
}

#[tokio::test]
async fn case_filters_follow_the_rules_as_of_the_date() {
    let (app, (a, _)) = seeded().await;
    let t = login_token(&app, &a.admin, PASSWORD).await;
    let q = |s: &str| format!("/api/v1/notices?as_of={AS_OF}&{s}");
    let cases: [(&str, &[&str]); 12] = [
        ("", &["N-1", "N-2", "N-3", "N-4", "N-5"]),
        ("status=breached&rule=submission", &["N-2"]),
        ("status=breached&rule=registration", &["N-2", "N-5"]),
        ("status=breached", &["N-2", "N-5"]),
        ("status=breached&rule=registration&pending=1", &["N-2"]),
        ("status=at_risk&rule=registration", &["N-4"]),
        ("status=open&rule=registration", &["N-3"]),
        ("status=met&rule=registration", &["N-1"]),
        ("ex_officio=1", &["N-2", "N-3"]),
        ("rule=standard", &["N-3"]),
        ("my_number=missing&kind=dependent", &["N-3"]),
        ("employer=E02&month=2025-06", &["N-3", "N-4"]),
    ];
    for (filter, want) in cases {
        let v = get_json(&app, &t, &q(filter)).await;
        assert_eq!(ids(&v), want, "filter {filter:?}");
        assert_eq!(v["total"], want.len(), "total of {filter:?}");
    }
    // The statuses shown agree with the filter that found them.
    let v = get_json(&app, &t, &q("status=breached&rule=registration")).await;
    for item in v["items"].as_array().unwrap() {
        assert_eq!(item["registration"]["status"], "breached");
    }
    let n2 = get_json(&app, &t, &q("status=breached&rule=submission")).await["items"][0].clone();
    assert_eq!(n2["submission"]["days_over"], 13);
    assert_eq!(n2["submission"]["deadline"], "2025-05-07");
    assert_eq!(n2["registration"]["rule"], "five_day");
    assert_eq!(n2["registration"]["deadline"], "2025-05-26");
    assert_eq!(n2["registration"]["days_over"], 35);
    assert_eq!(n2["ex_officio_card"]["required"], true);
    assert_eq!(n2["employer"]["code"], "E01");
    assert!(n2["id"].is_i64());
    assert!(n2["explanation"]["registration"]
        .as_str()
        .unwrap()
        .contains("起算日"));

    // Paging and sorting.
    let p1 = get_json(&app, &t, &q("per_page=2&page=1&sort=notice_id")).await;
    let p3 = get_json(&app, &t, &q("per_page=2&page=3&sort=notice_id")).await;
    assert_eq!(p1["total"], 5);
    assert_eq!(ids(&p1), ["N-1", "N-2"]);
    assert_eq!(ids(&p3), ["N-5"]);

    // A bad filter is a 400 with a Japanese message naming the field.
    let r = app.get_as(&t, &q("status=late")).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("status"));
    assert_eq!(app.get_as(&t, &q("month=2025-13")).await.status(), 400);
    assert_eq!(app.get_as(&t, &q("page=0")).await.status(), 400);
}

#[tokio::test]
async fn dashboard_figures_keep_the_three_registration_populations_apart() {
    let (app, (a, _)) = seeded().await;
    let t = login_token(&app, &a.admin, PASSWORD).await;
    let d = get_json(
        &app,
        &t,
        &format!("/api/v1/dashboard?from=2025-04-01&to=2025-06-30&as_of={AS_OF}"),
    )
    .await;
    assert_eq!(d["notices"], 5);
    assert_eq!(d["submission"]["met_rate"], 0.8);
    // five-day population (資格取得届・被扶養者届 with a valid number): N-1 met, N-2 breached, N-4
    // at risk (undecided). The 資格喪失届 N-5 (breached) is a population of its own (SPEC §2.3).
    let five = d["registration_five_day"]["met_rate"].as_f64().unwrap();
    assert!((five - 0.5).abs() < 1e-9, "{five}");
    assert_eq!(d["registration_five_day"]["notices"], 3);
    assert_eq!(d["registration_loss"]["notices"], 1);
    assert_eq!(d["registration_loss"]["met_rate"], 0.0);
    assert_eq!(d["registration_standard"]["notices"], 1);
    assert!(
        d["registration_standard"]["met_rate"].is_null(),
        "N-3 is still open"
    );
    assert_eq!(d["open_breached"], 1);
    assert_eq!(d["at_risk"], 1);
    assert_eq!(d["ex_officio_required"], 2);
    assert_eq!(d["submission"]["median_days"], 3);
    assert_eq!(d["months"].as_array().unwrap().len(), 3);
    assert_eq!(d["april_year"], 2025);
    assert_eq!(d["worst_employers"][0]["code"], "E01");

    // The dashboard counts are the case list's counts (the links lead to the same cases).
    let list = get_json(
        &app,
        &t,
        &format!("/api/v1/notices?as_of={AS_OF}&status=breached&rule=registration&pending=1"),
    )
    .await;
    assert_eq!(list["total"], d["open_breached"]);

    // New data changes the figures (the cache is keyed by the insurer's data version).
    let mut c = app.db.conn();
    let more =
        "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日,個人番号\n\
N-6,資格取得,E03,300,1,2025-06-02,2025-06-20,\n";
    import_notices_csv(
        &mut c,
        &a.insurer,
        "more.csv",
        more,
        NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
    );
    let d2 = get_json(
        &app,
        &t,
        &format!("/api/v1/dashboard?from=2025-04-01&to=2025-06-30&as_of={AS_OF}"),
    )
    .await;
    assert_eq!(d2["notices"], 6);
    assert_eq!(d2["ex_officio_required"], 3);

    let bad = app
        .get_as(&t, "/api/v1/dashboard?from=2025-07-01&to=2025-06-01")
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn one_insurer_never_sees_another_insurers_notices() {
    let (app, (a, b)) = seeded().await;
    let ta = login_token(&app, &a.admin, PASSWORD).await;
    let tb = login_token(&app, &b.admin, PASSWORD).await;
    let b1 = db_id(&app, &b.insurer, "B-1");
    let a1 = db_id(&app, &a.insurer, "N-1");

    let r = app.get_as(&ta, &format!("/api/v1/notices/{b1}")).await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
    assert_eq!(
        app.get_as(&tb, &format!("/api/v1/notices/{a1}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_as(&ta, &format!("/api/v1/notices/{a1}"))
            .await
            .status(),
        200
    );

    let list_a = get_json(&app, &ta, "/api/v1/notices?per_page=500").await;
    assert!(!ids(&list_a).contains(&"B-1".to_string()));
    let list_b = get_json(&app, &tb, "/api/v1/notices?per_page=500").await;
    assert_eq!(ids(&list_b), ["B-1"]);
    // Filtering by the other insurer's employer code finds nothing.
    let v = get_json(&app, &ta, "/api/v1/notices?employer=K01").await;
    assert_eq!(v["total"], 0);
    let d = get_json(
        &app,
        &tb,
        &format!("/api/v1/dashboard?as_of={AS_OF}&from=2025-01-01&to=2025-06-30"),
    )
    .await;
    assert_eq!(d["notices"], 1);

    let (session, _) = page_login(&app, &a.admin, PASSWORD).await;
    let page = page_get(&app, &session, &format!("/notices/{b1}")).await;
    assert_eq!(page.status(), 404);
    assert!(!page.text().await.unwrap().contains("共済 太郎"));
}

#[tokio::test]
async fn pages_render_in_japanese_and_case_views_are_audited() {
    let (app, (a, b)) = seeded().await;
    // Signed out: pages redirect to the sign-in page.
    let r = bare_client()
        .get(format!("{}/dashboard", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");

    let (session, _) = page_login(&app, &a.admin, PASSWORD).await;
    let dash = page_get(
        &app,
        &session,
        &format!("/dashboard?as_of={AS_OF}&from=2025-04-01&to=2025-06-30"),
    )
    .await;
    assert_eq!(dash.status(), 200);
    let html = dash.text().await.unwrap();
    assert!(html.contains("<h1>ダッシュボード</h1>"));
    assert!(html.contains("<svg class=\"chart\""));
    assert!(html.contains("80.0%"), "submission rate shown");

    let list = page_get(
        &app,
        &session,
        &format!("/notices?as_of={AS_OF}&status=breached&rule=submission"),
    )
    .await;
    let html = list.text().await.unwrap();
    assert!(html.contains(">N-2</a>"));
    assert!(!html.contains(">N-1</a>"));
    assert!(html.contains("期限超過"));

    let n2 = db_id(&app, &a.insurer, "N-2");
    let page = page_get(&app, &session, &format!("/notices/{n2}?as_of={AS_OF}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("受付番号 N-2"));
    assert!(html.contains("山田 次郎"));
    assert!(html.contains("2025-05-26"));
    assert!(!html.contains(MY_NUMBER));

    use regwatch::store::schema::audit_log;
    let mut c = app.db.conn();
    let views: Vec<(Option<i64>, String, Option<String>)> = audit_log::table
        .filter(audit_log::action.eq("view_notice"))
        .select((audit_log::insurer_id, audit_log::actor, audit_log::target))
        .load(&mut c)
        .unwrap();
    assert_eq!(
        views,
        vec![(Some(a.insurer.id.0), a.admin.clone(), Some("N-2".into()))]
    );

    // The outbox pages answer; a message id that is not this insurer's is not found.
    let mail = page_get(&app, &session, "/mail").await;
    assert_eq!(mail.status(), 200);
    assert!(mail.text().await.unwrap().contains("送信予定"));
    assert_eq!(
        page_get(&app, &session, "/mail/987654321").await.status(),
        404
    );

    // 共済組合等 read 所属所 where 健保組合 read 事業所.
    let (sb, _) = page_login(&app, &b.admin, PASSWORD).await;
    let html = page_get(&app, &sb, "/notices").await.text().await.unwrap();
    assert!(html.contains("所属所記号"));
}

#[tokio::test]
async fn exports_are_the_filtered_list_without_any_my_number() {
    let (app, (a, _)) = seeded().await;
    let t = login_token(&app, &a.admin, PASSWORD).await;
    let r = app
        .get_as(
            &t,
            &format!("/api/v1/notices.csv?as_of={AS_OF}&rule=registration&status=breached"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM for Excel");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("受付番号,届書,事業所記号"));
    assert_eq!(lines.len(), 3, "{text}");
    assert!(text.contains("N-2,資格取得届,E01,株式会社テスト"));
    assert!(!text.contains(MY_NUMBER));

    let r = app
        .get_as(&t, &format!("/api/v1/notices.xlsx?as_of={AS_OF}"))
        .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap().to_vec();
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range("案件一覧").unwrap();
    // The insurer in A1, what the list is in A2, the headers in row 4.
    assert_eq!(range.get_value((3, 0)).unwrap().to_string(), "受付番号");
    let cells: Vec<String> = range
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    for id in ["N-1", "N-2", "N-3", "N-4", "N-5"] {
        assert!(cells.contains(&id.to_string()), "{id} in the workbook");
    }
    assert!(!cells.iter().any(|c| c.contains(MY_NUMBER)));

    // JSON responses never carry the number either.
    let list = app
        .get_as(&t, "/api/v1/notices?per_page=500")
        .await
        .text()
        .await
        .unwrap();
    assert!(!list.contains(MY_NUMBER));
    use regwatch::store::schema::audit_log;
    let mut c = app.db.conn();
    let exports: i64 = audit_log::table
        .filter(audit_log::action.eq("export_notices"))
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(exports, 2);
}

#[tokio::test]
async fn the_openapi_document_lists_what_the_server_serves() {
    let (app, (a, _)) = seeded().await;
    let t = login_token(&app, &a.admin, PASSWORD).await;
    let doc = app.get("/api/v1/openapi.json").await;
    assert_eq!(doc.status(), 200);
    let doc: Value = doc.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/login",
        "/api/v1/dashboard",
        "/api/v1/notices",
        "/api/v1/notices/{id}",
    ] {
        assert!(paths.contains_key(p), "{p} documented");
    }
    // Every documented GET answers (not 404/405) with the documented token; ids that do not
    // exist answer 404 as documented.
    for (path, ops) in paths {
        if ops.get("get").is_none() {
            continue;
        }
        let concrete = path.replace("{id}", "987654321");
        let r = app.get_as(&t, &concrete).await;
        if path.contains('{') {
            assert_eq!(r.status(), 404, "{path}");
        } else {
            assert!(r.status().is_success(), "{path}: {}", r.status());
        }
    }
}

/// Every route that takes an id, walked as insurer A's admin with insurer B's ids: 404 each time,
/// and B's data is unchanged afterwards. The list is checked against the OpenAPI document so a new
/// API route with an id cannot be left out.
#[tokio::test]
async fn every_route_with_an_id_answers_404_for_another_insurers_ids() {
    use regwatch::store::schema::{employers, import_batches, users as users_t};
    let (app, (a, b)) = seeded().await;
    let ta = login_token(&app, &a.admin, PASSWORD).await;
    let (session, csrf) = page_login(&app, &a.admin, PASSWORD).await;
    let mut c = app.db.conn();
    let notice_b = db_id(&app, &b.insurer, "B-1");
    let employer_b: i64 = employers::table
        .filter(employers::insurer_id.eq(b.insurer.id.0))
        .select(employers::id)
        .first(&mut c)
        .unwrap();
    let batch_b: i64 = import_batches::table
        .filter(import_batches::insurer_id.eq(b.insurer.id.0))
        .select(import_batches::id)
        .first(&mut c)
        .unwrap();
    let user_b: i64 = users_t::table
        .filter(users_t::email.eq(&b.admin))
        .select(users_t::id)
        .first(&mut c)
        .unwrap();
    // B's 改善計画 action and survey submission (issue 8).
    let action_b = regwatch::store::survey::add_action(
        &mut c,
        b.insurer.id,
        &regwatch::store::survey::NewAction {
            title: "B の取組",
            checklist_item: None,
            owner: "",
            start_on: None,
            due_on: None,
            status: "planned",
        },
    )
    .unwrap();
    regwatch::store::survey::record_submission(
        &mut c,
        b.insurer.id,
        (
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        ),
        "[]",
        "{}",
        "b",
    )
    .unwrap();
    let submission_b = regwatch::store::survey::submissions(&mut c, b.insurer.id).unwrap()[0].id;

    // A pending e-mail of B's.
    let outbox_b = {
        let m = regwatch::store::outbox::NewMessage {
            insurer: b.insurer.id,
            employer_id: employer_b,
            kind: regwatch::store::outbox::MailKind::WeeklyDigest,
            dedupe_key: "isolation:b".into(),
            recipients: vec!["k01@example.jp".into()],
            subject: "B".into(),
            body_text: "B".into(),
            body_html: "<p>B</p>".into(),
            as_of: chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
            items: Vec::new(),
            sender: Default::default(),
        };
        regwatch::store::outbox::queue(&mut c, &m, regwatch::store::now_utc())
            .unwrap()
            .unwrap()
            .0
    };

    // B's import profile and an upload of B's waiting for its preview decision (issue 14).
    let b_profile =
        regwatch::ingest::Profile::from_toml_str("[notices.columns]\nnotice_id = \"受付No\"\n")
            .unwrap();
    let profile_b =
        regwatch::store::profiles::save(&mut c, b.insurer.id, "B-profile", &b_profile, "b")
            .unwrap();
    let upload_b = regwatch::store::profiles::keep_upload(
        &mut c,
        b.insurer.id,
        &regwatch::store::profiles::NewUpload {
            user: None,
            file_kind: "notices",
            file_name: "b.csv",
            profile_id: None,
            received_on: None,
            content: b"notice_id\n",
        },
    )
    .unwrap();

    // A letter produced for B's notice (issue 15: download again, 発送済).
    let letter_b: i64 = {
        use regwatch::store::letters::{self as ls, By, NewLetter, Run};
        use regwatch::store::schema::letters;
        let by = By {
            user: None,
            label: "b".into(),
        };
        ls::record_letters(
            &mut c,
            b.insurer.id,
            &Run {
                id: "run-b",
                format: "html",
                letter_date: NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
                by: &by,
            },
            &[NewLetter {
                notice: regwatch::store::notices::NoticeDbId(notice_b),
                kind: "registration_period",
                variant: "considerable",
                template_version: "1".into(),
                certificate: None,
                html: Some("<p>B</p>".into()),
            }],
        )
        .unwrap();
        letters::table
            .filter(letters::insurer_id.eq(b.insurer.id.0))
            .select(letters::id)
            .first(&mut c)
            .unwrap()
    };

    // (method, path, body) — API routes with the bearer token, pages with the cookie and CSRF.
    let api: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/api/v1/letters/{letter_b}"), None),
        (
            "POST",
            format!("/api/v1/letters/{letter_b}/sent"),
            Some(serde_json::json!({})),
        ),
        (
            "PUT",
            format!("/api/v1/employers/{employer_b}"),
            Some(serde_json::json!({"my_number_late": true})),
        ),
        ("GET", "/api/v1/import-profiles/B-profile".to_string(), None),
        (
            "DELETE",
            "/api/v1/import-profiles/B-profile".to_string(),
            None,
        ),
        ("GET", format!("/api/v1/mail/{outbox_b}"), None),
        (
            "POST",
            format!("/api/v1/mail/{outbox_b}/actions"),
            Some(serde_json::json!({"action": "cancel"})),
        ),
        ("GET", format!("/api/v1/notices/{notice_b}"), None),
        ("GET", format!("/api/v1/notices/{notice_b}/letters"), None),
        (
            "GET",
            format!("/api/v1/notices/{notice_b}/letters/registration-period"),
            None,
        ),
        (
            "POST",
            format!("/api/v1/notices/{notice_b}/certificates"),
            Some(serde_json::json!({"valid_until": "2025-07-01"})),
        ),
        (
            "PUT",
            format!("/api/v1/notices/{notice_b}/workflow"),
            Some(serde_json::json!({"assignee_user_id": null, "follow_up_on": "2025-07-01"})),
        ),
        (
            "POST",
            format!("/api/v1/notices/{notice_b}/notes"),
            Some(serde_json::json!({"text": "x"})),
        ),
        ("GET", format!("/api/v1/employers/{employer_b}"), None),
        (
            "PUT",
            format!("/api/v1/employers/{employer_b}"),
            Some(serde_json::json!({"contact_emails": ["x@example.jp"], "opt_out": true})),
        ),
        ("GET", format!("/api/v1/imports/{batch_b}"), None),
        (
            "GET",
            format!("/api/v1/imports/{batch_b}/rejects.csv"),
            None,
        ),
        (
            "PUT",
            format!("/api/v1/users/{user_b}/role"),
            Some(serde_json::json!({"role": "viewer"})),
        ),
        (
            "PATCH",
            format!("/api/v1/users/{user_b}"),
            Some(serde_json::json!({"display_name": "x", "active": false})),
        ),
        (
            "POST",
            format!("/api/v1/users/{user_b}/password-reset"),
            Some(serde_json::json!({})),
        ),
        (
            "PUT",
            format!("/api/v1/plan/actions/{action_b}/status"),
            Some(serde_json::json!({"status": "done"})),
        ),
        (
            "POST",
            format!("/api/v1/plan/actions/{action_b}/reviews"),
            Some(serde_json::json!({"progress": 50, "note": "x"})),
        ),
        (
            "PUT",
            format!("/api/v1/plan/actions/{action_b}"),
            Some(serde_json::json!({"title": "x", "owner": ""})),
        ),
        ("DELETE", format!("/api/v1/plan/actions/{action_b}"), None),
        (
            "GET",
            format!("/api/v1/survey/submissions/{submission_b}"),
            None,
        ),
    ];
    type PageCall<'a> = (&'a str, String, Vec<(&'a str, String)>);
    let pages: Vec<PageCall> = vec![
        ("GET", format!("/letters/{letter_b}/download"), vec![]),
        (
            "POST",
            format!("/letters/{letter_b}/sent"),
            vec![("csrf", csrf.clone())],
        ),
        (
            "POST",
            format!("/employers/{employer_b}/my-number-late"),
            vec![("my_number_late", "1".into()), ("csrf", csrf.clone())],
        ),
        ("GET", format!("/notices/{notice_b}"), vec![]),
        (
            "POST",
            format!("/notices/{notice_b}/workflow"),
            vec![
                ("follow_up_on", "2025-07-01".into()),
                ("csrf", csrf.clone()),
            ],
        ),
        (
            "POST",
            format!("/notices/{notice_b}/notes"),
            vec![("text", "x".into()), ("csrf", csrf.clone())],
        ),
        ("GET", format!("/employers/{employer_b}"), vec![]),
        (
            "POST",
            format!("/employers/{employer_b}"),
            vec![
                ("contact_emails", "x@example.jp".into()),
                ("opt_out", "on".into()),
                ("csrf", csrf.clone()),
            ],
        ),
        ("GET", format!("/mail/{outbox_b}"), vec![]),
        (
            "POST",
            format!("/mail/{outbox_b}"),
            vec![("action", "cancel".into()), ("csrf", csrf.clone())],
        ),
        ("GET", format!("/imports/{batch_b}"), vec![]),
        ("GET", format!("/imports/{batch_b}/rejects.csv"), vec![]),
        (
            "POST",
            format!("/users/{user_b}/role"),
            vec![("role", "viewer".into()), ("csrf", csrf.clone())],
        ),
        (
            "POST",
            format!("/users/{user_b}/display-name"),
            vec![("display_name", "x".into()), ("csrf", csrf.clone())],
        ),
        (
            "POST",
            format!("/users/{user_b}/active"),
            vec![("active", "false".into()), ("csrf", csrf.clone())],
        ),
        (
            "POST",
            format!("/users/{user_b}/password-reset"),
            vec![("csrf", csrf.clone())],
        ),
        (
            "POST",
            format!("/plan/actions/{action_b}/status"),
            vec![("status", "done".into()), ("csrf", csrf.clone())],
        ),
        (
            "POST",
            format!("/plan/actions/{action_b}/reviews"),
            vec![("note", "x".into()), ("csrf", csrf.clone())],
        ),
        (
            "POST",
            format!("/plan/actions/{action_b}"),
            vec![("title", "x".into()), ("csrf", csrf.clone())],
        ),
        (
            "POST",
            format!("/plan/actions/{action_b}/delete"),
            vec![("csrf", csrf.clone())],
        ),
        ("GET", format!("/survey/submissions/{submission_b}"), vec![]),
        (
            "GET",
            format!("/imports/profiles/edit?id={profile_b}"),
            vec![],
        ),
        (
            "GET",
            format!("/imports/profiles/edit?upload={upload_b}"),
            vec![],
        ),
        (
            "GET",
            format!("/imports/profiles/{profile_b}/profile.toml"),
            vec![],
        ),
        (
            "POST",
            format!("/imports/profiles/{profile_b}/delete"),
            vec![("csrf", csrf.clone())],
        ),
        (
            "POST",
            format!("/imports/uploads/{upload_b}/commit"),
            vec![("csrf", csrf.clone())],
        ),
        (
            "POST",
            format!("/imports/uploads/{upload_b}/discard"),
            vec![("csrf", csrf.clone())],
        ),
    ];

    // The walk covers every documented API path with a path parameter.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if !path.contains('{') {
            continue;
        }
        for method in ops.as_object().unwrap().keys() {
            // Profile names are per insurer: A's PUT with B's name makes A's own profile (B's
            // stays as it was: checked at the end).
            if path == "/api/v1/import-profiles/{name}" && method == "put" {
                continue;
            }
            let covered = api.iter().any(|(m, p, _)| {
                m.eq_ignore_ascii_case(method)
                    && p.split('/').count() == path.split('/').count()
                    && path
                        .split('/')
                        .zip(p.split('/'))
                        .all(|(x, y)| x.starts_with('{') || x == y)
            });
            assert!(covered, "{method} {path} is not in the isolation walk");
        }
    }

    for (method, path, body) in &api {
        let mut req = app
            .client
            .request(method.parse().unwrap(), format!("{}{}", app.address, path))
            .bearer_auth(&ta);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 404, "{method} {path}");
    }
    for (method, path, form) in &pages {
        let mut req = bare_client()
            .request(method.parse().unwrap(), format!("{}{}", app.address, path))
            .header("Cookie", format!("regwatch_session={session}"));
        if *method == "POST" {
            req = req.form(form);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 404, "page {method} {path}");
    }

    // Control: the same routes with A's own ids are found (so the 404s above come from scoping).
    let employer_a: i64 = employers::table
        .filter(employers::insurer_id.eq(a.insurer.id.0))
        .select(employers::id)
        .first(&mut c)
        .unwrap();
    let batch_a: i64 = import_batches::table
        .filter(import_batches::insurer_id.eq(a.insurer.id.0))
        .select(import_batches::id)
        .first(&mut c)
        .unwrap();
    for path in [
        format!("/api/v1/employers/{employer_a}"),
        format!("/api/v1/imports/{batch_a}"),
        format!("/api/v1/imports/{batch_a}/rejects.csv"),
    ] {
        assert_eq!(app.get_as(&ta, &path).await.status(), 200, "{path}");
    }
    let r = app
        .client
        .put(format!("{}/api/v1/employers/{employer_a}", app.address))
        .bearer_auth(&ta)
        .json(&serde_json::json!({"contact_emails": ["a@example.jp"], "opt_out": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Nothing of B's changed.
    let (emails, opt_out): (String, bool) = employers::table
        .find(employer_b)
        .select((employers::contact_emails, employers::opt_out))
        .first(&mut c)
        .unwrap();
    assert!(!emails.contains("x@example.jp"));
    assert!(!opt_out);
    let late: Option<NaiveDate> = employers::table
        .find(employer_b)
        .select(employers::late_with_numbers_since)
        .first(&mut c)
        .unwrap();
    assert_eq!(late, None, "B's employer is not marked late");
    let sent: Option<NaiveDate> = regwatch::store::schema::letters::table
        .find(letter_b)
        .select(regwatch::store::schema::letters::sent_on)
        .first(&mut c)
        .unwrap();
    assert_eq!(sent, None, "B's letter is not marked sent");
    let workflow: i64 = regwatch::store::schema::case_workflow::table
        .count()
        .get_result(&mut c)
        .unwrap();
    let notes: i64 = regwatch::store::schema::case_notes::table
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(
        (workflow, notes),
        (0, 0),
        "B's case has no workflow or note"
    );
    let role: String = users_t::table
        .find(user_b)
        .select(users_t::role)
        .first(&mut c)
        .unwrap();
    assert_eq!(role, "admin");
    let actions = regwatch::store::survey::plan_actions(&mut c, b.insurer.id).unwrap();
    assert_eq!(actions[0].status, "planned");
    assert!(regwatch::store::survey::plan_reviews(&mut c, b.insurer.id)
        .unwrap()
        .is_empty());
    let status: String = regwatch::store::schema::outbox::table
        .find(outbox_b)
        .select(regwatch::store::schema::outbox::status)
        .first(&mut c)
        .unwrap();
    assert_eq!(status, "pending");
    let r = app
        .client
        .put(format!("{}/api/v1/import-profiles/B-profile", app.address))
        .bearer_auth(&ta)
        .body("[registrations.columns]\nmember_symbol = \"記号\"\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let stored_b = regwatch::store::profiles::get(&mut c, b.insurer.id, profile_b)
        .unwrap()
        .unwrap();
    assert_eq!(stored_b.profile, b_profile);
    assert!(
        regwatch::store::profiles::upload(&mut c, b.insurer.id, upload_b)
            .unwrap()
            .is_some()
    );
}

/// A link opened while signed out (a bookmark, a link in a colleague's message) comes back after
/// the sign-in; a `next` that leads off the site is ignored.
#[tokio::test]
async fn a_deep_link_survives_the_sign_in_and_next_never_leaves_the_site() {
    let (app, (a, _)) = seeded().await;
    let c = bare_client();
    let r = c
        .get(format!(
            "{}/notices?status=breached&rule=submission",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        location,
        "/login?next=%2Fnotices%3Fstatus%3Dbreached%26rule%3Dsubmission"
    );

    let sign_in = |next: String| {
        let c = c.clone();
        let address = app.address.clone();
        let email = a.admin.clone();
        async move {
            let page = c
                .get(format!("{address}/login?next={}", urlencode(&next)))
                .send()
                .await
                .unwrap();
            let login_cookie = set_cookie_value(&page, "regwatch_login_csrf").unwrap();
            let html = page.text().await.unwrap();
            let csrf = hidden_csrf(&html);
            let r = c
                .post(format!("{address}/login"))
                .header("Cookie", format!("regwatch_login_csrf={login_cookie}"))
                .form(&[
                    ("email", email.as_str()),
                    ("password", PASSWORD),
                    ("csrf", &csrf),
                    ("next", &next),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303);
            (html, r.headers()["location"].to_str().unwrap().to_string())
        }
    };
    let (html, back) = sign_in("/notices?status=breached&rule=submission".into()).await;
    assert!(
        html.contains(r#"name="next" value="&#x2F;notices?status=breached&amp;rule=submission""#),
        "the sign-in page carries the link"
    );
    assert!(html.contains("開こうとしたページに戻ります"));
    assert_eq!(back, "/notices?status=breached&rule=submission");

    for outside in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/login?next=/x",
        "",
    ] {
        let (html, back) = sign_in(outside.into()).await;
        assert_eq!(back, "/dashboard", "{outside:?}");
        assert!(!html.contains("evil.example"), "{outside:?}");
    }

    // A form post while signed out cannot be repeated: plain sign-in page.
    let r = c
        .post(format!("{}/logout", app.address))
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
}

fn urlencode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// The employers and members of a page are looked up by primary key (see `store::notices::by_id`):
/// ids of another insurer's rows come back empty.
#[tokio::test]
async fn member_and_employer_lookups_keep_to_the_insurer() {
    use regwatch::store::schema::{employers, members};
    let (app, (a, b)) = seeded().await;
    let mut conn = app.conn();
    let ids_of = |conn: &mut regwatch::store::DbConn, t: &Tenant| {
        let m: Vec<i64> = members::table
            .filter(members::insurer_id.eq(t.insurer.id.0))
            .select(members::id)
            .load(conn)
            .unwrap();
        let e: Vec<i64> = employers::table
            .filter(employers::insurer_id.eq(t.insurer.id.0))
            .select(employers::id)
            .load(conn)
            .unwrap();
        (m, e)
    };
    let (a_members, a_employers) = ids_of(&mut conn, &a);
    let (b_members, b_employers) = ids_of(&mut conn, &b);
    assert!(!b_members.is_empty() && !b_employers.is_empty());
    let all_members = a_members.iter().chain(&b_members).copied();
    let found =
        regwatch::store::notices::member_refs(&mut conn, a.insurer.id, all_members).unwrap();
    assert_eq!(found.len(), a_members.len());
    assert!(b_members.iter().all(|id| !found.contains_key(id)));
    let all_employers = a_employers.iter().chain(&b_employers).copied();
    let found =
        regwatch::store::notices::employer_refs(&mut conn, a.insurer.id, all_employers).unwrap();
    assert_eq!(found.len(), a_employers.len());
    assert!(b_employers.iter().all(|id| !found.contains_key(id)));
}
