//! `regwatch demo`: a 健保組合 and a 共済組合 with a year of generated notices up to today, and users
//! to sign in with, so the web app can be tried at once.
//!
//! Loading is idempotent: an insurer whose registration results are already loaded is reused as
//! it is, and the imports themselves add nothing when repeated. The demo users' passwords are set
//! to the demo password at every start (so the printed sign-ins always work).
use crate::domain::rules::{self, EX_OFFICIO_FROM};
use crate::domain::staffing::{week_start, StaffingPeriod};
use crate::domain::{
    Calendar, InsurerKind, InsurerNumber, MyNumberStatus, NoticeFacts, NoticeKind, RuleSettings,
    Status,
};
use crate::gen::{self, GenOptions};
use crate::store::import::{self, Actor, FileKind, ImportSummary};
use crate::store::insurers::{self, Insurer, InsurerError};
use crate::store::notices::{self as notice_store, NoticeFilter, RuleSel};
use crate::store::schema::{import_batches, notices as notices_table, users as users_table};
use crate::store::users::{self, Email, Role, UserError};
use crate::store::{self, audit, DbConn};
use anyhow::Context;
use chrono::{Datelike, Days, NaiveDate};
use diesel::prelude::*;
use secrecy::SecretString;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Password of every demo user unless `--password` is given.
pub const DEFAULT_PASSWORD: &str = "regwatch-demo";
/// SQLite file of the demo, in the working directory, unless `--database-url` is given.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://regwatch-demo.db";

/// One demo insurer and the size of its generated year.
#[derive(Clone, Copy, Debug)]
pub struct DemoInsurer {
    pub number: &'static str,
    pub name: &'static str,
    pub kind: InsurerKind,
    /// Prefix of its users' e-mail addresses (`kenpo` → kenpo-admin@example.jp).
    pub user_prefix: &'static str,
    pub notices: u64,
    pub seed: u64,
}

pub const INSURERS: [DemoInsurer; 2] = [
    DemoInsurer {
        number: "06139999",
        name: "デモ健康保険組合",
        kind: InsurerKind::Kenpo,
        user_prefix: "kenpo",
        notices: 4000,
        seed: 6139999,
    },
    DemoInsurer {
        number: "34139999",
        name: "デモ共済組合",
        kind: InsurerKind::Kyosai,
        user_prefix: "kyosai",
        notices: 2500,
        seed: 34139999,
    },
];

/// The roles every demo insurer gets a user for.
pub const ROLES: [Role; 3] = [Role::Admin, Role::Staff, Role::Viewer];

/// `kenpo-admin@example.jp` and so on.
pub fn user_email(insurer: &DemoInsurer, role: Role) -> String {
    format!("{}-{}@example.jp", insurer.user_prefix, role.code())
}

/// The case counts the demo promises as of its day (the dashboard's figures come from the same
/// store queries).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaseCounts {
    pub notices: i64,
    /// Registration not done, deadline more than `warn_days` away.
    pub open: i64,
    /// Registration not done, deadline within `warn_days`.
    pub at_risk: i64,
    /// Registration not done and its deadline has passed.
    pub open_breached: i64,
    /// Every notice that broke either rule (done late or not done).
    pub breached: i64,
    /// Notices that need a 資格確認書 issued ex officio.
    pub ex_officio: i64,
}

#[derive(Clone, Debug)]
pub struct LoadedInsurer {
    pub insurer: Insurer,
    /// True when the data was already there (nothing generated or imported).
    pub reused: bool,
    pub notices: Option<ImportSummary>,
    pub registrations: Option<ImportSummary>,
    pub counts: CaseCounts,
    /// Latest date of receipt in the data: the day the demo data was made for.
    pub data_until: Option<NaiveDate>,
}

