//! Test harness shared by every file under tests/: `TestApp` starts the real server on port 0 with
//! a fresh database — a temp SQLite file, or a fresh PostgreSQL database when
//! `REGWATCH_TEST_POSTGRES_URL` is set — seeded by a builder
//! (`TestApp::builder().with_insurer(..).with_staff(..).spawn()`), with request helpers for a
//! bearer token or a browser session (CSRF handled), and the small helpers the files share
//! (imports of CSV text, row ids, the CLI binary, tool checks for the Chromium and SMTP tests).
//!
//! Tests that need Chromium or aiosmtpd carry
//! `#[cfg_attr(not(regwatch_browser_test), ignore = "…")]` (or `regwatch_smtp_test`): build.rs sets
//! those cfgs when `REGWATCH_BROWSER_TEST=1` / `REGWATCH_SMTP_TEST=1` (CI), so locally they show as
//! ignored and in CI a missing tool is a failure.
#![allow(dead_code)]

use chrono::NaiveDate;
use diesel::prelude::*;
use regwatch::config::Config;
use regwatch::domain::InsurerKind;
use regwatch::store::import::{Actor, ImportSummary};
use regwatch::store::insurers::Insurer;
use regwatch::store::users::Role;
use regwatch::web::{AppState, Application};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh, empty database for one test; dropped (PostgreSQL) or deleted (SQLite) afterwards.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> TestDb {
        match postgres_admin_url() {
            Some(admin) => {
                static N: AtomicU32 = AtomicU32::new(0);
                let name = format!(
                    "regwatch_t_{}_{}_{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst),
                    rand_suffix()
                );
                let mut conn = PgConnection::establish(&admin)
                    .unwrap_or_else(|e| panic!("REGWATCH_TEST_POSTGRES_URL unreachable: {e}"));
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create test database");
                let mut url = url::Url::parse(&admin).expect("REGWATCH_TEST_POSTGRES_URL is a URL");
                url.set_path(&name);
                TestDb {
                    url: url.to_string(),
                    _dir: None,
                    pg_admin: Some((admin, name)),
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("regwatch.db").display());
                TestDb {
                    url,
                    _dir: Some(dir),
                    pg_admin: None,
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg_admin.is_some()
    }

    /// A direct connection to this test database (for assertions on stored rows).
    pub fn conn(&self) -> regwatch::store::DbConn {
        let url = regwatch::store::DatabaseUrl::parse(&self.url).unwrap();
        let mut c = regwatch::store::establish(&url).unwrap();
        regwatch::store::migrate(&mut c).unwrap();
        c
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg_admin {
            if let Ok(mut conn) = PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{nanos:x}")
}

/// The running server of one test, its fresh database and the insurers it was seeded with.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// A client with a cookie store that follows no redirects (bearer and anonymous requests).
    pub client: reqwest::Client,
    pub state: AppState,
    pub db: TestDb,
    /// The insurers the builder added, in the order they were added.
    pub insurers: Vec<Insurer>,
}

/// How a request is authenticated.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    Anonymous,
    /// `Authorization: Bearer` (API).
    Bearer(&'a str),
    /// A browser session: its cookie, and its CSRF token added to form posts (a `csrf` field unless
    /// the fields carry one) and to JSON writes (`X-CSRF-Token`).
    Session(&'a CookieSession),
    /// Only the `Cookie` header, no CSRF token anywhere (to test refusals).
    Cookie(&'a str),
}

impl<'a> From<&'a str> for Auth<'a> {
    fn from(token: &'a str) -> Self {
        Auth::Bearer(token)
    }
}

impl<'a> From<&'a String> for Auth<'a> {
    fn from(token: &'a String) -> Self {
        Auth::Bearer(token)
    }
}

impl<'a> From<&'a CookieSession> for Auth<'a> {
    fn from(s: &'a CookieSession) -> Self {
        Auth::Session(s)
    }
}

/// A client without a cookie store that follows no redirects: the session cookie is `Secure`,
/// which a cookie store would not send over the test server's plain http, so it is sent by hand.
pub fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    /// A builder that seeds the fresh database before the test starts (see [`TestAppBuilder`]).
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A direct connection to the test database (for seeding and for assertions on stored rows).
    pub fn conn(&self) -> regwatch::store::DbConn {
        self.db.conn()
    }

    /// The seeded insurer with this number.
    pub fn insurer(&self, number: &str) -> &Insurer {
        self.insurers
            .iter()
            .find(|i| i.number.as_str() == number)
            .unwrap_or_else(|| panic!("insurer {number} was not seeded"))
    }

    /// A request to `path` authenticated as `auth`.
    pub fn request<'a>(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: impl Into<Auth<'a>>,
    ) -> reqwest::RequestBuilder {
        let write = method != reqwest::Method::GET && method != reqwest::Method::HEAD;
        match auth.into() {
            Auth::Anonymous => self.client.request(method, self.url(path)),
            Auth::Bearer(token) => self
                .client
                .request(method, self.url(path))
                .bearer_auth(token),
            Auth::Session(s) => {
                let r = bare_client()
                    .request(method, self.url(path))
                    .header(reqwest::header::COOKIE, &s.cookie);
                if write {
                    r.header("X-CSRF-Token", &s.csrf)
                } else {
                    r
                }
            }
            Auth::Cookie(cookie) => bare_client()
                .request(method, self.url(path))
                .header(reqwest::header::COOKIE, cookie),
        }
    }

    /// An anonymous GET.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path, Auth::Anonymous)
            .send()
            .await
            .expect("request")
    }

    /// A GET as `auth` (a bearer token or a browser session).
    pub async fn get_as<'a>(&self, auth: impl Into<Auth<'a>>, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path, auth)
            .send()
            .await
            .expect("request")
    }

    /// A GET as `auth`: the status and the JSON body (`Null` when there is none).
    pub async fn get_json<'a>(&self, auth: impl Into<Auth<'a>>, path: &str) -> (u16, Value) {
        status_json(self.get_as(auth, path).await).await
    }

    /// A page's HTML as `auth` gets it; the status must be 200.
    pub async fn page_text<'a>(&self, auth: impl Into<Auth<'a>>, path: &str) -> String {
        let r = self.get_as(auth, path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.text().await.unwrap()
    }

    /// A request with a JSON body as `auth`.
    pub async fn send_json<'a>(
        &self,
        auth: impl Into<Auth<'a>>,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> reqwest::Response {
        self.request(method, path, auth)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// A request with a JSON body as `auth`: the status and the JSON answer (`Null` when none).
    pub async fn call_json<'a>(
        &self,
        auth: impl Into<Auth<'a>>,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        status_json(self.send_json(auth, method, path, body).await).await
    }

    pub async fn post_json<'a>(
        &self,
        auth: impl Into<Auth<'a>>,
        path: &str,
        body: Value,
    ) -> reqwest::Response {
        self.send_json(auth, reqwest::Method::POST, path, body)
            .await
    }

    pub async fn put_json<'a>(
        &self,
        auth: impl Into<Auth<'a>>,
        path: &str,
        body: Value,
    ) -> reqwest::Response {
        self.send_json(auth, reqwest::Method::PUT, path, body).await
    }

    pub async fn delete<'a>(&self, auth: impl Into<Auth<'a>>, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::DELETE, path, auth)
            .send()
            .await
            .expect("request")
    }

    /// A url-encoded form post as `auth`; a session's CSRF token is added as the `csrf` field
    /// unless `fields` carry one (a test of a wrong token sets its own).
    pub async fn post_form<'a>(
        &self,
        auth: impl Into<Auth<'a>>,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let auth = auth.into();
        let mut f: Vec<(&str, &str)> = fields.to_vec();
        if let Auth::Session(s) = auth {
            if !f.iter().any(|(k, _)| *k == "csrf") {
                f.push(("csrf", &s.csrf));
            }
        }
        // A form carries its token in the body: no X-CSRF-Token header.
        let auth = match auth {
            Auth::Session(s) => Auth::Cookie(&s.cookie),
            other => other,
        };
        self.request(reqwest::Method::POST, path, auth)
            .form(&f)
            .send()
            .await
            .expect("request")
    }

    /// A multipart upload of one file (field `file`) to `path` as `auth`.
    pub async fn upload<'a>(
        &self,
        auth: impl Into<Auth<'a>>,
        path: &str,
        file_name: &str,
        content: &[u8],
    ) -> reqwest::Response {
        let (ct, body) = multipart(&[("file", Some(file_name), content)]);
        self.request(reqwest::Method::POST, path, auth)
            .header(reqwest::header::CONTENT_TYPE, ct)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    /// Signs in through the API and returns the bearer token.
    pub async fn login_token(&self, email: &str, password: &str) -> String {
        login_token(self, email, password).await
    }

    /// Signs in through the sign-in form: the session's cookie and CSRF token.
    pub async fn login_cookie(&self, email: &str, password: &str) -> CookieSession {
        login_cookie(self, email, password).await
    }
}

