//! Following a case (issue 18 item 3), on SQLite and (with REGWATCH_TEST_POSTGRES_URL)
//! PostgreSQL: the 担当者 and 次回対応日 set and cleared from the case page and the API, メモ
//! appended, every change audited; `mine=1` and `follow_up_due=1` on the case list, its API and
//! its exports; viewers read only; another insurer neither sees nor changes a workflow nor has its
//! users assigned; a My Number in a note is masked; reloading the notices file keeps the workflow.
mod common;

use common::{audit_count, login_cookie, login_token, TestApp};
use diesel::prelude::*;
use regwatch::domain::InsurerKind;
use reqwest::Method;
use serde_json::{json, Value};

const PASSWORD: &str = "correct-horse-battery";
const A: &str = "06123456";
const B: &str = "34123456";
const AS_OF: &str = "2025-06-30";

/// As of 2025-06-30: N-1 and N-6 registered, N-2, N-3, N-4 not registered.
const NOTICES: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,氏名カナ,事実発生日,受付日,個人番号\n\
N-1,資格取得,E01,株式会社テスト,100,1,,山田 太郎,ヤマダ タロウ,2025-06-02,2025-06-03,123456789018\n\
N-2,資格取得,E01,株式会社テスト,100,2,,山田 花子,ヤマダ ハナコ,2025-06-10,2025-06-11,123456789018\n\
N-3,被扶養者,E02,テスト商事,200,7,01,佐藤 花子,サトウ ハナコ,2025-06-19,2025-06-20,\n\
N-4,資格取得,E02,テスト商事,200,8,,佐藤 一郎,サトウ イチロウ,2025-06-10,2025-06-25,123456789018\n\
N-6,資格取得,E03,三番工業,300,1,,田中 三郎,タナカ サブロウ,2025-06-24,2025-06-26,123456789018\n";

const RESULTS: &str = "受付番号,登録完了日時,処理結果,エラーコード,エラー内容\n\
N-1,2025-06-05T10:00:00+09:00,正常,,\n\
N-6,2025-06-27T11:00:00+09:00,正常,,\n";

const B_NOTICES: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,氏名カナ,事実発生日,受付日,個人番号\n\
B-1,資格取得,K01,所属所B,100,1,,山田 太郎,ヤマダ タロウ,2025-06-10,2025-06-11,123456789018\n";

const S1: &str = "staff1@a.example.jp";
const S2: &str = "staff2@a.example.jp";
const GONE: &str = "gone@a.example.jp";
const VIEWER: &str = "viewer@a.example.jp";
const B_STAFF: &str = "staff@b.example.jp";

async fn world() -> TestApp {
    let as_of = common::date(AS_OF);
    let app = TestApp::builder()
        .with_insurer(A, InsurerKind::Kenpo)
        .with_insurer(B, InsurerKind::Kyosai)
        .with_staff(A, S1, PASSWORD)
        .with_staff(A, S2, PASSWORD)
        .with_staff(A, GONE, PASSWORD)
        .with_viewer(A, VIEWER, PASSWORD)
        .with_staff(B, B_STAFF, PASSWORD)
        .with_notices(A, "a.csv", NOTICES, as_of)
        .with_registrations(A, "results.csv", RESULTS)
        .with_notices(B, "b.csv", B_NOTICES, as_of)
        .spawn()
        .await;
    // S2 has a 表示名; GONE was deactivated.
    use regwatch::store::schema::users;
    let mut c = app.conn();
    diesel::update(users::table.filter(users::email.eq(S2)))
        .set(users::display_name.eq("鈴木 二郎"))
        .execute(&mut c)
        .unwrap();
    diesel::update(users::table.filter(users::email.eq(GONE)))
        .set(users::deactivated_at.eq(Some(regwatch::store::now_utc())))
        .execute(&mut c)
        .unwrap();
    app
}

fn user_id(app: &TestApp, email: &str) -> i64 {
    use regwatch::store::schema::users;
    users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(&mut app.conn())
        .unwrap()
}

fn notice(app: &TestApp, insurer: &str, notice_id: &str) -> i64 {
    common::db_id(app, app.insurer(insurer), notice_id)
}

