//! Issue 19: the dashboard and analysis figures read from the report rollups equal a full
//! recomputation from the notices — after loads, registrations, changed notices, settings and
//! error-cause changes, with days left dirty or written by another version — for periods and
//! as-of dates that cut through the rollups, on both backends; and one insurer's rollups never
//! count in another's figures.
mod common;

use chrono::NaiveDate;
use common::{date as d, import_notices_csv, import_registrations_csv, load_generated, TestDb};
use diesel::prelude::*;
use regwatch::domain::{InsurerKind, InsurerNumber, RuleSettings};
use regwatch::reports::rollups::{self, Rollup};
use regwatch::reports::{analysis, dashboard};
use regwatch::store::insurers::{self, Insurer};
use regwatch::store::schema::report_rollups;
use regwatch::store::DbConn;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

fn insurer(c: &mut DbConn, number: &str) -> Insurer {
    let n = InsurerNumber::parse(number).unwrap();
    insurers::create(c, &n, number, InsurerKind::Kenpo, &RuleSettings::default()).unwrap()
}

fn fresh(c: &mut DbConn, i: &Insurer) -> Insurer {
    insurers::get(c, i.id).unwrap()
}

/// Rebuilds the insurer's dirty days, with its settings as stored now.
fn refresh(c: &mut DbConn, i: &Insurer) -> usize {
    let i = fresh(c, i);
    rollups::refresh(c, &i).unwrap()
}

/// The dashboard and the analysis of the period, as the pages finish them.
fn finished<R: Rollup + 'static>(
    state: R,
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
) -> Value {
    let any: Box<dyn std::any::Any> = Box::new(state);
    match any.downcast::<dashboard::State>() {
        Ok(s) => serde_json::to_value(
            dashboard::Accumulator::with_state(from, to, as_of, *s).finish(&HashMap::new(), 1000),
        )
        .unwrap(),
        Err(any) => {
            let s = any.downcast::<analysis::State>().unwrap();
            serde_json::to_value(
                analysis::Accumulator::with_state(from, to, as_of, *s).finish(
                    &HashMap::new(),
                    &BTreeMap::new(),
                    &[],
                ),
            )
            .unwrap()
        }
    }
}

fn same<R: Rollup + 'static>(
    c: &mut DbConn,
    i: &Insurer,
    p: (NaiveDate, NaiveDate, NaiveDate),
    what: &str,
) {
    let (from, to, as_of) = p;
    let rolled: R = rollups::fold(c, i, from, to, as_of).unwrap();
    let live: R = rollups::recompute(c, i, from, to, as_of).unwrap();
    let (rolled, live) = (
        finished(rolled, from, to, as_of),
        finished(live, from, to, as_of),
    );
    assert_eq!(
        rolled,
        live,
        "{what}: {} {from}..{to} as of {as_of} differs from a full recomputation",
        std::any::type_name::<R>()
    );
}

/// Periods and as-of dates that cut through the rollups: the year as of its end and later, a
/// month judged a few days after it (registrations after the as-of date), a period ending after
/// its as-of date, one day, and a period without notices.
fn check(c: &mut DbConn, i: &Insurer, what: &str) -> u64 {
    let i = fresh(c, i);
    let periods = [
        (d("2025-07-01"), d("2026-06-30"), d("2026-06-30")),
        (d("2025-07-01"), d("2026-06-30"), d("2026-09-01")),
        (d("2026-04-01"), d("2026-04-30"), d("2026-05-04")),
        (d("2026-03-15"), d("2026-05-20"), d("2026-04-10")),
        (d("2026-04-06"), d("2026-04-06"), d("2026-04-20")),
        (d("2024-07-01"), d("2025-06-30"), d("2025-06-30")),
    ];
    for p in periods {
        same::<dashboard::State>(c, &i, p, what);
        same::<analysis::State>(c, &i, p, what);
    }
    // The 事業所 list's totals from the rollups equal its grouped queries.
    for as_of in [d("2026-06-30"), d("2026-04-20")] {
        let totals = rollups::employer_totals(c, &i, as_of).unwrap();
        let with =
            regwatch::store::employers::figures_with_totals(c, i.id, totals, as_of, 3).unwrap();
        let grouped = regwatch::store::employers::figures(c, i.id, None, as_of, 3).unwrap();
        let with = regwatch::store::employers::summaries(c, i.id, &with).unwrap();
        let grouped = regwatch::store::employers::summaries(c, i.id, &grouped).unwrap();
        assert_eq!(
            format!("{with:?}"),
            format!("{grouped:?}"),
            "{what}: employers as of {as_of}"
        );
    }
    let whole: dashboard::State =
        rollups::fold(c, &i, periods[0].0, periods[0].1, periods[0].2).unwrap();
    finished(whole, periods[0].0, periods[0].1, periods[0].2)["notices"]
        .as_u64()
        .unwrap()
}

fn clean_days(c: &mut DbConn, i: &Insurer) -> i64 {
    report_rollups::table
        .filter(report_rollups::insurer_id.eq(i.id.0))
        .filter(report_rollups::dashboard.is_not_null())
        .filter(report_rollups::version.eq(rollups::VERSION))
        .count()
        .get_result(c)
        .unwrap()
}

fn dirty_days(c: &mut DbConn, i: &Insurer) -> i64 {
    report_rollups::table
        .filter(report_rollups::insurer_id.eq(i.id.0))
        .filter(report_rollups::dashboard.is_null())
        .count()
        .get_result(c)
        .unwrap()
}

const NOTICES: &str =
    "受付番号,届書種別,事業所記号,被保険者記号,被保険者番号,事実発生日,受付日,個人番号,遅延理由\n";