/// The status and JSON body (`Null` when there is none) of a response.
pub async fn status_json(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub fn test_config(db: &TestDb) -> Config {
    Config {
        database_url: db.url.clone(),
        bind: "127.0.0.1:0".into(),
        pool_size: 4,
        ..Config::default()
    }
}

/// Starts the real server on a random port with a fresh, empty database.
pub async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

type SeedFn = Box<dyn FnOnce(&mut regwatch::store::DbConn, &[Insurer])>;
type ConfigFn = Box<dyn FnOnce(&mut Config)>;

enum Step {
    Insurer(String, InsurerKind),
    User {
        insurer: String,
        email: String,
        role: Role,
        password: String,
    },
    Notices {
        insurer: String,
        file: String,
        csv: String,
        as_of: NaiveDate,
    },
    Registrations {
        insurer: String,
        file: String,
        csv: String,
    },
    Seed(SeedFn),
}

/// The data a test starts from, written to the fresh database in the order the calls were made
/// (so row ids are those the test expects), after the server has started.
#[derive(Default)]
pub struct TestAppBuilder {
    steps: Vec<Step>,
    config: Vec<ConfigFn>,
}

impl TestAppBuilder {
    /// An insurer with default rules, named `テスト保険者{number}`.
    pub fn with_insurer(mut self, number: &str, kind: InsurerKind) -> Self {
        self.steps.push(Step::Insurer(number.into(), kind));
        self
    }

    /// A user of the insurer `insurer` (added before).
    pub fn with_user(mut self, insurer: &str, email: &str, role: Role, password: &str) -> Self {
        self.steps.push(Step::User {
            insurer: insurer.into(),
            email: email.into(),
            role,
            password: password.into(),
        });
        self
    }

    pub fn with_admin(self, insurer: &str, email: &str, password: &str) -> Self {
        self.with_user(insurer, email, Role::Admin, password)
    }

    pub fn with_staff(self, insurer: &str, email: &str, password: &str) -> Self {
        self.with_user(insurer, email, Role::Staff, password)
    }

    pub fn with_viewer(self, insurer: &str, email: &str, password: &str) -> Self {
        self.with_user(insurer, email, Role::Viewer, password)
    }

    /// A notices file imported for `insurer` as of `as_of` (rejected rows are kept as rejects).
    pub fn with_notices(mut self, insurer: &str, file: &str, csv: &str, as_of: NaiveDate) -> Self {
        self.steps.push(Step::Notices {
            insurer: insurer.into(),
            file: file.into(),
            csv: csv.into(),
            as_of,
        });
        self
    }

    /// A registration results file imported for `insurer`.
    pub fn with_registrations(mut self, insurer: &str, file: &str, csv: &str) -> Self {
        self.steps.push(Step::Registrations {
            insurer: insurer.into(),
            file: file.into(),
            csv: csv.into(),
        });
        self
    }

    /// Anything else to write before the test starts, with the insurers added so far.
    pub fn with_seed(
        mut self,
        f: impl FnOnce(&mut regwatch::store::DbConn, &[Insurer]) + 'static,
    ) -> Self {
        self.steps.push(Step::Seed(Box::new(f)));
        self
    }

    /// A change to the server's configuration (on top of [`test_config`]).
    pub fn with_config(mut self, f: impl FnOnce(&mut Config) + 'static) -> Self {
        self.config.push(Box::new(f));
        self
    }

    /// Starts the real server on a random port with a fresh database, then seeds it.
    pub async fn spawn(self) -> TestApp {
        let db = TestDb::new();
        let mut config = test_config(&db);
        for f in self.config {
            f(&mut config);
        }
        let app = Application::build(config).await.expect("build app");
        let port = app.port();
        let state = app.state.clone();
        tokio::spawn(app.run_until_stopped());
        let mut insurers: Vec<Insurer> = Vec::new();
        if !self.steps.is_empty() {
            let mut c = db.conn();
            let find = |insurers: &[Insurer], number: &str| -> Insurer {
                insurers
                    .iter()
                    .find(|i| i.number.as_str() == number)
                    .unwrap_or_else(|| panic!("insurer {number} is added before its data"))
                    .clone()
            };
            for step in self.steps {
                match step {
                    Step::Insurer(number, kind) => {
                        insurers.push(add_insurer(&mut c, &number, kind))
                    }
                    Step::User {
                        insurer,
                        email,
                        role,
                        password,
                    } => {
                        add_user(&mut c, &find(&insurers, &insurer), &email, role, &password);
                    }
                    Step::Notices {
                        insurer,
                        file,
                        csv,
                        as_of,
                    } => {
                        import_notices_csv(&mut c, &find(&insurers, &insurer), &file, &csv, as_of);
                    }
                    Step::Registrations { insurer, file, csv } => {
                        import_registrations_csv(&mut c, &find(&insurers, &insurer), &file, &csv);
                    }
                    Step::Seed(f) => f(&mut c, &insurers),
                }
            }
        }
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            state,
            db,
            insurers,
        }
    }
}

