//! Reminder e-mails to employers (SPEC §5, §6; issue 7): the outbox, the daily evaluation and the
//! delivery worker, against a real SMTP server on loopback (Python `aiosmtpd`, started per test),
//! on SQLite and (with REGWATCH_TEST_POSTGRES_URL) PostgreSQL. The worker is driven step by step
//! with an explicit clock; nothing sleeps to wait for a retry.
//!
//! The SMTP tests need `python3 -m pip install aiosmtpd`. They run under `REGWATCH_SMTP_TEST=1` (CI),
//! where its absence is a failure, and are listed as ignored otherwise.
mod common;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use common::{add_insurer, audit_count, import_notices_csv, notice_db_id, require_tool, TestDb};
use regwatch::domain::InsurerKind;
use regwatch::mail::{self, MailSettings, Transport, Worker};
use regwatch::store::employers::{self, EmployerId};
use regwatch::store::import;
use regwatch::store::insurers::Insurer;
use regwatch::store::letters::{self, By};
use regwatch::store::notices::{self, NoticeDbId};
use regwatch::store::outbox::{self, MailKind, OutboxStatus};
use regwatch::store::users::Email;
use regwatch::store::DbConn;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// LATE-1 was submitted late (event 6/1, received 6/25) with a valid number; MISS-1 has no My
/// Number; INV-1 an invalid one; OPT-1 belongs to an employer that opted out; NOC-1 to one
/// without contact addresses.
const NOTICES: &str = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,氏名カナ,事実発生日,受付日,個人番号\n\
LATE-1,資格取得,E01,株式会社テスト,100,1,,山田太郎,ヤマダタロウ,2025-06-01,2025-06-25,123456789018\n\
MISS-1,資格取得,E01,株式会社テスト,100,2,,鈴木花子,スズキハナコ,2025-06-20,2025-06-23,\n\
INV-1,資格取得,E02,テスト商事,200,3,,佐藤次郎,,2025-06-20,2025-06-24,123456789012\n\
OPT-1,資格取得,E03,配信停止商事,300,4,,田中三郎,,2025-06-01,2025-06-25,\n\
NOC-1,資格取得,E04,連絡先なし商事,400,5,,伊藤四郎,,2025-06-01,2025-06-25,\n";

const NAMES: [&str; 5] = ["山田太郎", "鈴木花子", "佐藤次郎", "田中三郎", "伊藤四郎"];

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()
}

/// 2025-06-30 09:00 JST.
fn t0() -> NaiveDateTime {
    as_of().and_hms_opt(0, 0, 0).unwrap()
}

fn settings(rate: u32, max_attempts: u32) -> MailSettings {
    let config = regwatch::config::Config {
        mail_from: Some("テスト健保 <noreply@example.jp>".into()),
        mail_bounce: Some("bounce@example.jp".into()),
        mail_rate_per_minute: rate,
        mail_max_attempts: max_attempts,
        ..regwatch::config::Config::default()
    };
    MailSettings::from_config(&config).unwrap()
}

fn set_contacts(c: &mut DbConn, ins: &Insurer, code: &str, emails: &[&str], opt_out: bool) {
    let id = notices::employer_id_by_code(c, ins.id, code)
        .unwrap()
        .unwrap();
    let emails: Vec<Email> = emails.iter().map(|e| Email::parse(e).unwrap()).collect();
    assert!(employers::update_contacts(c, ins.id, EmployerId(id), &emails, opt_out).unwrap());
}

/// The notices above, contacts for E01 (two addresses), E02 and E03 (opted out), none for E04,
/// and a 資格確認書 for MISS-1 that ends within the week; automatic reminders switched on.
fn seed(db: &TestDb) -> Insurer {
    seed_as(db, "06123456", InsurerKind::Kenpo, true)
}

/// `seed` for an insurer of `kind`; `on`: its automatic reminders are switched on (a new insurer
/// starts with them off, SPEC §5).
fn seed_as(db: &TestDb, number: &str, kind: InsurerKind, on: bool) -> Insurer {
    let mut c = db.conn();
    let ins = add_insurer(&mut c, number, kind);
    seed_insurer(&mut c, &ins, on);
    ins
}

/// The notices, contacts and 資格確認書 of [`seed`] for `ins`.
fn seed_insurer(c: &mut DbConn, ins: &Insurer, on: bool) {
    if on {
        save_prefs(
            c,
            ins,
            &regwatch::store::mail_settings::MailPrefs {
                reminders_enabled: true,
                ..Default::default()
            },
        );
    }
    import_notices_csv(c, ins, "n.csv", NOTICES, as_of());
    set_contacts(
        c,
        ins,
        "E01",
        &["a@e01.example.jp", "b@e01.example.jp"],
        false,
    );
    set_contacts(c, ins, "E02", &["jinji@e02.example.jp"], false);
    set_contacts(c, ins, "E03", &["x@e03.example.jp"], true);
    let miss = notice_db_id(c, ins, "MISS-1");
    letters::insert_certificate(
        c,
        ins.id,
        NoticeDbId(miss),
        NaiveDate::from_ymd_opt(2025, 6, 25).unwrap(),
        NaiveDate::from_ymd_opt(2025, 7, 4).unwrap(),
        &By {
            user: None,
            label: "test".into(),
        },
    )
    .unwrap();
}

const SINK: &str = r#"
import sys, os, json, itertools, time, email
from email import policy
from aiosmtpd.controller import Controller
outdir, port, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
counter = itertools.count()
class Handler:
    async def handle_DATA(self, server, session, envelope):
        if delay:
            time.sleep(delay)
        raw = envelope.original_content or envelope.content
        m = email.message_from_bytes(raw, policy=policy.default)
        text = m.get_body(preferencelist=("plain",))
        html = m.get_body(preferencelist=("html",))
        doc = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": str(m["subject"]),
            "from": str(m["from"]),
            "to": str(m["to"]),
            "message_id": str(m["message-id"]),
            "list_unsubscribe": str(m["list-unsubscribe"]),
            "text": text.get_content() if text else "",
            "html": html.get_content() if html else "",
            "raw": raw.decode("utf-8", "replace"),
        }
        name = os.path.join(outdir, "%d-%06d" % (os.getpid(), next(counter)))
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        os.rename(name + ".tmp", name + ".json")
        return "250 OK"
c = Controller(Handler(), hostname="127.0.0.1", port=port)
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"#;

/// A real SMTP server (aiosmtpd) on loopback that stores each message it accepts as JSON.
struct Sink {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
    delay: f64,
}

