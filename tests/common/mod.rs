//! Test harness: `spawn_app()` starts the real server on port 0 with a fresh database — a temp
//! SQLite file, or a fresh PostgreSQL database when `REGWATCH_TEST_POSTGRES_URL` is set.
#![allow(dead_code)]

use diesel::prelude::*;
use regwatch::config::Config;
use regwatch::web::{AppState, Application};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh, empty database for one test; dropped (PostgreSQL) or deleted (SQLite) afterwards.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> TestDb {
        match std::env::var("REGWATCH_TEST_POSTGRES_URL") {
            Ok(admin) if !admin.trim().is_empty() => {
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
            _ => {
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

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub state: AppState,
    pub db: TestDb,
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .expect("request")
    }
}

pub fn test_config(db: &TestDb) -> Config {
    Config {
        database_url: db.url.clone(),
        bind: "127.0.0.1:0".into(),
        pool_size: 4,
        ..Config::default()
    }
}

/// Starts the real server on a random port with a fresh database.
pub async fn spawn_app() -> TestApp {
    let db = TestDb::new();
    let app = Application::build(test_config(&db))
        .await
        .expect("build app");
    let port = app.port();
    let state = app.state.clone();
    tokio::spawn(app.run_until_stopped());
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
    }
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
    let csrf = html
        .split("<meta name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf meta tag")
        .to_string();
    CookieSession { cookie, csrf }
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