/// The actor of imports made by the test harness.
pub fn test_actor() -> Actor {
    Actor {
        user: None,
        label: "test".into(),
    }
}

/// Imports a notices file (CSV text) for `insurer` as of `as_of`, as the test harness.
pub fn import_notices_csv(
    conn: &mut regwatch::store::DbConn,
    insurer: &Insurer,
    file_name: &str,
    csv: &str,
    as_of: NaiveDate,
) -> ImportSummary {
    regwatch::store::import::import_notices(
        conn,
        insurer,
        csv.as_bytes(),
        file_name,
        &test_actor(),
        as_of,
        &mut |_| {},
    )
    .expect("import notices")
}

/// Imports a registration results file (CSV text) for `insurer`, as the test harness.
pub fn import_registrations_csv(
    conn: &mut regwatch::store::DbConn,
    insurer: &Insurer,
    file_name: &str,
    csv: &str,
) -> ImportSummary {
    regwatch::store::import::import_registrations(
        conn,
        insurer,
        csv.as_bytes(),
        file_name,
        &test_actor(),
        &mut |_| {},
    )
    .expect("import registrations")
}

/// The database id of an insurer's notice by its 受付番号.
pub fn notice_db_id(conn: &mut regwatch::store::DbConn, insurer: &Insurer, notice_id: &str) -> i64 {
    use regwatch::store::schema::notices;
    notices::table
        .filter(notices::insurer_id.eq(insurer.id.0))
        .filter(notices::notice_id.eq(notice_id))
        .select(notices::id)
        .first(conn)
        .unwrap()
}

