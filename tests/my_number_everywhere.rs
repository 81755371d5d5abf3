//! Issue 17 / SPEC §6, end to end: valid My Numbers, generated at random and written the ways
//! people write them (plain, spaced, hyphenated, full width), are planted in every column of a
//! notices file and a registrations file, in the text of API calls and forms, in a sign-in and in
//! query parameters — against the real `regwatch serve` binary. Then every output channel is read
//! and must hold none of them: the server's log (at debug level), the database (SQLite: the file,
//! its WAL and shared memory; PostgreSQL: `pg_dump`), JSON, CSV and xlsx exports, the import
//! answers and reject lists, letters, pages, the e-mail preview and the e-mails `outbox run` writes.
//!
//! Runs on SQLite, and on PostgreSQL with REGWATCH_TEST_POSTGRES_URL.
mod common;

use common::TestDb;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const INSURER: &str = "06123456";
const EMAIL: &str = "admin@example.jp";
const PASSWORD: &str = "correct-horse-battery";

const NOTICE_HEADER: [&str; 18] = [
    "受付番号",
    "届書種別",
    "事業所記号",
    "事業所名称",
    "被保険者記号",
    "被保険者番号",
    "枝番",
    "氏名",
    "氏名カナ",
    "事実発生日",
    "受付日",
    "個人番号",
    "遅延理由",
    "保険者番号",
    "個人番号記載",
    "生年月日",
    "郵便番号",
    "住所",
];

const REGISTRATION_HEADER: [&str; 8] = [
    "受付番号",
    "登録完了日時",
    "処理結果",
    "エラーコード",
    "エラー内容",
    "被保険者記号",
    "被保険者番号",
    "枝番",
];

/// A random valid My Number (11 random digits and the check digit).
fn my_number(rng: &mut impl Rng) -> String {
    let lead: Vec<u8> = (0..11).map(|_| rng.gen_range(0..10u8)).collect();
    let check = regwatch::domain::my_number::check_digit(&lead);
    lead.iter()
        .chain(std::iter::once(&check))
        .map(|d| char::from(b'0' + d))
        .collect()
}

fn full_width(digits: &str) -> String {
    digits
        .chars()
        .map(|c| char::from_u32('０' as u32 + (c as u32 - '0' as u32)).unwrap())
        .collect()
}

/// The number as someone would type it, by `style`.
fn written(digits: &str, style: usize) -> String {
    let groups = [&digits[0..4], &digits[4..8], &digits[8..12]];
    match style % 5 {
        0 => digits.to_string(),
        1 => groups.join(" "),
        2 => groups.join("-"),
        3 => full_width(digits),
        _ => groups.map(full_width).join("　"),
    }
}

/// Every planted number, and how it was written.
#[derive(Default)]
struct Planted(Vec<(String, String)>);

impl Planted {
    fn plant(&mut self, rng: &mut impl Rng, style: usize) -> String {
        let digits = my_number(rng);
        let w = written(&digits, style);
        self.0.push((digits, w.clone()));
        w
    }

