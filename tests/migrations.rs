//! Migrations applied to a database that already holds data (both backends): the `loss` rule
//! migration rebuilds the SQLite notices table (ids, rows and the references to them kept) and the
//! loss notices stored before it get the `loss` rule and deadline; members stored before the case
//! search get their folded names.
mod common;

use chrono::NaiveDate;
use common::TestDb;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;
use regwatch::store::{self, DbConn};

/// The last migration before the `loss` rule.
const BEFORE: &str = "2026-12-02-000008";

fn migrate_up_to(conn: &mut DbConn, last: &str) {
    loop {
        let pending: Vec<String> = match conn {
            DbConn::Sqlite(c) => c
                .pending_migrations(store::SQLITE_MIGRATIONS)
                .unwrap()
                .iter()
                .map(|m| m.name().to_string())
                .collect(),
            DbConn::Pg(c) => c
                .pending_migrations(store::POSTGRES_MIGRATIONS)
                .unwrap()
                .iter()
                .map(|m| m.name().to_string())
                .collect(),
        };
        let Some(next) = pending.first() else { break };
        if next.as_str() > last && !next.starts_with(last) {
            break;
        }
        match conn {
            DbConn::Sqlite(c) => {
                c.run_next_migration(store::SQLITE_MIGRATIONS).unwrap();
            }
            DbConn::Pg(c) => {
                c.run_next_migration(store::POSTGRES_MIGRATIONS).unwrap();
            }
        }
    }
}

/// A fresh database (dropped with the returned `TestDb`) migrated up to `last`.
fn database_up_to(last: &str) -> (TestDb, DbConn) {
    let db = TestDb::new();
    let url = store::DatabaseUrl::parse(&db.url).unwrap();
    let mut c = store::establish(&url).unwrap();
    migrate_up_to(&mut c, last);
    (db, c)
}

/// Insurer 1 with its employer E01, as the schema has stored them from the start.
const INSURER_1_WITH_E01: &str = "INSERT INTO insurers (id, number, name, kind, rules_toml, created_at, updated_at, data_version) \
     VALUES (1, '06123456', '移行テスト健保', 'kenpo', '', '2025-03-01 00:00:00', '2025-03-01 00:00:00', 1);
     INSERT INTO employers (id, insurer_id, code, name, contact_emails, opt_out, created_at, updated_at) \
     VALUES (1, 1, 'E01', '株式会社テスト', '', false, '2025-03-01 00:00:00', '2025-03-01 00:00:00');";

fn exec(conn: &mut DbConn, sql: &str) {
    use diesel::connection::SimpleConnection;
    conn.batch_execute(sql)
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    notice_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    registration_rule: String,
    #[diesel(sql_type = diesel::sql_types::Date)]
    registration_deadline: NaiveDate,
}