/// [`notice_db_id`] on a new connection to the test app's database.
pub fn db_id(app: &TestApp, insurer: &Insurer, notice_id: &str) -> i64 {
    notice_db_id(&mut app.conn(), insurer, notice_id)
}

/// The database id of an insurer's employer by its 事業所記号.
pub fn employer_db_id(conn: &mut regwatch::store::DbConn, insurer: &Insurer, code: &str) -> i64 {
    use regwatch::store::schema::employers;
    employers::table
        .filter(employers::insurer_id.eq(insurer.id.0))
        .filter(employers::code.eq(code))
        .select(employers::id)
        .first(conn)
        .unwrap()
}

/// How many audit entries of `action` (its code) there are, all insurers together.
pub fn audit_count(conn: &mut regwatch::store::DbConn, action: &str) -> i64 {
    use regwatch::store::schema::audit_log;
    audit_log::table
        .filter(audit_log::action.eq(action))
        .count()
        .get_result(conn)
        .unwrap()
}

/// Registers an insurer with default rules directly in the database.
pub fn add_insurer(
    conn: &mut regwatch::store::DbConn,
    number: &str,
    kind: regwatch::domain::InsurerKind,
) -> regwatch::store::insurers::Insurer {
    regwatch::store::insurers::create(
        conn,
        &regwatch::domain::InsurerNumber::parse(number).unwrap(),
        &format!("テスト保険者{number}"),
        kind,
        &regwatch::domain::RuleSettings::default(),
    )
    .unwrap()
}

