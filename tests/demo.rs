//! `regwatch demo`: the data it loads shows every kind of case, and loading it again adds nothing.
mod common;

use common::TestDb;
use diesel::prelude::*;
use regwatch::demo;
use regwatch::store::schema::{import_batches, notices, users};
use secrecy::SecretString;

fn table_counts(conn: &mut regwatch::store::DbConn) -> (i64, i64, i64) {
    let n: i64 = notices::table.count().get_result(conn).unwrap();
    let u: i64 = users::table.count().get_result(conn).unwrap();
    let b: i64 = import_batches::table.count().get_result(conn).unwrap();
    (n, u, b)
}

#[test]
fn demo_data_shows_every_case_and_reloading_adds_nothing() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let today = regwatch::cli::today_jst();
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
    // The same figures straight from the dashboard the web app shows.
    let ins = &first[0].insurer;
    let from = today - chrono::Days::new(364);
    let dash = regwatch::reports::dashboard::compute(&mut conn, ins, from, today, today).unwrap();
    assert!(dash.at_risk > 0 && dash.open_breached > 0 && dash.ex_officio_required > 0);

    let before = table_counts(&mut conn);
    assert_eq!(before.0, 6500);
    assert_eq!(before.1, 6, "admin, staff and viewer for each insurer");

    // A second start reuses everything, and the demo password still signs in.
    let again = demo::load(&mut conn, today, &pw).expect("demo reload");
    assert!(again.iter().all(|l| l.reused && l.notices.is_none()));
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
    }
}

#[test]
#[ignore]
fn tmp_print_counts() {
    for day in [
        "2026-01-02",
        "2026-05-03",
        "2026-08-15",
        "2026-12-02",
        "2026-04-10",
    ] {
        let db = TestDb::new();
        let mut conn = db.conn();
        let today: chrono::NaiveDate = day.parse().unwrap();
        let pw = SecretString::from(demo::DEFAULT_PASSWORD.to_string());
        let loaded = demo::load(&mut conn, today, &pw).expect("demo load");
        for l in &loaded {
            println!("COUNTS {day} {} {:?}", l.insurer.number, l.counts);
        }
    }
}
