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
