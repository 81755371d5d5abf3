//! The dashboard (issue 18 item 4), on SQLite and (with REGWATCH_TEST_POSTGRES_URL) PostgreSQL:
//! every case-list link on the page opens a list of exactly the number it shows, 「今週が期限」 and
//! its list, the oldest open case, the figures by kind adding up to the totals, the same period
//! last year, and another insurer's notices never counted.
mod common;

use chrono::NaiveDate;
use common::{db_id, load_generated, login_cookie, login_token, page, TestApp};
use regwatch::domain::InsurerKind;
use serde_json::Value;
use std::collections::BTreeSet;

const PASSWORD: &str = "correct-horse-battery";
const A: &str = "06123456";
const B: &str = "34123456";
const ADMIN_A: &str = "admin@a.example.jp";
const ADMIN_B: &str = "admin@b.example.jp";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The `/notices?…` links of a page with the number each shows (「1,234 件」 → 1234), `&amp;`
/// decoded. Every such link on the dashboard shows a count: one that does not fails here.
fn case_list_links(html: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<a href=\"/notices?") {
        rest = &rest[at + "<a href=\"".len()..];
        let end = rest.find('"').expect("closing quote");
        let href = rest[..end].replace("&amp;", "&");
        let text_start = rest.find('>').expect("end of tag") + 1;
        let text_end = text_start + rest[text_start..].find("</a>").expect("</a>");
        let text = &rest[text_start..text_end];
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let n = digits
            .parse::<i64>()
            .unwrap_or_else(|_| panic!("the link {href} shows no count: {text:?}"));
        assert!(
            text.trim().ends_with('件'),
            "the link {href} shows a count of notices: {text:?}"
        );
        out.push((href, n));
    }
    out
}

/// `total` of the API list for the query of a page link.
async fn api_total(app: &TestApp, token: &str, href: &str) -> i64 {
    let query = href.strip_prefix("/notices?").expect("a case-list link");
    let (status, body) = app
        .get_json(token, &format!("/api/v1/notices?per_page=500&{query}"))
        .await;
    assert_eq!(status, 200, "{href}: {body}");
    body["total"].as_i64().expect("total")
}

/// Every case-list link of the dashboard at `path`: its list's total is the number it shows.
/// Returns the links checked.
async fn assert_links_match(app: &TestApp, email: &str, path: &str) -> Vec<(String, i64)> {
    let session = login_cookie(app, email, PASSWORD).await;
    let token = login_token(app, email, PASSWORD).await;
    let (status, html) = page(app, &session, path).await;
    assert_eq!(status, 200, "{path}");
    let links = case_list_links(&html);
    let mut wrong = Vec::new();
    for (href, shown) in &links {
        let total = api_total(app, &token, href).await;
        if total != *shown {
            wrong.push(format!("{href}: shows {shown}, the list holds {total}"));
        }
        // The page opens too (the same filter on the HTML list).
        let (status, _) = page(app, &session, href).await;
        assert_eq!(status, 200, "{href}");
    }
    assert!(
        wrong.is_empty(),
        "links whose list differs:\n{}",
        wrong.join("\n")
    );
    links
}

/// Late notices (submitted 30 days after the event, never registered) received on the first and
/// last day of the period and on the days just outside it.
fn boundary_notices(prefix: &str) -> String {
    let mut csv = String::from(
        "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号\n",
    );
    for (i, (received, kind, my_number)) in [
        ("2025-04-09", "資格取得", "123456789018"),
        ("2025-04-10", "資格取得", "123456789018"),
        ("2025-04-10", "被扶養者", ""),
        ("2025-04-10", "資格喪失", ""),
        ("2025-09-20", "資格取得", "123456789018"),
        ("2025-09-20", "被扶養者", "123456789018"),
        ("2025-09-20", "資格喪失", "123456789018"),
        ("2025-09-21", "資格取得", ""),
    ]
    .iter()
    .enumerate()
    {
        let event = d(received) - chrono::Days::new(30);
        csv.push_str(&format!(
            "{prefix}-{i},{kind},EDGE,境界商事,900,{i},,境界 {i},{event},{received},{my_number}\n"
        ));
    }
    csv
}

