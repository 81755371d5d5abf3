//! `regwatch demo`: the data it loads shows every kind of case, and loading it again adds nothing.
mod common;

use common::TestDb;
use diesel::prelude::*;
use regwatch::demo;
use regwatch::store::schema::{import_batches, import_profiles, notices, users};
use secrecy::SecretString;

fn table_counts(conn: &mut regwatch::store::DbConn) -> (i64, i64, i64, i64) {
    let n: i64 = notices::table.count().get_result(conn).unwrap();
    let u: i64 = users::table.count().get_result(conn).unwrap();
    let b: i64 = import_batches::table.count().get_result(conn).unwrap();
    let p: i64 = import_profiles::table.count().get_result(conn).unwrap();
    (n, u, b, p)
}

#[test]
fn demo_data_shows_every_case_and_reloading_adds_nothing() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let today = regwatch::time::today_jst();
    let pw = SecretString::from(demo::DEFAULT_PASSWORD.to_string());

    let first = demo::load(&mut conn, today, &pw).expect("demo load");
    assert_eq!(first.len(), 2);
    for (l, d) in first.iter().zip(demo::INSURERS.iter()) {
        assert_eq!(l.insurer.number.as_str(), d.number);
        assert_eq!(l.insurer.kind, d.kind);
        assert!(!l.reused, "{}: fresh database", d.number);
        let c = l.counts;
        assert_eq!(c.notices, d.notices as i64, "{}: {c:?}", d.number);
        assert!(c.open > 0, "{}: open registrations {c:?}", d.number);
        assert!(c.at_risk > 0, "{}: at-risk registrations {c:?}", d.number);
        assert!(c.open_breached > 0, "{}: open breaches {c:?}", d.number);
        assert!(c.breached > 0, "{}: breaches {c:?}", d.number);
        assert!(c.ex_officio > 0, "{}: 資格確認書 due {c:?}", d.number);
        assert!(
            c.registration_errors > 0,
            "{}: the 登録エラー worklist has content {c:?}",
            d.number
        );
        assert_eq!(l.notices.as_ref().unwrap().rejected, 0);
        assert_eq!(l.registrations.as_ref().unwrap().rejected, 0);
        // Staffing for 要因分析: every month of the year, and the reinforced first weeks of April.
        let staffing = regwatch::store::staffing::entries(&mut conn, l.insurer.id).unwrap();
        let (weeks, months): (Vec<_>, Vec<_>) = staffing.iter().partition(|e| {
            matches!(
                e.period,
                regwatch::domain::staffing::StaffingPeriod::Week(_)
            )
        });
        assert!(months.len() >= 12, "{}: {months:?}", d.number);
        assert_eq!(weeks.len(), 2, "{}: {weeks:?}", d.number);
        assert!(weeks.iter().all(|w| w.staff > months[0].staff));
    }
    // The 共済組合 shows 設定 → 表示 in use: its pages in 和暦; the 健保組合 keeps the default.
    for (l, d) in first.iter().zip(demo::INSURERS.iter()) {
        let stored = regwatch::store::insurers::get(&mut conn, l.insurer.id).unwrap();
        let expected = match d.kind {
            regwatch::domain::InsurerKind::Kyosai => regwatch::time::DateStyle::Wareki,
            _ => regwatch::time::DateStyle::Iso,
        };
        assert_eq!(stored.date_style, expected, "{}", d.number);
    }
    // Files in the insurers' own layouts (SPEC §3.1), through the stored profiles.
    for (l, d) in first.iter().zip(demo::INSURERS.iter()) {
        own_files_loaded(&mut conn, l, d, today);
    }

    // The same figures straight from the dashboard the web app shows.
    let ins = &first[0].insurer;
    let from = today - chrono::Days::new(364);
    let dash = regwatch::reports::dashboard::compute(&mut conn, ins, from, today, today).unwrap();
    assert!(dash.at_risk > 0 && dash.open_breached > 0 && dash.ex_officio_required > 0);

    let before = table_counts(&mut conn);
    assert_eq!(before.0, 6500);
    assert_eq!(before.1, 6, "admin, staff and viewer for each insurer");
    assert_eq!(before.3, 4, "two import profiles for each insurer");

    // A second start reuses everything, and the demo password still signs in.
    let again = demo::load(&mut conn, today, &pw).expect("demo reload");
    assert!(again
        .iter()
        .all(|l| l.reused && l.notices.is_none() && l.own_files.is_empty()));
    assert_eq!(table_counts(&mut conn), before, "nothing duplicated");
    assert_eq!(
        again.iter().map(|l| l.counts).collect::<Vec<_>>(),
        first.iter().map(|l| l.counts).collect::<Vec<_>>()
    );
    for (_, email, _) in demo::sign_ins() {
        let e = regwatch::store::users::Email::parse(&email).unwrap();
        let u = regwatch::store::users::find_by_email(&mut conn, &e)
            .unwrap()
            .expect("demo user exists");
        assert!(regwatch::store::users::verify_password(
            &pw,
            &u.password_hash
        ));
    }

    // --password on a reused database changes the demo users' password.
    let other = SecretString::from("another-demo-password".to_string());
    demo::load(&mut conn, today, &other).expect("reload with another password");
    let e = regwatch::store::users::Email::parse("kenpo-admin@example.jp").unwrap();
    let u = regwatch::store::users::find_by_email(&mut conn, &e)
        .unwrap()
        .unwrap();
    assert_eq!(u.role, "admin");
    assert!(regwatch::store::users::verify_password(
        &other,
        &u.password_hash
    ));
    assert_eq!(table_counts(&mut conn), before);

    // A password that is too short is refused before anything is written.
    let short = SecretString::from("short".to_string());
    assert!(demo::load(&mut conn, today, &short).is_err());
}

