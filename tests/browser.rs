//! The web app in a real browser: headless Chromium driven through chromedriver (WebDriver).
//!
//! Signs in from a deep link (and lands back on it), reads the dashboard, filters the case list, opens a case, searches the list by a
//! member's name and by a 受付番号, follows the dashboard's 登録エラー card to the worklist and
//! one of its cases, meets the 404 page, uploads a file (preview,
//! then commit), maps an insurer's own export in the import-profile editor and uploads it with the
//! saved profile, manages users and the audit log, and opens every page at 390 px (a phone) to
//! check that none is wider than the screen, saving a
//! screenshot of each page under `target/browser/` (`phone-*.png` at 390 px), and fails on any console error (level SEVERE).
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`). It runs
//! under `REGWATCH_BROWSER_TEST=1` (CI), where their absence is a failure, and is listed as ignored
//! otherwise. `REGWATCH_CHROMEDRIVER` / `REGWATCH_CHROMIUM` point at other binaries.
mod common;

use fantoccini::{Client, ClientBuilder, Locator};
use regwatch::domain::InsurerKind;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EMAIL: &str = "browser-admin@example.jp";
const PASSWORD: &str = "browser-test-password";
/// How long a page may take to show what the test waits for.
const WAIT: Duration = Duration::from_secs(20);

fn find_binary(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    for c in candidates {
        let p = Path::new(c);
        if p.is_absolute() {
            if p.is_file() {
                return Some(p.to_path_buf());
            }
            continue;
        }
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                let full = dir.join(c);
                if full.is_file() {
                    return Some(full);
                }
            }
        }
    }
    None
}

/// Where screenshots go: `$CARGO_TARGET_DIR/browser` (at build or run time), else `target/browser`.
fn screenshot_dir() -> PathBuf {
    common::artifact_dir("browser")
}

/// chromedriver on a free port; killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver(binary: &Path) -> Driver {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().unwrap().port()
    };
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{}/status", driver.url)).send().await {
            if let Ok(v) = r.json::<Value>().await {
                if v["value"]["ready"].as_bool() == Some(true) {
                    return driver;
                }
            }
        }
        assert!(
            started.elapsed() < WAIT,
            "chromedriver did not become ready on port {port}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn connect(driver: &Driver, chromium: Option<&Path>) -> Client {
    let mut options = json!({
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            "--lang=ja-JP"
        ]
    });
    if let Some(bin) = chromium {
        options["binary"] = json!(bin.display().to_string());
    }
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert("goog:chromeOptions".into(), options);
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e}"))
}

/// Console messages of the browser since the last call (chromedriver's legacy log endpoint, which
/// `goog:loggingPrefs` turns on).
async fn console(driver: &str, session: &str) -> Vec<Value> {
    let r = reqwest::Client::new()
        .post(format!("{driver}/session/{session}/se/log"))
        .json(&json!({"type": "browser"}))
        .send()
        .await
        .expect("read the browser log");
    let v: Value = r.json().await.expect("browser log is JSON");
    v["value"]
        .as_array()
        .unwrap_or_else(|| panic!("unexpected browser log answer: {v}"))
        .clone()
}

/// Reads the console after a page and keeps its SEVERE entries, labelled with the page.
async fn collect_errors(driver: &str, session: &str, page: &str, errors: &mut Vec<String>) {
    for entry in console(driver, session).await {
        let level = entry["level"].as_str().unwrap_or("");
        let message = entry["message"].as_str().unwrap_or("");
        eprintln!("[console {page}] {level}: {message}");
        if level == "SEVERE" {
            errors.push(format!("{page}: {message}"));
        }
    }
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(dir.join(name), png).expect("write screenshot");
}

/// Waits until `check` returns Some, polling; panics with `what` after WAIT.
async fn wait_until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn h1_text(c: &Client) -> String {
    match c.find(Locator::Css("h1")).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn wait_for_path(c: &Client, path: &str) -> url::Url {
    wait_until(&format!("the browser to reach {path}"), || async {
        c.current_url().await.ok().filter(|u| u.path() == path)
    })
    .await
}

/// The pages, in order; returns the SEVERE console messages seen.
async fn visit_pages(
    c: Client,
    driver: String,
    session: String,
    base: String,
    today: chrono::NaiveDate,
) -> Vec<String> {
    let mut errors: Vec<String> = Vec::new();
    // Sign in.
    c.goto(&format!("{base}/login")).await.expect("open /login");
    // The console is really read: a deliberate error shows up as SEVERE (and is not counted).
    c.execute("console.error('regwatch-console-probe')", vec![])
        .await
        .expect("run a script");
    let probe = console(&driver, &session).await;
    assert!(
        probe.iter().any(|e| e["level"] == "SEVERE"
            && e["message"]
                .as_str()
                .unwrap_or("")
                .contains("regwatch-console-probe")),
        "the browser log does not show console errors: {probe:?}"
    );
    // Signed out, a link to a filtered list leads through the sign-in page and back to it.
    c.goto(&format!("{base}/notices?status=at_risk"))
        .await
        .expect("open a deep link");
    wait_for_path(&c, "/login").await;
    collect_errors(&driver, &session, "/login", &mut errors).await;
    c.find(Locator::Css("#email"))
        .await
        .expect("#email on /login")
        .send_keys(EMAIL)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .expect("#password on /login")
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form [type=submit]"))
        .await
        .expect("the sign-in button")
        .click()
        .await
        .unwrap();

    let back = wait_for_path(&c, "/notices").await;
    assert_eq!(
        back.query(),
        Some("status=at_risk"),
        "back at the deep link"
    );

    // The dashboard: a heading and an inline SVG chart.
    c.goto(&format!("{base}/dashboard"))
        .await
        .expect("open /dashboard");
    wait_for_path(&c, "/dashboard").await;
    let h1 = h1_text(&c).await;
    assert!(h1.contains("ダッシュボード"), "dashboard <h1>: {h1:?}");
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("svg"))
        .await
        .expect("an inline <svg> chart on the dashboard");
    screenshot(&c, "dashboard.png").await;
    // The charts: each an accessible image with a legend under it.
    let charts = c
        .find_all(Locator::Css("figure svg.chart[role=img] title"))
        .await
        .unwrap();
    assert!(charts.len() >= 3, "{} dashboard charts", charts.len());
    c.execute(
        "document.querySelector('#by-kind').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(&c, "dashboard-charts.png").await;
    collect_errors(&driver, &session, "/dashboard", &mut errors).await;

    // The case list, filtered by status and rule.
    c.goto(&format!("{base}/notices"))
        .await
        .expect("open /notices");
    let form = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#filters"))
        .await
        .expect("the filter form #filters");
    form.find(Locator::Css("select[name=status]"))
        .await
        .expect("select[name=status] in #filters")
        .select_by_value("breached")
        .await
        .expect("status option breached");
    form.find(Locator::Css("select[name=rule]"))
        .await
        .expect("select[name=rule] in #filters")
        .select_by_value("registration")
        .await
        .expect("rule option registration");
    form.find(Locator::Css("[type=submit]"))
        .await
        .expect("a submit button in #filters")
        .click()
        .await
        .unwrap();
    let url = wait_until("the filtered list", || async {
        c.current_url()
            .await
            .ok()
            .filter(|u| u.query().unwrap_or("").contains("status="))
    })
    .await;
    assert!(
        url.query().unwrap_or("").contains("status=breached"),
        "filtered URL: {url}"
    );
    let rows = c
        .find_all(Locator::Css("#cases tbody tr"))
        .await
        .expect("the #cases table");
    assert!(!rows.is_empty(), "the filtered #cases table has rows");
    screenshot(&c, "notices.png").await;
    collect_errors(&driver, &session, "/notices", &mut errors).await;

    // The first case.
    let link = c
        .find(Locator::Css("a.case-link"))
        .await
        .expect("a.case-link in the list");
    let notice_id = link.text().await.unwrap_or_default();
    link.click().await.unwrap();
    wait_until("the case page", || async {
        c.current_url()
            .await
            .ok()
            .filter(|u| u.path().starts_with("/notices/"))
    })
    .await;
    let h1 = h1_text(&c).await;
    assert!(h1.contains("受付番号"), "case page <h1>: {h1:?}");
    assert!(
        notice_id.is_empty() || h1.contains(notice_id.trim()),
        "case page <h1> {h1:?} names {notice_id:?}"
    );
    screenshot(&c, "notice.png").await;
    collect_errors(&driver, &session, "/notices/{id}", &mut errors).await;

    search(&c, &base, notice_id.trim()).await;
    collect_errors(&driver, &session, "/notices?q=", &mut errors).await;
    worklist(&c, &base).await;
    collect_errors(&driver, &session, "/notices?reg_error=1", &mut errors).await;
    case_workflow(&c, &base, today).await;
    collect_errors(&driver, &session, "/notices/{id} 対応", &mut errors).await;
    not_found(&c, &base).await;
    // The page's own 404 is reported as a failed load: expected here, anything else is not.
    for entry in console(&driver, &session).await {
        let message = entry["message"].as_str().unwrap_or("");
        eprintln!("[console /no-such-page] {}: {message}", entry["level"]);
        let expected = message.contains("/no-such-page") && message.contains("404");
        if entry["level"] == "SEVERE" && !expected {
            errors.push(format!("/no-such-page: {message}"));
        }
    }

    // Upload a small notices file.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("browser-upload.csv");
    let received = today - chrono::Days::new(1);
    let event = today - chrono::Days::new(3);
    let mut body = String::from(
        "notice_id,kind,employer_code,employer_name,member_symbol,member_number,event_date,received_on\n",
    );
    for i in 1..=3 {
        body.push_str(&format!(
            "BROWSER-{i:04},acquisition,9001,ブラウザ商事,77,{},{event},{received}\n",
            500000 + i
        ));
    }
    std::fs::write(&csv, body).unwrap();
    c.goto(&format!("{base}/imports"))
        .await
        .expect("open /imports");
    let form = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#upload-form"))
        .await
        .expect("the upload form #upload-form");
    form.find(Locator::Css("select[name=kind]"))
        .await
        .expect("select[name=kind] in #upload-form")
        .select_by_value("notices")
        .await
        .expect("kind option notices");
    form.find(Locator::Css("input[type=file][name=file]"))
        .await
        .expect("input[type=file][name=file] in #upload-form")
        .send_keys(&csv.display().to_string())
        .await
        .expect("choose the file");
    form.find(Locator::Css("[type=submit]"))
        .await
        .expect("a submit button in #upload-form")
        .click()
        .await
        .unwrap();
    // First what the file would change, then the commit.
    let text = wait_until("#upload-preview to report 件新規", || async {
        let e = c.find(Locator::Css("#upload-preview")).await.ok()?;
        let t = e.text().await.ok()?;
        t.contains("件新規").then_some(t)
    })
    .await;
    assert!(text.contains("3 件新規"), "#upload-preview: {text:?}");
    screenshot(&c, "import-preview.png").await;
    c.find(Locator::Css("#upload-commit"))
        .await
        .expect("the commit button #upload-commit")
        .click()
        .await
        .unwrap();
    let text = wait_until("#upload-result to report 取込が完了", || async {
        let e = c.find(Locator::Css("#upload-result")).await.ok()?;
        let t = e.text().await.ok()?;
        t.contains("取込が完了").then_some(t)
    })
    .await;
    assert!(text.contains("3 件新規"), "#upload-result: {text:?}");
    screenshot(&c, "import.png").await;
    collect_errors(&driver, &session, "/imports", &mut errors).await;

    profile_editor(&c, &base, dir.path(), today).await;
    collect_errors(&driver, &session, "/imports/profiles/edit", &mut errors).await;

    users_and_audit(&c, &base).await;
    collect_errors(&driver, &session, "/users, /audit", &mut errors).await;
    phone(&c, &base).await;
    collect_errors(&driver, &session, "390 px", &mut errors).await;
    errors
}

/// What is wider than the window at the top level of the page (a table may scroll sideways inside
/// its own `.table-wrap`; the page itself must not).
const OVERFLOW_SCRIPT: &str = r#"
const width = document.documentElement.clientWidth;
const clipped = (el) => {
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    const x = getComputedStyle(p).overflowX;
    if (x === 'auto' || x === 'scroll' || x === 'hidden') return true;
  }
  return false;
};
const wide = [];
for (const el of document.querySelectorAll('body *')) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.right > width + 1 && !clipped(el)) {
    const cls = typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '';
    wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls + ' → ' + Math.round(r.right) + 'px');
  }
}
return { width, scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 6) };
"#;

/// Every page a member of staff opens, at 390 px (a phone held upright): nothing runs off the
/// screen, so nobody has to scroll the whole page sideways.
async fn phone(c: &Client, base: &str) {
    c.set_window_size(390, 844)
        .await
        .expect("resize the window");
    c.goto(&format!("{base}/notices"))
        .await
        .expect("open /notices");
    let case = c
        .find(Locator::Css("a.case-link"))
        .await
        .expect("a.case-link in the list")
        .attr("href")
        .await
        .unwrap()
        .expect("the case link's href");
    let pages = [
        "/dashboard",
        "/notices",
        case.as_str(),
        "/employers",
        "/letters",
        "/checklist",
        "/plan",
        "/analysis",
        "/survey",
        "/mail",
        "/imports",
        "/settings",
        "/users",
        "/audit",
        "/account",
    ];
    let mut overflowing = Vec::new();
    for page in pages {
        c.goto(&format!("{base}{page}")).await.expect("open a page");
        let h1 = h1_text(c).await;
        assert!(!h1.is_empty(), "{page} at 390 px has a heading");
        let found = c.execute(OVERFLOW_SCRIPT, vec![]).await.expect("measure");
        let (width, scroll) = (found["width"].as_i64(), found["scroll"].as_i64());
        assert!(width.is_some_and(|w| w <= 400), "{page}: window {found}");
        if scroll > width {
            overflowing.push(format!("{page}: {found}"));
        }
        let name = match page.trim_start_matches('/') {
            p if p.starts_with("notices/") => "case".to_string(),
            p => p.to_string(),
        };
        screenshot(c, &format!("phone-{name}.png")).await;
    }
    c.set_window_size(1280, 900).await.expect("resize back");
    assert!(
        overflowing.is_empty(),
        "pages wider than 390 px:\n{}",
        overflowing.join("\n")
    );
}

/// 利用者 with 表示名 and a password reset through the page (its one-time password shown), then
/// 監査ログ with its filters.
async fn users_and_audit(c: &Client, base: &str) {
    c.goto(&format!("{base}/users")).await.expect("open /users");
    let h1 = h1_text(c).await;
    assert!(h1.contains("利用者"), "users <h1>: {h1:?}");
    let row = c
        .find(Locator::XPath(
            "//tr[td[contains(., 'browser-staff@example.jp')]]",
        ))
        .await
        .expect("the staff member's row");
    row.find(Locator::Css("summary"))
        .await
        .expect("the row's 変更")
        .click()
        .await
        .unwrap();
    screenshot(c, "users.png").await;
    row.find(Locator::Css("form[action$='/password-reset'] button"))
        .await
        .expect("the reset button")
        .click()
        .await
        .unwrap();
    let shown = wait_until("the one-time password", || async {
        let e = c.find(Locator::Css("#temporary-password")).await.ok()?;
        e.text().await.ok().filter(|t| t.len() >= 10)
    })
    .await;
    assert!(!shown.is_empty());
    screenshot(c, "users-reset.png").await;

    c.goto(&format!("{base}/audit")).await.expect("open /audit");
    let h1 = h1_text(c).await;
    assert!(h1.contains("監査ログ"), "audit <h1>: {h1:?}");
    let body = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for label in ["パスワードの再設定（管理者）", "ログイン", "佐藤 恵子"] {
        assert!(body.contains(label), "/audit shows {label}");
    }
    screenshot(c, "audit.png").await;
}

/// A 表示名 for the admin and a staff member with one, both through the app (so audited).
fn seed_users(conn: &mut regwatch::store::DbConn, ins: &[regwatch::store::insurers::Insurer]) {
    use regwatch::app::users as app;
    use regwatch::store::users::{self, DisplayName, Email, Role};
    let me = users::find_by_email(conn, &Email::parse(EMAIL).unwrap())
        .unwrap()
        .unwrap();
    let acting = regwatch::app::Acting {
        insurer: ins[0].id,
        user: Some(users::UserId(me.id)),
        label: EMAIL.into(),
    };
    let change = app::UserChange {
        display_name: Some(DisplayName::parse("佐藤 恵子").unwrap()),
        ..Default::default()
    };
    app::update(conn, &acting, users::UserId(me.id), change).unwrap();
    let staff = app::NewUser {
        email: Email::parse("browser-staff@example.jp").unwrap(),
        display_name: DisplayName::parse("鈴木 健太").unwrap(),
        role: Role::Staff,
        password: secrecy::SecretString::from("browser-staff-password".to_string()),
    };
    app::add(conn, &acting, staff).unwrap();
}

/// Types `text` into the case list's search box and submits it; the list that comes back.
async fn search_for(c: &Client, base: &str, text: &str) -> Vec<String> {
    c.goto(&format!("{base}/notices"))
        .await
        .expect("open /notices");
    let input = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#f-q"))
        .await
        .expect("the search box #f-q");
    input.send_keys(text).await.unwrap();
    c.find(Locator::Css("#filters [type=submit]"))
        .await
        .expect("the filter button")
        .click()
        .await
        .unwrap();
    wait_until("the search result", || async {
        c.current_url()
            .await
            .ok()
            .filter(|u| u.query().unwrap_or("").contains("q="))
    })
    .await;
    let mut ids = Vec::new();
    for a in c.find_all(Locator::Css("a.case-link")).await.unwrap() {
        ids.push(a.text().await.unwrap_or_default().trim().to_string());
    }
    ids
}

/// The case list searched by a member's family name (from the list itself) and by a 受付番号.
async fn search(c: &Client, base: &str, notice_id: &str) {
    c.goto(&format!("{base}/notices?sort=notice_id"))
        .await
        .expect("open /notices");
    let name = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#cases .member-name"))
        .await
        .expect("a member name in the list")
        .text()
        .await
        .unwrap();
    let family = name.split_whitespace().next().unwrap_or(&name).to_string();
    let found = search_for(c, base, &family).await;
    assert!(!found.is_empty(), "「{family}」 finds its notices");
    for n in c
        .find_all(Locator::Css("#cases .member-name"))
        .await
        .unwrap()
    {
        let shown = n.text().await.unwrap_or_default();
        assert!(
            shown.starts_with(&family),
            "{shown:?} found by 「{family}」"
        );
    }
    let value = c
        .find(Locator::Css("#f-q"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        value.as_deref(),
        Some(family.as_str()),
        "the box keeps the text"
    );
    screenshot(c, "notices-search.png").await;

    let found = search_for(c, base, notice_id).await;
    assert_eq!(found, [notice_id.to_string()], "受付番号 {notice_id}");
    screenshot(c, "notices-search-id.png").await;
}

/// The dashboard's 登録エラー card opens the worklist with as many rows as it counts; a case on it
/// shows the error.
async fn worklist(c: &Client, base: &str) {
    c.goto(&format!("{base}/dashboard"))
        .await
        .expect("open /dashboard");
    let link = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#registration-errors a"))
        .await
        .expect("the 登録エラー card's link");
    let counted: i64 = link
        .text()
        .await
        .unwrap()
        .replace(['件', ',', ' '], "")
        .parse()
        .expect("a count on the card");
    assert!(counted > 0, "the seeded errors are counted");
    c.execute(
        "document.querySelector('#registration-errors').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(c, "dashboard-errors.png").await;
    link.click().await.unwrap();
    wait_until("the worklist", || async {
        c.current_url()
            .await
            .ok()
            .filter(|u| u.query().unwrap_or("").contains("reg_error=1"))
    })
    .await;
    let h1 = h1_text(c).await;
    assert!(h1.contains("登録エラー一覧"), "worklist <h1>: {h1:?}");
    let total: i64 = c
        .find(Locator::Css("#total"))
        .await
        .expect("#total")
        .text()
        .await
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap();
    assert_eq!(total, counted, "the card counts the list it opens");
    let rows = c.find_all(Locator::Css("#cases .reg-error")).await.unwrap();
    assert_eq!(
        rows.len() as i64,
        total.min(50),
        "every row shows its error"
    );
    let first = rows[0].text().await.unwrap();
    assert!(
        first.contains("E0101") || first.contains("E0203"),
        "{first}"
    );
    screenshot(c, "worklist.png").await;
    c.execute("document.querySelector('#cases').scrollIntoView()", vec![])
        .await
        .unwrap();
    screenshot(c, "worklist-table.png").await;

    c.find(Locator::Css("a.case-link"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let banner = wait_until("the case page's error banner", || async {
        c.find(Locator::Css("#registration-error"))
            .await
            .ok()?
            .text()
            .await
            .ok()
    })
    .await;
    assert!(banner.contains("登録エラー"), "{banner}");
    screenshot(c, "notice-error.png").await;
    c.execute(
        "document.querySelector('#registrations').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(c, "notice-error-results.png").await;
}

/// 案件の対応 on a case page: assign the signed-in admin, set today as the 次回対応日, add a note;
/// then the case is on `/notices?mine=1` and on `follow_up_due=1`.
async fn case_workflow(c: &Client, base: &str, today: chrono::NaiveDate) {
    c.goto(&format!(
        "{base}/notices?pending=1&sort=registration_deadline"
    ))
    .await
    .expect("open the pending cases");
    let link = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("a.case-link"))
        .await
        .expect("a pending case");
    let notice_id = link.text().await.unwrap().trim().to_string();
    link.click().await.unwrap();
    let form = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#workflow-form"))
        .await
        .expect("the 対応 panel's form");
    form.find(Locator::XPath(
        ".//select[@name='assignee']/option[contains(., '佐藤 恵子')]",
    ))
    .await
    .expect("the admin among the assignees")
    .click()
    .await
    .unwrap();
    // A date input's typed format follows the browser's locale; its value is always ISO.
    c.execute(
        "document.querySelector('#w-follow-up').value = arguments[0]",
        vec![json!(today.to_string())],
    )
    .await
    .unwrap();
    form.find(Locator::Css("#workflow-save"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let saved = wait_until("the saved message", || async {
        c.find(Locator::Css("#workflow-saved"))
            .await
            .ok()?
            .text()
            .await
            .ok()
    })
    .await;
    assert!(saved.contains("保存しました"), "{saved}");
    let note = "事業所に電話。今週中に再提出の予定";
    c.find(Locator::Css("#w-note"))
        .await
        .expect("the note box")
        .send_keys(note)
        .await
        .unwrap();
    c.find(Locator::Css("#note-add"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let notes = wait_until("the note in the list", || async {
        let t = c
            .find(Locator::Css("#notes"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        t.contains(note).then_some(t)
    })
    .await;
    assert!(
        notes.contains("佐藤 恵子"),
        "the note names its author: {notes}"
    );
    let due = c
        .find(Locator::Css("#follow-up-due"))
        .await
        .expect("the due badge");
    assert!(due.text().await.unwrap().contains("到来"));
    c.execute(
        "document.querySelector('#workflow').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(c, "case-workflow.png").await;

    for query in ["mine=1", "follow_up_due=1"] {
        c.goto(&format!("{base}/notices?{query}"))
            .await
            .expect("open the filtered list");
        let table = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#cases"))
            .await
            .expect("the #cases table");
        let text = table.text().await.unwrap();
        assert!(
            text.contains(&notice_id),
            "{query} lists {notice_id}: {text}"
        );
        assert!(text.contains("佐藤 恵子"), "{query} shows the assignee");
        if query == "mine=1" {
            let total = c
                .find(Locator::Css("#total"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(total, "1", "only the case just assigned is mine");
            screenshot(c, "case-workflow-mine.png").await;
        }
    }
}

/// An unknown address: the Japanese 404 page inside the navigation.
async fn not_found(c: &Client, base: &str) {
    c.goto(&format!("{base}/no-such-page"))
        .await
        .expect("open /no-such-page");
    let h1 = h1_text(c).await;
    assert!(h1.contains("見つかりません"), "404 <h1>: {h1:?}");
    c.find(Locator::Css(
        "nav[aria-label=メインメニュー] a[href='/notices']",
    ))
    .await
    .expect("the navigation on the 404 page");
    screenshot(c, "not-found.png").await;
}

/// The insurer's own export (a title, its headers, kind codes) mapped in the profile editor,
/// saved, and then used for an upload.
async fn profile_editor(c: &Client, base: &str, dir: &Path, today: chrono::NaiveDate) {
    let received = today - chrono::Days::new(1);
    let event = today - chrono::Days::new(4);
    let mut body = String::from(
        "資格届 受付一覧（基幹システム出力）,,,,,,,\n\n受付No,届出区分,事業所番号,記号,番号,資格取得日,受付年月日,マイナンバー記載\n",
    );
    for (i, code) in ["01", "02", "03", "05"].iter().enumerate() {
        body.push_str(&format!(
            "KIKAN-{i:03},{code},9002,88,{},{},{},有\n",
            600000 + i,
            event.format("%Y/%m/%d"),
            received.format("%Y/%m/%d"),
        ));
    }
    let sample = dir.join("kikan.csv");
    std::fs::write(&sample, body).unwrap();

    c.goto(&format!("{base}/imports"))
        .await
        .expect("open /imports");
    c.find(Locator::Css("#new-profile"))
        .await
        .expect("the new-profile link #new-profile")
        .click()
        .await
        .unwrap();
    wait_for_path(c, "/imports/profiles/edit").await;
    c.find(Locator::Css("#sample-file"))
        .await
        .expect("#sample-file")
        .send_keys(&sample.display().to_string())
        .await
        .unwrap();
    c.find(Locator::Css("#sample-form [type=submit]"))
        .await
        .expect("the sample form's button")
        .click()
        .await
        .unwrap();
    wait_until("the sample table", || async {
        c.find(Locator::Css("table.sample")).await.ok()
    })
    .await;
    // The header is on row 3: say so and read again; the mapping is suggested from its text.
    let row = c
        .find(Locator::Css("#header_row"))
        .await
        .expect("#header_row");
    row.clear().await.unwrap();
    row.send_keys("3").await.unwrap();
    c.find(Locator::Css("#preview-button"))
        .await
        .expect("#preview-button")
        .click()
        .await
        .unwrap();
    let chosen = wait_until("event_date suggested from 資格取得日", || async {
        let sel = c.find(Locator::Css("#col_event_date")).await.ok()?;
        let v = sel.prop("value").await.ok()??;
        (v == "資格取得日").then_some(v)
    })
    .await;
    assert_eq!(chosen, "資格取得日");
    c.find(Locator::Css("#val_kind"))
        .await
        .expect("#val_kind")
        .send_keys("01=acquisition\n02=dependent\n03=loss")
        .await
        .unwrap();
    c.find(Locator::Css("#preview-button"))
        .await
        .expect("#preview-button")
        .click()
        .await
        .unwrap();
    let table = wait_until("the preview table with KIKAN-000", || async {
        let t = c
            .find(Locator::Css("#preview-table"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        t.contains("KIKAN-000").then_some(t)
    })
    .await;
    assert!(table.contains("資格取得"), "{table}");
    assert!(
        table.contains("届出区分 の値「05」"),
        "the unmapped code is shown as the row's error: {table}"
    );
    c.find(Locator::Css("#profile-name"))
        .await
        .expect("#profile-name")
        .send_keys("基幹システム出力")
        .await
        .unwrap();
    c.find(Locator::Css("#save-button"))
        .await
        .expect("#save-button")
        .click()
        .await
        .unwrap();
    wait_until("保存しました", || async {
        let t = c
            .find(Locator::Css("p.info"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        t.contains("保存しました").then_some(())
    })
    .await;
    screenshot(c, "import-profile.png").await;
    c.execute(
        "document.querySelector('#col_notice_id').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(c, "import-profile-mapping.png").await;
    c.execute(
        "document.querySelector('#preview-table').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(c, "import-profile-preview.png").await;

    // Upload the same file with the profile: three rows in, the unmapped code rejected.
    c.goto(&format!("{base}/imports"))
        .await
        .expect("open /imports");
    let form = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#upload-form"))
        .await
        .expect("#upload-form");
    form.find(Locator::Css("#upload-profile"))
        .await
        .expect("#upload-profile")
        .select_by_label("基幹システム出力")
        .await
        .expect("the saved profile is offered");
    form.find(Locator::Css("input[type=file][name=file]"))
        .await
        .unwrap()
        .send_keys(&sample.display().to_string())
        .await
        .unwrap();
    form.find(Locator::Css("[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let text = wait_until("the preview with the profile", || async {
        let t = c
            .find(Locator::Css("#upload-preview"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        t.contains("件新規").then_some(t)
    })
    .await;
    assert!(
        text.contains("3 件新規") && text.contains("1 行却下"),
        "{text}"
    );
    assert!(
        text.contains("7 行目"),
        "the rejected row's sheet line: {text}"
    );
    c.find(Locator::Css("#upload-commit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until("the committed import", || async {
        let t = c
            .find(Locator::Css("#upload-result"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        t.contains("取込が完了").then_some(())
    })
    .await;
    screenshot(c, "import-with-profile.png").await;
}

/// Errors from the intermediate server for a few notices not yet registered (the generated year
/// has errors only before successes): the 登録エラー worklist's content.
fn seed_registration_errors(
    conn: &mut regwatch::store::DbConn,
    insurer: &regwatch::store::insurers::Insurer,
    today: chrono::NaiveDate,
) {
    use regwatch::store::notices::{self, NoticeFilter};
    let mut open = NoticeFilter::new(today);
    open.pending = true;
    let rows = notices::rows(conn, insurer.id, &insurer.rules, &open, 0, 4).unwrap();
    assert!(rows.len() >= 2, "pending notices in the generated year");
    let mut csv = String::from("受付番号,登録完了日時,処理結果,エラーコード,エラー内容\n");
    for (i, r) in rows.iter().enumerate() {
        if i % 2 == 0 {
            csv.push_str(&format!(
                "{},,エラー,E0101,J-LIS照会結果不一致\n",
                r.notice_id
            ));
        } else {
            csv.push_str(&format!(
                "{},{}T10:30:00+09:00,エラー,E0203,基本4情報の不一致\n",
                r.notice_id, r.received_on
            ));
        }
    }
    let s = common::import_registrations_csv(conn, insurer, "errors.csv", &csv);
    assert_eq!(s.rejected, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(regwatch_browser_test),
    ignore = "needs Chromium: REGWATCH_BROWSER_TEST=1 cargo test"
)]
async fn browser_sign_in_dashboard_cases_case_and_upload() {
    let chromedriver = find_binary(
        "REGWATCH_CHROMEDRIVER",
        &["/usr/bin/chromedriver", "chromedriver"],
    );
    let chromium = find_binary(
        "REGWATCH_CHROMIUM",
        &[
            "/usr/bin/chromium",
            "chromium",
            "chromium-browser",
            "google-chrome",
        ],
    );
    let (Some(chromedriver), Some(chromium)) = (chromedriver, chromium) else {
        panic!(
            "chromedriver or chromium not found (Debian: apt-get install chromium chromium-driver; \
             or set REGWATCH_CHROMEDRIVER / REGWATCH_CHROMIUM)"
        );
    };

    // The real server with an insurer, its admin and a small generated year.
    let today = regwatch::time::today_jst();
    let app = common::TestApp::builder()
        .with_insurer("06130001", InsurerKind::Kenpo)
        .with_admin("06130001", EMAIL, PASSWORD)
        .with_seed(move |conn, ins| {
            let (n, r) = common::load_generated(conn, &ins[0], 400, 7, today);
            assert_eq!((n.rejected, r.rejected), (0, 0));
            seed_registration_errors(conn, &ins[0], today);
        })
        .with_seed(seed_users)
        .spawn()
        .await;
    let base = app.address.clone();

    let driver = start_driver(&chromedriver).await;
    let c = connect(&driver, Some(&chromium)).await;
    let session = c
        .session_id()
        .await
        .expect("session id")
        .expect("a session");
    // A panic inside the pages must still close the browser: run them as a task.
    let outcome = tokio::spawn(visit_pages(
        c.clone(),
        driver.url.clone(),
        session,
        base,
        today,
    ))
    .await;
    let closed = c.close().await;
    drop(driver);
    let errors = match outcome {
        Ok(errors) => errors,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("browser test task failed: {e}"),
    };
    closed.expect("close the browser");
    assert!(
        errors.is_empty(),
        "console errors in the browser:\n{}",
        errors.join("\n")
    );
    eprintln!("screenshots in {}", screenshot_dir().display());
}
