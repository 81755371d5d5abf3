//! The OpenAPI document tells the truth (issue 17, defect 8), on SQLite and (with
//! REGWATCH_TEST_POSTGRES_URL) PostgreSQL: timestamps carry their offset, date / enum / integer
//! parameters are typed, the error answers are documented with the body the API sends, and a
//! method a path does not have is 405 with `Allow`. `.ci/schemathesis.sh` checks the same document
//! against thousands of generated requests; these tests pin each rule.
mod common;

use chrono::NaiveDate;
use common::{status_json, Auth, TestApp};
use regwatch::domain::{InsurerKind, NoticeKind, Status};
use serde_json::Value;

const PASSWORD: &str = "correct-horse-battery";
const INSURER: &str = "06123456";
const NOTICES: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号\n\
N-1,資格取得,E01,株式会社テスト,100,1,,山田 太郎,2025-04-21,2025-04-24,123456789018\n";
/// Registered at 10:00 in Japan: 01:00 UTC.
const REGISTRATIONS: &str = "受付番号,登録完了日時,処理結果\nN-1,2025-04-25T10:00:00+09:00,正常\n";

async fn app() -> TestApp {
    TestApp::builder()
        .with_insurer(INSURER, InsurerKind::Kenpo)
        .with_staff(INSURER, "staff@example.jp", PASSWORD)
        .with_notices(
            INSURER,
            "n.csv",
            NOTICES,
            NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        )
        .with_registrations(INSURER, "r.csv", REGISTRATIONS)
        .spawn()
        .await
}

async fn document(app: &TestApp) -> Value {
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The schema of query parameter `name` of `GET path`.
fn query_param<'a>(doc: &'a Value, path: &str, name: &str) -> &'a Value {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("GET {path} has parameters"))
        .iter()
        .find(|p| p["name"] == name && p["in"] == "query")
        .map(|p| &p["schema"])
        .unwrap_or_else(|| panic!("GET {path} has the query parameter {name}"))
}

async fn put_staffing(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let path = "/api/v1/analysis/staffing";
    app.call_json(token, reqwest::Method::PUT, path, body).await
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_method_an_api_path_does_not_have_is_405_with_allow() {
    let app = app().await;
    let token = app.login_token("staff@example.jp", PASSWORD).await;
    for (method, path, allow) in [
        ("TRACE", "/api/v1/notices/1", "GET"),
        ("TRACE", "/api/v1/dashboard", "GET"),
        ("OPTIONS", "/api/v1/employers/1", "GET, PUT"),
        ("DELETE", "/api/v1/notices", "GET"),
        ("GET", "/api/v1/login", "POST"),
        // Written out in the document, so not an id of /api/v1/letters/{id}.
        ("GET", "/api/v1/letters/bulk", "POST"),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = app
            .request(m, path, Auth::Bearer(&token))
            .send()
            .await
            .unwrap();
        let got_allow = r
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_string());
        let (status, body) = status_json(r).await;
        assert_eq!(status, 405, "{method} {path}: {body}");
        assert_eq!(got_allow.as_deref(), Some(allow), "{method} {path}");
        assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    }
    // The methods the document lists still reach their handlers; other paths are the router's.
    assert_eq!(app.get_json(&token, "/api/v1/notices").await.0, 200);
    assert_eq!(app.get_json(&token, "/api/v1/nothing-here").await.0, 404);
}

#[tokio::test]
async fn dates_enums_and_integers_are_typed_parameters() {
    let app = app().await;
    let doc = document(&app).await;
    for (path, name) in [
        ("/api/v1/notices", "as_of"),
        ("/api/v1/notices", "received_from"),
        ("/api/v1/notices", "received_to"),
        ("/api/v1/notices", "due_from"),
        ("/api/v1/notices", "due_to"),
        ("/api/v1/dashboard", "from"),
        ("/api/v1/dashboard", "to"),
        ("/api/v1/checklist", "as_of"),
        ("/api/v1/employers", "as_of"),
        ("/api/v1/mail/preview", "as_of"),
        ("/api/v1/notices/{id}/letters/{kind}", "date"),
    ] {
        let s = query_param(&doc, path, name);
        assert_eq!(s["type"], "string", "{path} {name}: {s}");
        assert_eq!(s["format"], "date", "{path} {name}: {s}");
    }
    let notices = "/api/v1/notices";
    let status = strings(&query_param(&doc, notices, "status")["enum"]);
    assert_eq!(status, Status::ALL.map(Status::code));
    let kind = strings(&query_param(&doc, notices, "kind")["enum"]);
    assert_eq!(kind, NoticeKind::ALL.map(NoticeKind::code));
    assert_eq!(
        strings(&query_param(&doc, notices, "my_number")["enum"]),
        ["valid", "invalid", "missing"]
    );
    assert!(strings(&query_param(&doc, notices, "rule")["enum"]).contains(&"five_day"));
    assert!(strings(&query_param(&doc, notices, "sort")["enum"]).contains(&"-received_on"));
    assert_eq!(query_param(&doc, notices, "pending")["type"], "boolean");
    for name in ["page", "per_page"] {
        let s = query_param(&doc, notices, name);
        assert_eq!(s["type"], "integer", "{name}: {s}");
        assert_eq!(s["minimum"], 1, "{name}: {s}");
    }
    // No optional query parameter is nullable: a client would send the text "null".
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let t = &p["schema"]["type"];
                assert!(
                    !t.as_array().is_some_and(|t| t.contains(&"null".into())),
                    "{method} {path} {}: {t}",
                    p["name"]
                );
            }
        }
    }
}