/// Creates (or reuses) the demo insurers, their data up to `today` and their users.
pub fn load(
    conn: &mut DbConn,
    today: NaiveDate,
    password: &SecretString,
) -> anyhow::Result<Vec<LoadedInsurer>> {
    // Fail on a short password before anything is written.
    let hash = users::hash_password(password)?;
    let mut out = Vec::with_capacity(INSURERS.len());
    for demo in &INSURERS {
        out.push(load_insurer(conn, demo, today, &hash)?);
    }
    Ok(out)
}

fn load_insurer(
    conn: &mut DbConn,
    demo: &DemoInsurer,
    today: NaiveDate,
    password_hash: &str,
) -> anyhow::Result<LoadedInsurer> {
    let number = InsurerNumber::parse(demo.number).map_err(anyhow::Error::msg)?;
    let insurer = match insurers::find_by_number(conn, &number) {
        Ok(i) => i,
        Err(InsurerError::NotFound(_)) => {
            let rules = RuleSettings {
                warn_days: warn_days(today),
                ..RuleSettings::default()
            };
            let i = insurers::create(conn, &number, demo.name, demo.kind, &rules)?;
            audit::record(
                conn,
                &audit::AuditEntry {
                    insurer: Some(i.id),
                    user: None,
                    actor: "demo",
                    action: "insurer.add",
                    target: Some(demo.number),
                    detail: None,
                },
            )?;
            i
        }
        Err(e) => return Err(e.into()),
    };
    ensure_users(conn, demo, &insurer, password_hash)?;

    let reused = registrations_loaded(conn, &insurer)?;
    let (mut notices, mut registrations) = (None, None);
    if !reused {
        let dir = TempDir::new()?;
        prepare_files(dir.path(), demo, today, &insurer.rules)?;
        let actor = Actor {
            user: None,
            label: "demo".into(),
        };
        let n = import_file(conn, &insurer, &actor, FileKind::Notices, dir.path(), today)?;
        let r = import_file(
            conn,
            &insurer,
            &actor,
            FileKind::Registrations,
            dir.path(),
            today,
        )?;
        notices = Some(n);
        registrations = Some(r);
    }
    if crate::store::staffing::entries(conn, insurer.id)?.is_empty() {
        crate::store::staffing::replace_all(conn, insurer.id, &demo_staffing(demo, today), "demo")?;
    }
    // Imports bumped the data version: read the insurer again.
    let insurer = insurers::get(conn, insurer.id)?;
    let counts = case_counts(conn, &insurer, today)?;
    let data_until: Option<NaiveDate> = notices_table::table
        .filter(notices_table::insurer_id.eq(insurer.id.0))
        .select(diesel::dsl::max(notices_table::received_on))
        .first(conn)?;
    Ok(LoadedInsurer {
        insurer,
        reused,
        notices,
        registrations,
        counts,
        data_until,
    })
}

/// Staff handling 資格届 in the demo's year: a steady team each month, reinforced in the first two
/// ISO weeks of the latest April (checklist 2-②), so 要因分析 can set the April peak against staffing.
fn demo_staffing(demo: &DemoInsurer, today: NaiveDate) -> Vec<(StaffingPeriod, f64, String)> {
    let team = match demo.kind {
        InsurerKind::Kenpo => 3.0,
        InsurerKind::Kyosai => 2.0,
    };
    let first_of = |d: NaiveDate| d.with_day(1).expect("day 1 exists");
    let mut out = Vec::new();
    let mut month = first_of(today - Days::new(365));
    while month <= today {
        out.push((StaffingPeriod::Month(month), team, "資格届担当".to_string()));
        month = first_of(month + Days::new(32));
    }
    let april_year = if today.month() >= 4 {
        today.year()
    } else {
        today.year() - 1
    };
    let first_week = week_start(NaiveDate::from_ymd_opt(april_year, 4, 1).expect("April 1st"));
    for monday in [first_week, first_week + Days::new(7)] {
        out.push((
            StaffingPeriod::Week(monday),
            team + 2.0,
            "4月繁忙期の応援".to_string(),
        ));
    }
    out
}

