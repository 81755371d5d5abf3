//! diesel storage for both backends: connection enum, pool, migrations, queries.
pub mod audit;
pub mod batches;
pub mod employers;
pub mod error_causes;
pub mod import;
pub mod insurers;
pub mod letters;
pub mod mail_settings;
pub mod notices;
pub mod outbox;
pub mod profiles;
pub mod rollups;
pub mod schema;
pub mod secrets;
pub mod sessions;
pub mod staffing;
pub mod survey;
pub mod users;
pub mod workflow;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection type over both backends. PostgreSQL is listed first because SQLite accepts any
/// string as a path; we construct the variant ourselves from the parsed URL anyway.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = Pool<ConnectionManager<DbConn>>;
pub type PooledConn = PooledConnection<ConnectionManager<DbConn>>;

/// Where the data lives, parsed from `--database-url` / `REGWATCH_DATABASE_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// `postgres://…` or `postgresql://…` selects PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a
    /// bare path selects SQLite (`sqlite://regwatch.db` is a file in the working directory,
    /// `sqlite:///var/lib/regwatch.db` an absolute path).
    pub fn parse(s: &str) -> Result<DatabaseUrl, StoreError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(StoreError::BadUrl("空のデータベースURLです".into()));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(s.to_string()));
        }
        let path = if let Some(rest) = s.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = s.strip_prefix("sqlite:") {
            rest
        } else if s.contains("://") {
            return Err(StoreError::BadUrl(format!(
                "対応していないデータベースURLです（sqlite:// または postgres://）: {}",
                redact_url(s)
            )));
        } else {
            s
        };
        if path.is_empty() {
            return Err(StoreError::BadUrl("SQLite のファイル名がありません".into()));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => f.write_str(&redact_url(u)),
        }
    }
}

/// Hides a password in a URL so it can be logged.
pub fn redact_url(s: &str) -> String {
    match url::Url::parse(s) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => s.to_string(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    BadUrl(String),
    #[error("SQLite データベースを開けません（{path}）: {reason}")]
    SqliteOpen { path: String, reason: String },
    #[error("PostgreSQL に接続できません（{url}）: {reason}")]
    PgConnect { url: String, reason: String },
    #[error("データベースのマイグレーションに失敗しました: {0}")]
    Migration(String),
    #[error("データベース接続プールを作れません: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("データベースエラー: {0}")]
    Query(#[from] diesel::result::Error),
}

/// Applies the pragmas every SQLite connection needs: WAL so readers never block the writer, a busy
/// timeout so concurrent writers wait instead of failing with "database is locked", and foreign keys;
/// and reads through a memory map of the file (up to 4 GiB), so a connection whose page cache an
/// import just invalidated reads the operating system's cached pages without a system call per page
/// (the first page after an import at 1,000,000 notices: issue 19).
#[derive(Debug, Clone, Copy)]
struct SqlitePragmas {
    busy_timeout_ms: u32,
}

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Sqlite(c) = conn {
            c.batch_execute(&format!(
                "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA mmap_size = 4294967296;",
                self.busy_timeout_ms
            ))
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// PostgreSQL sessions of the pool: the server checks every few seconds that the client is still
/// there while a statement runs, so a killed instance or import does not leave its statement
/// running (and holding locks) until it next writes to the socket.
#[derive(Debug, Clone, Copy)]
struct PgSession;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for PgSession {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Pg(c) = conn {
            c.batch_execute(PG_SESSION_SETTINGS)
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// See [`PgSession`]; also applied to the CLI's own connections.
pub const PG_SESSION_SETTINGS: &str = "SET client_connection_check_interval = '2s'";

/// How long a request waits for a pooled connection before it is answered 503: a database that
/// is down must fail requests quickly, not hold them for half a minute.
pub const POOL_WAIT: Duration = Duration::from_secs(4);

/// Seconds libpq waits for the server to answer a connection attempt (added to a PostgreSQL URL
/// that does not set `connect_timeout` itself).
const PG_CONNECT_TIMEOUT_S: u32 = 3;

/// The URL with `connect_timeout` set unless it already is.
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout={PG_CONNECT_TIMEOUT_S}")
}

/// Opens one connection with a clear error (the pool would only say "timed out").
pub fn establish(url: &DatabaseUrl) -> Result<DbConn, StoreError> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            check_sqlite_path(path)?;
            let s = path.to_string_lossy();
            let mut c = SqliteConnection::establish(&s).map_err(|e| StoreError::SqliteOpen {
                path: s.to_string(),
                reason: e.to_string(),
            })?;
            // Opening is lazy in SQLite: touch the file so an unwritable path fails here.
            c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
                .map_err(|e| StoreError::SqliteOpen {
                    path: s.to_string(),
                    reason: e.to_string(),
                })?;
            Ok(DbConn::Sqlite(c))
        }
        DatabaseUrl::Postgres(u) => PgConnection::establish(&with_connect_timeout(u))
            .and_then(|mut c| {
                c.batch_execute(PG_SESSION_SETTINGS)
                    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
                Ok(c)
            })
            .map(DbConn::Pg)
            .map_err(|e| StoreError::PgConnect {
                url: redact_url(u),
                reason: e.to_string().trim().replace('\n', " "),
            }),
    }
}

fn check_sqlite_path(path: &Path) -> Result<(), StoreError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let err = |reason: String| StoreError::SqliteOpen {
        path: path.display().to_string(),
        reason,
    };
    if !dir.is_dir() {
        return Err(err(format!("ディレクトリ {} がありません", dir.display())));
    }
    if path.is_dir() {
        return Err(err("ディレクトリが指定されています".into()));
    }
    // SQLite needs to create the -wal and -shm files beside the database.
    let probe = dir.join(format!(".regwatch-write-test-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(err(format!(
            "ディレクトリ {} に書き込めません（{e}）",
            dir.display()
        ))),
    }
}