#[test]
fn the_loss_rule_migration_keeps_every_row_and_moves_stored_loss_notices_to_their_rule() {
    let (_db, mut c) = database_up_to(BEFORE);

    // Data as the previous version stored it: a 資格喪失届 without a number under the standard
    // rule (received Monday 2025-03-03, + 14 = 03-17), an acquisition with one, and a letter
    // that references the loss notice.
    exec(&mut c, INSURER_1_WITH_E01);
    exec(
        &mut c,
        "INSERT INTO members (id, insurer_id, employer_id, symbol, number, dependent_seq, member_key, created_at, updated_at) \
         VALUES (1, 1, 1, '100', '1', '', 'k1', '2025-03-01 00:00:00', '2025-03-01 00:00:00'), \
                (2, 1, 1, '100', '2', '', 'k2', '2025-03-01 00:00:00', '2025-03-01 00:00:00');
         INSERT INTO notices (id, insurer_id, notice_id, kind, employer_id, member_id, event_date, received_on, \
             my_number_status, content_hash, submission_deadline, registration_deadline, registration_rule, \
             created_at, updated_at, line) \
         VALUES (7, 1, 'L-1', 'loss', 1, 1, '2025-03-01', '2025-03-03', 'missing', 1, '2025-03-06', '2025-03-17', \
                 'standard', '2025-03-03 00:00:00', '2025-03-03 00:00:00', 2), \
                (9, 1, 'A-1', 'acquisition', 1, 2, '2025-03-01', '2025-03-03', 'valid', 2, '2025-03-06', '2025-03-10', \
                 'five_day', '2025-03-03 00:00:00', '2025-03-03 00:00:00', 3);",
    );
    let letters_before: i64 = {
        exec(
            &mut c,
            "INSERT INTO letters (insurer_id, notice_id, kind, variant, template_version, format, letter_date, \
                 run_id, created_by_label, created_at) \
             VALUES (1, 7, 'registration_period', 'standard', '1', 'pdf', '2025-03-04', 'r1', 'test', \
                 '2025-03-04 00:00:00')",
        );
        regwatch::store::schema::letters::table
            .count()
            .get_result(&mut c)
            .unwrap()
    };

    // The rest of the migrations, and the recompute that follows the loss-rule migration.
    let applied = store::migrate(&mut c).unwrap();
    assert!(applied.iter().any(|m| m == "20261202000009"), "{applied:?}");
    let q =
        "SELECT id, notice_id, registration_rule, registration_deadline FROM notices ORDER BY id";
    let rows: Vec<Row> = match &mut c {
        DbConn::Sqlite(s) => diesel::sql_query(q).load(s).unwrap(),
        DbConn::Pg(p) => diesel::sql_query(q).load(p).unwrap(),
    };
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    assert_eq!(
        rows,
        vec![
            Row {
                id: 7,
                notice_id: "L-1".into(),
                registration_rule: "loss".into(),
                registration_deadline: d(2025, 3, 5),
            },
            Row {
                id: 9,
                notice_id: "A-1".into(),
                registration_rule: "five_day".into(),
                registration_deadline: d(2025, 3, 10),
            },
        ]
    );
    // The letter still points at its notice, and new rows can reference the table.
    let letters_after: i64 = regwatch::store::schema::letters::table
        .inner_join(regwatch::store::schema::notices::table)
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(letters_after, letters_before);
    if let DbConn::Sqlite(s) = &mut c {
        #[derive(QueryableByName)]
        struct Fk {
            #[diesel(sql_type = diesel::sql_types::Text)]
            table: String,
        }
        let violations: Vec<Fk> = diesel::sql_query("PRAGMA foreign_key_check")
            .load(s)
            .unwrap();
        assert!(
            violations.is_empty(),
            "foreign keys broken in {:?}",
            violations.iter().map(|v| &v.table).collect::<Vec<_>>()
        );
        let on: Vec<FkOn> = diesel::sql_query("PRAGMA foreign_keys").load(s).unwrap();
        assert_eq!(on[0].foreign_keys, 1, "foreign keys are on again");
    }
    // The new CHECK takes 'loss' and still refuses nonsense.
    let bad = match &mut c {
        DbConn::Sqlite(s) => {
            diesel::sql_query("UPDATE notices SET registration_rule = 'other' WHERE id = 9")
                .execute(s)
        }
        DbConn::Pg(p) => {
            diesel::sql_query("UPDATE notices SET registration_rule = 'other' WHERE id = 9")
                .execute(p)
        }
    };
    assert!(bad.is_err());
}

#[derive(QueryableByName)]
struct FkOn {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    foreign_keys: i32,
}

/// SPEC §5 (issue 15): a new insurer's automatic reminders start switched off. Insurers that existed
/// before without a mail_settings row were sending under the old default: the migration keeps them
/// on; a row already there is kept as it is; an insurer created afterwards is off.
#[test]
fn the_mail_off_migration_keeps_existing_insurers_sending_and_new_ones_start_off() {
    use regwatch::store::mail_settings;
    let (_db, mut c) = database_up_to("2026-12-02-000010");
    exec(
        &mut c,
        "INSERT INTO insurers (id, number, name, kind, rules_toml, created_at, updated_at, data_version) \
         VALUES (101, '06123456', '送信中の健保', 'kenpo', '', '2025-03-01 00:00:00', '2025-03-01 00:00:00', 1), \
                (102, '06123457', '停止中の健保', 'kenpo', '', '2025-03-01 00:00:00', '2025-03-01 00:00:00', 1);
         INSERT INTO mail_settings (insurer_id, reminders_enabled, digest_weekday, updated_by_label, updated_at) \
         VALUES (102, false, 3, 'admin@example.jp', '2025-03-02 00:00:00');",
    );
    let applied = store::migrate(&mut c).unwrap();
    assert!(applied.iter().any(|m| m == "20261202000011"), "{applied:?}");
    let one = mail_settings::get(&mut c, regwatch::store::insurers::InsurerId(101)).unwrap();
    assert!(one.prefs.reminders_enabled, "kept on: {one:?}");
    let two = mail_settings::get(&mut c, regwatch::store::insurers::InsurerId(102)).unwrap();
    assert!(!two.prefs.reminders_enabled);
    assert_eq!(two.prefs.digest_weekday, 3);
    assert_eq!(two.updated_by.as_deref(), Some("admin@example.jp"));
    let new = common::add_insurer(&mut c, "06123458", regwatch::domain::InsurerKind::Kenpo);
    let stored = mail_settings::get(&mut c, new.id).unwrap();
    assert!(!stored.prefs.reminders_enabled);
    assert_eq!(stored.updated_by, None);
}

