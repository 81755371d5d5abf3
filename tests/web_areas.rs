//! 取込, 事業所, 設定, 利用者 and 監査ログ against the real server, on SQLite and (with
//! REGWATCH_TEST_POSTGRES_URL) PostgreSQL: uploads and their rejects, roles, CSRF on cookie forms,
//! the settings preview, employers' figures, users and roles, tenant isolation.
mod common;

use common::{get_json, login_cookie, login_token, multipart, page, with_cookie, TestApp};
use regwatch::domain::InsurerKind;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use serde_json::{json, Value};

const PASSWORD: &str = "correct-horse-battery";
const AS_OF: &str = "2025-06-30";

/// As of 2025-06-30 with the default rules (holidays: 4/29, 5/3–5/6):
/// - N-1 E01 submitted in time (deadline Sat 4/26 → Mon 4/28), registered in time
/// - N-2 E01 submitted late (deadline 5/6 holiday → 5/7); registration deadline 5/26 passed, not
///   registered → open breach
/// - N-3 E02 no My Number → standard 14 days (7/9), open
/// - N-4 E02 registration deadline 7/1 → at risk
/// - N-5 E01 loss, registered 6/10 after its 2-day deadline 6/5 → breached but not open
/// - N-6 E03 submitted in time (deadline Sat 6/7 → Mon 6/9); registration deadline 6/9 passed,
///   not registered → open breach
const NOTICES: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号,遅延理由\n\
N-1,資格取得,E01,株式会社テスト,100,1,,山田 太郎,2025-04-21,2025-04-24,123456789018,\n\
N-2,資格取得,E01,株式会社テスト,100,2,,山田 次郎,2025-05-01,2025-05-20,123456789018,事業主の提出遅延\n\
N-3,被扶養者,E02,テスト商事,200,7,01,佐藤 花子,2025-06-20,2025-06-25,,\n\
N-4,資格取得,E02,テスト商事,200,8,,佐藤 一郎,2025-06-25,2025-06-26,123456789018,\n\
N-5,資格喪失,E01,株式会社テスト,100,3,,山田 三郎,2025-06-01,2025-06-03,123456789018,\n\
N-6,資格取得,E03,三番工業,300,1,,鈴木 一,2025-06-02,2025-06-03,123456789018,\n";

const REGISTRATIONS: &str = "受付番号,登録完了日時,処理結果\n\
N-1,2025-04-25T10:00:00+09:00,正常\n\
N-5,2025-06-10 09:00:00,正常\n";

/// Line 3 has an impossible date, line 4 an unknown kind; both carry a My Number.
const WITH_BAD_ROWS: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号,遅延理由\n\
X-1,資格取得,E01,株式会社テスト,100,11,,田中 一,2025-06-02,2025-06-03,123456789018,\n\
X-2,資格取得,E01,株式会社テスト,100,12,,田中 二,2025-02-30,2025-06-03,123456789018,\n\
X-3,転勤届,E01,株式会社テスト,100,13,,田中 三,2025-06-02,2025-06-03,123456789018,\n\
X-4,被扶養者,E02,テスト商事,200,14,01,田中 四,2025-06-02,2025-06-04,,\n";

struct World {
    app: TestApp,
    admin: String,
    staff: String,
    viewer: String,
    b_admin: String,
}

fn email(s: &str) -> String {
    s.to_string()
}

const B_NOTICES: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号\n\
B-1,資格取得,K01,所属所B,1,1,,共済 太郎,2025-06-01,2025-06-02,\n\
B-2,資格取得,K01,所属所B,1,2,,共済 次郎,2025-13-01,2025-06-02,\n";

/// Insurer A (健保) with an admin, a staff member and a viewer and no data; insurer B (共済) with
/// an admin and one loaded notice.
async fn world() -> World {
    let app = TestApp::builder()
        .with_insurer("06123456", InsurerKind::Kenpo)
        .with_insurer("34123456", InsurerKind::Kyosai)
        .with_admin("06123456", "admin@a.example.jp", PASSWORD)
        .with_staff("06123456", "staff@a.example.jp", PASSWORD)
        .with_viewer("06123456", "viewer@a.example.jp", PASSWORD)
        .with_admin("34123456", "admin@b.example.jp", PASSWORD)
        .with_notices(
            "34123456",
            "b.csv",
            B_NOTICES,
            chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        )
        .spawn()
        .await;
    World {
        admin: email("admin@a.example.jp"),
        staff: email("staff@a.example.jp"),
        viewer: email("viewer@a.example.jp"),
        b_admin: email("admin@b.example.jp"),
        app,
    }
}

async fn upload(
    app: &TestApp,
    token: &str,
    kind: &str,
    name: &str,
    csv: &str,
) -> reqwest::Response {
    let path = format!("/api/v1/imports/{kind}");
    app.upload(token, &path, name, csv.as_bytes()).await
}

/// Loads the six notices and their registrations through the API as staff.
async fn load_data(w: &World) {
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;
    assert_eq!(
        upload(&w.app, &staff, "notices", "n.csv", NOTICES)
            .await
            .status(),
        200
    );
    assert_eq!(
        upload(&w.app, &staff, "registrations", "r.csv", REGISTRATIONS)
            .await
            .status(),
        200
    );
}

/// Text as tera's HTML escaping writes it.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2F;")
}

