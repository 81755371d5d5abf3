//! The staff's working day on the case list (issue 18), on SQLite and (with
//! REGWATCH_TEST_POSTGRES_URL) PostgreSQL: `q=` search by 氏名 / カナ / 記号番号 / 受付番号, the
//! 登録エラー worklist (`reg_error=1`) and its dashboard count, sort by 超過日数, the exports (member
//! columns, xlsx date cells, autofilter, print titles, file names), the case page's registration
//! results in order and in JST, error pages with the navigation, employers by 事業所記号 — and
//! another insurer's notices never found by any of them.
mod common;

use common::{login_cookie, login_token, TestApp};
use regwatch::domain::InsurerKind;
use serde_json::Value;

const PASSWORD: &str = "correct-horse-battery";
const A: &str = "06123456";
const B: &str = "34123456";
const AS_OF: &str = "2025-06-30";
const MY_NUMBER: &str = "123456789018";

/// As of 2025-06-30:
/// - N-1 registered 6/5; its results: an undated error (line 2) and the success (line 3), and in a
///   later file an error dated 6/4 → registered, not on the worklist
/// - N-2 an error dated 6/12, not registered → worklist
/// - N-3 an undated error, not registered → worklist
/// - N-4 submitted late, no result → not on the worklist
/// - N-5 an error dated 6/2, registered 6/20 → on the worklist only as of a day before 6/20
/// - N-6 a success only
const NOTICES: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,氏名カナ,事実発生日,受付日,個人番号\n\
N-1,資格取得,E01,株式会社テスト,100,1,,山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,2025-06-02,2025-06-03,123456789018\n\
N-2,資格取得,E01,株式会社テスト,100,2,,山田　花子,ヤマダ　ハナコ,2025-06-10,2025-06-11,123456789018\n\
N-3,被扶養者,E02,テスト商事,200,7,01,佐藤 花子,サトウ ハナコ,2025-06-19,2025-06-20,\n\
N-4,資格取得,E02,テスト商事,200,8,,佐藤 一郎,サトウ イチロウ,2025-06-10,2025-06-25,123456789018\n\
N-5,資格取得,E01,株式会社テスト,100,3,,鈴木 一,スズキ ハジメ,2025-05-30,2025-06-01,123456789018\n\
N-6,資格取得,E03,三番工業,300,1,,田中 三郎,タナカ サブロウ,2025-06-24,2025-06-26,123456789018\n";

const RESULTS: &str = "受付番号,登録完了日時,処理結果,エラーコード,エラー内容\n\
N-1,,エラー,E0101,J-LIS照会結果不一致\n\
N-1,2025-06-05T10:00:00+09:00,正常,,\n\
N-2,2025-06-12 10:00:00,エラー,E0203,基本4情報の不一致\n\
N-3,,エラー,E0101,J-LIS照会結果不一致\n\
N-5,2025-06-02T09:00:00+09:00,エラー,E0101,J-LIS照会結果不一致\n\
N-5,2025-06-20T15:00:00+09:00,正常,,\n\
N-6,2025-06-27T11:00:00+09:00,正常,,\n";

/// Loaded after RESULTS: an older error of N-1 (dated before its success).
const LATE_FILE: &str = "受付番号,登録完了日時,処理結果,エラーコード,エラー内容\n\
N-1,2025-06-04T09:00:00+09:00,エラー,E0999,古い処理結果\n";

/// Insurer B has a member of the same name, on its own worklist.
const B_NOTICES: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,氏名カナ,事実発生日,受付日,個人番号\n\
B-1,資格取得,K01,所属所B,100,1,,山田 太郎,ヤマダ タロウ,2025-06-10,2025-06-11,123456789018\n\
N-2,資格取得,K01,所属所B,100,2,,山田 花子,ヤマダ ハナコ,2025-06-10,2025-06-11,123456789018\n";

const B_RESULTS: &str = "受付番号,登録完了日時,処理結果,エラーコード,エラー内容\n\
B-1,,エラー,E0101,J-LIS照会結果不一致\n\
N-2,,エラー,E0101,J-LIS照会結果不一致\n";