#[test]
fn the_user_admin_migration_keeps_existing_users_active_with_no_display_name() {
    use regwatch::store::{sessions, users};
    let db = TestDb::new();
    let url = store::DatabaseUrl::parse(&db.url).unwrap();
    let mut c = store::establish(&url).unwrap();
    migrate_up_to(&mut c, "2026-12-02-000014");
    let hash = users::hash_password(&secrecy::SecretString::from("long-enough-password")).unwrap();
    exec(
        &mut c,
        &format!(
            "INSERT INTO insurers (id, number, name, kind, rules_toml, created_at, updated_at, data_version) \
             VALUES (101, '06123456', '既存の健保', 'kenpo', '', '2025-03-01 00:00:00', '2025-03-01 00:00:00', 1);
             INSERT INTO users (id, insurer_id, email, role, password_hash, created_at, updated_at) \
             VALUES (7, 101, 'old@example.jp', 'admin', '{hash}', '2025-03-01 00:00:00', '2025-03-01 00:00:00');
             INSERT INTO audit_log (insurer_id, user_id, actor, action, created_at) \
             VALUES (101, 7, 'old@example.jp', 'login', '2025-03-02 00:00:00');"
        ),
    );
    let applied = store::migrate(&mut c).unwrap();
    assert!(applied.iter().any(|m| m == "20261202000016"), "{applied:?}");
    let insurer = regwatch::store::insurers::InsurerId(101);
    let user = users::get(&mut c, insurer, users::UserId(7))
        .unwrap()
        .unwrap();
    assert_eq!(user.display_name, "");
    assert_eq!(user.deactivated_at, None);
    assert!(!user.must_change_password);
    let session = sessions::login(
        &mut c,
        "old@example.jp",
        "127.0.0.1",
        &secrecy::SecretString::from("long-enough-password"),
        1,
    )
    .unwrap();
    assert!(!session.must_change_password);
    assert_eq!(session.shown_name(), "old@example.jp");
    let q = regwatch::reports::audit::AuditQuery {
        user: Some(users::UserId(7)),
        ..Default::default()
    };
    let (lines, total) = regwatch::reports::audit::page(&mut c, insurer, &q, 1, 10).unwrap();
    assert_eq!((total, lines[0].action_label.as_str()), (1, "ログイン"));
}

/// Issue 18: members stored before the case-list search get their folded 氏名 and カナ, so that
/// `q=` finds them as it finds members loaded afterwards.
#[test]
fn the_case_search_migration_folds_the_names_of_members_already_stored() {
    use regwatch::store::notices::{self, NoticeFilter};
    let (_db, mut c) = database_up_to("2026-12-02-000013");
    exec(&mut c, INSURER_1_WITH_E01);
    exec(
        &mut c,
        "INSERT INTO members (id, insurer_id, employer_id, symbol, number, dependent_seq, member_key, name, name_kana, \
             created_at, updated_at) \
         VALUES (1, 1, 1, '100', '1', '', 'k1', '山田　太郎', 'ﾔﾏﾀﾞ ﾀﾛｳ', '2025-03-01 00:00:00', '2025-03-01 00:00:00'), \
                (2, 1, 1, '100', '2', '', 'k2', NULL, NULL, '2025-03-01 00:00:00', '2025-03-01 00:00:00');
         INSERT INTO notices (id, insurer_id, notice_id, kind, employer_id, member_id, event_date, received_on, \
             my_number_status, content_hash, submission_deadline, registration_deadline, registration_rule, \
             created_at, updated_at, line) \
         VALUES (7, 1, 'A-1', 'acquisition', 1, 1, '2025-03-01', '2025-03-03', 'valid', 1, '2025-03-06', '2025-03-10', \
                 'five_day', '2025-03-03 00:00:00', '2025-03-03 00:00:00', 2);",
    );
    let applied = store::migrate(&mut c).unwrap();
    assert!(applied.iter().any(|m| m == "20261202000015"), "{applied:?}");
    use regwatch::store::schema::members;
    let folded: Vec<(Option<String>, Option<String>)> = members::table
        .order(members::id)
        .select((members::search_name, members::search_kana))
        .load(&mut c)
        .unwrap();
    assert_eq!(
        folded,
        vec![
            (Some("山田太郎".into()), Some("ヤマダタロウ".into())),
            (None, None)
        ]
    );
    let insurer = regwatch::store::insurers::InsurerId(1);
    let rules = regwatch::domain::RuleSettings::default();
    for q in ["山田", "やまだ たろう", "100 1"] {
        let mut f = NoticeFilter::new(NaiveDate::from_ymd_opt(2025, 3, 31).unwrap());
        f.search = Some(notices::search(&mut c, insurer, q).unwrap());
        assert_eq!(
            notices::count(&mut c, insurer, &rules, &f).unwrap(),
            1,
            "{q}"
        );
    }
}

