//! 利用者 and 監査ログ administration (issue 18, item 6) against the real server, on SQLite and (with
//! REGWATCH_TEST_POSTGRES_URL) PostgreSQL: the 表示名, deactivation (answered like a wrong password,
//! sessions ended, the last admin kept), the admin's password reset that forces a change, and the
//! audit log's filters and CSV export, always within the caller's insurer.
mod common;

use common::{bare_client, set_cookie_value, CookieSession, TestApp};
use diesel::prelude::*;
use regwatch::domain::InsurerKind;
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use reqwest::Method;
use serde_json::{json, Value};

const PASSWORD: &str = "correct-horse-battery";
const A: &str = "06123456";
const B: &str = "06999999";
const ADMIN: &str = "admin@a.example.jp";
const ADMIN2: &str = "admin2@a.example.jp";
const STAFF: &str = "staff@a.example.jp";
const ADMIN_B: &str = "admin@b.example.jp";

async fn spawn() -> TestApp {
    TestApp::builder()
        .with_insurer(A, InsurerKind::Kenpo)
        .with_insurer(B, InsurerKind::Kenpo)
        .with_admin(A, ADMIN, PASSWORD)
        .with_admin(A, ADMIN2, PASSWORD)
        .with_staff(A, STAFF, PASSWORD)
        .with_admin(B, ADMIN_B, PASSWORD)
        .spawn()
        .await
}

/// The id of the user with `email` in the admin's list.
async fn user_id(app: &TestApp, admin: &str, email: &str) -> i64 {
    let (status, users) = app.get_json(admin, "/api/v1/users").await;
    assert_eq!(status, 200);
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("{email} in {users}"))["id"]
        .as_i64()
        .unwrap()
}

/// The raw answer of an API sign-in: status and body.
async fn api_sign_in(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    app.call_json(
        common::Auth::Anonymous,
        Method::POST,
        "/api/v1/login",
        json!({"email": email, "password": password}),
    )
    .await
}

/// Signs in through the form and answers the session cookie and where the form sends the browser
/// (common::login_cookie reads its token from /imports, which a forced change closes).
async fn form_sign_in(app: &TestApp, email: &str, password: &str) -> (u16, Option<String>) {
    let client = bare_client();
    let page = client.get(app.url("/login")).send().await.unwrap();
    let csrf = set_cookie_value(&page, "regwatch_login_csrf").unwrap();
    let r = client
        .post(app.url("/login"))
        .header(
            reqwest::header::COOKIE,
            format!("regwatch_login_csrf={csrf}"),
        )
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let cookie = set_cookie_value(&r, "regwatch_session")
        .filter(|v| !v.is_empty())
        .map(|v| format!("regwatch_session={v}"));
    (status, cookie)
}

/// A session whose CSRF token is read from the account page (open during a forced change).
async fn session_from_account(app: &TestApp, cookie: String) -> CookieSession {
    let html = app
        .get_as(common::Auth::Cookie(&cookie), "/account")
        .await
        .text()
        .await
        .unwrap();
    CookieSession {
        cookie,
        csrf: common::csrf_meta(&html),
    }
}

