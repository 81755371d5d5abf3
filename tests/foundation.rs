//! The foundation: the server starts on a fresh database, answers health checks and the login
//! page, keeps its generated JWT key across restarts, and the CLI fails with one clear line.
mod common;

use common::{spawn_app, test_config, TestDb};
use secrecy::ExposeSecret;
use std::process::{Command, Stdio};

#[tokio::test]
async fn healthz_and_readyz_answer_200_on_a_fresh_database() {
    let app = spawn_app().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200);
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn root_serves_a_japanese_login_page() {
    let app = spawn_app().await;
    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("lang=\"ja\""));
    assert!(html.contains("ログイン"));
    assert!(html.contains("メールアドレス") && html.contains("パスワード"));
}

#[tokio::test]
async fn generated_jwt_key_survives_a_restart() {
    let db = TestDb::new();
    let a = regwatch::web::Application::build(test_config(&db))
        .await
        .unwrap();
    let key_a = a.state.jwt_key.expose_secret().to_string();
    drop(a);
    let b = regwatch::web::Application::build(test_config(&db))
        .await
        .unwrap();
    assert_eq!(key_a.len(), 128, "64 random bytes, hex");
    assert_eq!(key_a, b.state.jwt_key.expose_secret());
}

#[tokio::test]
async fn configured_jwt_key_is_used_instead_of_a_generated_one() {
    let db = TestDb::new();
    let mut cfg = test_config(&db);
    cfg.jwt_secret = Some("configured-secret-key-0123456789".to_string().into());
    let a = regwatch::web::Application::build(cfg).await.unwrap();
    assert_eq!(
        a.state.jwt_key.expose_secret(),
        "configured-secret-key-0123456789"
    );
}

#[tokio::test]
async fn readyz_is_503_when_the_database_goes_away() {
    let app = spawn_app().await;
    if !app.db.is_postgres() {
        // A SQLite file cannot "go away" under an open connection; PostgreSQL can.
        eprintln!("skipped on SQLite: needs REGWATCH_TEST_POSTGRES_URL");
        return;
    }
    assert_eq!(app.get("/readyz").await.status(), 200);
    let (admin, name) = {
        let url = url::Url::parse(&app.db.url).unwrap();
        let name = url.path().trim_start_matches('/').to_string();
        (common::postgres_admin_url().unwrap(), name)
    };
    use diesel::prelude::*;
    let mut c = diesel::PgConnection::establish(&admin).unwrap();
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut c)
        .unwrap();
    assert_eq!(app.get("/readyz").await.status(), 503);
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "the process is still up"
    );
}

fn regwatch() -> Command {
    let mut c = common::regwatch_command();
    c.env_remove("REGWATCH_DATABASE_URL")
        .env("REGWATCH_LOG", "warn");
    c
}

/// Runs the binary and checks the contract for a startup failure: exit 1, one line, no panic.
fn assert_one_line_failure(out: &std::process::Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected, got: {stderr}");
    assert!(lines[0].contains(needle), "{stderr}");
}

#[test]
fn unreachable_postgres_url_is_one_clear_line() {
    let out = regwatch()
        .args([
            "--database-url",
            "postgres://postgres:hunter2@127.0.0.1:1/nowhere",
            "migrate",
        ])
        .output()
        .unwrap();
    assert_one_line_failure(&out, "PostgreSQL に接続できません");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("hunter2"),
        "password leaked"
    );
}

#[test]
fn unwritable_sqlite_path_is_one_clear_line() {
    // The parent "directory" is a file, so nobody (not even root) can create the database there.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let url = format!("sqlite://{}/regwatch.db", file.display());
    let out = regwatch()
        .args(["--database-url", &url, "migrate"])
        .output()
        .unwrap();
    assert_one_line_failure(&out, "SQLite データベースを開けません");
}

#[test]
fn port_in_use_is_one_clear_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/regwatch.db", dir.path().display());
    let out = regwatch()
        .args(["--database-url", &url, "serve", "--bind", &addr])
        .output()
        .unwrap();
    assert_one_line_failure(&out, "ポートが既に使われています");
}

#[test]
fn cli_adds_an_insurer_and_a_user_and_refuses_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/regwatch.db", dir.path().display());
    let out = regwatch()
        .args([
            "--database-url",
            &url,
            "insurer",
            "add",
            "--number",
            "06123456",
            "--name",
            "テスト健康保険組合",
            "--kind",
            "kenpo",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("06123456"));

    let again = regwatch()
        .args([
            "--database-url",
            &url,
            "insurer",
            "add",
            "--number",
            "06123456",
            "--name",
            "x",
            "--kind",
            "kenpo",
        ])
        .output()
        .unwrap();
    assert_one_line_failure(&again, "登録済み");

    let bad = regwatch()
        .args([
            "--database-url",
            &url,
            "insurer",
            "add",
            "--number",
            "0612",
            "--name",
            "x",
            "--kind",
            "kenpo",
        ])
        .output()
        .unwrap();
    assert_one_line_failure(&bad, "8桁");

    let mut child = regwatch()
        .args([
            "--database-url",
            &url,
            "user",
            "add",
            "--insurer",
            "06123456",
            "--email",
            "Admin@Example.jp",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a-long-password-123\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("admin@example.jp"));

    // The stored hash is argon2, never the password.
    let db = regwatch::store::DatabaseUrl::parse(&url).unwrap();
    let mut conn = regwatch::store::establish(&db).unwrap();
    let email = regwatch::store::users::Email::parse("admin@example.jp").unwrap();
    let row = regwatch::store::users::find_by_email(&mut conn, &email)
        .unwrap()
        .unwrap();
    assert!(row.password_hash.starts_with("$argon2"));
    assert!(!row.password_hash.contains("a-long-password-123"));
    assert_eq!(row.role, "admin");
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/regwatch.db", dir.path().display());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = regwatch()
        .args([
            "--database-url",
            &url,
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    // Wait for an HTTP answer, not just an open port: the kernel accepts connections as soon as
    // the socket listens, before the server loop (and its signal handling) runs.
    loop {
        if healthz_answers(port) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "exit status {st:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "server did not stop on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(dir.path().join("regwatch.db").exists());
}

fn healthz_answers(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.1 200")
}