/// Adds a user to an insurer directly in the database.
pub fn add_user(
    conn: &mut regwatch::store::DbConn,
    insurer: &regwatch::store::insurers::Insurer,
    email: &str,
    role: regwatch::store::users::Role,
    password: &str,
) -> regwatch::store::users::UserId {
    regwatch::store::users::create(
        conn,
        insurer.id,
        &regwatch::store::users::Email::parse(email).unwrap(),
        role,
        &secrecy::SecretString::from(password.to_string()),
    )
    .unwrap()
}

/// Generates `notices` notices (and their registration results) for the 12 months up to `end` and
/// imports both files for `insurer`; returns the two import summaries.
pub fn load_generated(
    conn: &mut regwatch::store::DbConn,
    insurer: &regwatch::store::insurers::Insurer,
    notices: u64,
    seed: u64,
    end: chrono::NaiveDate,
) -> (
    regwatch::store::import::ImportSummary,
    regwatch::store::import::ImportSummary,
) {
    use regwatch::store::import::{import_notices, import_registrations, Actor};
    let dir = tempfile::tempdir().expect("temp dir");
    regwatch::gen::generate(
        dir.path(),
        &regwatch::gen::GenOptions { notices, seed, end },
    )
    .expect("generate");
    let actor = Actor {
        user: None,
        label: "test".into(),
    };
    let open =
        |name: &str| std::io::BufReader::new(std::fs::File::open(dir.path().join(name)).unwrap());
    let n = import_notices(
        conn,
        insurer,
        open("notices.csv"),
        "notices.csv",
        &actor,
        end,
        &mut |_| {},
    )
    .expect("import notices");
    let r = import_registrations(
        conn,
        insurer,
        open("registrations.csv"),
        "registrations.csv",
        &actor,
        &mut |_| {},
    )
    .expect("import registrations");
    (n, r)
}

/// Signs in through the API and returns the bearer token.
pub async fn login_token(app: &TestApp, email: &str, password: &str) -> String {
    let r = app
        .client
        .post(format!("{}/api/v1/login", app.address))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login request");
    assert_eq!(r.status(), 200, "API sign-in of {email}");
    let body: serde_json::Value = r.json().await.unwrap();
    body["token"].as_str().expect("token").to_string()
}

/// A browser-like session: the `Cookie` header to send and the session's CSRF token.
pub struct CookieSession {
    pub cookie: String,
    pub csrf: String,
}

/// The value of cookie `name` in the `Set-Cookie` headers of a response.
pub fn set_cookie_value(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().to_string())
}