/// Runs the embedded migrations of the right backend. Returns the versions applied now.
pub fn migrate(conn: &mut DbConn) -> Result<Vec<String>, StoreError> {
    let applied = match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.to_string()).collect()),
        DbConn::Pg(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.to_string()).collect()),
    };
    let applied: Vec<String> = applied.map_err(|e| StoreError::Migration(e.to_string()))?;
    if applied
        .iter()
        .any(|m| m.replace('-', "").starts_with(LOSS_RULE_MIGRATION))
    {
        recompute_loss_rules(conn)?;
    }
    if applied
        .iter()
        .any(|m| m.replace('-', "").starts_with(CASE_SEARCH_MIGRATION))
    {
        fill_member_search(conn)?;
    }
    Ok(applied)
}

/// The migration that gave members their folded name and kana for the case list's search.
const CASE_SEARCH_MIGRATION: &str = "20261202000015";

/// Members stored before [`CASE_SEARCH_MIGRATION`] get their folded name and kana (the import
/// writes them for every member since), a chunk of ids per transaction.
fn fill_member_search(conn: &mut DbConn) -> Result<(), StoreError> {
    use crate::domain::search::fold;
    use schema::members;
    const CHUNK: i64 = 5_000;
    let mut after = 0i64;
    let mut filled = 0usize;
    loop {
        let rows: Vec<(i64, Option<String>, Option<String>)> = members::table
            .filter(members::id.gt(after))
            .order(members::id.asc())
            .limit(CHUNK)
            .select((members::id, members::name, members::name_kana))
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        write_tx(conn, |c| {
            for (id, name, kana) in &rows {
                let folded = (
                    name.as_deref().and_then(fold),
                    kana.as_deref().and_then(fold),
                );
                if folded.0.is_none() && folded.1.is_none() {
                    continue;
                }
                diesel::update(members::table.filter(members::id.eq(id)))
                    .set((
                        members::search_name.eq(folded.0),
                        members::search_kana.eq(folded.1),
                    ))
                    .execute(c)?;
                filled += 1;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
    }
    if filled > 0 {
        tracing::info!(
            members = filled,
            "member names folded for the case list search"
        );
    }
    Ok(())
}

/// The migration that gave every 資格喪失届 the rule `loss` (SPEC §2.3), as diesel reports its
/// version (the digits of the directory name's date and number).
const LOSS_RULE_MIGRATION: &str = "20261202000009";

/// Loss notices stored before the `loss` rule existed carry the rule (and the deadline) their My
/// Number gave them: recompute the deadlines of their insurers with the insurers' own settings.
fn recompute_loss_rules(conn: &mut DbConn) -> Result<(), StoreError> {
    use schema::notices;
    let ids: Vec<i64> = notices::table
        .filter(notices::kind.eq("loss"))
        .filter(notices::registration_rule.ne("loss"))
        .select(notices::insurer_id)
        .distinct()
        .load(conn)?;
    for id in ids {
        let insurer = insurers::get(conn, insurers::InsurerId(id))
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        let changed = import::recompute_deadlines(conn, &insurer, &insurer.rules)?;
        tracing::info!(insurer = %insurer.number, changed, "loss notices moved to the loss rule");
    }
    Ok(())
}

/// SQL that differs between the two engines.
pub(crate) struct Dialect {
    pub pg: bool,
}

impl Dialect {
    pub fn of(conn: &DbConn) -> Dialect {
        Dialect {
            pg: matches!(conn, DbConn::Pg(_)),
        }
    }

    /// The Japan date of a UTC timestamp expression (SPEC §2.1).
    pub fn jst_date(&self, ts: &str) -> String {
        if self.pg {
            format!("CAST(({ts}) + INTERVAL '9 hours' AS DATE)")
        } else {
            format!("date({ts}, '+9 hours')")
        }
    }

    /// A date as an SQL literal (our own value, never user text).
    pub fn date(&self, d: chrono::NaiveDate) -> String {
        if self.pg {
            format!("DATE '{d}'")
        } else {
            format!("'{d}'")
        }
    }

    /// Days from date expression `from` to date expression `to` (`to - from`).
    pub fn days_between(&self, from: &str, to: &str) -> String {
        if self.pg {
            format!("(({to}) - ({from}))")
        } else {
            format!("CAST(julianday({to}) - julianday({from}) AS INTEGER)")
        }
    }
}

/// Opens (creating if needed), migrates and pools the database.
pub fn connect(url: &DatabaseUrl, pool_size: u32) -> Result<DbPool, StoreError> {
    let mut first = establish(url)?;
    migrate(&mut first)?;
    drop(first);
    let conn_str = match url {
        DatabaseUrl::Sqlite(p) => p.to_string_lossy().to_string(),
        DatabaseUrl::Postgres(u) => with_connect_timeout(u),
    };
    let manager = ConnectionManager::<DbConn>::new(conn_str);
    let builder = Pool::builder()
        .max_size(pool_size.max(1))
        .min_idle(Some(1))
        .connection_timeout(POOL_WAIT);
    let pool = match url {
        DatabaseUrl::Sqlite(_) => builder
            .connection_customizer(Box::new(SqlitePragmas {
                busy_timeout_ms: 30_000,
            }))
            .build(manager)?,
        DatabaseUrl::Postgres(_) => builder
            .connection_customizer(Box::new(PgSession))
            .build(manager)?,
    };
    Ok(pool)
}

/// Runs `f` in a write transaction. On SQLite the transaction is `BEGIN IMMEDIATE`, so the write
/// lock is taken up front and a concurrent writer waits on the busy timeout instead of failing
/// with "database is locked" when a read transaction tries to upgrade.
pub fn write_tx<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Pg(_) => conn.transaction(f),
        DbConn::Sqlite(_) => {
            conn.batch_execute("BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(v) => match conn.batch_execute("COMMIT") {
                    Ok(()) => Ok(v),
                    Err(e) => {
                        rollback_quietly(conn);
                        Err(e.into())
                    }
                },
                Err(e) => {
                    rollback_quietly(conn);
                    Err(e)
                }
            }
        }
    }
}

/// One row per key without `ON CONFLICT` (which the backends spell apart): runs `update`, and
/// `insert` only when the update touched no row. Call it inside a write transaction so no other
/// writer can insert the same key in between.
pub fn update_or_insert(
    conn: &mut DbConn,
    update: impl FnOnce(&mut DbConn) -> diesel::QueryResult<usize>,
    insert: impl FnOnce(&mut DbConn) -> diesel::QueryResult<usize>,
) -> diesel::QueryResult<()> {
    if update(conn)? == 0 {
        insert(conn)?;
    }
    Ok(())
}

fn rollback_quietly(conn: &mut DbConn) {
    if let Err(e) = conn.batch_execute("ROLLBACK") {
        tracing::error!(error = %e, "rollback failed");
    }
}

/// Cheap readiness probe.
pub fn ping(conn: &mut DbConn) -> Result<(), diesel::result::Error> {
    diesel::sql_query("SELECT 1").execute(conn).map(|_| ())
}

pub fn now_utc() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}
