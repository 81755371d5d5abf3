//! migrations/sqlite and migrations/postgres must describe the same schema: same tables, same
//! columns, same nullability. Both are applied to real databases and introspected.
mod common;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use std::collections::BTreeMap;

/// table → column → nullable
type Shape = BTreeMap<String, BTreeMap<String, bool>>;

#[derive(QueryableByName)]
struct Col {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Integer)]
    nullable: i32,
}

fn sqlite_shape() -> Shape {
    let dir = tempfile::tempdir().unwrap();
    let url =
        regwatch::store::DatabaseUrl::parse(&format!("sqlite://{}/d.db", dir.path().display()))
            .unwrap();
    let mut conn = regwatch::store::establish(&url).unwrap();
    regwatch::store::migrate(&mut conn).unwrap();
    // A PRIMARY KEY column is NOT NULL in PostgreSQL; SQLite reports INTEGER PRIMARY KEY as
    // nullable in table_info unless declared NOT NULL, so treat pk columns as not null.
    let cols: Vec<Col> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, \
         CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 0 ELSE 1 END AS nullable \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .unwrap();
    to_shape(cols)
}

fn postgres_shape(admin: &str) -> Shape {
    let name = format!("regwatch_drift_{}", std::process::id());
    let mut admin_conn = PgConnection::establish(admin).unwrap();
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut admin_conn)
        .unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin_conn)
        .unwrap();
    let mut u = url::Url::parse(admin).unwrap();
    u.set_path(&name);
    let shape = {
        let url = regwatch::store::DatabaseUrl::parse(u.as_str()).unwrap();
        let mut conn = regwatch::store::establish(&url).unwrap();
        regwatch::store::migrate(&mut conn).unwrap();
        let cols: Vec<Col> = diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             CASE WHEN is_nullable = 'YES' THEN 1 ELSE 0 END AS nullable \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name <> '__diesel_schema_migrations'",
        )
        .load(&mut conn)
        .unwrap();
        to_shape(cols)
    };
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin_conn)
        .unwrap();
    shape
}

fn to_shape(cols: Vec<Col>) -> Shape {
    let mut s = Shape::new();
    for c in cols {
        s.entry(c.table_name)
            .or_default()
            .insert(c.column_name, c.nullable == 1);
    }
    s
}

/// Lists every difference in words, so a failure says exactly what drifted.
fn differences(sqlite: &Shape, pg: &Shape) -> Vec<String> {
    let mut out = Vec::new();
    for (t, cols) in sqlite {
        match pg.get(t) {
            None => out.push(format!("table {t}: only in sqlite")),
            Some(pcols) => {
                for (c, n) in cols {
                    match pcols.get(c) {
                        None => out.push(format!("{t}.{c}: only in sqlite")),
                        Some(pn) if pn != n => {
                            out.push(format!("{t}.{c}: nullable sqlite={n} postgres={pn}"))
                        }
                        _ => {}
                    }
                }
                for c in pcols.keys().filter(|c| !cols.contains_key(*c)) {
                    out.push(format!("{t}.{c}: only in postgres"));
                }
            }
        }
    }
    for t in pg.keys().filter(|t| !sqlite.contains_key(*t)) {
        out.push(format!("table {t}: only in postgres"));
    }
    out
}

#[test]
fn sqlite_and_postgres_migrations_define_the_same_schema() {
    let sqlite = sqlite_shape();
    assert!(sqlite.contains_key("notices") && sqlite.contains_key("insurers"));
    // Nothing in the schema may hold a My Number: only its status (SPEC §6).
    for (t, cols) in &sqlite {
        for c in cols.keys() {
            assert!(
                c == "my_number_status" || !c.contains("my_number") && !c.contains("kojin"),
                "{t}.{c} looks like a My Number column"
            );
        }
    }
    let Some(admin) = common::postgres_admin_url() else {
        eprintln!(
            "schema drift vs PostgreSQL skipped: set REGWATCH_TEST_POSTGRES_URL (.ci/run does)"
        );
        return;
    };
    let pg = postgres_shape(&admin);
    let diff = differences(&sqlite, &pg);
    assert!(diff.is_empty(), "migrations drifted:\n{}", diff.join("\n"));
}

#[test]
fn differences_reports_a_column_missing_on_one_side() {
    let mut a = Shape::new();
    a.entry("notices".into())
        .or_default()
        .insert("id".into(), false);
    let mut b = a.clone();
    b.get_mut("notices").unwrap().insert("extra".into(), true);
    assert_eq!(
        differences(&a, &b),
        vec!["notices.extra: only in postgres".to_string()]
    );
    b.get_mut("notices").unwrap().insert("id".into(), true);
    assert_eq!(differences(&a, &b).len(), 2);
}