async fn world() -> TestApp {
    let as_of = common::date(AS_OF);
    TestApp::builder()
        .with_insurer(A, InsurerKind::Kenpo)
        .with_insurer(B, InsurerKind::Kyosai)
        .with_staff(A, "staff@a.example.jp", PASSWORD)
        .with_viewer(A, "viewer@a.example.jp", PASSWORD)
        .with_staff(B, "staff@b.example.jp", PASSWORD)
        .with_notices(A, "a.csv", NOTICES, as_of)
        .with_registrations(A, "results.csv", RESULTS)
        .with_registrations(A, "late.csv", LATE_FILE)
        .with_notices(B, "b.csv", B_NOTICES, as_of)
        .with_registrations(B, "b-results.csv", B_RESULTS)
        .spawn()
        .await
}

/// The 受付番号 of a list answer, in its order.
fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {v}"))
        .iter()
        .map(|i| i["notice_id"].as_str().unwrap().to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn list(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, body) = app
        .get_json(token, &format!("/api/v1/notices?as_of={AS_OF}&{query}"))
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

#[tokio::test]
async fn q_finds_a_notice_by_its_members_name_kana_symbol_and_number_and_by_its_notice_id() {
    let app = world().await;
    let t = login_token(&app, "staff@a.example.jp", PASSWORD).await;
    let found = |q: &'static str| {
        let app = &app;
        let t = &t;
        async move {
            let query = serde_urlencoded::to_string([("q", q)]).unwrap();
            sorted(ids(&list(app, t, &query).await))
        }
    };
    // 氏名 by prefix, whatever the spacing and width.
    assert_eq!(found("山田").await, ["N-1", "N-2"]);
    assert_eq!(found("山田太郎").await, ["N-1"]);
    assert_eq!(found("山田 花子").await, ["N-2"]);
    assert_eq!(found("山田　花").await, ["N-2"]);
    // カナ: hiragana, half-width and full-width katakana all match.
    assert_eq!(found("やまだ").await, ["N-1", "N-2"]);
    assert_eq!(found("ﾔﾏﾀﾞﾊ").await, ["N-2"]);
    assert_eq!(found("ヤマダ タロウ").await, ["N-1"]);
    assert_eq!(found("さとう").await, ["N-3", "N-4"]);
    // 記号・番号 (・枝番), or the 番号 alone.
    assert_eq!(found("100 2").await, ["N-2"]);
    assert_eq!(found("100-3").await, ["N-5"]);
    assert_eq!(found("２００－７－０１").await, ["N-3"]);
    assert_eq!(found("8").await, ["N-4"]);
    // 受付番号, exactly.
    assert_eq!(found("N-3").await, ["N-3"]);
    assert_eq!(found("Ｎ－６").await, ["N-6"]);
    assert!(found("存在しない名前").await.is_empty());

    // Items carry the member.
    let v = list(&app, &t, "q=N-3").await;
    let m = &v["items"][0]["member"];
    assert_eq!(m["symbol"], "200");
    assert_eq!(m["number"], "7");
    assert_eq!(m["dependent_seq"], "01");
    assert_eq!(m["name"], "佐藤 花子");
    assert_eq!(v["total"], 1);
    assert_eq!(v["search_truncated"], false);

    // With the other filters.
    assert_eq!(
        sorted(ids(
            &list(&app, &t, "q=%E5%B1%B1%E7%94%B0&reg_error=1").await
        )),
        ["N-2"]
    );

    // The page: the search box keeps the text, the member columns show.
    let s = login_cookie(&app, "staff@a.example.jp", PASSWORD).await;
    let html = app
        .page_text(
            &s,
            &format!("/notices?as_of={AS_OF}&q=%E3%82%84%E3%81%BE%E3%81%A0"),
        )
        .await;
    assert!(html.contains(r#"value="やまだ""#), "the search box keeps q");
    assert!(html.contains(">N-1</a>") && html.contains(">N-2</a>"));
    assert!(!html.contains(">N-3</a>"));
    assert!(html.contains("山田 太郎") && html.contains("100-1"));
    assert!(html.contains("「やまだ」の検索結果"));
}

#[tokio::test]
async fn another_insurers_notices_are_never_found_by_q_or_reg_error() {
    let app = world().await;
    let a = login_token(&app, "staff@a.example.jp", PASSWORD).await;
    let b = login_token(&app, "staff@b.example.jp", PASSWORD).await;
    // The same name, number and even 受付番号 at B: A finds only its own.
    for q in ["q=%E5%B1%B1%E7%94%B0", "q=100+1", "q=N-2", "q=B-1", "q=K01"] {
        let v = list(&app, &a, q).await;
        for item in v["items"].as_array().unwrap() {
            assert_ne!(item["employer"]["code"], "K01", "{q}: {item}");
        }
    }
    assert!(ids(&list(&app, &a, "q=B-1").await).is_empty());
    assert_eq!(ids(&list(&app, &a, "q=N-2").await), ["N-2"]);
    assert_eq!(
        list(&app, &a, "q=N-2").await["items"][0]["employer"]["code"],
        "E01"
    );
    assert_eq!(
        sorted(ids(&list(&app, &a, "reg_error=1").await)),
        ["N-2", "N-3"]
    );
    // And B only its own.
    assert_eq!(
        sorted(ids(&list(&app, &b, "q=%E5%B1%B1%E7%94%B0").await)),
        ["B-1", "N-2"]
    );
    let v = list(&app, &b, "reg_error=1").await;
    assert_eq!(sorted(ids(&v)), ["B-1", "N-2"]);
    for item in v["items"].as_array().unwrap() {
        assert_eq!(item["employer"]["code"], "K01");
    }
    // The exports and the page too.
    let s = login_cookie(&app, "staff@a.example.jp", PASSWORD).await;
    let html = app
        .page_text(&s, &format!("/notices?as_of={AS_OF}&reg_error=1"))
        .await;
    assert!(!html.contains("B-1") && !html.contains("K01"));
    let csv = app
        .get_as(&a, &format!("/api/v1/notices.csv?as_of={AS_OF}&q=B-1"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 1, "only the header: {csv}");
}

#[tokio::test]
async fn reg_error_lists_exactly_the_unregistered_notices_whose_latest_result_is_an_error() {
    let app = world().await;
    let t = login_token(&app, "staff@a.example.jp", PASSWORD).await;
    let v = list(&app, &t, "reg_error=1&sort=notice_id").await;
    assert_eq!(ids(&v), ["N-2", "N-3"]);
    assert_eq!(v["total"], 2);
    let err = &v["items"][0]["registration_error"];
    assert_eq!(err["code"], "E0203");
    assert_eq!(err["message"], "基本4情報の不一致");
    assert_eq!(v["items"][1]["registration_error"]["code"], "E0101");
    assert!(v["items"][1]["registration_error"]["at"].is_null());
    // Items off the worklist carry no error, even with an error result (N-1 is registered).
    let all = list(&app, &t, "per_page=100&sort=notice_id").await;
    for item in all["items"].as_array().unwrap() {
        let on_list = matches!(item["notice_id"].as_str(), Some("N-2" | "N-3"));
        assert_eq!(
            !item["registration_error"].is_null(),
            on_list,
            "{}",
            item["notice_id"]
        );
    }
    // As of a day before N-5's success, its error keeps it on the list; N-2, N-3 not yet received
    // or errored.
    let (_, v) = app
        .get_json(&t, "/api/v1/notices?as_of=2025-06-10&reg_error=1")
        .await;
    assert_eq!(ids(&v), ["N-5"]);

    // The dashboard counts the list it links to.
    let (_, d) = app
        .get_json(&t, &format!("/api/v1/dashboard?as_of={AS_OF}"))
        .await;
    assert_eq!(d["registration_errors"], 2);
    let s = login_cookie(&app, "staff@a.example.jp", PASSWORD).await;
    let html = app
        .page_text(&s, &format!("/dashboard?as_of={AS_OF}"))
        .await;
    let link = format!("/notices?reg_error=1&amp;as_of={AS_OF}");
    assert!(html.contains(&format!(r#"href="{link}""#)), "{html}");
    assert!(html.contains("登録エラー（中間サーバー）"));
    let page = app.page_text(&s, &link.replace("&amp;", "&")).await;
    assert!(page.contains("登録エラー一覧"));
    assert!(page.contains(r#"<strong id="total">2</strong>"#), "{page}");
    assert!(page.contains("E0203") && page.contains("基本4情報の不一致"));
    assert!(page.contains("E0101 J-LIS照会結果不一致"));
}

#[tokio::test]
async fn the_case_page_orders_results_by_file_and_time_and_shows_them_in_jst() {
    let app = world().await;
    let t = login_token(&app, "staff@a.example.jp", PASSWORD).await;
    let id = common::db_id(&app, app.insurer(A), "N-1");
    let (status, n) = app
        .get_json(&t, &format!("/api/v1/notices/{id}?as_of={AS_OF}"))
        .await;
    assert_eq!(status, 200);
    let results: Vec<(String, String)> = n["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["result"].as_str().unwrap().to_string(),
                r["error_code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    // The 6/4 error of the later file, the undated error (before the success it preceded in its
    // file), the success.
    assert_eq!(
        results,
        [
            ("error".to_string(), "E0999".to_string()),
            ("error".to_string(), "E0101".to_string()),
            ("ok".to_string(), String::new()),
        ]
    );
    assert_eq!(n["member"]["name_kana"], "ﾔﾏﾀﾞ ﾀﾛｳ");
    assert!(n["registration_error"].is_null());

    let s = login_cookie(&app, "staff@a.example.jp", PASSWORD).await;
    let html = app
        .page_text(&s, &format!("/notices/{id}?as_of={AS_OF}"))
        .await;
    assert!(!html.contains("UTC"));
    // 10:00 JST is stored as 01:00 UTC; the page shows JST.
    assert!(
        html.contains("2025-06-05 10:00"),
        "registration time in JST"
    );
    assert!(!html.contains("2025-06-05 01:00"));
    let timeline = &html[html.find(r#"class="timeline""#).unwrap()..];
    let undated = timeline.find("E0101 J-LIS照会結果不一致").unwrap();
    let success = timeline.find("中間サーバー登録完了").unwrap();
    let older = timeline.find("E0999").unwrap();
    assert!(older < undated && undated < success, "{timeline}");

    // A notice on the worklist says so on its page.
    let id2 = common::db_id(&app, app.insurer(A), "N-2");
    let html = app
        .page_text(&s, &format!("/notices/{id2}?as_of={AS_OF}"))
        .await;
    assert!(html.contains(r#"id="registration-error""#));
    assert!(
        html.contains("2025-06-12 10:00"),
        "a naive timestamp is JST"
    );
}

#[tokio::test]
async fn sort_by_days_over_puts_the_most_overdue_first() {
    let app = world().await;
    let t = login_token(&app, "staff@a.example.jp", PASSWORD).await;
    let as_of = common::date(AS_OF);
    for (sort, rule) in [
        ("-registration_days_over", "registration"),
        ("-submission_days_over", "submission"),
    ] {
        let v = list(&app, &t, &format!("sort={sort}&per_page=100")).await;
        let days: Vec<i64> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let date = |v: &Value| v.as_str().map(|s| s.parse::<chrono::NaiveDate>().unwrap());
                let deadline = date(&i[rule]["deadline"]).unwrap();
                let done = if rule == "submission" {
                    date(&i["received_on"]).unwrap()
                } else {
                    date(&i["registered_on"])
                        .filter(|r| *r <= as_of)
                        .unwrap_or(as_of)
                };
                (done - deadline).num_days()
            })
            .collect();
        assert_eq!(days.len(), 6);
        assert!(days.windows(2).all(|w| w[0] >= w[1]), "{sort}: {days:?}");
        assert!(days[0] > 0, "{sort}: the first is overdue: {days:?}");
        assert_eq!(
            v["items"][0][rule]["days_over"].as_i64(),
            Some(days[0]),
            "{sort}"
        );
    }
    // The page offers the sort.
    let s = login_cookie(&app, "staff@a.example.jp", PASSWORD).await;
    let html = app.page_text(&s, "/notices").await;
    assert!(html.contains(r#"value="-registration_days_over""#));
}

#[tokio::test]
async fn a_my_number_is_never_searched_for_nor_echoed() {
    let app = world().await;
    let t = login_token(&app, "staff@a.example.jp", PASSWORD).await;
    for path in [
        format!("/api/v1/notices?q={MY_NUMBER}"),
        "/api/v1/notices?q=1234+5678+9018".to_string(),
        format!("/api/v1/notices.csv?q={MY_NUMBER}"),
    ] {
        let r = app.get_as(&t, &path).await;
        assert_eq!(r.status(), 400, "{path}");
        let body = r.text().await.unwrap();
        assert!(
            !body.contains(MY_NUMBER) && !body.contains("5678"),
            "{body}"
        );
    }
    let s = login_cookie(&app, "staff@a.example.jp", PASSWORD).await;
    let r = app.get_as(&s, &format!("/notices?q={MY_NUMBER}")).await;
    assert_eq!(r.status(), 400);
    assert!(!r.text().await.unwrap().contains(MY_NUMBER));
}

/// The worklist as of AS_OF exported in `ext`, named `案件一覧_{保険者番号}_{as-of}.{ext}` (RFC 6266:
/// UTF-8 in `filename*`, ASCII in `filename`).
async fn export(app: &TestApp, token: &str, ext: &str) -> reqwest::Response {
    let r = app
        .get_as(
            token,
            &format!("/api/v1/notices.{ext}?as_of={AS_OF}&reg_error=1&sort=notice_id"),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-disposition"].to_str().unwrap(),
        format!(
            "attachment; filename=\"cases_06123456_2025-06-30.{ext}\"; \
             filename*=UTF-8''%E6%A1%88%E4%BB%B6%E4%B8%80%E8%A6%A7_06123456_2025-06-30.{ext}"
        )
    );
    r
}

#[tokio::test]
async fn exports_carry_members_real_dates_an_autofilter_and_their_filter_and_date_in_the_name() {
    let app = world().await;
    let t = login_token(&app, "staff@a.example.jp", PASSWORD).await;

    let r = export(&app, &t, "csv").await;
    let text = r.text().await.unwrap();
    let mut rd = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = rd.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][col("受付番号")], "N-2");
    assert_eq!(&rows[0][col("氏名")], "山田 花子");
    assert_eq!(&rows[0][col("被保険者記号")], "100");
    assert_eq!(&rows[0][col("被保険者番号")], "2");
    assert_eq!(&rows[0][col("受付日")], "2025-06-11");
    assert_eq!(&rows[0][col("登録エラーコード")], "E0203");
    assert_eq!(&rows[0][col("登録エラー日時")], "2025-06-12 10:00");
    assert_eq!(&rows[1][col("枝番")], "01");
    assert!(!text.contains(MY_NUMBER));

    let r = export(&app, &t, "xlsx").await;
    let bytes = r.bytes().await.unwrap().to_vec();
    use calamine::{Data, DataType, Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = wb.defined_names().iter().map(|(n, _)| n.clone()).collect();
    assert!(
        names.iter().any(|n| n == "_xlnm._FilterDatabase"),
        "an autofilter: {names:?}"
    );
    assert!(
        names.iter().any(|n| n == "_xlnm.Print_Titles"),
        "the headers repeat on every printed page: {names:?}"
    );
    let range = wb.worksheet_range("案件一覧").unwrap();
    let cell = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
    assert!(cell(0, 0).to_string().starts_with("06123456 "));
    let cover = cell(1, 0).to_string();
    assert!(
        cover.contains("登録エラー")
            && cover.contains("基準日: 2025-06-30")
            && cover.contains("2 件"),
        "{cover}"
    );
    let header: Vec<String> = (0..25).map(|c| cell(3, c).to_string()).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap() as u32;
    assert_eq!(cell(4, col("受付番号")).to_string(), "N-2");
    assert_eq!(cell(4, col("氏名")).to_string(), "山田 花子");
    let received = cell(4, col("受付日"));
    assert!(
        received.is_datetime(),
        "受付日 is a date cell: {received:?}"
    );
    assert_eq!(
        received.as_date(),
        Some(chrono::NaiveDate::from_ymd_opt(2025, 6, 11).unwrap())
    );
    assert!(cell(4, col("登録期限")).is_datetime());
    assert!(
        matches!(cell(4, col("登録超過日数")), Data::Float(_) | Data::Int(_)),
        "day counts are numbers"
    );
}

#[tokio::test]
async fn an_unknown_page_is_a_japanese_404_with_the_navigation_and_the_api_keeps_json() {
    let app = world().await;
    let s = login_cookie(&app, "staff@a.example.jp", PASSWORD).await;
    for path in ["/no-such-page", "/notices/987654321", "/employers/K01"] {
        let r = app.get_as(&s, path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = r.text().await.unwrap();
        assert!(html.contains("見つかりません"), "{path}: {html}");
        assert!(
            html.contains(r#"aria-label="メインメニュー""#),
            "{path}: navigation"
        );
        assert!(
            html.contains("staff@a.example.jp"),
            "{path}: who is signed in"
        );
    }
    // A 403 keeps it too.
    let v = login_cookie(&app, "viewer@a.example.jp", PASSWORD).await;
    let r = app.get_as(&v, "/users").await;
    assert_eq!(r.status(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains("権限がありません") && html.contains(r#"aria-label="メインメニュー""#));

    // Signed out: the Japanese page, the way to sign in, no menu.
    let r = app.get("/no-such-page").await;
    assert_eq!(r.status(), 404);
    let html = r.text().await.unwrap();
    assert!(html.contains("見つかりません") && html.contains(r#"href="/login""#));
    assert!(!html.contains("メインメニュー"));

    // The API answers JSON.
    let t = login_token(&app, "staff@a.example.jp", PASSWORD).await;
    let (status, body) = app.get_json(&t, "/api/v1/no-such-thing").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, body) = app.get_json(&t, "/api/v1/notices/987654321").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn employers_are_addressed_by_their_code_and_row_id_links_redirect() {
    let app = world().await;
    let s = login_cookie(&app, "staff@a.example.jp", PASSWORD).await;
    let html = app.page_text(&s, "/employers/E01").await;
    assert!(html.contains("株式会社テスト"));
    assert!(html.contains(r#"action="/employers/E01""#));

    let mut c = app.conn();
    let row = common::employer_db_id(&mut c, app.insurer(A), "E01");
    let r = app
        .get_as(&s, &format!("/employers/{row}?as_of={AS_OF}"))
        .await;
    assert_eq!(r.status(), 308);
    assert_eq!(
        r.headers()["location"],
        format!("/employers/E01?as_of={AS_OF}").as_str()
    );
    // Another insurer's code or row id is not found.
    let b_row = common::employer_db_id(&mut c, app.insurer(B), "K01");
    assert_eq!(
        app.get_as(&s, &format!("/employers/{b_row}"))
            .await
            .status(),
        404
    );
    assert_eq!(app.get_as(&s, "/employers/K01").await.status(), 404);

    // The forms post to the code's address and come back to it.
    let r = app
        .post_form(
            &s,
            "/employers/E01",
            &[("contact_emails", "jinji@test.example.jp")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/employers/E01?saved=1");
    let html = app.page_text(&s, "/employers/E01?saved=1").await;
    assert!(html.contains("jinji@test.example.jp"));
}

/// The CSV export as it was written before it streamed: the whole list read in pages of the list's
/// order (`store::notices::rows`), its items, then one `csv_bytes`.
fn csv_in_one_piece(
    conn: &mut regwatch::store::DbConn,
    insurer: &regwatch::store::insurers::Insurer,
    f: &regwatch::store::notices::NoticeFilter,
) -> Vec<u8> {
    use regwatch::reports::cases::{export_cells, items, Cell, EXPORT_COLUMNS};
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut offset = 0;
    loop {
        let page =
            regwatch::store::notices::rows(conn, insurer.id, &insurer.rules, f, offset, 1_000)
                .unwrap();
        if page.is_empty() {
            break;
        }
        offset += page.len() as i64;
        for item in items(conn, insurer, &page, f.as_of).unwrap() {
            rows.push(export_cells(&item).iter().map(Cell::text).collect());
        }
    }
    regwatch::reports::export::csv_bytes(EXPORT_COLUMNS.iter().map(|(h, _)| h.to_string()), rows)
        .unwrap()
}

#[tokio::test]
async fn a_streamed_export_of_many_chunks_is_byte_for_byte_the_list_written_in_one_piece() {
    use regwatch::reports::cases::EXPORT_CHUNK;
    use regwatch::store::notices::{NoticeFilter, Sort};
    let end = chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    let app = TestApp::builder()
        .with_insurer(A, InsurerKind::Kenpo)
        .with_insurer(B, InsurerKind::Kyosai)
        .with_staff(A, "staff@a.example.jp", PASSWORD)
        .with_seed(move |c, ins| {
            common::load_generated(c, &ins[0], 5_000, 21, end);
            // The other insurer: the same generator (same 受付番号 and codes), never in A's file.
            common::load_generated(c, &ins[1], 1_000, 22, end);
        })
        .spawn()
        .await;
    let t = login_token(&app, "staff@a.example.jp", PASSWORD).await;
    let insurer = app.insurer(A).clone();
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 12, 20).unwrap();
    let mut conn = app.conn();
    for (query, sort) in [
        ("sort=registration_deadline", Sort::RegistrationDeadlineAsc),
        ("sort=-registration_days_over", Sort::RegistrationDaysOver),
        ("", Sort::ReceivedDesc),
    ] {
        let mut f = NoticeFilter::new(as_of);
        f.sort = sort;
        let expected = csv_in_one_piece(&mut conn, &insurer, &f);
        let lines = expected.iter().filter(|b| **b == b'\n').count();
        assert!(
            lines > 2 * EXPORT_CHUNK,
            "more rows than two chunks: {lines}"
        );
        let audits = common::audit_count(&mut conn, "export_notices");
        let r = app
            .get_as(&t, &format!("/api/v1/notices.csv?as_of={as_of}&{query}"))
            .await;
        assert_eq!(r.status(), 200);
        let got = r.bytes().await.unwrap();
        assert!(got == expected, "{query}: the streamed CSV differs");
        assert_eq!(common::audit_count(&mut conn, "export_notices"), audits + 1);

        // The download reads with a second connection when the pool has one free; any number of
        // reader connections writes the same bytes.
        let acting = regwatch::app::Acting {
            insurer: insurer.id,
            user: None,
            label: "test".into(),
        };
        let export = regwatch::app::cases::export_notices(
            &mut conn,
            &acting,
            &insurer,
            &f,
            regwatch::reports::cases::ExportFormat::Csv,
            query,
        )
        .unwrap();
        let (mut second, mut third) = (app.conn(), app.conn());
        for n in 1..=3 {
            let got = match n {
                1 => export.write(&mut [&mut conn], Vec::new()),
                2 => export.write(&mut [&mut conn, &mut second], Vec::new()),
                _ => export.write(&mut [&mut conn, &mut second, &mut third], Vec::new()),
            }
            .unwrap();
            assert!(got == expected, "{query}: {n} readers: the CSV differs");
        }
    }
    // The xlsx holds the same rows under its cover and header rows.
    let r = app
        .get_as(&t, &format!("/api/v1/notices.xlsx?as_of={as_of}"))
        .await;
    assert_eq!(r.status(), 200);
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(r.bytes().await.unwrap().to_vec())).unwrap();
    let range = wb.worksheet_range("案件一覧").unwrap();
    assert_eq!(range.height(), 4 + 5_000);
    let cover = range.get_value((1, 0)).unwrap().to_string();
    assert!(cover.contains("5000 件"), "{cover}");
}