#[test]
fn demo_data_for_other_days_of_the_year() {
    // The demo runs on whatever day it is started: in the New Year break, in Golden Week, on a
    // Saturday (a deadline is never a holiday, so 「期限間近」 needs a longer warning there).
    for day in ["2026-01-02", "2026-05-03", "2026-08-15"] {
        let db = TestDb::new();
        let mut conn = db.conn();
        let today: chrono::NaiveDate = day.parse().unwrap();
        let pw = SecretString::from(demo::DEFAULT_PASSWORD.to_string());
        let loaded = demo::load(&mut conn, today, &pw).expect("demo load");
        for l in &loaded {
            let c = l.counts;
            assert!(
                c.open > 0 && c.open_breached > 0 && c.ex_officio > 0,
                "{day} {}: {c:?}",
                l.insurer.number
            );
            assert!(c.at_risk > 0, "{day} {}: {c:?}", l.insurer.number);
        }
        for (l, d) in loaded.iter().zip(demo::INSURERS.iter()) {
            own_files_loaded(&mut conn, l, d, today);
        }
    }
}

/// The core system's Excel list, the e-Gov file (健保組合) and the intermediate server's results
/// by member were loaded through the demo's stored profiles, without a rejected row.
fn own_files_loaded(
    conn: &mut regwatch::store::DbConn,
    l: &demo::LoadedInsurer,
    d: &demo::DemoInsurer,
    today: chrono::NaiveDate,
) {
    use regwatch::store::profiles;
    let stored = profiles::list(conn, l.insurer.id).unwrap();
    let names: Vec<&str> = stored.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{}: {names:?}", d.number);
    for (name, toml) in demo::profile_tomls(d.kind) {
        let p = profiles::by_name(conn, l.insurer.id, name)
            .unwrap()
            .unwrap_or_else(|| panic!("{}: profile {name}", d.number));
        // What is stored is what a user exports and imports.
        let want = regwatch::ingest::Profile::from_toml_str(&toml).unwrap();
        assert_eq!(p.profile, want, "{}: {name}", d.number);
        assert_eq!(
            regwatch::ingest::Profile::from_toml_str(&p.profile.to_toml()).unwrap(),
            want
        );
    }
    let excel = profiles::by_name(conn, l.insurer.id, demo::EXCEL_PROFILE)
        .unwrap()
        .unwrap();
    let part = excel.profile.notices.as_ref().expect("[notices]");
    assert_eq!(part.header_row, 3);
    assert_eq!(part.map_value("kind", "03"), Some("loss"));
    assert_eq!(part.map_value("my_number_status", "誤り"), Some("invalid"));
    let results = profiles::by_name(conn, l.insurer.id, demo::RESULTS_PROFILE)
        .unwrap()
        .unwrap();
    let part = results
        .profile
        .registrations
        .as_ref()
        .expect("[registrations]");
    assert!(!part.columns.contains_key("notice_id"), "by member");
    assert_eq!(part.map_value("result", "1"), Some("error"));

    let own = &l.own_files;
    let names: Vec<&str> = own.iter().map(|s| s.file_name.as_str()).collect();
    let egov = d.kind == regwatch::domain::InsurerKind::Kenpo;
    assert_eq!(
        own.len(),
        if egov { 3 } else { 2 },
        "{}: {names:?}",
        d.number
    );
    for s in own {
        assert_eq!(
            s.rejected, 0,
            "{} {}: {:?}",
            d.number, s.file_name, s.rejects
        );
        assert!(
            s.rows_read > 0 && s.new > 0,
            "{} {}: {s:?}",
            d.number,
            s.file_name
        );
        let (rejected, status): (i64, String) = import_batches::table
            .filter(import_batches::id.eq(s.batch_id))
            .select((import_batches::rows_rejected, import_batches::status))
            .first(conn)
            .unwrap();
        assert_eq!((rejected, status.as_str()), (0, "completed"));
    }
    let xlsx = &own[0];
    assert!(xlsx.file_name.ends_with(".xlsx"), "{names:?}");
    assert_eq!(xlsx.new, demo::EXCEL_NOTICES as u64, "{}", xlsx.line_ja());
    if egov {
        assert_eq!(own[1].file_name, "SHFD0006.CSV");
        assert!((2..=3).contains(&own[1].new), "{}", own[1].line_ja());
        // Its notices carry the 受付番号 the e-Gov file gives them, received before today.
        let egov_notices: Vec<chrono::NaiveDate> = notices::table
            .filter(notices::insurer_id.eq(l.insurer.id.0))
            .filter(notices::notice_id.like("EG%"))
            .select(notices::received_on)
            .load(conn)
            .unwrap();
        assert_eq!(egov_notices.len() as u64, own[1].new);
        assert!(egov_notices.iter().all(|r| *r < today), "{egov_notices:?}");
    }
    let server = own.last().unwrap();
    assert!(server.file_name.ends_with(".csv"), "{names:?}");
    assert_eq!(server.without_notice, 0, "{}", server.line_ja());
}