#[derive(QueryableByName, Debug, PartialEq, PartialOrd, Eq, Ord)]
struct Reference {
    #[diesel(sql_type = diesel::sql_types::Text)]
    child: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    parent: String,
}

/// The foreign keys of the tables an import fills and of one table that references notices, as
/// (child table, parent table).
fn references(c: &mut DbConn) -> Vec<Reference> {
    let tables = "'notices', 'members', 'registration_results', 'letters'";
    let mut found: Vec<Reference> = match c {
        DbConn::Sqlite(s) => diesel::sql_query(format!(
            "SELECT m.name AS child, f.\"table\" AS parent FROM sqlite_master m \
             JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND m.name IN ({tables})"
        ))
        .load(s)
        .unwrap(),
        DbConn::Pg(p) => diesel::sql_query(format!(
            "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent \
             FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text IN ({tables})"
        ))
        .load(p)
        .unwrap(),
    };
    found.sort();
    found
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    parent: i64,
}

fn stored(c: &mut DbConn, q: &str) -> Vec<Stored> {
    match c {
        DbConn::Sqlite(s) => diesel::sql_query(q).load(s).unwrap(),
        DbConn::Pg(p) => diesel::sql_query(q).load(p).unwrap(),
    }
}

/// Issue 20: the bulk-load migration takes the per-row foreign keys off notices, members and
/// registration_results (SQLite rebuilds the three tables) on a database that holds data: every row
/// keeps its id and values, the indexes are back, the letters still reference their notices, and
/// the next import merges into the rebuilt tables.
#[test]
fn the_bulk_load_migration_keeps_every_row_and_index_and_the_references_to_notices() {
    let (_db, mut c) = database_up_to("2026-12-03-000021");
    exec(&mut c, INSURER_1_WITH_E01);
    exec(
        &mut c,
        "INSERT INTO import_batches (id, insurer_id, file_kind, file_name, sha256, status, created_by_label, created_at) \
         VALUES (3, 1, 'notices', 'n.csv', '', 'completed', 'test', '2025-03-03 00:00:00');
         INSERT INTO members (id, insurer_id, employer_id, symbol, number, dependent_seq, member_key, name, \
             search_name, created_at, updated_at) \
         VALUES (5, 1, 1, '100', '1', '', '100\u{1f}1\u{1f}', '山田 太郎', '山田太郎', '2025-03-01 00:00:00', '2025-03-01 00:00:00');
         INSERT INTO notices (id, insurer_id, notice_id, kind, employer_id, member_id, event_date, received_on, \
             my_number_status, content_hash, registered_at, registered_on, submission_deadline, registration_deadline, \
             registration_rule, batch_id, created_at, updated_at, line) \
         VALUES (7, 1, 'A-1', 'acquisition', 1, 5, '2025-03-01', '2025-03-03', 'valid', 1, '2025-03-05 01:00:00', \
                 '2025-03-05', '2025-03-06', '2025-03-10', 'five_day', 3, '2025-03-03 00:00:00', '2025-03-03 00:00:00', 2);
         INSERT INTO registration_results (id, insurer_id, notice_id, result, registered_at, batch_id, line, created_at) \
         VALUES (11, 1, 'A-1', 'ok', '2025-03-05 01:00:00', 3, 2, '2025-03-05 02:00:00');
         INSERT INTO letters (insurer_id, notice_id, kind, variant, template_version, format, letter_date, \
             run_id, created_by_label, created_at) \
         VALUES (1, 7, 'registration_period', 'standard', '1', 'pdf', '2025-03-04', 'r1', 'test', '2025-03-04 00:00:00');",
    );
    let before = references(&mut c);
    assert!(
        before
            .iter()
            .any(|r| r.child == "notices" && r.parent == "members"),
        "{before:?}"
    );

    let applied = store::migrate(&mut c).unwrap();
    assert!(applied.iter().any(|m| m == "20261203000022"), "{applied:?}");

    // The three tables reference nothing any more; letters still reference notices.
    let after = references(&mut c);
    assert!(after.iter().all(|r| r.child == "letters"), "{after:?}");
    assert!(
        after
            .iter()
            .any(|r| r.child == "letters" && r.parent == "notices"),
        "{after:?}"
    );
    assert_eq!(
        stored(
            &mut c,
            "SELECT id, notice_id || '/' || registration_deadline || '/' || registered_on AS key, member_id AS parent FROM notices"
        ),
        vec![Stored {
            id: 7,
            key: "A-1/2025-03-10/2025-03-05".into(),
            parent: 5
        }]
    );
    assert_eq!(
        stored(
            &mut c,
            "SELECT id, member_key || '/' || search_name AS key, employer_id AS parent FROM members"
        ),
        vec![Stored {
            id: 5,
            key: "100\u{1f}1\u{1f}/山田太郎".into(),
            parent: 1
        }]
    );
    assert_eq!(
        stored(
            &mut c,
            "SELECT id, notice_id || '/' || result AS key, batch_id AS parent FROM registration_results"
        ),
        vec![Stored {
            id: 11,
            key: "A-1/ok".into(),
            parent: 3
        }]
    );
    // The indexes of the three tables are all there again.
    let q = match c {
        DbConn::Sqlite(_) => {
            "SELECT 0 AS id, name AS key, 0 AS parent FROM sqlite_master \
             WHERE type = 'index' AND tbl_name IN ('notices', 'members', 'registration_results') \
             AND sql IS NOT NULL ORDER BY name"
        }
        DbConn::Pg(_) => {
            "SELECT 0::bigint AS id, indexname::text AS key, 0::bigint AS parent FROM pg_indexes \
             WHERE tablename IN ('notices', 'members', 'registration_results') \
             AND indexname NOT LIKE '%pkey' AND indexname NOT LIKE '%_key' ORDER BY indexname"
        }
    };
    let names: Vec<String> = stored(&mut c, q).into_iter().map(|s| s.key).collect();
    assert_eq!(
        names,
        [
            "members_number",
            "members_search_kana",
            "members_search_name",
            "notices_deadline_status",
            "notices_employer_received",
            "notices_event",
            "notices_member",
            "notices_open_registration",
            "notices_received_status",
            "notices_submission_days",
            "registration_results_notice",
        ]
    );
    // A letter still needs a notice that exists.
    let dangling = "INSERT INTO letters (insurer_id, notice_id, kind, variant, template_version, format, \
         letter_date, run_id, created_by_label, created_at) \
         VALUES (1, 999, 'registration_period', 'standard', '1', 'pdf', '2025-03-04', 'r2', 'test', '2025-03-04 00:00:00')";
    let refused = match &mut c {
        DbConn::Sqlite(s) => diesel::sql_query(dangling).execute(s),
        DbConn::Pg(p) => diesel::sql_query(dangling).execute(p),
    };
    assert!(refused.is_err(), "a letter of a notice that does not exist");
    if let DbConn::Sqlite(s) = &mut c {
        let on: Vec<FkOn> = diesel::sql_query("PRAGMA foreign_keys").load(s).unwrap();
        assert_eq!(on[0].foreign_keys, 1, "foreign keys are on again");
    }

    // The next import merges into the rebuilt tables: a new notice of the stored member is added
    // with that member's id.
    let number = regwatch::domain::types::InsurerNumber::parse("06123456").unwrap();
    let insurer = store::insurers::find_by_number(&mut c, &number).unwrap();
    let csv = "受付番号,届書種別,事業所記号,事業所名称,被保険者記号,被保険者番号,枝番,氏名,事実発生日,受付日,個人番号,遅延理由\n\
               B-1,被扶養者,E01,株式会社テスト,100,1,,山田 太郎,2025-03-10,2025-03-11,,\n";
    let s = store::import::import_notices(
        &mut c,
        &insurer,
        csv.as_bytes(),
        "n2.csv",
        &common::test_actor(),
        NaiveDate::from_ymd_opt(2025, 3, 31).unwrap(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((s.new, s.changed, s.rejected), (1, 0, 0), "{s:?}");
    assert_eq!(
        stored(
            &mut c,
            "SELECT CAST(0 AS BIGINT) AS id, notice_id AS key, member_id AS parent FROM notices ORDER BY notice_id"
        ),
        vec![
            Stored {
                id: 0,
                key: "A-1".into(),
                parent: 5
            },
            Stored {
                id: 0,
                key: "B-1".into(),
                parent: 5
            },
        ]
    );
}