fn codes(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 取込

#[tokio::test]
async fn staff_upload_loads_the_file_once_and_the_batch_is_listed_with_who_loaded_it() {
    let w = world().await;
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;

    let r = upload(&w.app, &staff, "notices", "notices-2025.csv", NOTICES).await;
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["kind"], "notices");
    assert_eq!(s["file_name"], "notices-2025.csv");
    assert_eq!(
        (s["new"].as_u64(), s["rejected"].as_u64()),
        (Some(6), Some(0))
    );
    assert_eq!(
        s["message"],
        "6 件新規、0 件変更、0 件変更なし、0 行却下（6 行読込）"
    );

    // The API also takes the CSV as the raw body.
    let r = w
        .app
        .client
        .post(w.app.url("/api/v1/imports/registrations?file_name=reg.csv"))
        .bearer_auth(&staff)
        .header(CONTENT_TYPE, "text/csv; charset=utf-8")
        .body(REGISTRATIONS)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let reg: Value = r.json().await.unwrap();
    assert_eq!(
        (reg["kind"].as_str(), reg["file_name"].as_str()),
        (Some("registrations"), Some("reg.csv"))
    );
    assert_eq!(reg["new"], 2);

    // Loading the same file again changes nothing.
    let again: Value = upload(&w.app, &staff, "notices", "notices-2025.csv", NOTICES)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["new"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(6))
    );

    let (status, list) = get_json(&w.app, &staff, "/api/v1/imports").await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 3);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items[0]["id"], again["batch_id"], "newest first");
    assert_eq!(items[2]["id"], s["batch_id"]);
    assert!(items.iter().all(|b| b["created_by"] == w.staff.as_str()));
    assert!(items.iter().all(|b| b["status"] == "completed"));
    assert_eq!(items[1]["kind_label"], "登録結果");

    // The notices are really there, registration results linked.
    let (_, notices) = get_json(
        &w.app,
        &staff,
        &format!("/api/v1/notices?as_of={AS_OF}&status=met&rule=registration"),
    )
    .await;
    assert_eq!(notices["total"], 1, "N-1 registered in time");

    // The page lists the batch with the uploader.
    let s = login_cookie(&w.app, &w.viewer, PASSWORD).await;
    let (status, html) = page(&w.app, &s, "/imports").await;
    assert_eq!(status, 200);
    assert!(html.contains("notices-2025.csv") && html.contains(&w.staff));
    assert!(
        !html.contains("id=\"upload-form\""),
        "a viewer sees the history but no upload form"
    );
}