/// The SMTP tests run under `REGWATCH_SMTP_TEST=1` (else they are ignored): aiosmtpd must be there.
fn require_aiosmtpd() {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    require_tool(ok, "aiosmtpd (python3 -m pip install aiosmtpd)");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Sink {
    /// A sink on a free port, not started yet (the SMTP server is "down").
    fn new(delay: f64) -> Sink {
        Sink {
            child: None,
            dir: tempfile::tempdir().unwrap(),
            port: free_port(),
            delay,
        }
    }

    fn start(&mut self) {
        let script = self.dir.path().join("sink.py");
        std::fs::write(&script, SINK).unwrap();
        let out = self.dir.path().join("mail");
        std::fs::create_dir_all(&out).unwrap();
        let mut child = Command::new("python3")
            .arg("-u")
            .arg(&script)
            .arg(&out)
            .arg(self.port.to_string())
            .arg(self.delay.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start aiosmtpd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "aiosmtpd did not start");
        self.child = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn messages(&self) -> Vec<Value> {
        let dir = self.dir.path().join("mail");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop();
    }
}

fn twelve_digit_runs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for ch in text.chars().chain(std::iter::once(' ')) {
        if ch.is_ascii_digit() {
            run.push(ch);
        } else {
            if run.len() >= 12 {
                out.push(run.clone());
            }
            run.clear();
        }
    }
    out
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

fn status_counts(c: &mut DbConn, ins: &Insurer) -> BTreeMap<String, i64> {
    outbox::counts(c, ins.id).unwrap().into_iter().collect()
}

#[test]
#[cfg_attr(
    not(regwatch_smtp_test),
    ignore = "needs aiosmtpd: REGWATCH_SMTP_TEST=1 cargo test"
)]
fn daily_run_delivers_each_reminder_once_over_real_smtp_without_my_numbers_or_names() {
    require_aiosmtpd();
    let db = TestDb::new();
    let ins = seed(&db);
    let mut sink = Sink::new(0.0);
    sink.start();
    let mut c = db.conn();
    let worker = Worker::new(Transport::smtp(&sink.url()).unwrap(), settings(1000, 5));

    let (eval, sent) = mail::run_once(&mut c, &worker, as_of(), t0()).unwrap();
    assert_eq!(eval.employers, 4);
    assert_eq!(eval.opted_out, 1);
    assert_eq!(eval.no_contact, 1);
    let q = |k: MailKind| eval.queued.get(k.code()).copied().unwrap_or(0);
    assert_eq!(q(MailKind::LateSubmission), 1, "{eval:?}");
    assert_eq!(q(MailKind::MyNumber), 2, "{eval:?}");
    assert_eq!(q(MailKind::CertificateExpiry), 1, "{eval:?}");
    assert_eq!(q(MailKind::WeeklyDigest), 2, "{eval:?}");
    assert_eq!(sent.sent, 6);

    let msgs = sink.messages();
    assert_eq!(msgs.len(), 6);
    let ids: HashSet<String> = msgs.iter().map(|m| s(m, "message_id")).collect();
    assert_eq!(ids.len(), 6, "Message-IDs are distinct");
    for m in &msgs {
        let subject = s(m, "subject");
        let text = s(m, "text");
        let html = s(m, "html");
        let raw = s(m, "raw");
        assert!(subject.starts_with("【テスト保険者06123456】"), "{subject}");
        assert!(s(m, "message_id").starts_with("<regwatch-outbox-"));
        assert!(s(m, "message_id").ends_with("@example.jp>"));
        assert!(s(m, "list_unsubscribe").contains("mailto:bounce@example.jp"));
        assert_eq!(s(m, "mail_from"), "bounce@example.jp");
        assert!(text.contains("ご担当者様"), "{text}");
        assert!(html.contains("ご担当者様"));
        for part in [&subject, &text, &html, &raw] {
            assert!(twelve_digit_runs(part).is_empty(), "12 digits in {part}");
            for name in NAMES {
                assert!(!part.contains(name), "member name {name} in {part}");
            }
        }
        let rcpts: Vec<String> = m["rcpt_tos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        if subject.contains("E01") {
            assert_eq!(rcpts, ["a@e01.example.jp", "b@e01.example.jp"]);
        } else {
            assert!(subject.contains("E02"), "{subject}");
            assert_eq!(rcpts, ["jinji@e02.example.jp"]);
        }
    }
    let find = |label: &str, code: &str| {
        msgs.iter()
            .find(|m| s(m, "subject").contains(label) && s(m, "subject").contains(code))
            .unwrap_or_else(|| panic!("no {label} for {code}"))
    };
    let late = s(find("提出遅延のお知らせ", "E01"), "text");
    assert!(late.contains("受付番号 LATE-1"), "{late}");
    assert!(
        late.contains("内定者") && late.contains("電子申請"),
        "{late}"
    );
    assert!(!late.contains("MISS-1"));
    // Checklist 3-① and 3-② as received, text and HTML, in the late and the digest e-mails.
    for m in [
        find("提出遅延のお知らせ", "E01"),
        find("週次のご案内", "E01"),
    ] {
        for part in [s(m, "text"), s(m, "html")] {
            assert!(part.contains(REQ_OUTSOURCED), "3-①: {part}");
            assert!(part.contains(REQ_DOCUMENTS), "3-②: {part}");
            assert!(part.contains("いただきますようお願いいたします"), "{part}");
        }
    }
    let number = s(find("個人番号ご提出のお願い", "E01"), "text");
    assert!(
        number.contains("MISS-1") && !number.contains("LATE-1"),
        "{number}"
    );
    assert!(
        number.contains("2025年7月4日"),
        "certificate expiry: {number}"
    );
    let inv = s(find("個人番号ご提出のお願い", "E02"), "text");
    assert!(inv.contains("INV-1"), "{inv}");
    let cert = s(find("資格確認書の有効期限が近づいています", "E01"), "text");
    assert!(
        cert.contains("MISS-1") && cert.contains("2025年7月4日"),
        "{cert}"
    );
    find("週次のご案内", "E01");
    find("週次のご案内", "E02");

    // The same day again, and the next day: nothing new is queued or sent.
    let (eval2, sent2) =
        mail::run_once(&mut c, &worker, as_of(), t0() + Duration::hours(1)).unwrap();
    assert_eq!(eval2.queued_total(), 0, "{eval2:?}");
    assert_eq!(sent2.sent, 0);
    let next = as_of().succ_opt().unwrap();
    let (eval3, _) = mail::run_once(&mut c, &worker, next, t0() + Duration::days(1)).unwrap();
    assert_eq!(eval3.queued_total(), 0, "{eval3:?}");
    assert_eq!(sink.messages().len(), 6);
    assert_eq!(
        status_counts(&mut c, &ins),
        BTreeMap::from([("sent".into(), 6)])
    );
}

#[test]
#[cfg_attr(
    not(regwatch_smtp_test),
    ignore = "needs aiosmtpd: REGWATCH_SMTP_TEST=1 cargo test"
)]
fn smtp_down_messages_are_retried_with_backoff_and_arrive_once_when_it_is_back() {
    require_aiosmtpd();
    let db = TestDb::new();
    let ins = seed(&db);
    let mut sink = Sink::new(0.0);
    let mut c = db.conn();
    let worker = Worker::new(Transport::smtp(&sink.url()).unwrap(), settings(1000, 5));
    let eval = mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    let queued = eval.queued_total();
    assert_eq!(queued, 6);

    // Down: every message fails once and waits a minute.
    let r = worker.drain(&mut c, t0()).unwrap();
    assert_eq!((r.claimed, r.sent, r.failed, r.dead), (6, 0, 6, 0));
    assert_eq!(
        status_counts(&mut c, &ins),
        BTreeMap::from([("failed".into(), 6)])
    );
    let listed = outbox::list(&mut c, ins.id, &[OutboxStatus::Failed], 100).unwrap();
    assert!(listed.iter().all(|m| m.row.attempts == 1
        && m.row.next_attempt_at == t0() + Duration::minutes(1)
        && m.row.last_error.is_some()));
    // Not yet due.
    assert_eq!(
        worker
            .drain(&mut c, t0() + Duration::seconds(59))
            .unwrap()
            .claimed,
        0
    );
    // Still down at the retry: the wait doubles.
    let r = worker.drain(&mut c, t0() + Duration::minutes(1)).unwrap();
    assert_eq!(r.failed, 6);
    let listed = outbox::list(&mut c, ins.id, &[OutboxStatus::Failed], 100).unwrap();
    assert!(listed
        .iter()
        .all(|m| m.row.attempts == 2 && m.row.next_attempt_at == t0() + Duration::minutes(3)));
    assert!(sink.messages().is_empty());

    // Back: delivered, once each.
    sink.start();
    assert_eq!(
        worker
            .drain(&mut c, t0() + Duration::minutes(2))
            .unwrap()
            .claimed,
        0
    );
    let r = worker.drain(&mut c, t0() + Duration::minutes(3)).unwrap();
    assert_eq!((r.sent, r.failed), (6, 0));
    for later in [4, 10, 60 * 25] {
        assert_eq!(
            worker
                .drain(&mut c, t0() + Duration::minutes(later))
                .unwrap()
                .claimed,
            0
        );
    }
    let msgs = sink.messages();
    let ids: HashSet<String> = msgs.iter().map(|m| s(m, "message_id")).collect();
    assert_eq!(
        (msgs.len(), ids.len()),
        (queued, queued),
        "none lost, none doubled"
    );
    assert_eq!(
        status_counts(&mut c, &ins),
        BTreeMap::from([("sent".into(), 6)])
    );
}

#[test]
fn a_message_is_dead_after_the_configured_attempts_and_staff_can_retry_it() {
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    // Nothing listens on this port: every send fails.
    let down = Worker::new(
        Transport::smtp(&format!("smtp://127.0.0.1:{}", free_port())).unwrap(),
        settings(1000, 3),
    );
    mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    let mut now = t0();
    for (attempt, wait) in [(1, 1), (2, 2), (3, 0)] {
        let r = down.drain(&mut c, now).unwrap();
        if attempt < 3 {
            assert_eq!(r.failed, 6);
        } else {
            assert_eq!(r.dead, 6);
        }
        now += Duration::minutes(wait);
    }
    assert_eq!(
        status_counts(&mut c, &ins),
        BTreeMap::from([("dead".into(), 6)])
    );
    assert_eq!(
        down.drain(&mut c, now + Duration::days(2)).unwrap().claimed,
        0
    );

    let dead = outbox::list(&mut c, ins.id, &[OutboxStatus::Dead], 100).unwrap();
    let id = outbox::OutboxId(dead[0].row.id);
    assert!(outbox::apply(&mut c, ins.id, id, outbox::Action::Retry, now).unwrap());
    let (mem, sink) = Transport::memory();
    let up = Worker::new(mem, settings(1000, 3));
    assert_eq!(up.drain(&mut c, now).unwrap().sent, 1);
    assert_eq!(sink.lock().unwrap().len(), 1);
    // Another insurer cannot act on it.
    let other = add_insurer(&mut c, "34123456", InsurerKind::Kyosai);
    let id2 = outbox::OutboxId(dead[1].row.id);
    assert!(!outbox::apply(&mut c, other.id, id2, outbox::Action::Retry, now).unwrap());
}