/// The UTF-8 file name of a `Content-Disposition` (its RFC 6266 `filename*`), decoded.
fn file_name(disposition: &str) -> String {
    let encoded = disposition
        .split("filename*=UTF-8''")
        .nth(1)
        .expect("filename*");
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_display_name_is_shown_in_the_header_the_user_list_and_the_audit_log() {
    let app = spawn().await;
    let admin = app.login_token(ADMIN, PASSWORD).await;
    let staff = user_id(&app, &admin, STAFF).await;

    let path = format!("/api/v1/users/{staff}");
    let (s, body) = app
        .call_json(
            &admin,
            Method::PATCH,
            &path,
            json!({"display_name": "  鈴木 健太 "}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["display_name"], "鈴木 健太");
    assert_eq!(body["name"], "鈴木 健太");
    assert_eq!(body["email"], STAFF);
    let too_long = "あ".repeat(41);
    let (s, e) = app
        .call_json(
            &admin,
            Method::PATCH,
            &path,
            json!({"display_name": too_long}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(error_code(&e) == "bad_request", "{e}");

    let (s, added) = app
        .call_json(
            &admin,
            Method::POST,
            "/api/v1/users",
            json!({"email": "viewer@a.example.jp", "display_name": "高橋 由美", "role": "viewer", "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, 201, "{added}");
    assert_eq!(added["display_name"], "高橋 由美");
    assert_eq!(added["active"], true);

    // The header names the signed-in user by the 表示名.
    let session = app.login_cookie(STAFF, PASSWORD).await;
    let html = app.page_text(&session, "/dashboard").await;
    assert!(html.contains("鈴木 健太（担当者）"), "header");
    let users_page = app
        .page_text(&app.login_cookie(ADMIN, PASSWORD).await, "/users")
        .await;
    assert!(users_page.contains("鈴木 健太") && users_page.contains("高橋 由美"));

    // The audit log names the staff member's entries by the 表示名, the e-mail kept as recorded.
    let (_, log) = app
        .get_json(&admin, &format!("/api/v1/audit?user={staff}"))
        .await;
    let items = log["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for e in items {
        assert_eq!(e["user_name"], "鈴木 健太", "{e}");
        assert_eq!(e["actor"], STAFF);
    }
    let (_, changed) = app
        .get_json(&admin, "/api/v1/audit?action=display_name_changed")
        .await;
    let entry = &changed["items"][0];
    assert_eq!(entry["action_label"], "表示名の変更");
    assert_eq!(entry["target"], STAFF);
    assert_eq!(entry["detail"], "「」→「鈴木 健太」");
    let html = app
        .page_text(&app.login_cookie(ADMIN, PASSWORD).await, "/audit")
        .await;
    assert!(html.contains("鈴木 健太") && html.contains("表示名の変更"));
}

#[tokio::test]
async fn a_deactivated_user_is_refused_like_a_wrong_password_and_loses_every_session() {
    let app = spawn().await;
    let admin = app.login_token(ADMIN, PASSWORD).await;
    let staff = user_id(&app, &admin, STAFF).await;
    let staff_token = app.login_token(STAFF, PASSWORD).await;
    let staff_session = app.login_cookie(STAFF, PASSWORD).await;
    assert_eq!(app.get_json(&staff_token, "/api/v1/dashboard").await.0, 200);

    let (s, body) = app
        .call_json(
            &admin,
            Method::PATCH,
            &format!("/api/v1/users/{staff}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["active"], false);
    assert!(body["deactivated_at"].is_string());

    // Every session ended at once: the token and the browser session alike.
    assert_eq!(app.get_json(&staff_token, "/api/v1/dashboard").await.0, 401);
    let r = app.get_as(&staff_session, "/dashboard").await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/login".into()));

    // The right password is answered exactly like a wrong one.
    let right = api_sign_in(&app, STAFF, PASSWORD).await;
    let wrong = api_sign_in(&app, STAFF, "wrong-password-123").await;
    assert_eq!(right.0, 401);
    assert_eq!(right, wrong);
    let (s, cookie) = form_sign_in(&app, STAFF, PASSWORD).await;
    assert_eq!((s, cookie), (401, None));

    let (_, log) = app
        .get_json(&admin, "/api/v1/audit?action=user_deactivated")
        .await;
    assert_eq!(log["total"], 1);
    assert_eq!(log["items"][0]["action_label"], "利用者の無効化");
    assert_eq!(log["items"][0]["target"], STAFF);

    // The page's form reactivates; the user signs in again.
    let admin_session = app.login_cookie(ADMIN, PASSWORD).await;
    let r = app
        .post_form(
            &admin_session,
            &format!("/users/{staff}/active"),
            &[("active", "true")],
        )
        .await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/users?done=reactivated".into())
    );
    assert_eq!(api_sign_in(&app, STAFF, PASSWORD).await.0, 200);
    let r = app
        .post_form(
            &admin_session,
            &format!("/users/{staff}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let html = app.page_text(&admin_session, "/users").await;
    assert!(html.contains("無効"));
    assert_eq!(api_sign_in(&app, STAFF, PASSWORD).await.0, 401);
}

#[tokio::test]
async fn the_last_active_admin_can_be_neither_deactivated_nor_demoted() {
    let app = spawn().await;
    let admin = app.login_token(ADMIN, PASSWORD).await;
    let me = user_id(&app, &admin, ADMIN).await;
    let other = user_id(&app, &admin, ADMIN2).await;

    let (s, e) = app
        .call_json(
            &admin,
            Method::PATCH,
            &format!("/api/v1/users/{me}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(e["error"]["message"].as_str().unwrap().contains("自分自身"));

    let (s, _) = app
        .call_json(
            &admin,
            Method::PATCH,
            &format!("/api/v1/users/{other}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(s, 200);
    // The other admin is deactivated: this one is the last active admin.
    let (s, e) = app
        .call_json(
            &admin,
            Method::PATCH,
            &format!("/api/v1/users/{me}"),
            json!({"role": "staff"}),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("最後の管理者"));

    // Whoever acts (here without a signed-in user, as the CLI would), the store keeps one.
    let mut c = app.conn();
    let acting = regwatch::app::Acting {
        insurer: app.insurer(A).id,
        user: None,
        label: "cli".into(),
    };
    let change = regwatch::app::users::UserChange {
        active: Some(false),
        ..Default::default()
    };
    let r =
        regwatch::app::users::update(&mut c, &acting, regwatch::store::users::UserId(me), change);
    assert!(
        matches!(
            r,
            Err(regwatch::app::users::UsersError::User(
                regwatch::store::users::UserError::LastActiveAdmin
            ))
        ),
        "{:?}",
        r.err()
    );
    assert_eq!(app.get_json(&admin, "/api/v1/users").await.0, 200);
}

#[tokio::test]
async fn a_password_reset_forces_a_change_before_anything_else() {
    let app = spawn().await;
    let admin = app.login_token(ADMIN, PASSWORD).await;
    let staff = user_id(&app, &admin, STAFF).await;
    let old_token = app.login_token(STAFF, PASSWORD).await;

    // A generated temporary password, shown once in the answer.
    let r = app
        .post_json(
            &admin,
            &format!("/api/v1/users/{staff}/password-reset"),
            json!({}),
        )
        .await;
    assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
    let (s, body) = common::status_json(r).await;
    assert_eq!(s, 200, "{body}");
    let temporary = body["temporary_password"].as_str().unwrap().to_string();
    assert!(temporary.chars().count() >= 10);
    assert_eq!(body["user"]["must_change_password"], true);
    assert_eq!(app.get_json(&old_token, "/api/v1/dashboard").await.0, 401);
    assert_eq!(api_sign_in(&app, STAFF, PASSWORD).await.0, 401);

    // Signed in with it, the API answers 403 password_change_required…
    let token = app.login_token(STAFF, &temporary).await;
    let (s, e) = app.get_json(&token, "/api/v1/dashboard").await;
    assert_eq!(
        (s, error_code(&e)),
        (403, "password_change_required"),
        "{e}"
    );
    let (s, e) = app.get_json(&token, "/api/v1/notices").await;
    assert_eq!((s, error_code(&e)), (403, "password_change_required"));

    // …and every page leads to the account page, which says why.
    let (s, cookie) = form_sign_in(&app, STAFF, &temporary).await;
    assert_eq!(s, 303);
    let session = session_from_account(&app, cookie.unwrap()).await;
    for path in ["/dashboard", "/notices", "/imports", "/employers"] {
        let r = app.get_as(&session, path).await;
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/account".into()),
            "{path}"
        );
    }
    let html = app.page_text(&session, "/account").await;
    assert!(html.contains("管理者がパスワードを再設定しました"));

    // The same password again is refused; a new one ends the forced change.
    let r = app
        .post_form(
            &session,
            "/account/password",
            &[
                ("current", temporary.as_str()),
                ("new", temporary.as_str()),
                ("confirm", temporary.as_str()),
            ],
        )
        .await;
    assert!(r.text().await.unwrap().contains("別のもの"));
    let r = app
        .post_form(
            &session,
            "/account/password",
            &[
                ("current", temporary.as_str()),
                ("new", "my-own-new-password"),
                ("confirm", "my-own-new-password"),
            ],
        )
        .await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/login?changed=1".into())
    );
    let token = app.login_token(STAFF, "my-own-new-password").await;
    assert_eq!(app.get_json(&token, "/api/v1/dashboard").await.0, 200);
    let s = app.login_cookie(STAFF, "my-own-new-password").await;
    assert_eq!(app.get_as(&s, "/dashboard").await.status(), 200);

    // Audited without the password; the page's reset shows the one the admin chose, once.
    let (_, log) = app
        .get_json(&admin, "/api/v1/audit?action=password_reset")
        .await;
    assert_eq!(log["total"], 1);
    assert_eq!(
        log["items"][0]["action_label"],
        "パスワードの再設定（管理者）"
    );
    assert!(!log.to_string().contains(&temporary));
    let admin_session = app.login_cookie(ADMIN, PASSWORD).await;
    let r = app
        .post_form(
            &admin_session,
            &format!("/users/{staff}/password-reset"),
            &[("password", "chosen-temporary-1")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
    assert!(r.text().await.unwrap().contains("chosen-temporary-1"));
    let token = app.login_token(STAFF, "chosen-temporary-1").await;
    assert_eq!(app.get_json(&token, "/api/v1/dashboard").await.0, 403);
}

/// An audit entry written at a given UTC time.
fn seed_entry(c: &mut regwatch::store::DbConn, insurer: i64, at: &str, target: &str) {
    use regwatch::store::schema::audit_log;
    let at = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S").unwrap();
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::insurer_id.eq(Some(insurer)),
            audit_log::user_id.eq(None::<i64>),
            audit_log::actor.eq("cli"),
            audit_log::action.eq("settings_changed"),
            audit_log::target.eq(Some(target)),
            audit_log::detail.eq(None::<String>),
            audit_log::created_at.eq(at),
        ))
        .execute(c)
        .unwrap();
}

#[tokio::test]
async fn the_audit_log_filters_by_japan_dates_user_and_action_and_exports_csv() {
    let app = spawn().await;
    let a = app.insurer(A).id.0;
    let b = app.insurer(B).id.0;
    {
        let mut c = app.conn();
        // 2025-04-01 23:59:59 and 2025-04-02 00:00:00 in Japan.
        seed_entry(&mut c, a, "2025-04-01 14:59:59", "=HYPERLINK(\"http://x\")");
        seed_entry(&mut c, a, "2025-04-01 15:00:00", "四月二日");
        seed_entry(&mut c, b, "2025-04-01 12:00:00", "other-insurer-entry");
    }
    let admin = app.login_token(ADMIN, PASSWORD).await;
    let _ = app.login_token(STAFF, PASSWORD).await;
    let admin_b = app.login_token(ADMIN_B, PASSWORD).await;
    let staff = user_id(&app, &admin, STAFF).await;
    let b_admin_id = user_id(&app, &admin_b, ADMIN_B).await;

    // One Japan day: the entry at 23:59:59 JST, not the one at midnight.
    let (s, day) = app
        .get_json(&admin, "/api/v1/audit?from=2025-04-01&to=2025-04-01")
        .await;
    assert_eq!(s, 200);
    assert_eq!(day["total"], 1, "{day}");
    assert_eq!(day["items"][0]["at_jst"], "2025-04-01 23:59:59");
    assert_eq!(day["items"][0]["action_label"], "設定の変更");
    let (_, two) = app
        .get_json(&admin, "/api/v1/audit?from=2025-04-01&to=2025-04-02")
        .await;
    assert_eq!(two["total"], 2);

    // By user and by action, labels in Japanese.
    let (_, mine) = app
        .get_json(&admin, &format!("/api/v1/audit?user={staff}"))
        .await;
    assert!(mine["total"].as_i64().unwrap() >= 1);
    assert!(mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["user_id"] == staff && e["actor"] == STAFF));
    let (_, logins) = app.get_json(&admin, "/api/v1/audit?action=login").await;
    assert!(logins["total"].as_i64().unwrap() >= 2);
    assert!(logins["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["action"] == "login" && e["action_label"] == "ログイン"));

    // Another insurer's entries are never there, not even asked for by its user's id.
    let (_, all) = app.get_json(&admin, "/api/v1/audit?per_page=500").await;
    assert!(!all.to_string().contains("other-insurer-entry"));
    assert!(!all.to_string().contains(ADMIN_B));
    let (_, theirs) = app
        .get_json(&admin, &format!("/api/v1/audit?user={b_admin_id}"))
        .await;
    assert_eq!(theirs["total"], 0);

    // Filters that do not parse are a 400 that says which.
    for q in [
        "from=2025-04-02&to=2025-04-01",
        "from=2025/04/01",
        "action=no_such_action",
        "user=abc",
    ] {
        let (s, e) = app.get_json(&admin, &format!("/api/v1/audit?{q}")).await;
        assert_eq!((s, error_code(&e)), (400, "bad_request"), "{q}");
    }

    // The CSV: the filtered log, BOM, Japanese labels, formulas neutralised, RFC 6266 name.
    let r = app
        .get_as(&admin, "/api/v1/audit.csv?from=2025-04-01&to=2025-04-02")
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let disposition = r.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        file_name(&disposition),
        "監査ログ_06123456_2025-04-01_2025-04-02.csv"
    );
    assert!(
        disposition.starts_with("attachment; filename=\"audit.csv\"; filename*=UTF-8''%E7%9B%A3")
    );
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()));
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "日時（日本時間）,利用者,ログインID,操作,操作コード,対象,内容"
    );
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].starts_with("2025-04-02 00:00:00,cli,cli,設定の変更,settings_changed,四月二日")
    );
    assert!(
        lines[2].contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
        "{}",
        lines[2]
    );
    assert!(!text.contains("other-insurer-entry"));

    // The whole log as the page exports it (cookie), named up to today; the exports are audited.
    let session = app.login_cookie(ADMIN, PASSWORD).await;
    let r = app.get_as(&session, "/audit.csv?action=login").await;
    assert_eq!(r.status(), 200);
    let disposition = r.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    let today = regwatch::time::today_jst().format("%Y-%m-%d").to_string();
    assert!(
        file_name(&disposition).ends_with(&format!("_{today}.csv")),
        "{disposition}"
    );
    let text = r.text().await.unwrap();
    assert!(text.contains(",ログイン,login,") && !text.contains(ADMIN_B));
    let (_, exports) = app
        .get_json(&admin, "/api/v1/audit?action=export_audit")
        .await;
    assert_eq!(exports["total"], 2);
    assert_eq!(exports["items"][0]["action_label"], "監査ログの出力");

    // The page: filters as select lists and dates, the pager and export keep them.
    let html = app
        .page_text(
            &session,
            &format!("/audit?user={staff}&action=login&from=2025-04-01"),
        )
        .await;
    assert!(html.contains(&format!("<option value=\"{staff}\" selected>")));
    assert!(html.contains("<option value=\"login\" selected>ログイン</option>"));
    assert!(html.contains("value=\"2025-04-01\""));
    assert!(html.contains(&format!(
        "/audit.csv?action=login&amp;user={staff}&amp;from=2025-04-01"
    )));
    let (_, b_log) = app.get_json(&admin_b, "/api/v1/audit?per_page=500").await;
    assert!(!b_log.to_string().contains(STAFF));
}

#[tokio::test]
async fn only_an_admin_of_the_same_insurer_manages_users_and_reads_the_audit_log() {
    let app = spawn().await;
    let admin = app.login_token(ADMIN, PASSWORD).await;
    let other = user_id(&app, &admin, ADMIN2).await;
    let staff_token = app.login_token(STAFF, PASSWORD).await;
    let patch = format!("/api/v1/users/{other}");
    let reset = format!("/api/v1/users/{other}/password-reset");
    let (s, _) = app
        .call_json(
            &staff_token,
            Method::PATCH,
            &patch,
            json!({"active": false}),
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(
        app.call_json(&staff_token, Method::POST, &reset, json!({}))
            .await
            .0,
        403
    );
    for path in ["/api/v1/users", "/api/v1/audit", "/api/v1/audit.csv"] {
        assert_eq!(app.get_json(&staff_token, path).await.0, 403, "{path}");
    }
    let session = app.login_cookie(STAFF, PASSWORD).await;
    for path in ["/users", "/audit", "/audit.csv"] {
        assert_eq!(app.get_as(&session, path).await.status(), 403, "{path}");
    }
    let r = app
        .post_form(
            &session,
            &format!("/users/{other}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .post_form(&session, &format!("/users/{other}/password-reset"), &[])
        .await;
    assert_eq!(r.status(), 403);

    // Another insurer's admin cannot reach these users at all.
    let admin_b = app.login_token(ADMIN_B, PASSWORD).await;
    let (s, _) = app
        .call_json(
            &admin_b,
            Method::PATCH,
            &patch,
            json!({"display_name": "x"}),
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(
        app.call_json(&admin_b, Method::POST, &reset, json!({}))
            .await
            .0,
        404
    );
    // Nothing changed: the admin still signs in with the old password.
    assert_eq!(api_sign_in(&app, ADMIN2, PASSWORD).await.0, 200);
    // A cookie write without its CSRF token is refused.
    let s = app.login_cookie(ADMIN, PASSWORD).await;
    let r = app
        .send_json(
            common::Auth::Cookie(&s.cookie),
            Method::PATCH,
            &patch,
            json!({"active": false}),
        )
        .await;
    assert_eq!(r.status(), 403);
}