async fn put_workflow(app: &TestApp, token: &str, id: i64, body: Value) -> (u16, Value) {
    app.call_json(
        token,
        Method::PUT,
        &format!("/api/v1/notices/{id}/workflow"),
        body,
    )
    .await
}

async fn add_note(app: &TestApp, token: &str, id: i64, text: &str) -> (u16, Value) {
    app.call_json(
        token,
        Method::POST,
        &format!("/api/v1/notices/{id}/notes"),
        json!({ "text": text }),
    )
    .await
}

async fn detail(app: &TestApp, token: &str, id: i64) -> Value {
    let (s, v) = app
        .get_json(token, &format!("/api/v1/notices/{id}?as_of={AS_OF}"))
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn list(app: &TestApp, token: &str, query: &str) -> Value {
    let (s, v) = app
        .get_json(token, &format!("/api/v1/notices?as_of={AS_OF}&{query}"))
        .await;
    assert_eq!(s, 200, "{query}: {v}");
    v
}

fn ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {v}"))
        .iter()
        .map(|i| i["notice_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn stored_note_bodies(app: &TestApp) -> Vec<String> {
    use regwatch::store::schema::case_notes;
    case_notes::table
        .order(case_notes::id.asc())
        .select(case_notes::body)
        .load(&mut app.conn())
        .unwrap()
}

#[tokio::test]
async fn the_api_sets_and_clears_the_assignee_and_follow_up_date_and_appends_notes_audited() {
    let app = world().await;
    let t = login_token(&app, S1, PASSWORD).await;
    let n2 = notice(&app, A, "N-2");
    let s2 = user_id(&app, S2);

    // Nothing set yet.
    let d = detail(&app, &t, n2).await;
    assert_eq!(
        (&d["assignee"], &d["follow_up_on"], &d["notes"]),
        (&Value::Null, &Value::Null, &json!([]))
    );

    let (s, v) = put_workflow(
        &app,
        &t,
        n2,
        json!({"assignee_user_id": s2, "follow_up_on": "2025-06-28"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v,
        json!({"assignee": {"id": s2, "name": "鈴木 二郎", "active": true}, "follow_up_on": "2025-06-28"})
    );
    let d = detail(&app, &t, n2).await;
    assert_eq!(d["assignee"]["id"], s2);
    assert_eq!(d["assignee"]["name"], "鈴木 二郎");
    assert_eq!(d["follow_up_on"], "2025-06-28");
    assert_eq!(d["follow_up_due"], true);

    // Notes: appended, oldest first, with the author and a UTC time.
    let (s, first) = add_note(&app, &t, n2, "  事業所に電話。今週中に再提出の予定  ").await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["text"], "事業所に電話。今週中に再提出の予定");
    assert_eq!(first["author"], S1);
    assert!(first["created_at"].as_str().unwrap().ends_with('Z'));
    let t2 = login_token(&app, S2, PASSWORD).await;
    let (s, second) = add_note(&app, &t2, n2, "再提出を受領。\n登録予定").await;
    assert_eq!(s, 201);
    assert_eq!(second["author"], "鈴木 二郎");
    let d = detail(&app, &t, n2).await;
    let texts: Vec<&str> = d["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "事業所に電話。今週中に再提出の予定",
            "再提出を受領。\n登録予定"
        ]
    );

    // Clearing: an empty body sets both to none.
    let (s, v) = put_workflow(&app, &t, n2, json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(v, json!({"assignee": null, "follow_up_on": null}));
    let d = detail(&app, &t, n2).await;
    assert_eq!(
        (&d["assignee"], &d["follow_up_on"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(d["notes"].as_array().unwrap().len(), 2, "notes stay");

    let mut c = app.conn();
    assert_eq!(audit_count(&mut c, "case_workflow_set"), 2);
    assert_eq!(audit_count(&mut c, "case_note_added"), 2);
    let label = regwatch::store::audit::AuditAction::label_of("case_workflow_set").to_string();
    assert_eq!(label, "案件の担当者・次回対応日の変更");
    let (_, audit) = app
        .get_json(&login_token(&app, S1, PASSWORD).await, "/api/v1/audit")
        .await;
    // Staff may not read the audit log; the entries are checked in the database instead.
    let _ = audit;
    use regwatch::store::schema::audit_log;
    let details: Vec<Option<String>> = audit_log::table
        .filter(audit_log::action.eq("case_workflow_set"))
        .order(audit_log::id.asc())
        .select(audit_log::detail)
        .load(&mut c)
        .unwrap();
    assert_eq!(
        details[0].as_deref(),
        Some(
            format!("担当者: なし → 鈴木 二郎（ID {s2}）、次回対応日: なし → 2025-06-28").as_str()
        )
    );
    let targets: Vec<Option<String>> = audit_log::table
        .filter(audit_log::action.eq("case_note_added"))
        .select(audit_log::target)
        .load(&mut c)
        .unwrap();
    assert!(targets.iter().all(|t| t.as_deref() == Some("N-2")));
}

#[tokio::test]
async fn bad_input_is_refused_with_a_japanese_message_and_changes_nothing() {
    let app = world().await;
    let t = login_token(&app, S1, PASSWORD).await;
    let n2 = notice(&app, A, "N-2");
    let cases = [
        (
            json!({"assignee_user_id": user_id(&app, GONE)}),
            "無効化された利用者は担当者にできません",
        ),
        (
            json!({"assignee_user_id": user_id(&app, B_STAFF)}),
            "見つかりません",
        ),
        (json!({"assignee_user_id": 999_999}), "見つかりません"),
        (json!({"follow_up_on": "1999-12-31"}), "次回対応日は"),
        (json!({"follow_up_on": "2025-13-01"}), ""),
    ];
    for (body, message) in cases {
        let (s, v) = put_workflow(&app, &t, n2, body.clone()).await;
        assert_eq!(s, 400, "{body}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(message),
            "{body}: {v}"
        );
    }
    let long = "あ".repeat(2001);
    for text in ["", "   ", long.as_str(), "NUL\u{0}"] {
        let (s, v) = add_note(&app, &t, n2, text).await;
        assert_eq!(s, 400, "{v}");
    }
    assert_eq!(add_note(&app, &t, n2, &"あ".repeat(2000)).await.0, 201);
    // Unknown notices.
    assert_eq!(put_workflow(&app, &t, 987_654, json!({})).await.0, 404);
    assert_eq!(add_note(&app, &t, 987_654, "x").await.0, 404);
    let (s, _) = app
        .call_json(&t, Method::PUT, "/api/v1/notices/abc/workflow", json!({}))
        .await;
    assert_eq!(s, 404);

    let d = detail(&app, &t, n2).await;
    assert_eq!(
        (&d["assignee"], &d["follow_up_on"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(audit_count(&mut app.conn(), "case_workflow_set"), 0);
}

#[tokio::test]
async fn mine_and_follow_up_due_list_exactly_the_right_cases_in_the_api_page_and_exports() {
    let app = world().await;
    let t1 = login_token(&app, S1, PASSWORD).await;
    let t2 = login_token(&app, S2, PASSWORD).await;
    let (s1, s2) = (user_id(&app, S1), user_id(&app, S2));
    let set = [
        // Open, due (before the as-of date).
        ("N-2", Some(s1), Some("2025-06-28")),
        // Open, due on the as-of date itself.
        ("N-3", Some(s2), Some("2025-06-30")),
        // Registered 6/5: closed, never due.
        ("N-1", Some(s1), Some("2025-06-20")),
        // Open, not due yet.
        ("N-4", None, Some("2025-07-01")),
        // Registered: not due.
        ("N-6", None, Some("2025-06-29")),
    ];
    for (nid, who, date) in set {
        let (s, v) = put_workflow(
            &app,
            &t1,
            notice(&app, A, nid),
            json!({"assignee_user_id": who, "follow_up_on": date}),
        )
        .await;
        assert_eq!(s, 200, "{nid}: {v}");
    }

    let mine1 = list(&app, &t1, "mine=1").await;
    assert_eq!(ids(&mine1), ["N-1", "N-2"]);
    assert_eq!(mine1["total"], 2);
    let mine2 = list(&app, &t2, "mine=1").await;
    assert_eq!(ids(&mine2), ["N-3"]);
    assert_eq!(mine2["total"], 1);
    let due = list(&app, &t1, "follow_up_due=1").await;
    assert_eq!(ids(&due), ["N-2", "N-3"]);
    assert_eq!(due["total"], 2);
    let both = list(&app, &t1, "mine=1&follow_up_due=true").await;
    assert_eq!(ids(&both), ["N-2"]);
    assert_eq!(both["total"], 1);
    // As of an earlier day, N-2 (6/28) is not due yet.
    let (_, early) = app
        .get_json(&t1, "/api/v1/notices?as_of=2025-06-27&follow_up_due=1")
        .await;
    assert_eq!(ids(&early), Vec::<String>::new());
    assert_eq!(early["total"], 0);

    // The items carry the workflow.
    let all = list(&app, &t1, "").await;
    let item = |nid: &str| {
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["notice_id"] == nid)
            .unwrap()
            .clone()
    };
    assert_eq!(item("N-2")["assignee"]["id"], s1);
    assert_eq!(item("N-2")["follow_up_on"], "2025-06-28");
    assert_eq!(item("N-2")["follow_up_due"], true);
    assert_eq!(item("N-1")["follow_up_due"], false);
    assert_eq!(item("N-4")["assignee"], Value::Null);
    assert_eq!(item("N-4")["follow_up_due"], false);

    // A change shows at once (the count is not cached across workflow changes).
    put_workflow(
        &app,
        &t1,
        notice(&app, A, "N-2"),
        json!({"assignee_user_id": s2, "follow_up_on": "2025-06-28"}),
    )
    .await;
    let mine1 = list(&app, &t1, "mine=1").await;
    assert_eq!(ids(&mine1), ["N-1"]);
    assert_eq!(mine1["total"], 1);
    assert_eq!(list(&app, &t2, "mine=1").await["total"], 2);

    // The exports share the filter and carry the two columns.
    let r = app
        .get_as(&t2, &format!("/api/v1/notices.csv?as_of={AS_OF}&mine=1"))
        .await;
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_end().lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].ends_with("担当者,次回対応日"), "{}", lines[0]);
    assert!(lines[1..].iter().all(|l| l.contains("鈴木 二郎")), "{csv}");
    assert!(csv.contains("2025-06-28"));

    // The page: the filter boxes, the column, the rows.
    let s = login_cookie(&app, S2, PASSWORD).await;
    let html = app
        .page_text(&s, &format!("/notices?as_of={AS_OF}&mine=1"))
        .await;
    assert!(html.contains("id=\"f-mine\" name=\"mine\" value=\"1\" checked"));
    assert!(html.contains(">N-2<") && html.contains(">N-3<"), "{html}");
    assert!(!html.contains(">N-1<") && !html.contains(">N-4<"));
    assert!(html.contains("担当・次回対応日</span></th>"));
    assert!(html.contains("担当 鈴木 二郎"));
    assert!(html.contains("<strong id=\"total\">2</strong>"));
    let html = app
        .page_text(&s, &format!("/notices?as_of={AS_OF}&follow_up_due=1"))
        .await;
    assert!(html.contains(">N-2<") && html.contains(">N-3<"));
    assert!(!html.contains(">N-1<") && !html.contains(">N-4<") && !html.contains(">N-6<"));
}

#[tokio::test]
async fn the_case_page_sets_the_workflow_and_adds_notes_with_csrf_and_redirects_back() {
    let app = world().await;
    let s = login_cookie(&app, S1, PASSWORD).await;
    let n2 = notice(&app, A, "N-2");
    let s2 = user_id(&app, S2);
    let page = format!("/notices/{n2}");
    let html = app.page_text(&s, &page).await;
    assert!(html.contains("id=\"workflow-form\""));
    assert!(
        html.contains(&format!("<option value=\"{s2}\" >鈴木 二郎</option>")),
        "{html}"
    );
    // A deactivated user is not offered.
    assert!(!html.contains(GONE));

    let r = app
        .post_form(
            &s,
            &format!("/notices/{n2}/workflow"),
            &[
                ("assignee", &s2.to_string()),
                ("follow_up_on", "2025-07-01"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(to, format!("/notices/{n2}?saved=workflow#workflow"));
    let html = app.page_text(&s, &to).await;
    assert!(html.contains("担当者・次回対応日を保存しました。"));
    assert!(html.contains(&format!(
        "<option value=\"{s2}\" selected>鈴木 二郎</option>"
    )));
    assert!(html.contains("value=\"2025-07-01\""));

    let r = app
        .post_form(
            &s,
            &format!("/notices/{n2}/notes"),
            &[("text", "事業所に電話。今週中に再提出の予定")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/notices/{n2}?saved=note#workflow").as_str()
    );
    let html = app
        .page_text(&s, &format!("/notices/{n2}?saved=note"))
        .await;
    assert!(html.contains("メモを追加しました。"));
    assert!(html.contains("事業所に電話。今週中に再提出の予定"));

    // Clearing from the form: empty fields.
    let r = app
        .post_form(
            &s,
            &format!("/notices/{n2}/workflow"),
            &[("assignee", ""), ("follow_up_on", "")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let t = login_token(&app, S1, PASSWORD).await;
    let d = detail(&app, &t, n2).await;
    assert_eq!(
        (&d["assignee"], &d["follow_up_on"]),
        (&Value::Null, &Value::Null)
    );

    // Without the right CSRF token nothing is saved.
    let r = app
        .post_form(
            &s,
            &format!("/notices/{n2}/notes"),
            &[("text", "偽のメモ"), ("csrf", "wrong")],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(stored_note_bodies(&app).len(), 1);
}

#[tokio::test]
async fn viewers_read_the_workflow_but_cannot_change_it() {
    let app = world().await;
    let n2 = notice(&app, A, "N-2");
    let t1 = login_token(&app, S1, PASSWORD).await;
    let s2 = user_id(&app, S2);
    put_workflow(
        &app,
        &t1,
        n2,
        json!({"assignee_user_id": s2, "follow_up_on": "2025-06-28"}),
    )
    .await;
    add_note(&app, &t1, n2, "確認中").await;

    let tv = login_token(&app, VIEWER, PASSWORD).await;
    let d = detail(&app, &tv, n2).await;
    assert_eq!(d["assignee"]["name"], "鈴木 二郎");
    assert_eq!(d["notes"][0]["text"], "確認中");
    assert_eq!(put_workflow(&app, &tv, n2, json!({})).await.0, 403);
    assert_eq!(add_note(&app, &tv, n2, "閲覧者のメモ").await.0, 403);

    let sv = login_cookie(&app, VIEWER, PASSWORD).await;
    let html = app.page_text(&sv, &format!("/notices/{n2}")).await;
    assert!(!html.contains("id=\"workflow-form\"") && !html.contains("id=\"note-form\""));
    assert!(html.contains("鈴木 二郎") && html.contains("確認中"));
    let r = app
        .post_form(&sv, &format!("/notices/{n2}/workflow"), &[("assignee", "")])
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .post_form(&sv, &format!("/notices/{n2}/notes"), &[("text", "x")])
        .await;
    assert_eq!(r.status(), 403);

    let d = detail(&app, &t1, n2).await;
    assert_eq!(d["assignee"]["id"], s2);
    assert_eq!(d["notes"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn another_insurer_neither_sees_nor_changes_a_workflow_nor_has_its_users_assigned() {
    let app = world().await;
    let n2 = notice(&app, A, "N-2");
    let b1 = notice(&app, B, "B-1");
    let t1 = login_token(&app, S1, PASSWORD).await;
    let tb = login_token(&app, B_STAFF, PASSWORD).await;
    let s1 = user_id(&app, S1);
    put_workflow(
        &app,
        &t1,
        n2,
        json!({"assignee_user_id": s1, "follow_up_on": "2025-06-28"}),
    )
    .await;
    add_note(&app, &t1, n2, "A のメモ").await;

    // B reaches none of A's case, by either way in.
    assert_eq!(
        app.get_json(&tb, &format!("/api/v1/notices/{n2}")).await.0,
        404
    );
    assert_eq!(
        put_workflow(
            &app,
            &tb,
            n2,
            json!({"assignee_user_id": user_id(&app, B_STAFF)})
        )
        .await
        .0,
        404
    );
    assert_eq!(add_note(&app, &tb, n2, "B のメモ").await.0, 404);
    let sb = login_cookie(&app, B_STAFF, PASSWORD).await;
    for path in [
        format!("/notices/{n2}/workflow"),
        format!("/notices/{n2}/notes"),
    ] {
        let r = app
            .post_form(&sb, &path, &[("assignee", ""), ("text", "x")])
            .await;
        assert_eq!(r.status(), 404, "{path}");
    }
    // B cannot assign A's user to its own case either.
    let (s, _) = put_workflow(&app, &tb, b1, json!({"assignee_user_id": s1})).await;
    assert_eq!(s, 400);
    // B's lists hold none of A's cases.
    let (_, due) = app
        .get_json(
            &tb,
            &format!("/api/v1/notices?as_of={AS_OF}&follow_up_due=1"),
        )
        .await;
    assert_eq!(due["total"], 0);
    let (_, mine) = app.get_json(&tb, "/api/v1/notices?mine=1").await;
    assert_eq!(mine["total"], 0);

    let d = detail(&app, &t1, n2).await;
    assert_eq!(d["assignee"]["id"], s1);
    assert_eq!(d["follow_up_on"], "2025-06-28");
    assert_eq!(d["notes"].as_array().unwrap().len(), 1);
    assert_eq!(stored_note_bodies(&app), ["A のメモ"]);
}

#[tokio::test]
async fn a_my_number_in_a_note_is_never_stored() {
    let app = world().await;
    let n2 = notice(&app, A, "N-2");
    let t = login_token(&app, S1, PASSWORD).await;
    // A valid My Number (the request guard masks it), one with a wrong check digit, spaced.
    let (s, v) = add_note(&app, &t, n2, "個人番号 123456789018 を確認").await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = add_note(&app, &t, n2, "番号 1234 5678 9012 は誤り").await;
    assert_eq!(s, 201, "{v}");
    let s1 = login_cookie(&app, S1, PASSWORD).await;
    let r = app
        .post_form(
            &s1,
            &format!("/notices/{n2}/notes"),
            &[("text", "電話で１２３４５６７８９０１８と聞いた")],
        )
        .await;
    assert_eq!(r.status(), 303);
    // The CLI and any other caller come through the same app function.
    let acting = regwatch::app::Acting {
        insurer: app.insurer(A).id,
        user: None,
        label: "cli".into(),
    };
    regwatch::app::workflow::add_note(&mut app.conn(), &acting, n2, "CLI 123456789018").unwrap();

    let bodies = stored_note_bodies(&app);
    assert_eq!(bodies.len(), 4);
    for b in &bodies {
        let digits = b.chars().filter(|c| c.is_ascii_digit()).count();
        assert!(digits < 12, "{b}");
        assert!(!b.contains("１２３４５６７８９０１８"), "{b}");
    }
    let d = detail(&app, &t, n2).await;
    assert!(!d.to_string().contains("123456789018"));
}

#[tokio::test]
async fn reloading_the_notices_file_keeps_the_workflow_of_its_cases() {
    let app = world().await;
    let n2 = notice(&app, A, "N-2");
    let t = login_token(&app, S1, PASSWORD).await;
    let s2 = user_id(&app, S2);
    put_workflow(
        &app,
        &t,
        n2,
        json!({"assignee_user_id": s2, "follow_up_on": "2025-06-28"}),
    )
    .await;
    add_note(&app, &t, n2, "再取込の前のメモ").await;

    // The same file again, then one where N-2 changed (a later 受付日): updated in place.
    let insurer = app.insurer(A).clone();
    let mut c = app.conn();
    common::import_notices_csv(&mut c, &insurer, "a.csv", NOTICES, common::date(AS_OF));
    let changed = NOTICES.replace(
        "N-2,資格取得,E01,株式会社テスト,100,2,,山田 花子,ヤマダ ハナコ,2025-06-10,2025-06-11",
        "N-2,資格取得,E01,株式会社テスト,100,2,,山田 花子,ヤマダ ハナコ,2025-06-10,2025-06-12",
    );
    assert_ne!(changed, NOTICES);
    let summary =
        common::import_notices_csv(&mut c, &insurer, "a2.csv", &changed, common::date(AS_OF));
    assert_eq!(summary.changed, 1, "{summary:?}");

    assert_eq!(notice(&app, A, "N-2"), n2, "the row id is stable");
    let d = detail(&app, &t, n2).await;
    assert_eq!(d["received_on"], "2025-06-12");
    assert_eq!(d["assignee"]["id"], s2);
    assert_eq!(d["follow_up_on"], "2025-06-28");
    assert_eq!(d["notes"][0]["text"], "再取込の前のメモ");
    assert_eq!(ids(&list(&app, &t, "follow_up_due=1").await), ["N-2"]);
}

#[tokio::test]
async fn the_demo_follows_its_most_urgent_cases_once() {
    let app = TestApp::builder()
        .with_insurer(A, InsurerKind::Kenpo)
        .with_admin(A, "admin@a.example.jp", PASSWORD)
        .with_staff(A, S1, PASSWORD)
        .with_notices(A, "a.csv", NOTICES, common::date(AS_OF))
        .spawn()
        .await;
    let insurer = app.insurer(A).clone();
    let today = common::date(AS_OF);
    regwatch::demo::case_workflow(&mut app.conn(), &insurer, today).unwrap();
    regwatch::demo::case_workflow(&mut app.conn(), &insurer, today).unwrap();

    // Five open cases (no results loaded): the staff user follows them all (up to six), three
    // are due (two days ago, today, and two days ago again for the fifth).
    let t = login_token(&app, S1, PASSWORD).await;
    assert_eq!(
        ids(&list(&app, &t, "mine=1").await),
        ["N-1", "N-2", "N-3", "N-4", "N-6"]
    );
    let due = list(&app, &t, "follow_up_due=1").await;
    assert_eq!(due["total"], 3, "{due}");
    let bodies = stored_note_bodies(&app);
    assert!(
        bodies.contains(&"事業所に電話。今週中に再提出の予定".to_string()),
        "{bodies:?}"
    );
    assert_eq!(audit_count(&mut app.conn(), "case_workflow_set"), 5, "once");
}

#[tokio::test]
async fn a_discarded_or_committed_upload_of_the_notices_file_leaves_the_workflow_alone() {
    let app = world().await;
    let n2 = notice(&app, A, "N-2");
    let t = login_token(&app, S1, PASSWORD).await;
    let s2 = user_id(&app, S2);
    put_workflow(
        &app,
        &t,
        n2,
        json!({"assignee_user_id": s2, "follow_up_on": "2025-06-28"}),
    )
    .await;
    add_note(&app, &t, n2, "取込の前のメモ").await;

    let s = login_cookie(&app, S1, PASSWORD).await;
    let changed = NOTICES.replace("2025-06-10,2025-06-11", "2025-06-10,2025-06-13");
    let upload = |app: &TestApp| {
        let (ct, body) = common::multipart(&[
            ("kind", None, b"notices"),
            ("file", Some("a3.csv"), changed.as_bytes()),
        ]);
        app.request(Method::POST, "/imports", &s)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, ct)
            .body(body)
    };
    for action in ["discard", "commit"] {
        let r = upload(&app).send().await.unwrap();
        assert_eq!(r.status(), 200, "{action}");
        let p: Value = r.json().await.unwrap();
        let id = p["upload_id"].as_i64().unwrap_or_else(|| panic!("{p}"));
        let r = app
            .post_form(&s, &format!("/imports/uploads/{id}/{action}"), &[])
            .await;
        assert_eq!(r.status(), 303, "{action}");
    }
    let d = detail(&app, &t, n2).await;
    assert_eq!(
        d["received_on"], "2025-06-13",
        "the commit loaded the change"
    );
    assert_eq!(d["assignee"]["id"], s2);
    assert_eq!(d["follow_up_on"], "2025-06-28");
    assert_eq!(d["notes"][0]["text"], "取込の前のメモ");
}