/// The demo's e-mails: last week's reminders delivered (one `.eml` each) and dated last week, today's
/// queued and due, the per-minute limit left whole for `outbox run` / `serve`, and a second start
/// adds nothing.
#[test]
fn demo_mail_history_is_last_weeks_delivered_and_todays_queued() {
    use regwatch::mail::transport::{MailSettings, Transport};
    use regwatch::mail::worker::Worker;
    use regwatch::store::schema::outbox;
    let db = TestDb::new();
    let mut conn = db.conn();
    let today = regwatch::time::today_jst();
    let pw = SecretString::from(demo::DEFAULT_PASSWORD.to_string());
    let loaded = demo::load(&mut conn, today, &pw).expect("demo load");
    let dir = tempfile::tempdir().unwrap();
    let config = regwatch::config::Config::default();
    let worker = Worker::new(
        Transport::file(dir.path().to_path_buf()).unwrap(),
        MailSettings::from_config(&config).unwrap(),
    );
    let insurers: Vec<_> = loaded.iter().map(|l| &l.insurer).collect();
    let started = regwatch::store::now_utc();
    demo::ensure_mail_history(&mut conn, &insurers, today, &worker).unwrap();

    let rows: Vec<(
        i64,
        String,
        chrono::NaiveDateTime,
        Option<chrono::NaiveDateTime>,
    )> = outbox::table
        .select((
            outbox::insurer_id,
            outbox::status,
            outbox::created_at,
            outbox::sent_at,
        ))
        .load(&mut conn)
        .unwrap();
    let week_ago = started - chrono::Duration::days(7);
    for l in &loaded {
        let mine: Vec<_> = rows.iter().filter(|r| r.0 == l.insurer.id.0).collect();
        let sent: Vec<_> = mine.iter().filter(|r| r.1 == "sent").collect();
        let pending: Vec<_> = mine.iter().filter(|r| r.1 == "pending").collect();
        assert!(
            !sent.is_empty(),
            "{}: last week's delivered",
            l.insurer.number
        );
        assert!(!pending.is_empty(), "{}: today's queued", l.insurer.number);
        assert_eq!(sent.len() + pending.len(), mine.len(), "nothing failed");
        for r in &sent {
            let at = r.3.expect("sent_at");
            assert!(
                at < week_ago + chrono::Duration::hours(1)
                    && at >= week_ago - chrono::Duration::hours(1)
            );
            assert!(r.2 <= at);
        }
        assert!(pending.iter().all(|r| r.2 >= started), "today's evaluation");
    }
    let sent_total = rows.iter().filter(|r| r.1 == "sent").count();
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, sent_total, "one .eml per delivered message");
    // `outbox run --once` right after the demo may send a full minute's worth.
    let recent = regwatch::store::outbox::sent_since(
        &mut conn,
        regwatch::store::now_utc() - chrono::Duration::minutes(1),
    )
    .unwrap();
    assert_eq!(recent, 0);

    // A second start of the demo leaves the mail as it is.
    demo::ensure_mail_history(&mut conn, &insurers, today, &worker).unwrap();
    let again: i64 = outbox::table.count().get_result(&mut conn).unwrap();
    assert_eq!(again as usize, rows.len());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), files);
}