#[test]
fn held_and_cancelled_messages_are_not_sent_and_the_rate_limit_is_per_minute() {
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    let pending = outbox::list(&mut c, ins.id, &[OutboxStatus::Pending], 100).unwrap();
    assert_eq!(pending.len(), 6);
    let hold = outbox::OutboxId(pending[0].row.id);
    let cancel = outbox::OutboxId(pending[1].row.id);
    assert!(outbox::apply(&mut c, ins.id, hold, outbox::Action::Hold, t0()).unwrap());
    assert!(outbox::apply(&mut c, ins.id, cancel, outbox::Action::Cancel, t0()).unwrap());

    let (mem, sink) = Transport::memory();
    let w = Worker::new(mem, settings(2, 5));
    assert_eq!(w.drain(&mut c, t0()).unwrap().sent, 2);
    assert_eq!(
        w.drain(&mut c, t0() + Duration::seconds(30)).unwrap().sent,
        0
    );
    assert_eq!(
        w.drain(&mut c, t0() + Duration::seconds(61)).unwrap().sent,
        2
    );
    assert_eq!(
        w.drain(&mut c, t0() + Duration::seconds(122)).unwrap().sent,
        0
    );
    assert_eq!(sink.lock().unwrap().len(), 4);
    assert!(outbox::apply(&mut c, ins.id, hold, outbox::Action::Release, t0()).unwrap());
    assert_eq!(
        w.drain(&mut c, t0() + Duration::seconds(200)).unwrap().sent,
        1
    );
    assert_eq!(
        status_counts(&mut c, &ins),
        BTreeMap::from([("cancelled".into(), 1), ("sent".into(), 5)])
    );
}

#[test]
fn a_lease_held_by_a_dead_worker_is_taken_over_after_it_expires() {
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    // A worker claims everything and dies before sending.
    let claimed = outbox::claim(&mut c, "dead-worker", t0(), Duration::minutes(5), 100).unwrap();
    assert_eq!(claimed.len(), 6);
    let (mem, sink) = Transport::memory();
    let w = Worker::new(mem, settings(1000, 5));
    assert_eq!(
        w.drain(&mut c, t0() + Duration::minutes(4))
            .unwrap()
            .claimed,
        0
    );
    assert_eq!(
        w.drain(&mut c, t0() + Duration::minutes(6)).unwrap().sent,
        6
    );
    // The dead worker cannot overwrite the outcome.
    assert!(
        !outbox::mark_sent(&mut c, outbox::OutboxId(claimed[0].id), "dead-worker", t0()).unwrap()
    );
    assert_eq!(sink.lock().unwrap().len(), 6);
    assert_eq!(
        status_counts(&mut c, &ins),
        BTreeMap::from([("sent".into(), 6)])
    );
}

#[test]
fn opted_out_employers_and_employers_without_contacts_get_nothing() {
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    let all = outbox::list(&mut c, ins.id, &OutboxStatus::ALL, 100).unwrap();
    let codes: HashSet<&str> = all.iter().map(|m| m.employer_code.as_str()).collect();
    assert_eq!(codes, HashSet::from(["E01", "E02"]));
}

/// An insurer with one employer (contact set) and no notices, and `n` messages queued for it
/// directly (the delivery tests do not need the evaluation), due at `due`.
fn queue_synthetic(c: &mut DbConn, n: usize, due: NaiveDateTime) -> Insurer {
    use diesel::prelude::*;
    use regwatch::store::schema::employers as e;
    let ins = add_insurer(c, "01234567", InsurerKind::Kenpo);
    let now = regwatch::store::now_utc();
    diesel::insert_into(e::table)
        .values((
            e::insurer_id.eq(ins.id.0),
            e::code.eq("S01"),
            e::name.eq(Some("負荷試験株式会社")),
            e::contact_emails.eq("load@example.jp"),
            e::opt_out.eq(false),
            e::created_at.eq(now),
            e::updated_at.eq(now),
        ))
        .execute(c)
        .unwrap();
    let emp: i64 = e::table
        .filter(e::insurer_id.eq(ins.id.0))
        .select(e::id)
        .first(c)
        .unwrap();
    regwatch::store::write_tx(c, |c| {
        for i in 0..n {
            let m = outbox::NewMessage {
                insurer: ins.id,
                employer_id: emp,
                kind: MailKind::WeeklyDigest,
                dedupe_key: format!("load:{i}"),
                recipients: vec!["load@example.jp".into()],
                subject: format!("【負荷試験】週次のご案内 {i}"),
                body_text: format!("本文 {i}\n"),
                body_html: format!("<p>本文 {i}</p>"),
                as_of: as_of(),
                items: Vec::new(),
                sender: Default::default(),
            };
            assert!(outbox::queue(c, &m, due)?.is_some());
        }
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();
    ins
}

#[test]
#[cfg_attr(
    not(regwatch_smtp_test),
    ignore = "needs aiosmtpd: REGWATCH_SMTP_TEST=1 cargo test"
)]
fn two_workers_deliver_a_thousand_messages_once_each() {
    require_aiosmtpd();
    const N: usize = 1000;
    let db = TestDb::new();
    let mut c = db.conn();
    let ins = queue_synthetic(&mut c, N, t0());
    let mut sink = Sink::new(0.0);
    sink.start();
    let started = std::time::Instant::now();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let mut conn = db.conn();
            let url = sink.url();
            std::thread::spawn(move || {
                let mut w = Worker::new(Transport::smtp(&url).unwrap(), settings(1_000_000, 5));
                w.batch = 20;
                w.drain(&mut conn, t0()).unwrap()
            })
        })
        .collect();
    let counts: Vec<_> = workers.into_iter().map(|h| h.join().unwrap()).collect();
    let secs = started.elapsed().as_secs_f64();
    let msgs = sink.messages();
    let ids: HashSet<String> = msgs.iter().map(|m| s(m, "message_id")).collect();
    eprintln!(
        "two workers ({}): {N} messages in {secs:.2}s = {:.0} messages/s; per worker {:?}",
        if db.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        N as f64 / secs,
        counts.iter().map(|c| c.sent).collect::<Vec<_>>()
    );
    assert_eq!(counts.iter().map(|c| c.sent).sum::<usize>(), N);
    assert_eq!((msgs.len(), ids.len()), (N, N), "none lost, none doubled");
    assert_eq!(
        status_counts(&mut c, &ins),
        BTreeMap::from([("sent".into(), N as i64)])
    );
}