/// `warn_days` of the demo insurers: the default 1, or more when today and tomorrow are both
/// administrative holidays. A deadline always falls on a business day, so with 1 a demo started
/// on a Saturday (or in the New Year break) could never show a case 「期限間近」.
pub fn warn_days(today: NaiveDate) -> u32 {
    let cal = Calendar::get();
    let first = cal.next_business_day_on_or_after(today);
    let default = RuleSettings::default().warn_days;
    u32::try_from((first - today).num_days())
        .unwrap_or(default)
        .max(default)
}

/// Adds the missing demo users and sets every demo user's password to the demo password.
fn ensure_users(
    conn: &mut DbConn,
    demo: &DemoInsurer,
    insurer: &Insurer,
    password_hash: &str,
) -> anyhow::Result<()> {
    // create() hashes the password itself; a placeholder that is replaced below keeps this to one
    // hash per start instead of one per user.
    let placeholder = SecretString::from("demo-placeholder-password".to_string());
    for role in ROLES {
        let email = Email::parse(&user_email(demo, role)).map_err(anyhow::Error::msg)?;
        match users::find_by_email(conn, &email)? {
            Some(u) if u.insurer_id != insurer.id.0 => anyhow::bail!(
                "デモ利用者 {} は別の保険者に登録されています",
                email.as_str()
            ),
            Some(_) => {}
            None => match users::create(conn, insurer.id, &email, role, &placeholder) {
                Ok(id) => {
                    audit::record(
                        conn,
                        &audit::AuditEntry {
                            insurer: Some(insurer.id),
                            user: Some(id),
                            actor: "demo",
                            action: "user.add",
                            target: Some(email.as_str()),
                            detail: Some(role.code()),
                        },
                    )?;
                }
                Err(UserError::Duplicate(_)) => {}
                Err(e) => return Err(e.into()),
            },
        }
        diesel::update(users_table::table.filter(users_table::email.eq(email.as_str())))
            .set((
                users_table::password_hash.eq(password_hash),
                users_table::failed_logins.eq(0),
                users_table::locked_until.eq(None::<chrono::NaiveDateTime>),
                users_table::updated_at.eq(store::now_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether a registrations file was completely loaded for the insurer (the last step of a load).
fn registrations_loaded(conn: &mut DbConn, insurer: &Insurer) -> anyhow::Result<bool> {
    let n: i64 = import_batches::table
        .filter(import_batches::insurer_id.eq(insurer.id.0))
        .filter(import_batches::file_kind.eq(FileKind::Registrations.code()))
        .filter(import_batches::status.eq("completed"))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

fn import_file(
    conn: &mut DbConn,
    insurer: &Insurer,
    actor: &Actor,
    kind: FileKind,
    dir: &Path,
    today: NaiveDate,
) -> anyhow::Result<ImportSummary> {
    let name = match kind {
        FileKind::Notices => "notices.csv",
        FileKind::Registrations => "registrations.csv",
    };
    let path = dir.join(name);
    let file = std::fs::File::open(&path)
        .with_context(|| format!("ファイル {} を開けません", path.display()))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let file_name = format!("demo-{}-{}", insurer.number, name);
    let mut progress = |_rows: u64| {};
    let summary = match kind {
        FileKind::Notices => import::import_notices(
            conn,
            insurer,
            reader,
            &file_name,
            actor,
            today,
            &mut progress,
        )?,
        FileKind::Registrations => {
            import::import_registrations(conn, insurer, reader, &file_name, actor, &mut progress)?
        }
    };
    if summary.rejected > 0 {
        let first = summary
            .rejects
            .first()
            .map(|r| format!("line {}: {}", r.line, r.reason))
            .unwrap_or_default();
        anyhow::bail!(
            "デモデータ {file_name} の {} 行が却下されました（{first}）",
            summary.rejected
        );
    }
    audit::record(
        conn,
        &audit::AuditEntry {
            insurer: Some(insurer.id),
            user: None,
            actor: "demo",
            action: match kind {
                FileKind::Notices => "import.notices",
                FileKind::Registrations => "import.registrations",
            },
            target: Some(&file_name),
            detail: Some(&format!("batch {}", summary.batch_id)),
        },
    )?;
    Ok(summary)
}

/// Counts of the cases the demo is meant to show, as of `as_of`.
pub fn case_counts(
    conn: &mut DbConn,
    insurer: &Insurer,
    as_of: NaiveDate,
) -> Result<CaseCounts, diesel::result::Error> {
    let rules = &insurer.rules;
    let mut count = |f: &NoticeFilter| notice_store::count(conn, insurer.id, rules, f);
    let all = NoticeFilter::new(as_of);
    let registration = |status: Status, pending: bool| {
        let mut f = NoticeFilter::new(as_of);
        f.rule = Some(RuleSel::Registration);
        f.status = Some(status);
        f.pending = pending;
        f
    };
    let mut breached = NoticeFilter::new(as_of);
    breached.status = Some(Status::Breached);
    let mut ex = NoticeFilter::new(as_of);
    ex.ex_officio = true;
    Ok(CaseCounts {
        notices: count(&all)?,
        open: count(&registration(Status::Open, true))?,
        at_risk: count(&registration(Status::AtRisk, true))?,
        open_breached: count(&registration(Status::Breached, true))?,
        breached: count(&breached)?,
        ex_officio: count(&ex)?,
    })
}

/// Generates the insurer's year into `dir` and makes sure that, as of `today`, some registrations
/// are still open, some at risk and some 資格確認書 due: when the generated year happens to have
/// none in a group (its registrations all came early), the registration results of some of the
/// notices in that group are left out, as if the insurer had not registered them yet.
fn prepare_files(
    dir: &Path,
    demo: &DemoInsurer,
    today: NaiveDate,
    settings: &RuleSettings,
) -> anyhow::Result<()> {
    let raw = dir.join("raw");
    gen::generate(
        &raw,
        &GenOptions {
            notices: demo.notices,
            seed: demo.seed,
            end: today,
        },
    )
    .with_context(|| format!("{} にデモデータを書き出せません", raw.display()))?;

    let cal = Calendar::get();
    let warn_until = today
        .checked_add_days(Days::new(u64::from(settings.warn_days)))
        .unwrap_or(today);

    // Notices: rename employers for a 共済組合 (職場・所属所), note what the rules need.
    struct Facts {
        id: String,
        kind: NoticeKind,
        received: NaiveDate,
        my_number: MyNumberStatus,
        deadline: NaiveDate,
    }
    let mut facts: Vec<Facts> = Vec::with_capacity(demo.notices as usize);
    {
        let mut rd = csv::Reader::from_path(raw.join("notices.csv"))?;
        let mut wr = csv::Writer::from_path(dir.join("notices.csv"))?;
        wr.write_record(rd.headers()?)?;
        let mut rec = csv::StringRecord::new();
        while rd.read_record(&mut rec)? {
            let field = |i: usize| rec.get(i).unwrap_or("");
            let kind = NoticeKind::parse(field(1))
                .with_context(|| format!("届書種別が読めません: {}", field(1)))?;
            let event: NaiveDate = field(9).parse().context("事実発生日")?;
            let received: NaiveDate = field(10).parse().context("受付日")?;
            let my_number = MyNumberStatus::classify(field(11));
            let nf = NoticeFacts {
                kind,
                event_date: event,
                received_on: received,
                my_number,
                registered_on: None,
            };
            facts.push(Facts {
                id: field(0).to_string(),
                kind,
                received,
                my_number,
                deadline: rules::deadlines(&nf, settings, cal).registration,
            });
            if demo.kind == InsurerKind::Kyosai {
                let name = kyosai_unit_name(field(2));
                let mut out: Vec<&str> = rec.iter().collect();
                out[3] = &name;
                wr.write_record(&out)?;
            } else {
                wr.write_record(&rec)?;
            }
        }
        wr.flush()?;
    }

    // Registrations: which notices have a success.
    let mut registered: HashSet<String> = HashSet::new();
    let mut reg_rows: Vec<csv::StringRecord> = Vec::new();
    let mut rd = csv::Reader::from_path(raw.join("registrations.csv"))?;
    let reg_headers = rd.headers()?.clone();
    for rec in rd.records() {
        let rec = rec?;
        if rec.get(2) == Some("正常") {
            registered.insert(rec.get(0).unwrap_or("").to_string());
        }
        reg_rows.push(rec);
    }

    let received_by_today = |f: &&Facts| f.received <= today;
    let at_risk = |f: &&Facts| f.deadline >= today && f.deadline <= warn_until;
    let open = |f: &&Facts| f.deadline > warn_until;
    let ex_officio = |f: &&Facts| {
        matches!(f.kind, NoticeKind::Acquisition | NoticeKind::Dependent)
            && f.received >= EX_OFFICIO_FROM
            && ((today - f.received).num_days() >= i64::from(settings.ex_officio_days)
                || f.my_number != MyNumberStatus::Valid)
    };
    let groups: [&dyn Fn(&&Facts) -> bool; 3] = [&at_risk, &open, &ex_officio];
    let mut drop: HashSet<&str> = HashSet::new();
    for group in groups {
        let members: Vec<&Facts> = facts
            .iter()
            .filter(received_by_today)
            .filter(|f| group(f))
            .collect();
        if members.iter().any(|f| !registered.contains(&f.id)) {
            continue;
        }
        // Every other one, newest first, at least one.
        for f in members.iter().rev().step_by(2) {
            drop.insert(f.id.as_str());
        }
    }
    let mut wr = csv::Writer::from_path(dir.join("registrations.csv"))?;
    wr.write_record(&reg_headers)?;
    for rec in &reg_rows {
        if !drop.contains(rec.get(0).unwrap_or("")) {
            wr.write_record(rec)?;
        }
    }
    wr.flush()?;
    Ok(())
}

/// A 共済組合's 所属所 name for a generated employer code (`1001`…).
fn kyosai_unit_name(code: &str) -> String {
    const PLACES: [&str; 8] = [
        "本庁", "北部", "南部", "東部", "西部", "中央", "港湾", "山間",
    ];
    const UNITS: [&str; 10] = [
        "総務課",
        "財政課",
        "教育委員会事務局",
        "土木事務所",
        "保健所",
        "消防本部",
        "水道局",
        "病院事務局",
        "税務事務所",
        "農林事務所",
    ];
    let i = code
        .trim()
        .parse::<usize>()
        .unwrap_or(1001)
        .saturating_sub(1001);
    format!(
        "デモ県{}{}",
        PLACES[i % PLACES.len()],
        UNITS[(i * 7 + i / PLACES.len()) % UNITS.len()]
    )
}

/// A directory under the system temp dir, removed when dropped (`tempfile` is a test-only crate).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<TempDir> {
        use std::time::{SystemTime, UNIX_EPOCH};
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p =
            std::env::temp_dir().join(format!("regwatch-demo-{}-{nanos:x}", std::process::id()));
        std::fs::create_dir_all(&p)
            .with_context(|| format!("一時ディレクトリ {} を作れません", p.display()))?;
        Ok(TempDir(p))
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The sign-ins to print: (insurer, e-mail, role) of every demo user.
pub fn sign_ins() -> Vec<(&'static DemoInsurer, String, Role)> {
    INSURERS
        .iter()
        .flat_map(|d| ROLES.iter().map(move |r| (d, user_email(d, *r), *r)))
        .collect()
}