/// Signs in through the sign-in form (GET /login for its CSRF cookie, then POST /login) and reads
/// the session's CSRF token from a page's `<meta name="csrf-token">`. The session cookie is
/// `Secure`, which a cookie store would not send over http, so the Cookie header is kept by hand.
pub async fn login_cookie(app: &TestApp, email: &str, password: &str) -> CookieSession {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(format!("{}/login", app.address))
        .send()
        .await
        .unwrap();
    let login_csrf = set_cookie_value(&page, "regwatch_login_csrf").expect("login CSRF cookie");
    let r = client
        .post(format!("{}/login", app.address))
        .header(
            reqwest::header::COOKIE,
            format!("regwatch_login_csrf={login_csrf}"),
        )
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", login_csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "form sign-in of {email}");
    let session = set_cookie_value(&r, "regwatch_session").expect("session cookie");
    let cookie = format!("regwatch_session={session}");
    let html = client
        .get(format!("{}/imports", app.address))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    CookieSession {
        cookie,
        csrf: csrf_meta(&html),
    }
}

/// The session's CSRF token in a page's `<meta name="csrf-token">`.
pub fn csrf_meta(html: &str) -> String {
    html.split("<meta name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf meta tag")
        .to_string()
}

/// A `multipart/form-data` body of (field name, file name, bytes) parts, and its content type.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "regwatch-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let head = match file {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n"
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A GET with the bearer token: the status and the JSON body (`Null` when there is none).
pub async fn get_json(app: &TestApp, token: &str, path: &str) -> (u16, serde_json::Value) {
    let r = app
        .client
        .get(format!("{}{}", app.address, path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// A request carrying a browser session's cookie.
pub fn with_cookie(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    s: &CookieSession,
) -> reqwest::RequestBuilder {
    app.client
        .request(method, format!("{}{}", app.address, path))
        .header(reqwest::header::COOKIE, &s.cookie)
}

/// A page as a signed-in browser gets it: the status and the HTML.
pub async fn page(app: &TestApp, s: &CookieSession, path: &str) -> (u16, String) {
    let r = with_cookie(app, reqwest::Method::GET, path, s)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The regwatch binary built for these tests.
pub fn regwatch_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_regwatch"))
}

/// Runs the regwatch binary with `args` and waits for it.
pub fn regwatch_bin(args: &[&str]) -> Output {
    regwatch_command().args(args).output().unwrap()
}

/// A file or folder under tests/data.
pub fn data_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(relative)
}

/// `$CARGO_TARGET_DIR/<name>` (at run or build time), else `target/<name>`, created: where tests
/// keep files to be looked at (screenshots, PDFs).
pub fn artifact_dir(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let target = if target.is_relative() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(target)
    } else {
        target
    };
    let dir = target.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether an executable named `bin` is on the PATH.
pub fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
}

/// The admin URL of the PostgreSQL server to test against, when `REGWATCH_TEST_POSTGRES_URL` is set.
/// REGWATCH_TEST_POSTGRES_URL. On loopback without an `sslmode` of its own it gets
/// `sslmode=disable`: TLS to 127.0.0.1 proves nothing, and OpenSSL's clean-up at process exit
/// can race with the connections of a test server still running and abort the test binary after
/// every test passed ("double free or corruption").
pub fn postgres_admin_url() -> Option<String> {
    let url = std::env::var("REGWATCH_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    let Ok(mut parsed) = url::Url::parse(&url) else {
        return Some(url);
    };
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if loopback && !parsed.query_pairs().any(|(k, _)| k == "sslmode") {
        parsed.query_pairs_mut().append_pair("sslmode", "disable");
    }
    Some(parsed.to_string())
}

/// Fails the test (it only runs under `REGWATCH_BROWSER_TEST=1` / `REGWATCH_SMTP_TEST=1` or
/// `--ignored`) when a tool it needs is missing, saying how to install it.
#[track_caller]
pub fn require_tool(available: bool, what: &str) {
    assert!(available, "this test needs {what}");
}

/// A date written `YYYY-MM-DD`.
pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The date of year, month and day.
pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}