const RESULTS: &str = "受付番号,登録完了日時,処理結果,エラーコード,エラー内容\n";

#[test]
fn figures_from_the_rollups_equal_a_full_recomputation() {
    let db = TestDb::new();
    let mut c = db.conn();
    let a = insurer(&mut c, "06140001");
    let b = insurer(&mut c, "06140002");
    load_generated(&mut c, &a, 4_000, 31, d("2026-06-30"));
    load_generated(&mut c, &b, 1_500, 32, d("2026-06-30"));

    // Loaded by the store alone: every day is dirty and evaluated live.
    assert_eq!(clean_days(&mut c, &a), 0);
    assert!(
        dirty_days(&mut c, &a) > 200,
        "every day of the load is marked"
    );
    let notices = check(&mut c, &a, "before any rebuild");
    assert!(
        notices > 3_000,
        "the year has the generated notices: {notices}"
    );

    // Rebuilt: the pages read the rollups (and evaluate the pending notices live).
    let rebuilt = refresh(&mut c, &a);
    assert!(rebuilt > 200, "{rebuilt} days rebuilt");
    assert_eq!(dirty_days(&mut c, &a), 0);
    assert_eq!(check(&mut c, &a, "rebuilt"), notices);
    assert_eq!(refresh(&mut c, &a), 0, "nothing left to do");

    // New notices, a notice that moves to another day, results for pending and late notices:
    // the days they touch are dirty (live) until the next rebuild.
    let csv = format!(
        "{NOTICES}R-1,資格取得,E01,9,1,2026-04-01,2026-04-10,,書類不備\n\
         R-2,資格取得,E01,9,2,2026-04-01,2026-04-13,,\n"
    );
    import_notices_csv(&mut c, &a, "r1.csv", &csv, d("2026-06-30"));
    refresh(&mut c, &a);
    let csv = format!(
        "{NOTICES}R-1,資格取得,E01,9,1,2026-04-01,2026-05-12,,書類不備\n\
         R-3,被扶養者,E02,9,3,2026-05-01,2026-05-13,,\n"
    );
    let s = import_notices_csv(&mut c, &a, "r2.csv", &csv, d("2026-06-30"));
    assert_eq!(s.rejected, 0, "{:?}", s.rejects);
    let moved_from: i64 = report_rollups::table
        .filter(report_rollups::insurer_id.eq(a.id.0))
        .filter(report_rollups::day.eq(d("2026-04-10")))
        .filter(report_rollups::dashboard.is_null())
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(moved_from, 1, "the day a changed notice left is dirty");
    let pending: Vec<String> = regwatch::store::schema::notices::table
        .filter(regwatch::store::schema::notices::insurer_id.eq(a.id.0))
        .filter(regwatch::store::schema::notices::registered_on.is_null())
        .order(regwatch::store::schema::notices::id.asc())
        .select(regwatch::store::schema::notices::notice_id)
        .limit(3)
        .load(&mut c)
        .unwrap();
    assert_eq!(pending.len(), 3, "the generated year has pending notices");
    let regs = format!(
        "{RESULTS}{},2026-06-29 10:00:00,正常,,\n{},,エラー,E0101,J-LIS照会結果不一致\nR-1,2026-06-01 09:00:00,正常,,\nR-1,,エラー,E0101,J-LIS照会結果不一致\n",
        pending[0], pending[1]
    );
    let s = import_registrations_csv(&mut c, &a, "r.csv", &regs);
    assert_eq!(s.rejected, 0, "{:?}", s.rejects);
    assert!(dirty_days(&mut c, &a) >= 2);
    assert_eq!(
        check(&mut c, &a, "changed, not rebuilt"),
        notices + 3 - 1 + 1
    );
    refresh(&mut c, &a);
    check(&mut c, &a, "changed and rebuilt");

    // Settings that move deadlines (a 3-day registration rule) and an error-cause table.
    let mut rules = RuleSettings::default();
    rules.registration.days.acquisition = 3;
    rules.registration.days.dependent = 3;
    let now = fresh(&mut c, &a);
    let moved = regwatch::store::import::recompute_deadlines(&mut c, &now, &rules).unwrap();
    assert!(moved > 0);
    check(&mut c, &a, "new deadlines, not rebuilt");
    refresh(&mut c, &a);
    check(&mut c, &a, "new deadlines, rebuilt");
    regwatch::store::error_causes::replace_all(
        &mut c,
        a.id,
        &[("E0101".to_string(), analysis::Cause::InsurerBacklog)],
        "test",
    )
    .unwrap();
    assert_eq!(
        clean_days(&mut c, &a),
        0,
        "an error-cause change touches every day"
    );
    check(&mut c, &a, "error causes, not rebuilt");
    refresh(&mut c, &a);
    check(&mut c, &a, "error causes, rebuilt");

    // Rows of another version, and a row that cannot be read, are not used.
    diesel::update(report_rollups::table.filter(report_rollups::day.lt(d("2026-01-01"))))
        .set(report_rollups::version.eq(rollups::VERSION + 1))
        .execute(&mut c)
        .unwrap();
    diesel::update(report_rollups::table.filter(report_rollups::day.eq(d("2026-04-06"))))
        .set(report_rollups::dashboard.eq("{not json"))
        .execute(&mut c)
        .unwrap();
    check(&mut c, &a, "other versions and an unreadable row");

    // The other insurer: its own figures, from its own rows only.
    let other = refresh(&mut c, &b);
    assert!(other > 100);
    let b_notices = check(&mut c, &b, "the other insurer");
    assert!(
        b_notices < notices && b_notices > 1_000,
        "{b_notices} vs {notices}"
    );
}