#[tokio::test]
async fn every_operation_documents_the_errors_it_can_answer_with_the_body_sent() {
    let app = app().await;
    let doc = document(&app).await;
    let error_body = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error_body["required"], serde_json::json!(["error"]));
    let response = |r: &Value| -> Value {
        match r["$ref"].as_str() {
            Some(name) => {
                let name = name.trim_start_matches("#/components/responses/");
                doc["components"]["responses"][name].clone()
            }
            None => r.clone(),
        }
    };
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let mut expected = vec!["400", "503"];
            if secured {
                expected.push("401");
            }
            if secured && method != "get" {
                expected.push("403");
            }
            if path.contains('{') {
                expected.push("404");
            }
            for status in expected {
                let r = responses
                    .get(status)
                    .map(response)
                    .unwrap_or_else(|| panic!("{method} {path} documents {status}"));
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
    // What is sent matches: 400 and 401 with the documented body.
    let (status, body) = app.get_json(Auth::Anonymous, "/api/v1/notices").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    let token = app.login_token("staff@example.jp", PASSWORD).await;
    for query in [
        "as_of=2025-13-01",
        "status=late",
        "page=0",
        "status=met&status=open",
    ] {
        let (status, body) = app
            .get_json(&token, &format!("/api/v1/notices?{query}"))
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{query}: {body}");
    }
    // A JSON body over the limit is the documented 413, not a 400.
    let big = serde_json::json!({"entries": [{"period": "2025-04", "staff": 1, "note": "x".repeat(300 * 1024)}]});
    let (status, body) = put_staffing(&app, &token, big).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
}

#[tokio::test]
async fn timestamps_in_responses_are_rfc_3339_with_their_offset_as_documented() {
    let app = app().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("NoticeItem", "registered_at"),
        ("RegistrationBody", "registered_at"),
        ("RegistrationBody", "loaded_at"),
        ("StaffingView", "updated_at"),
        ("SubmissionBody", "created_at"),
        ("CertificateBody", "created_at"),
        ("LetterRecordBody", "created_at"),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["format"], "date-time",
            "{schema}.{field}"
        );
    }

    let token = app.login_token("staff@example.jp", PASSWORD).await;
    let (status, list) = app
        .get_json(&token, "/api/v1/notices?as_of=2025-06-30")
        .await;
    assert_eq!(status, 200, "{list}");
    let item = &list["items"][0];
    let at = |v: &Value| {
        let s = v.as_str().unwrap_or_else(|| panic!("a timestamp: {v}"));
        chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    };
    let registered = at(&item["registered_at"]);
    assert_eq!(
        registered.offset().local_minus_utc(),
        0,
        "UTC: {registered}"
    );
    assert_eq!(registered.to_rfc3339(), "2025-04-25T01:00:00+00:00");

    let id = item["id"].as_i64().unwrap();
    let (status, detail) = app
        .get_json(&token, &format!("/api/v1/notices/{id}?as_of=2025-06-30"))
        .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(at(&detail["registered_at"]), registered);
    let r = &detail["registrations"][0];
    assert_eq!(at(&r["registered_at"]), registered);
    at(&r["loaded_at"]);

    let entries = serde_json::json!({"entries": [{"period": "2025-04", "staff": 2.5}]});
    let (status, saved) = put_staffing(&app, &token, entries).await;
    assert_eq!(status, 200, "{saved}");
    let (status, staffing) = app.get_json(&token, "/api/v1/analysis/staffing").await;
    assert_eq!(status, 200, "{staffing}");
    assert_eq!(
        staffing["entries"].as_array().unwrap().len(),
        1,
        "{staffing}"
    );
    assert_eq!(
        at(&staffing["entries"][0]["updated_at"]),
        at(&saved["entries"][0]["updated_at"])
    );
}