    /// What must appear nowhere: the digits, the written form, the full-width digits and the
    /// last eight digits on their own (a partly masked or trimmed number).
    fn needles(&self) -> Vec<String> {
        let mut v = Vec::new();
        for (digits, w) in &self.0 {
            v.push(digits.clone());
            v.push(w.clone());
            v.push(full_width(digits));
            v.push(digits[4..].to_string());
        }
        v
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn cli(db: &TestDb, dir: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_regwatch"))
        .args(args)
        .arg("--database-url")
        .arg(&db.url)
        .env_remove("REGWATCH_CONFIG")
        .env("REGWATCH_LOG", "debug")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

struct Server {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Server {
    async fn start(db: &TestDb, dir: &Path) -> Server {
        let port = free_port();
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_regwatch"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .arg("--database-url")
            .arg(&db.url)
            .env_remove("REGWATCH_CONFIG")
            .env("REGWATCH_LOG", "debug")
            .current_dir(dir)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        // Dropped (killed and waited for) if it never becomes ready.
        let server = Server { child, base, http };
        for _ in 0..300 {
            if let Ok(r) = server
                .http
                .get(format!("{}/readyz", server.base))
                .send()
                .await
            {
                if r.status() == 200 {
                    return server;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("regwatch serve did not become ready");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Everything an output channel gave, by where it came from.
#[derive(Default)]
struct Outputs(Vec<(String, Vec<u8>)>);

impl Outputs {
    fn add(&mut self, from: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.0.push((from.into(), bytes.into()));
    }

    async fn get(&mut self, s: &Server, auth: &Auth, path: &str) -> reqwest::StatusCode {
        let r = auth
            .apply(s.http.get(format!("{}{path}", s.base)))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let bytes = r.bytes().await.unwrap().to_vec();
        if path.contains(".xlsx") && status.is_success() {
            self.add(format!("{path} (cells)"), xlsx_text(&bytes));
        }
        self.add(format!("GET {path}"), bytes);
        status
    }
}

/// Every cell of every sheet of a workbook, as text (the file itself is compressed).
fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut out = String::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        for row in range.rows() {
            for cell in row {
                out.push_str(&cell.to_string());
                out.push('\t');
            }
            out.push('\n');
        }
    }
    out
}

/// The text of an e-mail file, its base64 and quoted-printable parts decoded.
fn eml_text(raw: &str) -> String {
    let mut out = raw.to_string();
    let mut encoding = "";
    let mut body = String::new();
    let mut in_body = false;
    for line in raw.lines() {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("content-transfer-encoding:") {
            encoding = if lower.contains("base64") {
                "b64"
            } else if lower.contains("quoted-printable") {
                "qp"
            } else {
                ""
            };
            in_body = false;
            continue;
        }
        if line.starts_with("--") {
            flush(&mut out, encoding, &mut body);
            in_body = false;
            continue;
        }
        if line.is_empty() && !encoding.is_empty() && !in_body {
            in_body = true;
            continue;
        }
        if in_body {
            body.push_str(line);
            body.push('\n');
        }
    }
    flush(&mut out, encoding, &mut body);
    out
}

fn flush(out: &mut String, encoding: &str, body: &mut String) {
    let text = std::mem::take(body);
    match encoding {
        "b64" => {
            let compact: String = text.split_whitespace().collect();
            out.push_str(&String::from_utf8_lossy(&base64_decode(&compact)));
        }
        "qp" => {
            let joined = text.replace("=\n", "");
            let mut bytes = Vec::new();
            let b = joined.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'=' && i + 2 < b.len() {
                    if let Ok(v) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                        bytes.push(v);
                        i += 3;
                        continue;
                    }
                }
                bytes.push(b[i]);
                i += 1;
            }
            out.push_str(&String::from_utf8_lossy(&bytes));
        }
        _ => {}
    }
}

/// Standard base64, padding and unknown characters skipped.
fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// The `csrf` field of a page's form.
fn hidden_csrf(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

enum Auth {
    Bearer(String),
    Cookie(String),
}

impl Auth {
    fn apply(&self, b: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::Bearer(t) => b.bearer_auth(t),
            Auth::Cookie(cookie) => b.header("Cookie", format!("regwatch_session={cookie}")),
        }
    }
}

fn csv_row(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.clone()
            }
        })
        .collect();
    quoted.join(",") + "\n"
}

async fn upload(s: &Server, token: &str, kind: &str, name: &str, body: String) -> Value {
    let (content_type, body) = common::multipart(&[("file", Some(name), body.as_bytes())]);
    let r = s
        .http
        .post(format!("{}/api/v1/imports/{kind}", s.base))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{kind}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn planted_my_numbers_reach_no_output_channel() {
    let seed: u64 = std::env::var("REGWATCH_PLANT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    eprintln!("seed {seed} (REGWATCH_PLANT_SEED={seed} repeats this run)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut planted = Planted::default();
    let mut outputs = Outputs::default();

    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    cli(&db, dir.path(), &["migrate"], None);
    cli(
        &db,
        dir.path(),
        &[
            "insurer",
            "add",
            "--number",
            INSURER,
            "--name",
            "テスト健康保険組合",
            "--kind",
            "kenpo",
        ],
        None,
    );
    cli(
        &db,
        dir.path(),
        &[
            "user",
            "add",
            "--insurer",
            INSURER,
            "--email",
            EMAIL,
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    let s = Server::start(&db, dir.path()).await;
    let r = s
        .http
        .post(format!("{}/api/v1/login", s.base))
        .json(&json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let bearer = Auth::Bearer(token.clone());

    // Notices: clean rows, then one row per column with a number planted in it (a text column
    // gets it among other words).
    let base = |i: usize| -> Vec<String> {
        vec![
            format!("P-{i}"),
            "資格取得".into(),
            "E01".into(),
            "テスト商事".into(),
            "10".into(),
            format!("{}", i + 1),
            String::new(),
            "山田 太郎".into(),
            "ヤマダ タロウ".into(),
            "2026-04-01".into(),
            "2026-04-08".into(),
            String::new(),
            String::new(),
            INSURER.into(),
            String::new(),
            "1980-01-01".into(),
            "100-0001".into(),
            "東京都千代田区千代田一丁目".into(),
        ]
    };
    let mut notices = csv_row(&NOTICE_HEADER.map(String::from));
    for i in 0..6 {
        notices.push_str(&csv_row(&base(100 + i)));
    }
    let text_columns = ["事業所名称", "氏名", "氏名カナ", "遅延理由", "住所"];
    for (i, column) in NOTICE_HEADER.iter().enumerate() {
        for round in 0..2 {
            let mut row = base(i * 2 + round);
            let n = planted.plant(&mut rng, i + round);
            row[i] = if text_columns.contains(column) {
                format!("メモ {n} 参照")
            } else {
                n
            };
            notices.push_str(&csv_row(&row));
        }
    }
    let summary = upload(&s, &token, "notices", "notices.csv", notices).await;
    outputs.add("POST /api/v1/imports/notices", summary.to_string());
    assert!(summary["new"].as_i64().unwrap() >= 6 + 2 * 5, "{summary}");
    assert!(summary["rejected"].as_i64().unwrap() >= 2 * 5, "{summary}");

    // Registration results: successes for the clean notices (so letters of every kind can be
    // produced), then a number in every column.
    let mut regs = csv_row(&REGISTRATION_HEADER.map(String::from));
    for i in 0..3 {
        regs.push_str(&csv_row(&[
            format!("P-{}", 100 + i),
            "2026-04-20 10:00:00".into(),
            "正常".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]));
    }
    for (i, _) in REGISTRATION_HEADER.iter().enumerate() {
        for round in 0..2 {
            let mut row = vec![
                format!("P-{}", 103 + round),
                "2026-04-21 10:00:00".into(),
                "エラー".into(),
                "E100".into(),
                "照会結果不一致".into(),
                String::new(),
                String::new(),
                String::new(),
            ];
            let n = planted.plant(&mut rng, i + round + 1);
            row[i] = if i == 4 {
                format!("番号 {n} が不一致")
            } else {
                n
            };
            regs.push_str(&csv_row(&row));
        }
    }
    let summary = upload(&s, &token, "registrations", "results.csv", regs).await;
    outputs.add("POST /api/v1/imports/registrations", summary.to_string());

    // The API: an employer's address and contacts, a plan action.
    let (_, employers) = {
        let r = bearer
            .apply(s.http.get(format!("{}/api/v1/employers", s.base)))
            .send()
            .await
            .unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    };
    let employer_id = employers["items"][0]["id"]
        .as_i64()
        .or_else(|| employers[0]["id"].as_i64())
        .unwrap_or_else(|| panic!("{employers}"));
    let address = format!("千代田区 {}", planted.plant(&mut rng, 1));
    let r = bearer
        .apply(
            s.http
                .put(format!("{}/api/v1/employers/{employer_id}", s.base)),
        )
        .json(&json!({
            "address": address,
            "postal_code": "100-0001",
            "contact_emails": ["soumu@example.jp"],
        }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert!(status.is_success(), "{status} {body}");
    outputs.add("PUT /api/v1/employers", body);
    let bad_email = format!("{}@example.jp", planted.plant(&mut rng, 0));
    let r = bearer
        .apply(
            s.http
                .put(format!("{}/api/v1/employers/{employer_id}", s.base)),
        )
        .json(&json!({"contact_emails": [bad_email]}))
        .send()
        .await
        .unwrap();
    outputs.add(
        "PUT /api/v1/employers (bad e-mail)",
        r.bytes().await.unwrap().to_vec(),
    );
    let r = bearer
        .apply(s.http.post(format!("{}/api/v1/plan/actions", s.base)))
        .json(&json!({"title": format!("番号 {} の確認", planted.plant(&mut rng, 2)), "owner": planted.plant(&mut rng, 3)}))
        .send()
        .await
        .unwrap();
    outputs.add(
        "POST /api/v1/plan/actions",
        r.bytes().await.unwrap().to_vec(),
    );

    // A sign-in with a number for an address (the failure is audited with the address).
    let r = s
        .http
        .post(format!("{}/api/v1/login", s.base))
        .json(&json!({"email": format!("{}@example.jp", planted.plant(&mut rng, 0)), "password": "wrong-password-1"}))
        .send()
        .await
        .unwrap();
    outputs.add("POST /api/v1/login", r.bytes().await.unwrap().to_vec());

    // Forms, through a cookie session.
    let page = s
        .http
        .get(format!("{}/login", s.base))
        .send()
        .await
        .unwrap();
    let login_csrf = common::set_cookie_value(&page, "regwatch_login_csrf").unwrap();
    let hidden = hidden_csrf(&page.text().await.unwrap());
    let r = s
        .http
        .post(format!("{}/login", s.base))
        .header("Cookie", format!("regwatch_login_csrf={login_csrf}"))
        .form(&[("email", EMAIL), ("password", PASSWORD), ("csrf", &hidden)])
        .send()
        .await
        .unwrap();
    let cookie = common::set_cookie_value(&r, "regwatch_session").unwrap();
    let page = s
        .http
        .get(format!("{}/plan", s.base))
        .header("Cookie", format!("regwatch_session={cookie}"))
        .send()
        .await
        .unwrap();
    let csrf = hidden_csrf(&page.text().await.unwrap());
    let session = Auth::Cookie(cookie.clone());
    let forms: Vec<(String, Vec<(&str, String)>)> = vec![
        (
            "/plan/actions".into(),
            vec![
                ("title", format!("{} の回収", planted.plant(&mut rng, 4))),
                ("owner", "総務課".into()),
            ],
        ),
        (
            format!("/employers/{employer_id}/address"),
            vec![
                ("postal_code", "100-0001".into()),
                (
                    "address",
                    format!("千代田区 {}", planted.plant(&mut rng, 2)),
                ),
            ],
        ),
        (
            "/letters/sender".into(),
            vec![
                (
                    "address",
                    format!("〒100-0001 千代田区 {}", planted.plant(&mut rng, 1)),
                ),
                ("contact", format!("電話 {}", planted.plant(&mut rng, 3))),
                ("seal_text", String::new()),
                ("issuer_word", String::new()),
                (
                    "representative",
                    format!("理事長 {}", planted.plant(&mut rng, 0)),
                ),
            ],
        ),
        (
            "/mail/settings".into(),
            vec![
                (
                    "sender_name",
                    format!("健保 {}", planted.plant(&mut rng, 4)),
                ),
                ("from_address", "noreply@example.jp".into()),
                ("reply_to", String::new()),
                ("bounce_address", String::new()),
                ("reminders_enabled", "on".into()),
                ("digest_weekday", "1".into()),
                ("schedule_hour", "9".into()),
            ],
        ),
    ];
    for (path, mut fields) in forms {
        fields.push(("csrf", csrf.clone()));
        let r = session
            .apply(s.http.post(format!("{}{path}", s.base)))
            .form(&fields)
            .send()
            .await
            .unwrap();
        let status = r.status();
        outputs.add(format!("POST {path}"), r.bytes().await.unwrap().to_vec());
        assert!(
            status.is_success() || status.is_redirection(),
            "{path}: {status}"
        );
    }

    // Query parameters are refused before anything logs them.
    for path in [
        format!("/api/v1/notices?q={}", planted.plant(&mut rng, 0)),
        format!(
            "/notices?employer={}",
            planted.plant(&mut rng, 2).replace(' ', "+")
        ),
    ] {
        let status = outputs.get(&s, &bearer, &path).await;
        assert_eq!(status, 400, "{path}");
    }

    // Every output channel.
    let list = {
        let r = bearer
            .apply(
                s.http
                    .get(format!("{}/api/v1/notices?per_page=200", s.base)),
            )
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()
    };
    outputs.add("GET /api/v1/notices", list.to_string());
    let ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect();
    assert!(ids.len() >= 16, "{list}");
    for id in &ids {
        outputs
            .get(&s, &bearer, &format!("/api/v1/notices/{id}"))
            .await;
        outputs.get(&s, &session, &format!("/notices/{id}")).await;
        for kind in ["registration-period", "qualification-info"] {
            outputs
                .get(
                    &s,
                    &bearer,
                    &format!("/api/v1/notices/{id}/letters/{kind}?format=html"),
                )
                .await;
        }
    }
    let batches = {
        let r = bearer
            .apply(s.http.get(format!("{}/api/v1/imports", s.base)))
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()
    };
    outputs.add("GET /api/v1/imports", batches.to_string());
    let batch_ids: Vec<i64> = batches["items"]
        .as_array()
        .or_else(|| batches.as_array())
        .unwrap()
        .iter()
        .map(|b| b["id"].as_i64().unwrap())
        .collect();
    for id in batch_ids {
        outputs
            .get(&s, &bearer, &format!("/api/v1/imports/{id}"))
            .await;
        outputs.get(&s, &session, &format!("/imports/{id}")).await;
        outputs
            .get(&s, &session, &format!("/imports/{id}/rejects.csv"))
            .await;
    }
    for path in [
        "/api/v1/notices.csv",
        "/api/v1/notices.xlsx",
        "/api/v1/employers",
        "/api/v1/audit",
        "/api/v1/statistics.csv",
        "/api/v1/checklist.csv",
        "/api/v1/survey/followup.csv",
        "/api/v1/mail/preview",
    ] {
        outputs.get(&s, &bearer, path).await;
    }
    for path in [
        "/dashboard",
        "/notices",
        "/employers",
        &format!("/employers/{employer_id}"),
        "/plan",
        "/letters",
        "/audit",
        "/mail",
        "/mail/preview",
        "/survey/followup.xlsx",
        "/checklist.xlsx",
    ] {
        outputs.get(&s, &session, path).await;
    }
    drop(s);

    // The reminder e-mails as sent (no SMTP server configured: written to ./outbox/*.eml).
    let out = cli(&db, dir.path(), &["outbox", "run", "--once"], None);
    outputs.add("outbox run (stdout)", out.stdout);
    outputs.add("outbox run (stderr)", out.stderr);
    let mut emls = 0;
    if let Ok(entries) = std::fs::read_dir(dir.path().join("outbox")) {
        for e in entries.flatten() {
            let raw = std::fs::read_to_string(e.path()).unwrap();
            outputs.add(format!("e-mail {}", e.path().display()), eml_text(&raw));
            emls += 1;
        }
    }
    eprintln!("{emls} e-mail(s) written by outbox run");

    // The server's log, and the database as stored.
    let mut log = Vec::new();
    std::fs::File::open(dir.path().join("server.log"))
        .unwrap()
        .read_to_end(&mut log)
        .unwrap();
    assert!(!log.is_empty());
    outputs.add("server log", log);
    if db.is_postgres() {
        let dump = Command::new("pg_dump")
            .arg("--data-only")
            .arg(&db.url)
            .output()
            .expect("pg_dump (postgresql-client) runs");
        assert!(
            dump.status.success(),
            "{}",
            String::from_utf8_lossy(&dump.stderr)
        );
        outputs.add("pg_dump", dump.stdout);
    } else {
        let file = db.url.trim_start_matches("sqlite://").to_string();
        for suffix in ["", "-wal", "-shm"] {
            if let Ok(bytes) = std::fs::read(format!("{file}{suffix}")) {
                outputs.add(format!("database file{suffix}"), bytes);
            }
        }
    }

    // Masked text was kept (the test is not vacuous): the database holds the mask.
    let stored = outputs
        .0
        .iter()
        .filter(|(from, _)| from.starts_with("database file") || from == "pg_dump")
        .any(|(_, b)| memchr::memmem::find(b, "************".as_bytes()).is_some());
    assert!(stored, "no masked value stored");

    let needles = planted.needles();
    let mut leaks = Vec::new();
    for (from, bytes) in &outputs.0 {
        for n in &needles {
            if memchr::memmem::find(bytes, n.as_bytes()).is_some() {
                leaks.push(format!("{from}: {n}"));
            }
        }
    }
    eprintln!(
        "{} numbers planted, {} outputs read ({} bytes)",
        planted.0.len(),
        outputs.0.len(),
        outputs.0.iter().map(|(_, b)| b.len()).sum::<usize>()
    );
    assert!(leaks.is_empty(), "seed {seed}: {leaks:#?}");
}