#[tokio::test]
async fn rejected_rows_are_listed_by_line_and_downloadable_as_csv_with_bom_without_my_numbers() {
    let w = world().await;
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;
    let r = upload(&w.app, &staff, "notices", "bad.csv", WITH_BAD_ROWS).await;
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(
        (s["new"].as_u64(), s["rejected"].as_u64()),
        (Some(2), Some(2))
    );
    let lines: Vec<u64> = s["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4]);
    let id = s["batch_id"].as_i64().unwrap();

    let (status, d) = get_json(&w.app, &staff, &format!("/api/v1/imports/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(d["batch"]["rejected"], 2);
    let rejects = d["rejects"].as_array().unwrap();
    assert_eq!(rejects.len(), 2);
    assert_eq!(rejects[0]["line"], 3);
    assert!(rejects[0]["reason"]
        .as_str()
        .unwrap()
        .contains("事実発生日"));
    assert_eq!(rejects[1]["line"], 4);
    assert!(rejects[1]["reason"].as_str().unwrap().contains("届書種別"));

    let r = w
        .app
        .client
        .get(w.app.url(&format!("/api/v1/imports/{id}/rejects.csv")))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "BOM so Excel reads UTF-8");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut rows = text.lines();
    assert_eq!(rows.next(), Some("行,理由"));
    assert!(rows.next().unwrap().starts_with("3,"));
    assert!(rows.next().unwrap().starts_with("4,"));
    assert!(
        !text.contains("123456789018"),
        "SPEC §6: no My Number in an export"
    );

    // The batch page shows the rejects and links the CSV; the page route serves it too.
    let s = login_cookie(&w.app, &w.viewer, PASSWORD).await;
    let (status, html) = page(&w.app, &s, &format!("/imports/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("/imports/{id}/rejects.csv")));
    assert!(html.contains(&escaped(rejects[1]["reason"].as_str().unwrap())));
    let r = with_cookie(
        &w.app,
        reqwest::Method::GET,
        &format!("/imports/{id}/rejects.csv"),
        &s,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(&r.bytes().await.unwrap()[..3], b"\xEF\xBB\xBF");
}

#[tokio::test]
async fn a_file_that_cannot_be_loaded_is_refused_whole_with_a_japanese_message_and_audited() {
    let w = world().await;
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;

    let no_received = "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日\nN-1,資格取得,E01,100,1,2025-04-21\n";
    let r = upload(&w.app, &staff, "notices", "cols.csv", no_received).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "import_failed");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("必須の列がありません") && msg.contains("受付日"),
        "{msg}"
    );

    // A file of insurer B loaded into A stops the whole import.
    let other =
        "保険者番号,受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日\n\
34123456,N-1,資格取得,E01,100,1,2025-04-21,2025-04-24\n";
    let r = upload(&w.app, &staff, "notices", "other.csv", other).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"]["message"].as_str().unwrap().contains("34123456"));

    let r = upload(&w.app, &staff, "notices", "empty.csv", "").await;
    assert_eq!(r.status(), 422);

    // A form without a file part.
    let (ct, body) = multipart(&[("kind", None, b"notices")]);
    let r = w
        .app
        .client
        .post(w.app.url("/api/v1/imports/notices"))
        .bearer_auth(&staff)
        .header(CONTENT_TYPE, ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"]["message"].as_str().unwrap().contains("ファイル"));

    let (_, list) = get_json(&w.app, &staff, "/api/v1/imports").await;
    assert_eq!(list["total"], 0, "nothing of a refused file is kept");

    let admin = login_token(&w.app, &w.admin, PASSWORD).await;
    let (_, audit) = get_json(&w.app, &admin, "/api/v1/audit?action=import_failed").await;
    let targets: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert!(
        targets.contains(&"cols.csv") && targets.contains(&"other.csv"),
        "{targets:?}"
    );
    assert!(audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["actor"] == w.staff.as_str()));
}

#[tokio::test]
async fn an_upload_declared_larger_than_the_cap_is_refused_before_its_body_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let w = world().await;
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;
    let mut sock = tokio::net::TcpStream::connect(("127.0.0.1", w.app.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/imports/notices HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {staff}\r\n\
         Content-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        300u64 * 1024 * 1024
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(b"a,b\n").await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        sock.read_to_end(&mut buf),
    )
    .await;
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("200 MB"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Roles and CSRF

#[tokio::test]
async fn viewers_cannot_upload_or_change_anything_and_staff_cannot_change_settings_or_users() {
    let w = world().await;
    let viewer = login_token(&w.app, &w.viewer, PASSWORD).await;
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;
    use reqwest::Method;

    let r = upload(&w.app, &viewer, "notices", "n.csv", NOTICES).await;
    assert_eq!(r.status(), 403);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "forbidden");
    let (status, list) = get_json(&w.app, &viewer, "/api/v1/imports").await;
    assert_eq!(
        (status, list["total"].as_i64()),
        (200, Some(0)),
        "nothing loaded"
    );

    let bad_settings = json!({"warn_days": 3});
    for token in [&viewer, &staff] {
        let (s, _) = w
            .app
            .call_json(token, Method::PUT, "/api/v1/settings", bad_settings.clone())
            .await;
        assert_eq!(s, 403);
        let (s, _) = w
            .app
            .call_json(
                token,
                Method::POST,
                "/api/v1/settings/preview",
                bad_settings.clone(),
            )
            .await;
        assert_eq!(s, 403);
        let (s, _) = w.app.call_json(token,
            Method::POST,
            "/api/v1/users",
            json!({"email": "x@a.example.jp", "role": "admin", "password": "long-enough-password"}),
        )
        .await;
        assert_eq!(s, 403);
        assert_eq!(get_json(&w.app, token, "/api/v1/users").await.0, 403);
        assert_eq!(get_json(&w.app, token, "/api/v1/audit").await.0, 403);
        assert_eq!(
            get_json(&w.app, token, "/api/v1/settings").await.0,
            200,
            "everyone may read the settings"
        );
    }
    let (_, settings) = get_json(&w.app, &viewer, "/api/v1/settings").await;
    assert_eq!(settings["warn_days"], 1, "unchanged");

    // Staff may upload and edit employers; a viewer may not edit employers.
    load_data(&w).await;
    let (_, list) = get_json(&w.app, &viewer, "/api/v1/employers").await;
    let e01 = list["items"][0]["id"].as_i64().unwrap();
    let body = json!({"contact_emails": ["x@example.jp"], "opt_out": false});
    let (s, _) = w
        .app
        .call_json(
            &viewer,
            Method::PUT,
            &format!("/api/v1/employers/{e01}"),
            body.clone(),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = w
        .app
        .call_json(
            &staff,
            Method::PUT,
            &format!("/api/v1/employers/{e01}"),
            body,
        )
        .await;
    assert_eq!(s, 200);

    // Pages: the settings form is read-only and 利用者 / 監査ログ are closed for staff.
    let s = login_cookie(&w.app, &w.staff, PASSWORD).await;
    let (status, html) = page(&w.app, &s, "/settings").await;
    assert_eq!(status, 200);
    assert!(html.contains("disabled") && !html.contains("id=\"settings-save-button\""));
    assert_eq!(page(&w.app, &s, "/users").await.0, 403);
    assert_eq!(page(&w.app, &s, "/audit").await.0, 403);
    let (status, html) = page(&w.app, &s, "/imports").await;
    assert_eq!(status, 200);
    for id in [
        "id=\"upload-form\"",
        "name=\"kind\"",
        "type=\"file\" name=\"file\"",
        "id=\"upload-progress\"",
        "id=\"upload-result\"",
    ] {
        assert!(html.contains(id), "staff upload form has {id}");
    }
}

#[tokio::test]
async fn cookie_form_posts_need_the_csrf_token_and_succeed_with_it() {
    let w = world().await;
    let s = login_cookie(&w.app, &w.admin, PASSWORD).await;
    let admin = login_token(&w.app, &w.admin, PASSWORD).await;
    use reqwest::Method;

    // Upload without a token: refused before anything is loaded.
    let (ct, body) = multipart(&[
        ("kind", None, b"notices"),
        ("file", Some("n.csv"), NOTICES.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports", &s)
        .header(CONTENT_TYPE, &ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A token in a field after the file comes too late.
    let (ct2, body) = multipart(&[
        ("kind", None, b"notices"),
        ("file", Some("n.csv"), NOTICES.as_bytes()),
        ("csrf", None, s.csrf.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports", &s)
        .header(CONTENT_TYPE, &ct2)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        get_json(&w.app, &admin, "/api/v1/imports").await.1["total"],
        0
    );

    // The plain form (token field first) shows what the file would change; nothing is loaded
    // until the staff member commits it (with the token), which leads to the batch page.
    let (ct, body) = multipart(&[
        ("csrf", None, s.csrf.as_bytes()),
        ("kind", None, b"notices"),
        ("file", Some("n.csv"), NOTICES.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports", &s)
        .header(CONTENT_TYPE, &ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("取り込む前の確認"), "{html}");
    assert!(html.contains("件新規"), "{html}");
    assert_eq!(
        get_json(&w.app, &admin, "/api/v1/imports").await.1["total"],
        0,
        "a preview stores nothing"
    );
    let commit = html
        .split("action=\"")
        .find_map(|rest| {
            let url = rest.split('"').next()?;
            url.ends_with("/commit").then(|| url.to_string())
        })
        .expect("the preview has a commit form");
    let r = with_cookie(&w.app, Method::POST, &commit, &s)
        .form(&[("csrf", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "committing needs the token too");
    let r = with_cookie(&w.app, Method::POST, &commit, &s)
        .form(&[("csrf", s.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(to.starts_with("/imports/"), "{to}");
    assert_eq!(page(&w.app, &s, &to).await.0, 200);
    // The upload is gone once committed.
    let r = with_cookie(&w.app, Method::POST, &commit, &s)
        .form(&[("csrf", s.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The page's script: header token, JSON preview, then the commit as JSON.
    let (ct, body) = multipart(&[
        ("kind", None, b"registrations"),
        ("file", Some("r.csv"), REGISTRATIONS.as_bytes()),
    ]);
    let r = with_cookie(&w.app, Method::POST, "/imports", &s)
        .header(CONTENT_TYPE, &ct)
        .header("X-CSRF-Token", &s.csrf)
        .header(ACCEPT, "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let j: Value = r.json().await.unwrap();
    assert_eq!(
        (j["kind"].as_str(), j["new"].as_u64()),
        (Some("registrations"), Some(2))
    );
    let upload = j["upload_id"].as_i64().unwrap();
    let r = with_cookie(
        &w.app,
        Method::POST,
        &format!("/imports/uploads/{upload}/commit"),
        &s,
    )
    .header("X-CSRF-Token", &s.csrf)
    .header(ACCEPT, "application/json")
    .form(&[("csrf", s.csrf.as_str())])
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let j: Value = r.json().await.unwrap();
    assert_eq!(
        (j["new"].as_u64(), j["batch_id"].as_i64().is_some()),
        (Some(2), true)
    );
    assert_eq!(
        get_json(&w.app, &admin, "/api/v1/imports").await.1["total"],
        2
    );

    // Settings form.
    let form = [
        ("warn_days", "3"),
        ("standard_days", "14"),
        ("ex_officio_days", "10"),
        ("submission_policy", "extend"),
        ("submission_acquisition", "5"),
        ("submission_dependent", "5"),
        ("submission_loss", "5"),
        ("registration_policy", "extend"),
        ("registration_acquisition", "5"),
        ("registration_dependent", "5"),
        ("registration_loss", "2"),
    ];
    let r = with_cookie(&w.app, Method::POST, "/settings", &s)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        get_json(&w.app, &admin, "/api/v1/settings").await.1["warn_days"],
        1
    );
    let mut with_token = form.to_vec();
    with_token.push(("csrf", s.csrf.as_str()));
    let r = with_cookie(&w.app, Method::POST, "/settings", &s)
        .form(&with_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        get_json(&w.app, &admin, "/api/v1/settings").await.1["warn_days"],
        3
    );

    // JSON calls on the cookie need the header.
    let r = with_cookie(&w.app, Method::PUT, "/api/v1/settings", &s)
        .json(&json!({"warn_days": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = with_cookie(&w.app, Method::PUT, "/api/v1/settings", &s)
        .header("X-CSRF-Token", &s.csrf)
        .json(&json!({"warn_days": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Users form.
    let add = [
        ("email", "new@a.example.jp"),
        ("role", "viewer"),
        ("password", "long-enough-password"),
    ];
    let r = with_cookie(&w.app, Method::POST, "/users", &s)
        .form(&add)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (_, users) = get_json(&w.app, &admin, "/api/v1/users").await;
    assert_eq!(users.as_array().unwrap().len(), 3);

    // Employer form.
    let (_, list) = get_json(&w.app, &admin, "/api/v1/employers").await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let path = format!("/employers/{id}");
    let r = with_cookie(&w.app, Method::POST, &path, &s)
        .form(&[("contact_emails", "x@example.jp")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = with_cookie(&w.app, Method::POST, &path, &s)
        .form(&[
            ("contact_emails", "x@example.jp"),
            ("csrf", s.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, e) = get_json(&w.app, &admin, &format!("/api/v1/employers/{id}")).await;
    assert_eq!(e["contact_emails"], json!(["x@example.jp"]));
}

// ---------------------------------------------------------------------------------------------
// 設定

#[tokio::test]
async fn the_settings_preview_counts_exactly_the_deadlines_that_saving_changes() {
    let w = world().await;
    load_data(&w).await;
    let admin = login_token(&w.app, &w.admin, PASSWORD).await;
    use reqwest::Method;
    let breached = || async {
        get_json(
            &w.app,
            &admin,
            &format!("/api/v1/notices?as_of={AS_OF}&status=breached&rule=registration"),
        )
        .await
        .1["total"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(breached().await, 3, "N-2, N-5 and N-6");

    // strict submission moves the deadlines of N-1 (4/26), N-2 (5/6) and N-6 (6/7) that fell on a
    // holiday; 7 days for a loss moves N-5 (6/10, now met).
    let new = json!({
        "submission": {"policy": "strict"},
        "registration": {"days": {"loss": 7}}
    });
    let (s, p) = w
        .app
        .call_json(
            &admin,
            Method::POST,
            "/api/v1/settings/preview",
            new.clone(),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(p["changed"], 4);
    assert_eq!(
        get_json(&w.app, &admin, "/api/v1/settings").await.1["registration"]["days"]["loss"],
        2,
        "a preview saves nothing"
    );

    let (s, saved) = w
        .app
        .call_json(&admin, Method::PUT, "/api/v1/settings", new.clone())
        .await;
    assert_eq!(s, 200);
    assert_eq!(saved["changed"], p["changed"]);
    assert_eq!(saved["settings"]["submission"]["policy"], "strict");
    assert_eq!(saved["settings"]["registration"]["days"]["loss"], 7);
    assert_eq!(saved["settings"]["registration"]["days"]["acquisition"], 5);
    assert_eq!(breached().await, 2, "N-5 is now in time");

    let (_, again) = w
        .app
        .call_json(&admin, Method::POST, "/api/v1/settings/preview", new)
        .await;
    assert_eq!(again["changed"], 0);

    // Bad values are refused with the key named, and nothing changes.
    let (s, e) = w
        .app
        .call_json(
            &admin,
            Method::PUT,
            "/api/v1/settings",
            json!({"registration": {"days": {"loss": 400}}}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("registration.days.loss"),
        "{e}"
    );
    let (s, e) = w
        .app
        .call_json(
            &admin,
            Method::PUT,
            "/api/v1/settings",
            json!({"submision": {"policy": "strict"}}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("submision"),
        "{e}"
    );
    let (s, e) = w
        .app
        .call_json(
            &admin,
            Method::PUT,
            "/api/v1/settings",
            json!({"warn_days": "two"}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("warn_days"),
        "{e}"
    );
    assert_eq!(
        get_json(&w.app, &admin, "/api/v1/settings").await.1["registration"]["days"]["loss"],
        7
    );

    // The page: preview shows the count, saving reports the same count.
    let s = login_cookie(&w.app, &w.admin, PASSWORD).await;
    let form = [
        ("warn_days", "1"),
        ("standard_days", "14"),
        ("ex_officio_days", "10"),
        ("submission_policy", "extend"),
        ("submission_acquisition", "5"),
        ("submission_dependent", "5"),
        ("submission_loss", "5"),
        ("registration_policy", "extend"),
        ("registration_acquisition", "5"),
        ("registration_dependent", "5"),
        ("registration_loss", "2"),
        ("csrf", s.csrf.as_str()),
    ];
    let r = with_cookie(&w.app, Method::POST, "/settings/preview", &s)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("保存済みの届書のうち 4 件の期限が変わります"),
        "back to the defaults moves the same four"
    );
    let r = with_cookie(&w.app, Method::POST, "/settings", &s)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/settings?saved=4");
    let mut bad = form.to_vec();
    bad[6] = ("submission_loss", "五");
    let r = with_cookie(&w.app, Method::POST, "/settings/preview", &s)
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("submission.days.loss"));

    let (_, audit) = get_json(&w.app, &admin, "/api/v1/audit?action=settings_changed").await;
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "one entry per save");
    assert!(items[1]["detail"]
        .as_str()
        .unwrap()
        .contains("registration.days.loss: 2 → 7"));
    assert!(items[1]["detail"].as_str().unwrap().contains("4 件"));
}

// ---------------------------------------------------------------------------------------------
// 事業所

#[tokio::test]
async fn employers_are_listed_worst_first_with_counts_that_match_the_case_list() {
    let w = world().await;
    load_data(&w).await;
    let viewer = login_token(&w.app, &w.viewer, PASSWORD).await;
    let (status, list) =
        get_json(&w.app, &viewer, &format!("/api/v1/employers?as_of={AS_OF}")).await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 3);
    // E01 and E03 have one open breach each; E01's submission rate (2/3) is worse than E03's (1/1).
    assert_eq!(codes(&list), ["E01", "E03", "E02"]);
    let e01 = &list["items"][0];
    assert_eq!(
        (
            e01["notices"].as_i64(),
            e01["submission_met"].as_i64(),
            e01["open_breached"].as_i64(),
            e01["open_at_risk"].as_i64()
        ),
        (Some(3), Some(2), Some(1), Some(0))
    );
    assert!((e01["submission_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(list["items"][2]["open_at_risk"], 1);

    for e in list["items"].as_array().unwrap() {
        let code = e["code"].as_str().unwrap();
        let total = |q: String| {
            let app = &w.app;
            let viewer = &viewer;
            async move { get_json(app, viewer, &q).await.1["total"].as_i64().unwrap() }
        };
        assert_eq!(
            e["open_breached"].as_i64().unwrap(),
            total(format!("/api/v1/notices?as_of={AS_OF}&employer={code}&status=breached&rule=registration&pending=1")).await,
            "{code}"
        );
        assert_eq!(
            e["open_at_risk"].as_i64().unwrap(),
            total(format!(
                "/api/v1/notices?as_of={AS_OF}&employer={code}&status=at_risk&rule=registration"
            ))
            .await,
            "{code}"
        );
        assert_eq!(
            e["submission_met"].as_i64().unwrap(),
            total(format!(
                "/api/v1/notices?as_of={AS_OF}&employer={code}&status=met&rule=submission"
            ))
            .await,
            "{code}"
        );
    }

    // A new import shows at once (the figures are cached per data version).
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;
    let more = format!(
        "{}N-7,資格取得,E02,テスト商事,200,9,,佐藤 二郎,2025-06-09,2025-06-10,123456789018,\n",
        NOTICES.lines().next().unwrap().to_string() + "\n"
    );
    assert_eq!(
        upload(&w.app, &staff, "notices", "more.csv", &more)
            .await
            .status(),
        200
    );
    let (_, after) = get_json(&w.app, &viewer, &format!("/api/v1/employers?as_of={AS_OF}")).await;
    // E02 now has an open breach too, and its at-risk notice puts it first.
    assert_eq!(codes(&after), ["E02", "E01", "E03"]);
    assert_eq!(after["items"][0]["open_breached"], 1);

    let (_, found) = get_json(&w.app, &viewer, "/api/v1/employers?q=%E4%B8%89%E7%95%AA").await;
    assert_eq!(codes(&found), ["E03"], "search by name (三番)");
    let (_, paged) = get_json(
        &w.app,
        &viewer,
        &format!("/api/v1/employers?as_of={AS_OF}&per_page=2&page=2"),
    )
    .await;
    assert_eq!(codes(&paged), ["E03"]);
    assert_eq!(paged["total"], 3);

    let id = e01["id"].as_i64().unwrap();
    let (status, one) = get_json(
        &w.app,
        &viewer,
        &format!("/api/v1/employers/{id}?as_of={AS_OF}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["open_breached"], 1);
    assert_eq!(one["name"], "株式会社テスト");

    let s = login_cookie(&w.app, &w.viewer, PASSWORD).await;
    let (status, html) = page(&w.app, &s, "/employers").await;
    assert_eq!(status, 200);
    assert!(html.contains("事業所") && html.contains("/notices?employer=E01"));
    let (status, html) = page(&w.app, &s, "/employers/E01").await;
    assert_eq!(status, 200);
    assert!(html.contains("/notices?employer=E01"));
    assert!(
        !html.contains("name=\"contact_emails\""),
        "a viewer gets no edit form"
    );

    // 共済: the employer is a 所属所.
    let b = login_cookie(&w.app, &w.b_admin, PASSWORD).await;
    let (_, html) = page(&w.app, &b, "/employers").await;
    assert!(html.contains("所属所") && html.contains("K01"));
    assert!(!html.contains("事業所"), "no 事業所 wording for a 共済");
}

#[tokio::test]
async fn employer_contacts_are_validated_saved_and_audited() {
    let w = world().await;
    load_data(&w).await;
    let staff = login_token(&w.app, &w.staff, PASSWORD).await;
    use reqwest::Method;
    let (_, list) = get_json(&w.app, &staff, &format!("/api/v1/employers?as_of={AS_OF}")).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/employers/{id}");

    let (s, e) = w.app.call_json(&staff, Method::PUT, &path, json!({"contact_emails": ["Jinji@Example.JP", "soumu@example.jp", "jinji@example.jp"], "opt_out": true})).await;
    assert_eq!(s, 200);
    assert_eq!(
        e["contact_emails"],
        json!(["jinji@example.jp", "soumu@example.jp"])
    );
    assert_eq!(e["opt_out"], true);

    let (s, err) = w
        .app
        .call_json(
            &staff,
            Method::PUT,
            &path,
            json!({"contact_emails": ["ok@example.jp", "not-an-address"], "opt_out": false}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not-an-address"));
    let (s, err) = w
        .app
        .call_json(
            &staff,
            Method::PUT,
            &path,
            json!({"contact_emails": "x@example.jp"}),
        )
        .await;
    assert_eq!(s, 400, "a malformed body is a JSON error too");
    assert_eq!(err["error"]["code"], "bad_request");
    let (_, e) = get_json(&w.app, &staff, &path).await;
    assert_eq!(
        e["contact_emails"],
        json!(["jinji@example.jp", "soumu@example.jp"]),
        "unchanged"
    );

    // The page form: one address a line; an unticked box turns the e-mails back on.
    let s = login_cookie(&w.app, &w.staff, PASSWORD).await;
    let r = with_cookie(&w.app, Method::POST, &format!("/employers/{id}"), &s)
        .form(&[
            ("contact_emails", "a@example.jp\r\nb@example.jp"),
            ("csrf", s.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, e) = get_json(&w.app, &staff, &path).await;
    assert_eq!(e["contact_emails"], json!(["a@example.jp", "b@example.jp"]));
    assert_eq!(e["opt_out"], false);
    let r = with_cookie(&w.app, Method::POST, &format!("/employers/{id}"), &s)
        .form(&[
            ("contact_emails", "a@example.jp, broken@"),
            ("csrf", s.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("broken@"),
        "the form comes back with the input and the error"
    );

    let admin = login_token(&w.app, &w.admin, PASSWORD).await;
    let (_, audit) = get_json(&w.app, &admin, "/api/v1/audit?action=employer_updated").await;
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items
        .iter()
        .all(|e| e["target"] == "E01" && e["actor"] == w.staff.as_str()));
    assert_eq!(items[0]["action_label"], "事業所・所属所の連絡先の変更");
}

// ---------------------------------------------------------------------------------------------
// 利用者

#[tokio::test]
async fn admins_add_users_and_change_roles_but_never_demote_the_last_admin() {
    let w = world().await;
    let admin = login_token(&w.app, &w.admin, PASSWORD).await;
    use reqwest::Method;

    let (s, e) = w
        .app
        .call_json(
            &admin,
            Method::POST,
            "/api/v1/users",
            json!({"email": "new@a.example.jp", "role": "viewer", "password": "short"}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(e["error"]["message"].as_str().unwrap().contains("10文字"));
    let (s, e) = w.app.call_json(&admin,
        Method::POST,
        "/api/v1/users",
        json!({"email": "new@a.example.jp", "role": "boss", "password": "long-enough-password"}),
    )
    .await;
    assert_eq!(s, 400);
    assert!(e["error"]["message"].as_str().unwrap().contains("boss"));
    let (s, added) = w.app.call_json(&admin,
        Method::POST,
        "/api/v1/users",
        json!({"email": "New@A.example.jp", "role": "viewer", "password": "long-enough-password"}),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(
        (added["email"].as_str(), added["role"].as_str()),
        (Some("new@a.example.jp"), Some("viewer"))
    );
    let (s, _) = w.app.call_json(&admin,
        Method::POST,
        "/api/v1/users",
        json!({"email": "new@a.example.jp", "role": "staff", "password": "long-enough-password"}),
    )
    .await;
    assert_eq!(s, 400, "duplicate e-mail");

    // A role change takes effect at once: the user's sessions are revoked.
    let new_token = login_token(&w.app, "new@a.example.jp", "long-enough-password").await;
    assert_eq!(get_json(&w.app, &new_token, "/api/v1/imports").await.0, 200);
    let id = added["id"].as_i64().unwrap();
    let (s, changed) = w
        .app
        .call_json(
            &admin,
            Method::PUT,
            &format!("/api/v1/users/{id}/role"),
            json!({"role": "staff"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(changed["role"], "staff");
    assert_eq!(get_json(&w.app, &new_token, "/api/v1/imports").await.0, 401);
    let staff_token = login_token(&w.app, "new@a.example.jp", "long-enough-password").await;
    assert_eq!(
        upload(&w.app, &staff_token, "notices", "n.csv", NOTICES)
            .await
            .status(),
        200
    );

    // The only admin cannot step down.
    let (_, users) = get_json(&w.app, &admin, "/api/v1/users").await;
    let me = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == w.admin.as_str())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, e) = w
        .app
        .call_json(
            &admin,
            Method::PUT,
            &format!("/api/v1/users/{me}/role"),
            json!({"role": "staff"}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("最後の管理者"));
    assert_eq!(
        get_json(&w.app, &admin, "/api/v1/users").await.0,
        200,
        "still admin, session kept"
    );

    // With a second admin the first may step down.
    let (s, _) = w
        .app
        .call_json(
            &admin,
            Method::PUT,
            &format!("/api/v1/users/{id}/role"),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = w
        .app
        .call_json(
            &admin,
            Method::PUT,
            &format!("/api/v1/users/{me}/role"),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(get_json(&w.app, &admin, "/api/v1/users").await.0, 401);

    // The page: list, add form, and Japanese audit entries.
    let s = login_cookie(&w.app, "new@a.example.jp", "long-enough-password").await;
    let (status, html) = page(&w.app, &s, "/users").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&w.staff)
            && html.contains("new@a.example.jp")
            && html.contains("id=\"user-add-form\"")
    );
    let r = with_cookie(&w.app, Method::POST, "/users", &s)
        .form(&[
            ("email", "third@a.example.jp"),
            ("role", "staff"),
            ("password", "long-enough-password"),
            ("csrf", s.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = with_cookie(&w.app, Method::POST, "/users", &s)
        .form(&[
            ("email", "fourth@a.example.jp"),
            ("role", "staff"),
            ("password", "short"),
            ("csrf", s.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("10文字"));

    let (status, html) = page(&w.app, &s, "/audit").await;
    assert_eq!(status, 200);
    for label in ["利用者の追加", "役割の変更", "ファイルの取込", "ログイン"]
    {
        assert!(html.contains(label), "audit page shows {label}");
    }
    assert!(html.contains("閲覧者 → 担当者"));
}

// ---------------------------------------------------------------------------------------------
// 監査ログ

#[tokio::test]
async fn the_audit_log_is_paged_filtered_and_in_japan_time() {
    let w = world().await;
    load_data(&w).await;
    let admin = login_token(&w.app, &w.admin, PASSWORD).await;
    let (status, all) = get_json(&w.app, &admin, "/api/v1/audit?per_page=2").await;
    assert_eq!(status, 200);
    // Sign-ins of staff and admin, two imports.
    assert_eq!(all["total"], 4);
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let (_, imports) = get_json(&w.app, &admin, "/api/v1/audit?action=import").await;
    let items = imports["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["target"], "r.csv", "newest first");
    assert_eq!(items[0]["action_label"], "ファイルの取込");
    assert!(items[0]["detail"].as_str().unwrap().contains("登録結果"));
    let at = chrono::DateTime::parse_from_rfc3339(items[0]["at"].as_str().unwrap()).unwrap();
    let jst = (at.naive_utc() + chrono::Duration::hours(9))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    assert_eq!(items[0]["at_jst"], jst);
    let (s, _) = get_json(&w.app, &admin, "/api/v1/audit?page=0").await;
    assert_eq!(s, 400);
}

// ---------------------------------------------------------------------------------------------
// Tenants

#[tokio::test]
async fn another_insurers_employers_batches_and_users_are_not_found() {
    let w = world().await;
    load_data(&w).await;
    let a = login_token(&w.app, &w.admin, PASSWORD).await;
    let b = login_token(&w.app, &w.b_admin, PASSWORD).await;
    use reqwest::Method;

    let (_, b_emps) = get_json(&w.app, &b, "/api/v1/employers").await;
    assert_eq!(codes(&b_emps), ["K01"]);
    let b_emp = b_emps["items"][0]["id"].as_i64().unwrap();
    let (_, b_batches) = get_json(&w.app, &b, "/api/v1/imports").await;
    let b_batch = b_batches["items"][0]["id"].as_i64().unwrap();
    assert_eq!(b_batches["items"][0]["rejected"], 1);
    let (_, b_users) = get_json(&w.app, &b, "/api/v1/users").await;
    let b_user = b_users[0]["id"].as_i64().unwrap();

    assert_eq!(
        get_json(&w.app, &a, &format!("/api/v1/employers/{b_emp}"))
            .await
            .0,
        404
    );
    let (s, _) = w
        .app
        .call_json(
            &a,
            Method::PUT,
            &format!("/api/v1/employers/{b_emp}"),
            json!({"contact_emails": ["evil@example.jp"], "opt_out": true}),
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(
        get_json(&w.app, &a, &format!("/api/v1/imports/{b_batch}"))
            .await
            .0,
        404
    );
    let r = w
        .app
        .client
        .get(w.app.url(&format!("/api/v1/imports/{b_batch}/rejects.csv")))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let (s, _) = w
        .app
        .call_json(
            &a,
            Method::PUT,
            &format!("/api/v1/users/{b_user}/role"),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(s, 404);

    // B's data is untouched, and A's lists show only A.
    let (_, e) = get_json(&w.app, &b, &format!("/api/v1/employers/{b_emp}")).await;
    assert_eq!(
        (e["contact_emails"].clone(), e["opt_out"].clone()),
        (json!([]), json!(false))
    );
    assert_eq!(
        get_json(&w.app, &b, "/api/v1/users").await.1[0]["role"],
        "admin"
    );
    let (_, a_emps) = get_json(&w.app, &a, "/api/v1/employers").await;
    assert!(!codes(&a_emps).contains(&"K01".to_string()));
    let (_, a_batches) = get_json(&w.app, &a, "/api/v1/imports").await;
    assert!(a_batches["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["id"] != b_batch));
    let (_, a_users) = get_json(&w.app, &a, "/api/v1/users").await;
    assert!(a_users
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["email"] != w.b_admin.as_str()));
    let (_, a_audit) = get_json(&w.app, &a, "/api/v1/audit").await;
    assert!(a_audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["actor"] != w.b_admin.as_str()));

    let s = login_cookie(&w.app, &w.admin, PASSWORD).await;
    assert_eq!(
        page(&w.app, &s, &format!("/employers/{b_emp}")).await.0,
        404
    );
    assert_eq!(
        page(&w.app, &s, &format!("/imports/{b_batch}")).await.0,
        404
    );
    assert_eq!(
        page(&w.app, &s, &format!("/imports/{b_batch}/rejects.csv"))
            .await
            .0,
        404
    );
    let r = with_cookie(&w.app, Method::POST, &format!("/users/{b_user}/role"), &s)
        .form(&[("role", "viewer"), ("csrf", s.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(page(&w.app, &s, "/employers/not-a-number").await.0, 404);
}

#[tokio::test]
async fn the_openapi_document_describes_these_areas() {
    let w = world().await;
    let doc: Value = w
        .app
        .client
        .get(w.app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (p, m) in [
        ("/api/v1/imports", "get"),
        ("/api/v1/imports/notices", "post"),
        ("/api/v1/imports/registrations", "post"),
        ("/api/v1/imports/{id}", "get"),
        ("/api/v1/imports/{id}/rejects.csv", "get"),
        ("/api/v1/employers", "get"),
        ("/api/v1/employers/{id}", "put"),
        ("/api/v1/settings", "put"),
        ("/api/v1/settings/preview", "post"),
        ("/api/v1/users", "post"),
        ("/api/v1/users/{id}/role", "put"),
        ("/api/v1/audit", "get"),
    ] {
        assert!(
            paths.get(p).and_then(|x| x.get(m)).is_some(),
            "{m} {p} documented"
        );
    }
    assert!(doc["components"]["schemas"].get("ImportResult").is_some());
}