#[tokio::test]
async fn every_dashboard_link_opens_a_list_of_the_count_it_shows() {
    let app = TestApp::builder()
        .with_insurer(A, InsurerKind::Kenpo)
        .with_insurer(B, InsurerKind::Kyosai)
        .with_admin(A, ADMIN_A, PASSWORD)
        .with_seed(|c, ins| {
            load_generated(c, &ins[0], 3_000, 18, d("2025-12-31"));
            // The other insurer: the same generator (same codes and 受付番号), more notices.
            load_generated(c, &ins[1], 2_000, 19, d("2025-12-31"));
        })
        .with_notices(A, "edge.csv", &boundary_notices("EDGE"), d("2025-12-31"))
        .with_notices(B, "edge.csv", &boundary_notices("EDGE"), d("2025-12-31"))
        .spawn()
        .await;
    let path = "/dashboard?from=2025-04-10&to=2025-09-20&as_of=2025-09-25";
    let links = assert_links_match(&app, ADMIN_A, path).await;
    // The period's own figures and the open work are all there, with breaches to count.
    let hrefs: Vec<&str> = links.iter().map(|(h, _)| h.as_str()).collect();
    for needle in [
        "status=breached&rule=submission&received_from=2025-04-10&received_to=2025-09-20&as_of=2025-09-25",
        "status=breached&rule=registration&pending=1&as_of=2025-09-25",
        "pending=1&due_from=2025-09-25&due_to=2025-09-28&as_of=2025-09-25",
        "kind=loss&received_from=2025-04-10",
        "employer=",
    ] {
        assert!(
            hrefs.iter().any(|h| h.contains(needle)),
            "no link with {needle} in {hrefs:#?}"
        );
    }
    let breached = links
        .iter()
        .find(|(h, _)| h.starts_with("/notices?status=breached&rule=submission&received_from"))
        .unwrap()
        .1;
    assert!(
        breached > 0,
        "the data has submission breaches in the period"
    );
    assert!(links.len() >= 30, "{} links", links.len());

    // The API's figures are the page's.
    let token = login_token(&app, ADMIN_A, PASSWORD).await;
    let (status, dash) = app
        .get_json(
            token.as_str(),
            "/api/v1/dashboard?from=2025-04-10&to=2025-09-20&as_of=2025-09-25",
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        dash["submission"]["counts"]["breached"].as_i64(),
        Some(breached)
    );
    // The edge notices inside the period are counted, those outside are not.
    let (_, edge) = app
        .get_json(
            token.as_str(),
            "/api/v1/notices?employer=EDGE&received_from=2025-04-10&received_to=2025-09-20&as_of=2025-09-25",
        )
        .await;
    assert_eq!(edge["total"], 6);

    // The figures by kind add up to the period's.
    let kinds = dash["by_kind"].as_array().unwrap();
    assert_eq!(
        kinds
            .iter()
            .map(|k| k["kind"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["acquisition", "dependent", "loss"]
    );
    let sum = |pick: &dyn Fn(&Value) -> i64| kinds.iter().map(pick).sum::<i64>();
    assert_eq!(
        sum(&|k| k["notices"].as_i64().unwrap()),
        dash["notices"].as_i64().unwrap()
    );
    for status in ["met", "breached", "at_risk", "open", "not_applicable"] {
        assert_eq!(
            sum(&|k| k["submission"]["counts"][status].as_i64().unwrap()),
            dash["submission"]["counts"][status].as_i64().unwrap(),
            "submission {status}"
        );
        for rule in [
            "registration_five_day",
            "registration_standard",
            "registration_loss",
        ] {
            assert_eq!(
                sum(&|k| k[rule]["counts"][status].as_i64().unwrap()),
                dash[rule]["counts"][status].as_i64().unwrap(),
                "{rule} {status}"
            );
        }
        assert_eq!(
            sum(&|k| k["registration"]["counts"][status].as_i64().unwrap()),
            [
                "registration_five_day",
                "registration_standard",
                "registration_loss"
            ]
            .iter()
            .map(|r| dash[*r]["counts"][status].as_i64().unwrap())
            .sum::<i64>(),
            "registration {status}"
        );
    }
    // A 資格喪失届 is never in the 5-day or standard population.
    assert_eq!(kinds[2]["registration_five_day"]["notices"], 0);
    assert_eq!(kinds[2]["registration_standard"]["notices"], 0);
    // The April chart's red parts are registration breaches of those weeks.
    assert!(dash["april_weeks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["registration_breached_any"].as_i64().unwrap() > 0));
}

/// As of Wednesday 2025-06-11 (the week is Monday 6/9 to Sunday 6/15, June has no holiday):
/// - D-1 received 6/5, deadline 6/10: already breached, not due this week
/// - D-2 received 6/6, deadline 6/11 (today): due
/// - D-3 received 6/10, 6/15 is a Sunday → 6/16: next week
/// - D-4 received 6/9, 6/14 is a Saturday → 6/16: next week
/// - D-5 received Sunday 6/8, deadline 6/13: due
/// - D-6 received 6/8, registered 6/10: done
/// - D-7 received 6/4, deadline 6/9: breached
/// - D-8 資格喪失届 received 6/9, 2 days → 6/11: due
/// - D-9 no My Number (standard, 14 days) received 5/29 → 6/12: due; the oldest open case
/// - D-10 received 6/12: not yet received as of 6/11
/// - D-11 received 6/7, deadline 6/12, registered 6/20 (after the date): due
/// - D-12 received 6/2, a month after the event (submission breached), deadline 6/9: breached
/// - D-0 received 5/20, registered 5/22: done
///
/// A year earlier (June 2024, as of 2024-07-31): LY-1..LY-4, LY-4 submitted late, LY-2
/// registered only on 8/5.
const NOTICES: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号\n\
D-0,資格取得,E01,一番商事,100,0,,氏名 零,2025-05-19,2025-05-20,123456789018\n\
D-1,資格取得,E01,一番商事,100,1,,氏名 一,2025-06-04,2025-06-05,123456789018\n\
D-2,資格取得,E01,一番商事,100,2,,氏名 二,2025-06-05,2025-06-06,123456789018\n\
D-3,資格取得,E01,一番商事,100,3,,氏名 三,2025-06-09,2025-06-10,123456789018\n\
D-4,被扶養者,E01,一番商事,100,4,01,氏名 四,2025-06-08,2025-06-09,123456789018\n\
D-5,資格取得,E02,二番工業,200,5,,氏名 五,2025-06-07,2025-06-08,123456789018\n\
D-6,資格取得,E02,二番工業,200,6,,氏名 六,2025-06-07,2025-06-08,123456789018\n\
D-7,資格取得,E02,二番工業,200,7,,氏名 七,2025-06-03,2025-06-04,123456789018\n\
D-8,資格喪失,E02,二番工業,200,8,,氏名 八,2025-06-08,2025-06-09,\n\
D-9,資格取得,E02,二番工業,200,9,,氏名 九,2025-05-28,2025-05-29,\n\
D-10,資格取得,E02,二番工業,200,10,,氏名 十,2025-06-11,2025-06-12,123456789018\n\
D-11,資格取得,E02,二番工業,200,11,,氏名 十一,2025-06-06,2025-06-07,123456789018\n\
D-12,資格取得,E02,二番工業,200,12,,氏名 十二,2025-05-01,2025-06-02,123456789018\n\
LY-1,資格取得,E01,一番商事,100,21,,氏名 二一,2024-06-02,2024-06-03,123456789018\n\
LY-2,資格取得,E01,一番商事,100,22,,氏名 二二,2024-06-09,2024-06-10,123456789018\n\
LY-3,資格取得,E01,一番商事,100,23,,氏名 二三,2024-06-16,2024-06-17,123456789018\n\
LY-4,資格取得,E01,一番商事,100,24,,氏名 二四,2024-05-01,2024-06-03,123456789018\n";

const RESULTS: &str = "受付番号,登録完了日時,処理結果\n\
D-0,2025-05-22T10:00:00+09:00,正常\n\
D-6,2025-06-10T10:00:00+09:00,正常\n\
D-11,2025-06-20T10:00:00+09:00,正常\n\
LY-1,2024-06-05T10:00:00+09:00,正常\n\
LY-2,2024-08-05T10:00:00+09:00,正常\n\
LY-3,2024-06-20T10:00:00+09:00,正常\n\
LY-4,2024-06-06T10:00:00+09:00,正常\n";

/// The other insurer: the same file, and older open cases that would be A's oldest if counted.
fn b_notices() -> String {
    format!(
        "{NOTICES}\
B-1,資格取得,E01,一番商事,100,31,,氏名 三一,2025-04-30,2025-05-01,123456789018\n\
B-2,資格取得,E01,一番商事,100,32,,氏名 三二,2025-06-08,2025-06-09,123456789018\n\
B-3,資格喪失,E01,一番商事,100,33,,氏名 三三,2024-06-01,2024-06-20,\n"
    )
}

async fn small_app() -> TestApp {
    TestApp::builder()
        .with_insurer(A, InsurerKind::Kenpo)
        .with_insurer(B, InsurerKind::Kenpo)
        .with_admin(A, ADMIN_A, PASSWORD)
        .with_admin(B, ADMIN_B, PASSWORD)
        .with_notices(A, "notices.csv", NOTICES, d("2025-07-31"))
        .with_registrations(A, "results.csv", RESULTS)
        .with_notices(B, "notices.csv", &b_notices(), d("2025-07-31"))
        .with_registrations(B, "results.csv", RESULTS)
        .spawn()
        .await
}

fn ids(list: &Value) -> BTreeSet<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["notice_id"].as_str().unwrap().to_string())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn due_this_week_and_the_oldest_open_case_are_exact() {
    let app = small_app().await;
    let token = login_token(&app, ADMIN_A, PASSWORD).await;
    let (status, dash) = app
        .get_json(
            token.as_str(),
            "/api/v1/dashboard?from=2025-06-01&to=2025-06-30&as_of=2025-06-11",
        )
        .await;
    assert_eq!(status, 200, "{dash}");
    let due = &dash["due_this_week"];
    assert_eq!(due["from"], "2025-06-11");
    assert_eq!(due["to"], "2025-06-15", "the Sunday of the week");
    assert_eq!(due["count"], 5);
    let (_, list) = app
        .get_json(
            token.as_str(),
            "/api/v1/notices?pending=1&due_from=2025-06-11&due_to=2025-06-15&as_of=2025-06-11",
        )
        .await;
    assert_eq!(list["total"], 5);
    assert_eq!(ids(&list), set(&["D-2", "D-5", "D-8", "D-9", "D-11"]));
    for n in list["items"].as_array().unwrap() {
        let deadline = n["registration"]["deadline"].as_str().unwrap();
        assert!(("2025-06-11"..="2025-06-15").contains(&deadline), "{n}");
    }
    // due_from / due_to alone bound the deadline, registered or not.
    let (_, all) = app
        .get_json(
            token.as_str(),
            "/api/v1/notices?due_from=2025-06-16&due_to=2025-06-16",
        )
        .await;
    assert_eq!(ids(&all), set(&["D-3", "D-4"]));
    let (status, _) = app
        .get_json(token.as_str(), "/api/v1/notices?due_from=2025-13-01")
        .await;
    assert_eq!(status, 400);

    // Open as of 6/11: everything received by then and not registered by then.
    assert_eq!(dash["pending"], 10);
    let oldest = &dash["oldest_open"];
    assert_eq!(oldest["notice_id"], "D-9", "{oldest}");
    assert_eq!(oldest["received_on"], "2025-05-29");
    assert_eq!(oldest["days_open"], 13);
    assert_eq!(oldest["registration_deadline"], "2025-06-12");
    assert_eq!(
        oldest["registration_status"], "at_risk",
        "a day before its deadline"
    );
    let a = app.insurer(A).clone();
    assert_eq!(oldest["id"].as_i64(), Some(db_id(&app, &a, "D-9")));

    // The page: the figures, the link to the case page, every list link exact.
    let session = login_cookie(&app, ADMIN_A, PASSWORD).await;
    let path = "/dashboard?from=2025-06-01&to=2025-06-30&as_of=2025-06-11";
    let (_, html) = page(&app, &session, path).await;
    assert!(html.contains("今週が期限"));
    assert!(html.contains("最も古い未完了の案件"));
    let case = format!("/notices/{}?as_of=2025-06-11", db_id(&app, &a, "D-9"));
    assert!(
        html.contains(&format!("href=\"{case}\"")),
        "link to the case page"
    );
    assert!(html.contains(">13 日</a>"));
    let (status, case_page) = page(&app, &session, &case).await;
    assert_eq!(status, 200);
    assert!(case_page.contains("D-9"));
    let links = assert_links_match(&app, ADMIN_A, path).await;
    assert!(links
        .iter()
        .any(|(h, n)| h.contains("due_from=2025-06-11&due_to=2025-06-15") && *n == 5));

    // On a Sunday the week is that day only.
    let (_, sunday) = app
        .get_json(token.as_str(), "/api/v1/dashboard?as_of=2025-06-15")
        .await;
    assert_eq!(sunday["due_this_week"]["from"], "2025-06-15");
    assert_eq!(sunday["due_this_week"]["to"], "2025-06-15");

    // Nothing open: no oldest case.
    let (_, early) = app
        .get_json(token.as_str(), "/api/v1/dashboard?as_of=2024-01-10")
        .await;
    assert_eq!(early["pending"], 0);
    assert!(early["oldest_open"].is_null());
}

#[tokio::test]
async fn the_same_period_last_year_is_compared_like_with_like() {
    let app = small_app().await;
    let token = login_token(&app, ADMIN_A, PASSWORD).await;
    let (status, dash) = app
        .get_json(
            token.as_str(),
            "/api/v1/dashboard?from=2025-06-01&to=2025-06-30&as_of=2025-07-31",
        )
        .await;
    assert_eq!(status, 200, "{dash}");
    // This June: D-1..D-12 but D-9, D-12 submitted late → 10 / 11.
    assert_eq!(dash["notices"], 11);
    assert_eq!(dash["submission"]["counts"]["breached"], 1);
    let ly = &dash["last_year"];
    assert_eq!(ly["from"], "2024-06-01");
    assert_eq!(ly["to"], "2024-06-30");
    assert_eq!(ly["as_of"], "2024-07-31");
    assert_eq!(ly["notices"], 4);
    // Last June: LY-4 submitted late → 3 / 4; (10/11 − 3/4) = +15.9pt.
    assert_eq!(ly["submission"]["met_rate"], 0.75);
    assert_eq!(ly["submission"]["counts"]["breached"], 1);
    assert_eq!(ly["submission"]["delta_pt"], 15.9);
    // As of 2024-07-31 LY-2 (registered 8/5) was still open past its deadline: breached.
    assert_eq!(ly["registration_five_day"]["counts"]["met"], 3);
    assert_eq!(ly["registration_five_day"]["counts"]["breached"], 1);
    assert_eq!(ly["registration_five_day"]["met_rate"], 0.75);
    // No loss notice last June: no rate, no difference — not 0%.
    assert!(ly["registration_loss"]["met_rate"].is_null());
    assert!(ly["registration_loss"]["delta_pt"].is_null());

    let session = login_cookie(&app, ADMIN_A, PASSWORD).await;
    let path = "/dashboard?from=2025-06-01&to=2025-06-30&as_of=2025-07-31";
    let (_, html) = page(&app, &session, path).await;
    assert!(html.contains("前年同期 75.0%（+15.9pt）"), "{html}");
    assert!(html.contains("前年同期は判定済みの届書がありません"));
    let links = assert_links_match(&app, ADMIN_A, path).await;
    assert!(links.iter().any(|(h, n)| h
        .contains("received_from=2024-06-01&received_to=2024-06-30&as_of=2024-07-31")
        && *n == 4));

    // A period with no data a year before says so.
    let path = "/dashboard?from=2025-05-01&to=2025-05-31&as_of=2025-07-31";
    let (_, html) = page(&app, &session, path).await;
    assert!(
        html.contains("前年同期は 2024-05-01〜2024-05-31（判定日 2024-07-31）: データはありません")
    );
    assert!(html.contains("前年同期のデータはありません"));
    assert!(!html.contains("前年同期 0.0%"));
    let (_, none) = app
        .get_json(
            token.as_str(),
            "/api/v1/dashboard?from=2025-05-01&to=2025-05-31&as_of=2025-07-31",
        )
        .await;
    assert_eq!(none["last_year"]["notices"], 0);
    assert!(none["last_year"]["submission"]["met_rate"].is_null());
}

#[tokio::test]
async fn another_insurers_notices_are_never_counted() {
    let app = small_app().await;
    let query = "from=2025-06-01&to=2025-06-30&as_of=2025-06-11";
    let token_a = login_token(&app, ADMIN_A, PASSWORD).await;
    let token_b = login_token(&app, ADMIN_B, PASSWORD).await;
    let (_, a) = app
        .get_json(token_a.as_str(), &format!("/api/v1/dashboard?{query}"))
        .await;
    let (_, b) = app
        .get_json(token_b.as_str(), &format!("/api/v1/dashboard?{query}"))
        .await;
    // B holds A's file plus B-1..B-3 (B-2 received in June, B-1 and B-3 open and older).
    assert_eq!(a["notices"], 11, "D-1..D-12 but D-9");
    assert_eq!(b["notices"], 12);
    assert_eq!(a["pending"], 10);
    assert_eq!(b["pending"], 13);
    assert_eq!(a["oldest_open"]["notice_id"], "D-9");
    assert_eq!(b["oldest_open"]["notice_id"], "B-3");
    assert_eq!(a["due_this_week"]["count"], 5);
    assert_eq!(b["due_this_week"]["count"], 5, "B-2's deadline is 6/16");
    assert_eq!(a["last_year"]["notices"], 4);
    assert_eq!(b["last_year"]["notices"], 5);
    // The oldest case of B is not A's to open.
    let b1 = db_id(&app, &app.insurer(B).clone(), "B-3");
    let (status, _) = app
        .get_json(token_a.as_str(), &format!("/api/v1/notices/{b1}"))
        .await;
    assert_eq!(status, 404);
    // B's page links count B's lists, A's page A's.
    assert_links_match(&app, ADMIN_B, &format!("/dashboard?{query}")).await;
    assert_links_match(&app, ADMIN_A, &format!("/dashboard?{query}")).await;
}