#[test]
#[cfg_attr(
    not(regwatch_smtp_test),
    ignore = "needs aiosmtpd: REGWATCH_SMTP_TEST=1 cargo test"
)]
fn worker_killed_mid_batch_then_restarted_delivers_every_message_id() {
    require_aiosmtpd();
    const N: usize = 200;
    let db = TestDb::new();
    let mut c = db.conn();
    let real_now = regwatch::store::now_utc();
    let ins = queue_synthetic(&mut c, N, real_now - Duration::minutes(1));
    // A slow SMTP server so the kill lands in the middle of the batch.
    let mut sink = Sink::new(0.01);
    sink.start();
    let workdir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_regwatch"))
        .args(["outbox", "run", "--once", "--as-of", "2025-06-30"])
        .arg("--database-url")
        .arg(&db.url)
        .env("REGWATCH_SMTP_URL", sink.url())
        .env("REGWATCH_MAIL_FROM", "テスト健保 <noreply@example.jp>")
        .env("REGWATCH_MAIL_RATE_PER_MINUTE", "100000")
        .env_remove("REGWATCH_CONFIG")
        .current_dir(workdir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while sink.messages().len() < 30 {
        assert!(std::time::Instant::now() < deadline, "worker sent nothing");
        assert!(
            child.try_wait().unwrap().is_none(),
            "worker finished too early"
        );
        std::thread::yield_now();
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = sink.messages().len();
    let sending = status_counts(&mut c, &ins)
        .get("sending")
        .copied()
        .unwrap_or(0);
    assert!(
        before < N && sending > 0,
        "killed mid-batch: {before} received, {sending} leased"
    );

    // Restarted after the lease ran out: the dead worker's rows are taken over.
    let w = Worker::new(Transport::smtp(&sink.url()).unwrap(), settings(100_000, 5));
    let after_lease = real_now + Duration::seconds(mail::worker::DEFAULT_LEASE_SECS + 60);
    w.drain(&mut c, after_lease).unwrap();
    let msgs = sink.messages();
    let ids: HashSet<String> = msgs.iter().map(|m| s(m, "message_id")).collect();
    // Every outbox id of the insurer, by its stable Message-ID.
    let expected: HashSet<String> = outbox::list(&mut c, ins.id, &OutboxStatus::ALL, 10_000)
        .unwrap()
        .iter()
        .map(|m| format!("<regwatch-outbox-{}@example.jp>", m.row.id))
        .collect();
    let duplicates = msgs.len() - ids.len();
    eprintln!(
        "SIGKILL after {before} received ({sending} leased): {} received in all, {} distinct \
         Message-IDs of {N}, {duplicates} duplicate(s)",
        msgs.len(),
        ids.len()
    );
    assert_eq!(expected.len(), N);
    assert_eq!(ids, expected, "every outbox id delivered");
    // What is guaranteed: at-least-once with a stable Message-ID. A message is received twice only
    // when the kill falls between the server's 250 to DATA and the one-row commit that follows it
    // (nothing else runs in between), so at most one per worker killed — here one.
    const WORKERS_KILLED: usize = 1;
    assert!(
        duplicates <= WORKERS_KILLED,
        "{duplicates} duplicates for {WORKERS_KILLED} killed worker(s)"
    );
    assert_eq!(
        status_counts(&mut c, &ins),
        BTreeMap::from([("sent".into(), N as i64)])
    );
}

#[test]
fn a_new_late_notice_is_reported_alone_and_nothing_already_sent_is_repeated() {
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    let (mem, sink) = Transport::memory();
    let w = Worker::new(mem, settings(1000, 5));
    mail::run_once(&mut c, &w, as_of(), t0()).unwrap();
    assert_eq!(sink.lock().unwrap().len(), 6);
    let more = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,氏名カナ,事実発生日,受付日,個人番号\n\
LATE-2,資格取得,E01,株式会社テスト,100,9,,山本五郎,,2025-06-02,2025-07-01,123456789018\n";
    let next = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    import_notices_csv(&mut c, &ins, "more.csv", more, next);
    let (eval, sent) = mail::run_once(&mut c, &w, next, t0() + Duration::days(1)).unwrap();
    assert_eq!(
        eval.queued,
        BTreeMap::from([(MailKind::LateSubmission.code(), 1)]),
        "same ISO week: no second digest; MISS-1/INV-1 already requested"
    );
    assert_eq!(sent.sent, 1);
    let all = outbox::list(&mut c, ins.id, &[OutboxStatus::Sent], 100).unwrap();
    let newest = all
        .iter()
        .filter(|m| m.row.kind == "late_submission")
        .max_by_key(|m| m.row.id)
        .unwrap();
    assert!(newest.row.body_text.contains("LATE-2"));
    assert!(!newest.row.body_text.contains("LATE-1"));
    assert!(!newest.row.body_text.contains("山本五郎"));
}

#[test]
fn the_schedule_evaluates_once_a_day_from_nine_japan_time_and_delivers() {
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    let (mem, sink) = Transport::memory();
    let mut s = mail::Scheduler::new(Worker::new(mem, settings(1000, 5)), 9);
    // 08:59 JST on 6/30: nothing yet.
    let (eval, sent) = s.tick(&mut c, t0() - Duration::minutes(1)).unwrap();
    assert!(eval.is_none());
    assert_eq!(sent.claimed, 0);
    // 09:00 JST: the day's evaluation, then delivery.
    let (eval, sent) = s.tick(&mut c, t0()).unwrap();
    assert_eq!(eval.unwrap().queued_total(), 6);
    assert_eq!(sent.sent, 6);
    // Later the same day: deliveries only.
    let (eval, _) = s.tick(&mut c, t0() + Duration::hours(3)).unwrap();
    assert!(eval.is_none());
    assert_eq!(sink.lock().unwrap().len(), 6);
    assert_eq!(
        status_counts(&mut c, &ins),
        BTreeMap::from([("sent".into(), 6)])
    );
}

// ---------------------------------------------------------------------------------------------
// Per-insurer settings (sender, reminders on/off, digest weekday, hour)

fn save_prefs(c: &mut DbConn, ins: &Insurer, p: &regwatch::store::mail_settings::MailPrefs) {
    regwatch::store::write_tx(c, |c| {
        regwatch::store::mail_settings::save(c, ins.id, p, "test", t0())
    })
    .unwrap();
}

fn formatted(m: &lettre::Message) -> String {
    String::from_utf8_lossy(&m.formatted()).into_owned()
}

#[test]
fn a_message_queued_after_the_sender_changes_carries_the_new_from_and_reply_to() {
    use regwatch::store::mail_settings::MailPrefs;
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    let (mem, sink) = Transport::memory();
    let w = Worker::new(mem, settings(1000, 5));
    // Queued with the configured sender.
    mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    let before: HashSet<i64> = outbox::list(&mut c, ins.id, &OutboxStatus::ALL, 100)
        .unwrap()
        .iter()
        .map(|m| m.row.id)
        .collect();
    save_prefs(
        &mut c,
        &ins,
        &MailPrefs {
            sender_name: Some("テスト健保 適用課".into()),
            from_address: Some("tekiyo@kenpo.example.jp".into()),
            reply_to: Some("toiawase@kenpo.example.jp".into()),
            bounce_address: Some("fuchaku@kenpo.example.jp".into()),
            reminders_enabled: true,
            ..MailPrefs::default()
        },
    );
    // A new late notice queues one more message after the change.
    let more = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,氏名カナ,事実発生日,受付日,個人番号\n\
LATE-2,資格取得,E01,株式会社テスト,100,9,,山本五郎,,2025-06-02,2025-07-01,123456789018\n";
    let next = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    import_notices_csv(&mut c, &ins, "more.csv", more, next);
    let eval = mail::evaluate_all(&mut c, next, t0() + Duration::days(1)).unwrap();
    assert_eq!(eval.queued_total(), 1, "{eval:?}");
    assert_eq!(w.drain(&mut c, t0() + Duration::days(1)).unwrap().sent, 7);
    let sent = sink.lock().unwrap().clone();
    let all = outbox::list(&mut c, ins.id, &OutboxStatus::ALL, 100).unwrap();
    let new_id = all
        .iter()
        .map(|m| m.row.id)
        .find(|id| !before.contains(id))
        .unwrap();
    for m in &sent {
        let raw = formatted(m);
        let is_new = raw.contains(&format!("<regwatch-outbox-{new_id}@"));
        let env_from = m.envelope().from().unwrap().to_string();
        if is_new {
            assert!(raw.contains("<tekiyo@kenpo.example.jp>"), "{raw}");
            assert!(raw.contains("Reply-To: toiawase@kenpo.example.jp"), "{raw}");
            assert!(
                raw.contains("@kenpo.example.jp>"),
                "Message-ID domain: {raw}"
            );
            assert_eq!(env_from, "fuchaku@kenpo.example.jp");
            // The mailto unsubscribe goes to the reply-to address, a person.
            assert!(raw.contains("mailto:toiawase@kenpo.example.jp"), "{raw}");
        } else {
            // Queued before the change: the sender it was previewed with.
            assert!(raw.contains("<noreply@example.jp>"), "{raw}");
            assert_eq!(env_from, "bounce@example.jp");
        }
    }
    assert_eq!(
        sent.iter()
            .filter(|m| formatted(m).contains("tekiyo@"))
            .count(),
        1
    );
}

#[test]
fn reminders_turned_off_queue_nothing_and_the_digest_waits_for_its_weekday() {
    use regwatch::store::mail_settings::MailPrefs;
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    save_prefs(
        &mut c,
        &ins,
        &MailPrefs {
            reminders_enabled: false,
            ..MailPrefs::default()
        },
    );
    let eval = mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    assert_eq!((eval.disabled, eval.queued_total()), (1, 0), "{eval:?}");

    // On again, digest on Wednesdays: Monday 6/30 sends everything but the digests.
    save_prefs(
        &mut c,
        &ins,
        &MailPrefs {
            digest_weekday: 3,
            reminders_enabled: true,
            ..MailPrefs::default()
        },
    );
    let eval = mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    assert_eq!(eval.queued.get("weekly_digest"), None, "{eval:?}");
    assert_eq!(eval.queued_total(), 4, "{eval:?}");
    let tue = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    let eval = mail::evaluate_all(&mut c, tue, t0() + Duration::days(1)).unwrap();
    assert_eq!(eval.queued_total(), 0, "{eval:?}");
    let wed = NaiveDate::from_ymd_opt(2025, 7, 2).unwrap();
    let eval = mail::evaluate_all(&mut c, wed, t0() + Duration::days(2)).unwrap();
    assert_eq!(eval.queued.get("weekly_digest"), Some(&2), "{eval:?}");
}

#[test]
fn an_insurer_with_its_own_hour_is_evaluated_once_that_day_across_instances() {
    use regwatch::store::mail_settings::MailPrefs;
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    save_prefs(
        &mut c,
        &ins,
        &MailPrefs {
            schedule_hour: Some(11),
            reminders_enabled: true,
            ..MailPrefs::default()
        },
    );
    let (mem, _sink) = Transport::memory();
    let mut a = mail::Scheduler::new(Worker::new(mem.clone(), settings(1000, 5)), 9);
    let mut b = mail::Scheduler::new(Worker::new(mem, settings(1000, 5)), 9);
    // 09:00 JST: the configured hour, but this insurer chose 11.
    assert!(a.tick(&mut c, t0()).unwrap().0.is_none());
    // 11:00 JST: instance A evaluates; instance B, a minute later, finds it done.
    let (eval, sent) = a.tick(&mut c, t0() + Duration::hours(2)).unwrap();
    assert_eq!(eval.unwrap().queued_total(), 6);
    assert_eq!(sent.sent, 6);
    let mut c2 = db.conn();
    let (eval, _) = b
        .tick(&mut c2, t0() + Duration::hours(2) + Duration::minutes(1))
        .unwrap();
    assert!(eval.is_none());
    let stored = regwatch::store::mail_settings::get(&mut c, ins.id).unwrap();
    assert_eq!(stored.last_evaluated_on, Some(as_of()));
    assert_eq!(stored.prefs.schedule_hour, Some(11), "settings kept");
    // The next day at 11:00 JST it runs again.
    let (eval, _) = b.tick(&mut c2, t0() + Duration::hours(26)).unwrap();
    assert!(eval.is_some());
}

#[test]
fn with_a_public_url_the_message_offers_rfc_8058_one_click_unsubscribe() {
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    let mut s = settings(1000, 5);
    s.public_url = Some(url::Url::parse("https://regwatch.example.jp/").unwrap());
    let key = std::sync::Arc::new(secrecy::SecretString::from("k".repeat(64)));
    let s = s.with_token_key(key);
    let (mem, sink) = Transport::memory();
    Worker::new(mem, s).drain(&mut c, t0()).unwrap();
    let sent = sink.lock().unwrap().clone();
    assert_eq!(sent.len(), 6);
    let e01 = notices::employer_id_by_code(&mut c, ins.id, "E01")
        .unwrap()
        .unwrap();
    let token = regwatch::mail::unsubscribe::token(&"k".repeat(64).into_bytes(), ins.id, e01);
    let e01_mail = sent
        .iter()
        .map(formatted)
        .find(|r| r.contains("a@e01.example.jp"))
        .unwrap();
    let unfolded = e01_mail.replace("\r\n ", " ");
    assert!(
        unfolded.contains(&format!(
            "List-Unsubscribe: <https://regwatch.example.jp/unsubscribe/{token}>, <mailto:bounce@example.jp"
        )),
        "{unfolded}"
    );
    assert!(unfolded.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    // Without a public URL: the mailto form only.
    let row = outbox::list(&mut c, ins.id, &[OutboxStatus::Sent], 1).unwrap();
    let m = mail::transport::build_message(&row[0].row, &settings(1000, 5)).unwrap();
    let raw = formatted(&m);
    assert!(raw.contains("List-Unsubscribe: <mailto:"));
    assert!(!raw.contains("List-Unsubscribe-Post"));
}

// ---------------------------------------------------------------------------------------------
// The /mail pages and API, the settings page, the one-click unsubscribe — through the server

const PASSWORD: &str = "correct-horse-battery";

struct Web {
    app: common::TestApp,
    ins: Insurer,
    /// Insurer B's pending message.
    foreign: i64,
}

/// Insurer A seeded and evaluated (six pending messages), its admin/staff/viewer, and insurer B
/// with one pending message.
async fn web() -> Web {
    let app = common::TestApp::builder()
        .with_insurer("06123456", InsurerKind::Kenpo)
        .with_seed(|c, ins| {
            seed_insurer(c, &ins[0], true);
            mail::evaluate_all(c, as_of(), t0()).unwrap();
        })
        .with_admin("06123456", "admin@a.example.jp", PASSWORD)
        .with_staff("06123456", "staff@a.example.jp", PASSWORD)
        .with_viewer("06123456", "viewer@a.example.jp", PASSWORD)
        .spawn()
        .await;
    let ins = app.insurer("06123456").clone();
    let mut c = app.conn();
    let b = queue_synthetic(&mut c, 1, t0());
    let foreign = outbox::list(&mut c, b.id, &OutboxStatus::ALL, 10).unwrap()[0]
        .row
        .id;
    Web { app, ins, foreign }
}

impl Web {
    fn url(&self, path: &str) -> String {
        self.app.url(path)
    }
    fn status_of(&self, id: i64) -> String {
        use diesel::prelude::*;
        use regwatch::store::schema::outbox as o;
        o::table
            .find(id)
            .select(o::status)
            .first(&mut self.app.db.conn())
            .unwrap()
    }
    fn pending(&self) -> Vec<i64> {
        outbox::list(
            &mut self.app.db.conn(),
            self.ins.id,
            &[OutboxStatus::Pending],
            100,
        )
        .unwrap()
        .iter()
        .map(|m| m.row.id)
        .collect()
    }
    async fn action(&self, token: &str, id: i64, action: &str) -> reqwest::Response {
        let body = serde_json::json!({ "action": action });
        let path = format!("/api/v1/mail/{id}/actions");
        self.app.post_json(token, &path, body).await
    }
    async fn page(&self, s: &common::CookieSession, path: &str) -> (u16, String) {
        common::page(&self.app, s, path).await
    }
    /// A form post with the session's cookie and exactly `fields` (a test without the CSRF
    /// field leaves it out).
    async fn form(
        &self,
        s: &common::CookieSession,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String) {
        let r = self
            .app
            .post_form(common::Auth::Cookie(&s.cookie), path, fields)
            .await;
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

#[tokio::test]
async fn staff_hold_cancel_and_retry_messages_and_viewers_cannot() {
    let w = web().await;
    let staff = common::login_token(&w.app, "staff@a.example.jp", PASSWORD).await;
    let viewer = common::login_token(&w.app, "viewer@a.example.jp", PASSWORD).await;
    let pending = w.pending();
    assert_eq!(pending.len(), 6);
    let (hold, cancel, dead) = (pending[0], pending[1], pending[2]);

    // Viewer: 403 on every action, through the API and the page; nothing changes.
    for a in ["hold", "cancel", "retry"] {
        assert_eq!(w.action(&viewer, hold, a).await.status(), 403, "{a}");
    }
    let vs = common::login_cookie(&w.app, "viewer@a.example.jp", PASSWORD).await;
    let (st, _) = w
        .form(
            &vs,
            &format!("/mail/{hold}"),
            &[("action", "hold"), ("csrf", vs.csrf.as_str())],
        )
        .await;
    assert_eq!(st, 403);
    assert_eq!(w.status_of(hold), "pending");

    // Staff through the API: hold, cancel.
    let r = w.action(&staff, hold, "hold").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "held");
    assert_eq!(w.status_of(hold), "held");
    assert_eq!(w.action(&staff, cancel, "cancel").await.status(), 200);
    assert_eq!(w.status_of(cancel), "cancelled");
    // Not applicable now: a Japanese 400, state unchanged.
    let r = w.action(&staff, cancel, "hold").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("操作ができません"));
    assert_eq!(w.status_of(cancel), "cancelled");

    // A dead message, retried through the page form by staff.
    {
        use diesel::prelude::*;
        use regwatch::store::schema::outbox as o;
        diesel::update(o::table.find(dead))
            .set((
                o::status.eq("dead"),
                o::attempts.eq(12),
                o::last_error.eq(Some("550")),
            ))
            .execute(&mut w.app.db.conn())
            .unwrap();
    }
    let ss = common::login_cookie(&w.app, "staff@a.example.jp", PASSWORD).await;
    // Without the CSRF token: refused.
    let (st, _) = w
        .form(&ss, &format!("/mail/{dead}"), &[("action", "retry")])
        .await;
    assert_eq!(st, 403);
    assert_eq!(w.status_of(dead), "dead");
    let (st, _) = w
        .form(
            &ss,
            &format!("/mail/{dead}"),
            &[("action", "retry"), ("csrf", ss.csrf.as_str())],
        )
        .await;
    assert_eq!(st, 303);
    assert_eq!(w.status_of(dead), "pending");
    // Release through the page.
    let (st, _) = w
        .form(
            &ss,
            &format!("/mail/{hold}"),
            &[("action", "release"), ("csrf", ss.csrf.as_str())],
        )
        .await;
    assert_eq!(st, 303);
    assert_eq!(w.status_of(hold), "pending");

    let mut c = w.app.db.conn();
    for a in ["mail.hold", "mail.cancel", "mail.retry", "mail.release"] {
        assert_eq!(audit_count(&mut c, a), 1, "{a}");
    }
}

#[tokio::test]
async fn the_preview_shows_the_message_as_the_employer_will_see_it() {
    let w = web().await;
    let s = common::login_cookie(&w.app, "viewer@a.example.jp", PASSWORD).await;
    let all = outbox::list(&mut w.app.db.conn(), w.ins.id, &OutboxStatus::ALL, 100).unwrap();
    let m = all.iter().find(|m| m.row.kind == "my_number").unwrap();
    let (st, html) = w.page(&s, &format!("/mail/{}", m.row.id)).await;
    assert_eq!(st, 200);
    let unescape = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
    };
    assert!(unescape(&html).contains(&m.row.subject), "subject");
    assert!(html.contains("個人番号ご提出のお願い"));
    assert!(html.contains("ご担当者様"), "Japanese body");
    assert!(html.contains("差出人"), "From line");
    assert!(
        html.contains("noreply@localhost"),
        "From line (the configured default)"
    );
    // (The session's CSRF token is hex and could hold a run of digits by chance.)
    assert!(
        twelve_digit_runs(&html.replace(&s.csrf, "")).is_empty(),
        "no 12-digit number"
    );
    for name in NAMES {
        assert!(!html.contains(name), "{name}");
    }
    // The list.
    let (st, list) = w.page(&s, "/mail").await;
    assert_eq!(st, 200);
    assert!(list.contains("個人番号ご提出のお願い"));
    // The API shows the same message.
    let t = common::login_token(&w.app, "viewer@a.example.jp", PASSWORD).await;
    let r = w
        .app
        .client
        .get(w.url(&format!("/api/v1/mail/{}", m.row.id)))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["subject"], m.row.subject.as_str());
    assert!(body["body_text"].as_str().unwrap().contains("ご担当者様"));
    assert!(twelve_digit_runs(&body.to_string()).is_empty());
}

#[tokio::test]
async fn another_insurers_message_is_not_found_on_every_mail_route_and_stays_unchanged() {
    let w = web().await;
    let id = w.foreign;
    let admin = common::login_token(&w.app, "admin@a.example.jp", PASSWORD).await;
    let s = common::login_cookie(&w.app, "admin@a.example.jp", PASSWORD).await;
    assert_eq!(w.page(&s, &format!("/mail/{id}")).await.0, 404);
    for a in ["hold", "cancel", "retry", "release"] {
        let (st, _) = w
            .form(
                &s,
                &format!("/mail/{id}"),
                &[("action", a), ("csrf", s.csrf.as_str())],
            )
            .await;
        assert_eq!(st, 404, "page {a}");
        assert_eq!(w.action(&admin, id, a).await.status(), 404, "api {a}");
    }
    let r = w
        .app
        .client
        .get(w.url(&format!("/api/v1/mail/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(w.status_of(id), "pending");
    assert_eq!(audit_count(&mut w.app.db.conn(), "mail.cancel"), 0);
}

#[tokio::test]
async fn admins_set_the_sender_on_a_csrf_protected_page_with_japanese_errors_and_the_api() {
    let w = web().await;
    let admin = common::login_cookie(&w.app, "admin@a.example.jp", PASSWORD).await;
    let staff = common::login_cookie(&w.app, "staff@a.example.jp", PASSWORD).await;
    assert_eq!(w.page(&staff, "/mail/settings").await.0, 403);
    let (st, html) = w.page(&admin, "/mail/settings").await;
    assert_eq!(st, 200);
    assert!(html.contains("差出人メールアドレス"));

    let fields = |from: &'static str, csrf: &str| -> Vec<(&'static str, String)> {
        vec![
            ("sender_name", "テスト健保 適用課".into()),
            ("from_address", from.into()),
            ("reply_to", "toiawase@kenpo.example.jp".into()),
            ("bounce_address", "".into()),
            ("reminders_enabled", "on".into()),
            ("digest_weekday", "5".into()),
            ("schedule_hour", "10".into()),
            ("csrf", csrf.into()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>, s: &common::CookieSession| {
        let f: Vec<(&str, String)> = f;
        let cookie = s.cookie.clone();
        let url = w.url("/mail/settings");
        async move {
            let r = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .post(url)
                .header("Cookie", cookie)
                .form(&f)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // Invalid address: 400, the Japanese message, what was typed kept.
    let (st, html) = post(fields("tekiyo@@kenpo", &admin.csrf), &admin).await;
    assert_eq!(st, 400);
    assert!(
        html.contains("メールアドレスとして正しくありません"),
        "{html}"
    );
    assert!(html.contains("tekiyo@@kenpo"));
    // No CSRF token; staff: refused.
    assert_eq!(
        post(fields("tekiyo@kenpo.example.jp", ""), &admin).await.0,
        403
    );
    assert_eq!(
        post(fields("tekiyo@kenpo.example.jp", &staff.csrf), &staff)
            .await
            .0,
        403
    );
    let mut c = w.app.db.conn();
    assert_eq!(audit_count(&mut c, "mail_settings_changed"), 0);
    // Saved and audited.
    let (st, _) = post(fields("tekiyo@kenpo.example.jp", &admin.csrf), &admin).await;
    assert_eq!(st, 303);
    let stored = regwatch::store::mail_settings::get(&mut c, w.ins.id).unwrap();
    assert_eq!(
        stored.prefs.from_address.as_deref(),
        Some("tekiyo@kenpo.example.jp")
    );
    assert_eq!(
        (stored.prefs.digest_weekday, stored.prefs.schedule_hour),
        (5, Some(10))
    );
    assert_eq!(audit_count(&mut c, "mail_settings_changed"), 1);

    // The API.
    let t = common::login_token(&w.app, "admin@a.example.jp", PASSWORD).await;
    let body: Value = w
        .app
        .client
        .get(w.url("/api/v1/mail/settings"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["from_address"], "tekiyo@kenpo.example.jp");
    assert_eq!(body["digest_weekday"], 5);
    let put = |v: Value| {
        w.app
            .client
            .put(w.url("/api/v1/mail/settings"))
            .bearer_auth(&t)
            .json(&v)
            .send()
    };
    let r = put(serde_json::json!({"from_address": "bad", "digest_weekday": 1}))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("差出人メールアドレス"));
    let r = put(serde_json::json!({"sender_name": "新差出人", "reminders_enabled": false, "digest_weekday": 2, "schedule_hour": null}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let stored = regwatch::store::mail_settings::get(&mut c, w.ins.id).unwrap();
    assert_eq!(stored.prefs.from_address, None);
    assert!(!stored.prefs.reminders_enabled);
    assert_eq!(audit_count(&mut c, "mail_settings_changed"), 2);
    let staff_t = common::login_token(&w.app, "staff@a.example.jp", PASSWORD).await;
    let r = w
        .app
        .client
        .put(w.url("/api/v1/mail/settings"))
        .bearer_auth(&staff_t)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn one_click_unsubscribe_sets_the_opt_out_without_sign_in_and_a_bad_token_is_refused() {
    use secrecy::ExposeSecret;
    let w = web().await;
    let mut c = w.app.db.conn();
    let e01 = notices::employer_id_by_code(&mut c, w.ins.id, "E01")
        .unwrap()
        .unwrap();
    let key = w.app.state.jwt_key.expose_secret().as_bytes().to_vec();
    let token = regwatch::mail::unsubscribe::token(&key, w.ins.id, e01);
    let anon = reqwest::Client::new();

    // GET: a Japanese confirmation page with a button; nothing changes yet.
    let r = anon
        .get(w.url(&format!("/unsubscribe/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("配信を停止する") && html.contains("E01"),
        "{html}"
    );
    let opt_out = |c: &mut DbConn| -> bool {
        use diesel::prelude::*;
        use regwatch::store::schema::employers as e;
        e::table.find(e01).select(e::opt_out).first(c).unwrap()
    };
    assert!(!opt_out(&mut c));

    // A forged or foreign token: 404 with a Japanese message.
    for bad in [
        token.replacen(&format!("-{e01}-"), &format!("-{}-", e01 + 1), 1),
        "1-1-00".to_string(),
        "garbage".to_string(),
    ] {
        let r = anon
            .post(w.url(&format!("/unsubscribe/{bad}")))
            .form(&[("List-Unsubscribe", "One-Click")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{bad}");
        assert!(r.text().await.unwrap().contains("このリンクは無効です"));
    }
    assert!(!opt_out(&mut c));

    // The mail client's one-click POST: no session, no CSRF token.
    let r = anon
        .post(w.url(&format!("/unsubscribe/{token}")))
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("配信を停止しました"));
    assert!(opt_out(&mut c));
    assert_eq!(audit_count(&mut c, "employer_unsubscribed"), 1);
    // Again: still fine, audited once.
    let r = anon
        .post(w.url(&format!("/unsubscribe/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(audit_count(&mut c, "employer_unsubscribed"), 1);
    // The next evaluation leaves E01 out.
    let next = NaiveDate::from_ymd_opt(2025, 7, 7).unwrap();
    let eval = mail::evaluate_all(&mut c, next, t0() + Duration::days(7)).unwrap();
    assert_eq!(eval.opted_out, 2, "{eval:?}");
}

// ---------------------------------------------------------------------------------------------
// Issue 15 part 6: what the e-mails say (SPEC §5)

/// Checklist 3-① (outsourced My Number management) and 3-② (必要書類) as the e-mails word them.
const REQ_OUTSOURCED: &str = "個人番号の管理を外部に委託（外注）されている場合でも";
const REQ_DOCUMENTS: &str =
    "資格取得届等の提出に必要な書類（被扶養者の認定に必要な添付書類を含みます）";

fn queued_rows(c: &mut DbConn, ins: &Insurer) -> Vec<outbox::OutboxRow> {
    outbox::list(c, ins.id, &OutboxStatus::ALL, 100)
        .unwrap()
        .into_iter()
        .map(|m| m.row)
        .collect()
}

fn import_more(c: &mut DbConn, ins: &Insurer, csv: &str, on: NaiveDate) {
    let header = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,氏名カナ,事実発生日,受付日,個人番号\n";
    import_notices_csv(c, ins, "more.csv", &format!("{header}{csv}"), on);
}

#[test]
fn a_new_insurer_sends_nothing_until_an_admin_previews_and_switches_reminders_on() {
    use regwatch::store::mail_settings;
    let db = TestDb::new();
    let ins = seed_as(&db, "06123456", InsurerKind::Kenpo, false);
    let mut c = db.conn();
    // No mail_settings row: off.
    let stored = mail_settings::get(&mut c, ins.id).unwrap();
    assert!(!stored.prefs.reminders_enabled);
    assert_eq!(stored.updated_by, None, "no row");
    let eval = mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    assert_eq!((eval.disabled, eval.queued_total()), (1, 0), "{eval:?}");
    // The scheduler's first day records the date and keeps reminders off.
    let (mem, sink) = Transport::memory();
    let mut sched = mail::Scheduler::new(Worker::new(mem.clone(), settings(1000, 5)), 9);
    let (eval, sent) = sched.tick(&mut c, t0()).unwrap();
    assert_eq!(eval.unwrap().queued_total(), 0);
    assert_eq!(sent.sent, 0);
    assert!(queued_rows(&mut c, &ins).is_empty());
    assert!(
        !mail_settings::get(&mut c, ins.id)
            .unwrap()
            .prefs
            .reminders_enabled
    );

    // The preview renders what would go out, and writes nothing.
    let (counts, msgs) = mail::preview_insurer(&mut c, &ins, as_of(), t0()).unwrap();
    assert_eq!(counts.queued_total(), 6, "{counts:?}");
    assert_eq!(msgs.len(), 6);
    assert!(msgs
        .iter()
        .all(|m| m.subject.contains("テスト保険者06123456")));
    assert!(
        queued_rows(&mut c, &ins).is_empty(),
        "preview queues nothing"
    );

    // The admin switches them on (audited); the next evaluation queues what the preview showed.
    assert!(mail::prefs::set_reminders(&mut c, ins.id, true, "admin@a.example.jp", t0()).unwrap());
    assert!(!mail::prefs::set_reminders(&mut c, ins.id, true, "admin@a.example.jp", t0()).unwrap());
    assert_eq!(audit_count(&mut c, "mail_settings_changed"), 1);
    let eval = mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    assert_eq!(eval.queued_total(), 6, "{eval:?}");
    let subjects: HashSet<String> = queued_rows(&mut c, &ins)
        .into_iter()
        .map(|r| r.subject)
        .collect();
    let previewed: HashSet<String> = msgs.into_iter().map(|m| m.subject).collect();
    assert_eq!(subjects, previewed);
    let w = Worker::new(mem, settings(1000, 5));
    assert_eq!(w.drain(&mut c, t0()).unwrap().sent, 6);
    assert_eq!(sink.lock().unwrap().len(), 6);
    // Now the preview shows nothing new.
    let (counts, msgs) = mail::preview_insurer(&mut c, &ins, as_of(), t0()).unwrap();
    assert_eq!((counts.queued_total(), msgs.len()), (0, 0));
    // Notices already reported are left out before the dedupe check; the two digests hit it.
    assert_eq!(counts.already_queued, 2, "{counts:?}");
}

#[test]
fn a_kyosai_addresses_its_shozokusho_as_such_and_never_mentions_e_gov() {
    let db = TestDb::new();
    let ins = seed_as(&db, "32123456", InsurerKind::Kyosai, true);
    let mut c = db.conn();
    let eval = mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    assert_eq!(eval.queued_total(), 6, "{eval:?}");
    let rows = queued_rows(&mut c, &ins);
    for r in &rows {
        for (what, part) in [
            ("subject", &r.subject),
            ("text", &r.body_text),
            ("html", &r.body_html),
        ] {
            assert!(part.contains("所属所"), "{what}: {part}");
            assert!(!part.contains("事業所"), "{what}: {part}");
            assert!(!part.contains("e-Gov"), "{what}: {part}");
            assert!(!part.contains("当組合"), "{what}: {part}");
        }
        assert!(
            r.body_text.contains("共済事務ご担当者様"),
            "{}",
            r.body_text
        );
        assert!(
            r.subject.contains("所属所記号 E01") || r.subject.contains("所属所記号 E02"),
            "{}",
            r.subject
        );
    }
    let late = rows.iter().find(|r| r.kind == "late_submission").unwrap();
    assert!(
        late.body_text.contains("所定の電子的な方法"),
        "{}",
        late.body_text
    );
    assert!(late.body_text.contains(REQ_DOCUMENTS), "{}", late.body_text);
    let digest = rows.iter().find(|r| r.kind == "weekly_digest").unwrap();
    assert!(
        digest.body_text.contains("貴所属所"),
        "{}",
        digest.body_text
    );

    // A 健保組合 with the same data: 事業所 and e-Gov.
    let db2 = TestDb::new();
    let kenpo = seed(&db2);
    let mut c2 = db2.conn();
    mail::evaluate_all(&mut c2, as_of(), t0()).unwrap();
    let rows = queued_rows(&mut c2, &kenpo);
    assert!(rows
        .iter()
        .all(|r| r.subject.contains("事業所記号") && !r.body_text.contains("所属所")));
    let late = rows.iter().find(|r| r.kind == "late_submission").unwrap();
    assert!(
        late.body_text.contains("電子申請（e-Gov 等）"),
        "{}",
        late.body_text
    );
    assert!(late.body_html.contains("電子申請（e-Gov 等）"));
}

#[test]
fn a_pending_loss_notice_never_triggers_a_my_number_request() {
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    // E01: a loss notice without a number beside MISS-1; E05: only loss notices without numbers.
    import_more(
        &mut c,
        &ins,
        "LOSS-1,資格喪失,E01,株式会社テスト,100,7,,山本五郎,,2025-06-27,2025-06-29,\n\
         LOSS-2,資格喪失,E05,喪失のみ商事,500,8,,木村六郎,,2025-06-27,2025-06-29,\n\
         LOSS-3,資格喪失,E05,喪失のみ商事,500,9,,林七郎,,2025-06-27,2025-06-29,123456789012\n",
        as_of(),
    );
    set_contacts(&mut c, &ins, "E05", &["jinji@e05.example.jp"], false);
    mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    let rows = queued_rows(&mut c, &ins);
    let e05 = notices::employer_id_by_code(&mut c, ins.id, "E05")
        .unwrap()
        .unwrap();
    let my_number: Vec<&outbox::OutboxRow> =
        rows.iter().filter(|r| r.kind == "my_number").collect();
    assert_eq!(my_number.len(), 2, "E01 and E02 only");
    assert!(my_number.iter().all(|r| r.employer_id != e05));
    for r in &my_number {
        assert!(!r.body_text.contains("LOSS-"), "{}", r.body_text);
    }
    let e01 = my_number
        .iter()
        .find(|r| r.subject.contains("E01"))
        .unwrap();
    assert!(e01.body_text.contains("MISS-1"));
    // The digest counts and lists only 資格取得届・被扶養者届 as needing a number.
    for d in rows.iter().filter(|r| r.kind == "weekly_digest") {
        assert!(!d.body_text.contains("LOSS-"), "{}", d.body_text);
        if d.employer_id == e05 {
            assert!(
                d.body_text
                    .contains("正しくない資格取得届・被扶養者届: 0 件"),
                "{}",
                d.body_text
            );
            assert!(!d.body_text.contains("個人番号のご提出をお願いしている届出"));
        }
    }
    assert!(rows
        .iter()
        .any(|r| r.kind == "weekly_digest" && r.employer_id == e05));
}

#[test]
fn the_days_in_the_wording_come_from_the_insurers_rule_settings() {
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    let text_of = |c: &mut DbConn, ins: &Insurer, kind: MailKind, code: &str| -> (String, String) {
        let (_, msgs) = mail::preview_insurer(c, ins, as_of(), t0()).unwrap();
        let m = msgs
            .into_iter()
            .find(|m| m.kind == kind && m.subject.contains(code))
            .unwrap_or_else(|| panic!("no {kind:?} for {code}"));
        (m.body_text, m.body_html)
    };
    let (late, late_html) = text_of(&mut c, &ins, MailKind::LateSubmission, "E01");
    assert!(late.contains("提出期限（事実発生日から5日以内）"), "{late}");
    assert!(late_html.contains("事実発生日から5日以内"));
    let (number, _) = text_of(&mut c, &ins, MailKind::MyNumber, "E01");
    assert!(
        number.contains("受付から5日以内にデータ登録が完了"),
        "{number}"
    );

    // The insurer changes its settings: 資格取得届 10 days to submit, 7 to register.
    let mut rules = ins.rules;
    rules.submission.days.acquisition = 10;
    rules.submission.days.dependent = 10;
    rules.registration.days.acquisition = 7;
    rules.registration.days.dependent = 7;
    import::recompute_deadlines(&mut c, &ins, &rules).unwrap();
    let ins = regwatch::store::insurers::get(&mut c, ins.id).unwrap();
    let (late, late_html) = text_of(&mut c, &ins, MailKind::LateSubmission, "E01");
    assert!(
        late.contains("提出期限（事実発生日から10日以内）"),
        "{late}"
    );
    assert!(
        late.contains("事実発生日から10日以内にご提出いただきますよう"),
        "{late}"
    );
    assert!(late_html.contains("事実発生日から10日以内"));
    assert!(!late.contains("5日以内"), "{late}");
    let (number, _) = text_of(&mut c, &ins, MailKind::MyNumber, "E01");
    assert!(
        number.contains("受付から7日以内にデータ登録が完了"),
        "{number}"
    );
    assert!(!number.contains("5日以内"), "{number}");

    // Kinds with different days are named one by one.
    rules.submission.days.dependent = 14;
    import::recompute_deadlines(&mut c, &ins, &rules).unwrap();
    let ins = regwatch::store::insurers::get(&mut c, ins.id).unwrap();
    let (digest, _) = text_of(&mut c, &ins, MailKind::WeeklyDigest, "E01");
    assert!(
        digest.contains("事実発生日から資格取得届は10日以内、被扶養者届は14日以内にご提出"),
        "{digest}"
    );
    // And what is queued is what was previewed.
    mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    let late = queued_rows(&mut c, &ins)
        .into_iter()
        .find(|r| r.kind == "late_submission")
        .unwrap();
    assert!(
        late.body_text.contains("事実発生日から10日以内"),
        "{}",
        late.body_text
    );
}

#[test]
fn the_footer_names_a_real_contact_and_never_an_absent_one() {
    use regwatch::store::mail_settings::MailPrefs;
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    let bodies = |c: &mut DbConn, ins: &Insurer| -> Vec<(String, String)> {
        let (_, msgs) = mail::preview_insurer(c, ins, as_of(), t0()).unwrap();
        assert_eq!(msgs.len(), 6);
        msgs.into_iter()
            .map(|m| (m.body_text, m.body_html))
            .collect()
    };
    // Nothing known: no お問い合わせ先 block, nothing points to one.
    for (text, html) in bodies(&mut c, &ins) {
        for part in [&text, &html] {
            assert!(
                !part.contains("上記お問い合わせ先") && !part.contains("上記のお問い合わせ先"),
                "{part}"
            );
            assert!(!part.contains("お問い合わせ先"), "{part}");
            assert!(
                part.contains("テスト保険者06123456の担当窓口までご連絡"),
                "{part}"
            );
        }
    }
    // The Reply-To of the mail settings.
    save_prefs(
        &mut c,
        &ins,
        &MailPrefs {
            reply_to: Some("toiawase@kenpo.example.jp".into()),
            reminders_enabled: true,
            ..MailPrefs::default()
        },
    );
    for (text, html) in bodies(&mut c, &ins) {
        assert!(text.contains("下記のお問い合わせ先までご連絡"), "{text}");
        assert!(
            text.contains(
                "【お問い合わせ先】\nテスト保険者06123456\n電子メール: toiawase@kenpo.example.jp\n"
            ),
            "{text}"
        );
        assert!(text.contains("このメールへのご返信でも承ります"));
        assert!(
            html.contains("電子メール: toiawase@kenpo.example.jp"),
            "{html}"
        );
        assert!(!text.contains("上記お問い合わせ先"));
    }
    // Only a sender name and From address: they are the contact.
    save_prefs(
        &mut c,
        &ins,
        &MailPrefs {
            sender_name: Some("テスト健保 適用課".into()),
            from_address: Some("tekiyo@kenpo.example.jp".into()),
            reminders_enabled: true,
            ..MailPrefs::default()
        },
    );
    for (text, _) in bodies(&mut c, &ins) {
        assert!(
            text.contains("担当: テスト健保 適用課\n電子メール: tekiyo@kenpo.example.jp"),
            "{text}"
        );
        assert!(!text.contains("ご返信でも承ります"), "{text}");
    }
    // The insurer's own contact text (and address) come first.
    {
        use diesel::prelude::*;
        use regwatch::store::schema::insurers as i;
        diesel::update(i::table.find(ins.id.0))
            .set((
                i::contact.eq(Some("適用課 電話 03-1234-5678（平日9時〜17時）")),
                i::address.eq(Some("東京都千代田区霞が関1-2-3")),
            ))
            .execute(&mut c)
            .unwrap();
    }
    let ins = regwatch::store::insurers::get(&mut c, ins.id).unwrap();
    for (text, html) in bodies(&mut c, &ins) {
        assert!(
            text.contains("テスト保険者06123456\n適用課 電話 03-1234-5678（平日9時〜17時）\n担当: テスト健保 適用課\n電子メール: tekiyo@kenpo.example.jp\n所在地: 東京都千代田区霞が関1-2-3\n"),
            "{text}"
        );
        assert!(html.contains("適用課 電話 03-1234-5678"), "{html}");
    }
}

#[test]
fn the_late_and_digest_e_mails_carry_the_checklist_3_1_and_3_2_requests_in_keigo() {
    let db = TestDb::new();
    let ins = seed(&db);
    let mut c = db.conn();
    mail::evaluate_all(&mut c, as_of(), t0()).unwrap();
    let rows = queued_rows(&mut c, &ins);
    for kind in ["late_submission", "weekly_digest"] {
        let r = rows.iter().find(|r| r.kind == kind).unwrap();
        for part in [&r.body_text, &r.body_html] {
            assert!(part.contains(REQ_OUTSOURCED), "{kind}: {part}");
            assert!(part.contains("委託先との契約内容のご確認・見直しを含め、ご対応いただきますようお願いいたします"), "{part}");
            assert!(part.contains(REQ_DOCUMENTS), "{kind}: {part}");
            assert!(
                part.contains("届出とあわせて迅速にご提出いただきますようお願いいたします"),
                "{part}"
            );
            assert!(
                part.contains("入社日より前にご作成・ご準備いただきますようお願いいたします"),
                "{part}"
            );
        }
    }
    // Polite business Japanese throughout: no plain imperatives left from the old wording.
    for r in &rows {
        for plain in [
            "ご準備ください。",
            "ご提出ください。",
            "お送りください。",
            "使えません",
        ] {
            assert!(!r.body_text.contains(plain), "{plain}: {}", r.body_text);
        }
        assert!(
            r.body_text.contains("平素より格別のご協力を賜り"),
            "{}",
            r.body_text
        );
    }
}

#[tokio::test]
async fn an_admin_previews_the_reminders_on_a_page_and_the_api_before_switching_them_on() {
    use regwatch::store::users::Role;
    let app = common::spawn_app().await;
    let ins = seed_as(&app.db, "06123456", InsurerKind::Kenpo, false);
    let mut c = app.db.conn();
    common::add_user(&mut c, &ins, "admin@a.example.jp", Role::Admin, PASSWORD);
    common::add_user(&mut c, &ins, "staff@a.example.jp", Role::Staff, PASSWORD);
    let url = |p: &str| format!("{}{}", app.address, p);
    let admin = common::login_cookie(&app, "admin@a.example.jp", PASSWORD).await;
    let staff = common::login_cookie(&app, "staff@a.example.jp", PASSWORD).await;
    let get = |s: &common::CookieSession, p: String| {
        let cookie = s.cookie.clone();
        async move {
            let r = reqwest::Client::new()
                .get(p)
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (st, html) = get(&admin, url("/mail/settings")).await;
    assert_eq!(st, 200);
    assert!(html.contains("href=\"/mail/preview\""), "{html}");
    assert!(!html.contains("name=\"reminders_enabled\" value=\"on\" checked"));
    let (st, html) = get(&admin, url("/mail/preview?as_of=2025-06-30")).await;
    assert_eq!(st, 200);
    assert!(html.contains("自動送信は停止中です"), "{html}");
    assert!(
        html.contains(
            "【テスト保険者06123456】提出遅延のお知らせ（株式会社テスト（事業所記号 E01））"
        ),
        "{html}"
    );
    assert!(html.contains("a@e01.example.jp, b@e01.example.jp"));
    assert_eq!(get(&staff, url("/mail/preview")).await.0, 403);
    assert_eq!(
        get(&admin, url("/mail/preview?as_of=30.6.2025")).await.0,
        400
    );

    let t = common::login_token(&app, "admin@a.example.jp", PASSWORD).await;
    let body: Value = app
        .client
        .get(url("/api/v1/mail/preview?as_of=2025-06-30"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["reminders_enabled"], false);
    assert_eq!(body["messages"].as_array().unwrap().len(), 6, "{body}");
    assert_eq!(body["queued"]["my_number"], 2);
    assert!(body["messages"][0]["body_html"]
        .as_str()
        .unwrap()
        .contains("<html"));
    assert!(
        queued_rows(&mut c, &ins).is_empty(),
        "the preview queues nothing"
    );
    assert_eq!(
        mail::evaluate_all(&mut c, as_of(), t0())
            .unwrap()
            .queued_total(),
        0
    );

    // Switched on through the API (a PUT without the field leaves them off).
    let put = |v: Value| {
        app.client
            .put(url("/api/v1/mail/settings"))
            .bearer_auth(&t)
            .json(&v)
            .send()
    };
    assert_eq!(
        put(serde_json::json!({"digest_weekday": 1}))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        mail::evaluate_all(&mut c, as_of(), t0())
            .unwrap()
            .queued_total(),
        0
    );
    assert_eq!(
        put(serde_json::json!({"reminders_enabled": true}))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        mail::evaluate_all(&mut c, as_of(), t0())
            .unwrap()
            .queued_total(),
        6
    );
}
