//! `regwatch demo`: a 健保組合 and a 共済組合 with a year of generated notices up to today, and users
//! to sign in with, so the web app can be tried at once.
//!
//! Loading is idempotent: an insurer whose registration results are already loaded is reused as
//! it is, and the imports themselves add nothing when repeated. The demo users' passwords are set
//! to the demo password at every start (so the printed sign-ins always work).
//!
//! Part of each year comes in the insurer's own files (SPEC §3.1), loaded through two import
//! profiles the demo stores for the insurer (once; a profile a user changed is kept): the latest
//! notices as the core system's Excel list, a 健保組合's employer's e-Gov `SHFD0006.CSV`, and the
//! intermediate server's results by member. The totals are those of the generated year whichever
//! file a notice comes in.
use crate::app::imports::{self as app_imports, FileInput};
use crate::app::Acting;
use crate::domain::rules::{self, EX_OFFICIO_FROM};
use crate::domain::staffing::{week_start, StaffingPeriod};
use crate::domain::{
    Calendar, InsurerKind, InsurerNumber, MyNumberStatus, NoticeFacts, NoticeKind, RuleSettings,
    Status,
};
use crate::gen::{self, GenOptions};
use crate::ingest::{FileProfile, Profile};
use crate::store::audit::AuditAction;
use crate::store::import::{self, Actor, FileKind, ImportSummary, Mode};
use crate::store::insurers::{self, Insurer, InsurerError};
use crate::store::notices::{self as notice_store, NoticeFilter, RuleSel};
use crate::store::profiles;
use crate::store::schema::{import_batches, notices as notices_table, users as users_table};
use crate::store::users::{self, Email, Role, UserError};
use crate::store::{self, audit, DbConn};
use anyhow::Context;
use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
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

/// The 表示名 of a demo insurer's user of `role` (pages and the audit log show it).
pub fn user_display_name(insurer: &DemoInsurer, role: Role) -> &'static str {
    match (insurer.kind, role) {
        (InsurerKind::Kyosai, Role::Admin) => "田中 誠",
        (InsurerKind::Kyosai, Role::Staff) => "伊藤 美咲",
        (InsurerKind::Kyosai, Role::Viewer) => "渡辺 翔",
        (_, Role::Admin) => "佐藤 恵子",
        (_, Role::Staff) => "鈴木 健太",
        (_, Role::Viewer) => "高橋 由美",
    }
}

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
    /// The 登録エラー worklist: not registered, the latest result an error.
    pub registration_errors: i64,
}

#[derive(Clone, Debug)]
pub struct LoadedInsurer {
    pub insurer: Insurer,
    /// True when the data was already there (nothing generated or imported).
    pub reused: bool,
    pub notices: Option<ImportSummary>,
    pub registrations: Option<ImportSummary>,
    /// The files in the insurer's own layouts (SPEC §3.1), in the order loaded: the core
    /// system's Excel list (through [`EXCEL_PROFILE`]), an employer's e-Gov `SHFD0006.CSV`
    /// (健保組合) and the intermediate server's results by member (through [`RESULTS_PROFILE`]).
    /// Empty when the data was reused.
    pub own_files: Vec<ImportSummary>,
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
            // A new insurer's automatic reminders start off (SPEC §5); the demo shows them on.
            crate::mail::prefs::set_reminders(conn, i.id, true, "demo", store::now_utc())?;
            // The 共済組合 shows its pages in 和暦 (設定 → 表示), as its own forms write dates.
            if demo.kind == InsurerKind::Kyosai {
                insurers::set_date_style(conn, i.id, crate::time::DateStyle::Wareki)?;
            }
            audit::record(
                conn,
                &audit::AuditEntry {
                    insurer: Some(i.id),
                    user: None,
                    actor: "demo",
                    action: AuditAction::InsurerAddCli,
                    target: Some(demo.number),
                    detail: None,
                },
            )?;
            i
        }
        Err(e) => return Err(e.into()),
    };
    ensure_users(conn, demo, &insurer, password_hash)?;
    ensure_profiles(conn, demo, &insurer)?;

    let reused = registrations_loaded(conn, &insurer)?;
    let (mut notices, mut registrations, mut own_files) = (None, None, Vec::new());
    if !reused {
        let dir = TempDir::new()?;
        let own = prepare_files(dir.path(), demo, today, &insurer.rules)?;
        let actor = Actor {
            user: None,
            label: "demo".into(),
        };
        let n = import_file(conn, &insurer, &actor, FileKind::Notices, dir.path(), today)?;
        for f in &own {
            own_files.push(import_own_file(conn, &insurer, f, today)?);
        }
        // Last: its batch tells a later start that the data is complete.
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
    ensure_contacts(conn, demo, &insurer, today)?;
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
        own_files,
        counts,
        data_until,
    })
}

/// What letters and e-mails need to name real contacts: the insurer's sender block (address,
/// contact, seal text), a contact address and a postal address for each employer (so the outbox
/// has recipients and letters can go 気付 the employer), and
/// one employer marked 「マイナンバー提出遅延」 (the one with the most notices without a usable My
/// Number), so that its members' letters use the seed's wording naming it and the others'
/// 「相当の期間」. Only what is still empty is filled: a user's changes stay.
fn ensure_contacts(
    conn: &mut DbConn,
    demo: &DemoInsurer,
    insurer: &Insurer,
    today: NaiveDate,
) -> anyhow::Result<()> {
    use crate::store::employers::{self, EmployerId};
    use crate::store::letters::{sender_fields, update_sender_fields, SenderFields};
    use crate::store::schema::employers as employers_table;
    let sender = sender_fields(conn, insurer.id)?;
    if sender.address.is_none() && sender.contact.is_none() {
        let (address, contact) = match demo.kind {
            InsurerKind::Kenpo => (
                "〒100-0013 東京都千代田区霞が関一丁目2番2号 デモ健保会館5階",
                "適用課 資格担当 電話 03-5253-1111（平日 9時～17時）",
            ),
            InsurerKind::Kyosai => (
                "〒100-0014 東京都千代田区永田町一丁目7番1号 デモ共済会館3階",
                "組合員課 資格担当 電話 03-3581-2222（平日 9時～17時）",
            ),
        };
        update_sender_fields(
            conn,
            insurer.id,
            &SenderFields {
                address: Some(address.into()),
                contact: Some(contact.into()),
                seal_text: Some("公印省略".into()),
                ..Default::default()
            },
        )?;
    }
    #[allow(clippy::type_complexity)]
    let rows: Vec<(i64, String, String, Option<NaiveDate>, Option<String>)> =
        employers_table::table
            .filter(employers_table::insurer_id.eq(insurer.id.0))
            .select((
                employers_table::id,
                employers_table::code,
                employers_table::contact_emails,
                employers_table::late_with_numbers_since,
                employers_table::address,
            ))
            .load(conn)?;
    // Fictional addresses in real-looking places, so letters can go 気付 the employer.
    const PLACES: [(&str, &str); 6] = [
        ("100-0005", "東京都千代田区丸の内二丁目4番1号"),
        ("160-0023", "東京都新宿区西新宿一丁目26番2号"),
        ("220-0012", "神奈川県横浜市西区みなとみらい二丁目3番1号"),
        ("330-0854", "埼玉県さいたま市大宮区桜木町一丁目7番5号"),
        ("530-0001", "大阪府大阪市北区梅田三丁目1番3号"),
        ("460-0008", "愛知県名古屋市中区栄三丁目5番12号"),
    ];
    for (i, (id, code, emails, _, address)) in rows.iter().enumerate() {
        if emails.trim().is_empty() {
            let email = users::Email::parse(&format!("jinji-{code}@example.jp"))
                .map_err(anyhow::Error::msg)?;
            employers::update_contacts(conn, insurer.id, EmployerId(*id), &[email], false)?;
        }
        if address.is_none() {
            let (postal, place) = PLACES[i % PLACES.len()];
            let floor = format!("{place} {}階", 2 + i % 20);
            employers::update_address(
                conn,
                insurer.id,
                EmployerId(*id),
                Some(postal),
                Some(&floor),
            )?;
        }
    }
    if rows.iter().all(|r| r.3.is_none()) {
        let worst: Option<(i64, i64)> = notices_table::table
            .filter(notices_table::insurer_id.eq(insurer.id.0))
            .filter(notices_table::my_number_status.ne("valid"))
            .filter(notices_table::kind.ne("loss"))
            .group_by(notices_table::employer_id)
            .select((notices_table::employer_id, diesel::dsl::count_star()))
            .order(diesel::dsl::count_star().desc())
            .first(conn)
            .optional()?;
        if let Some((id, _)) = worst {
            let since = today.checked_sub_days(Days::new(60)).unwrap_or(today);
            employers::set_my_number_late(conn, insurer.id, EmployerId(id), Some((since, "demo")))?;
        }
    }
    Ok(())
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
                            action: AuditAction::UserAddCli,
                            target: Some(email.as_str()),
                            detail: Some(role.code()),
                        },
                    )?;
                }
                Err(UserError::Duplicate(_)) => {}
                Err(e) => return Err(e.into()),
            },
        }
        // Every start makes the demo users usable again with the demo password.
        diesel::update(users_table::table.filter(users_table::email.eq(email.as_str())))
            .set((
                users_table::password_hash.eq(password_hash),
                users_table::must_change_password.eq(false),
                users_table::deactivated_at.eq(None::<chrono::NaiveDateTime>),
                users_table::updated_at.eq(store::now_utc()),
            ))
            .execute(conn)?;
        // A 表示名 an admin gave in the demo is kept.
        diesel::update(
            users_table::table
                .filter(users_table::email.eq(email.as_str()))
                .filter(users_table::display_name.eq("")),
        )
        .set(users_table::display_name.eq(user_display_name(demo, role)))
        .execute(conn)?;
    }
    Ok(())
}

/// Whether the demo's registrations.csv was completely loaded for the insurer (the last step of
/// a load).
fn registrations_loaded(conn: &mut DbConn, insurer: &Insurer) -> anyhow::Result<bool> {
    let n: i64 = import_batches::table
        .filter(import_batches::insurer_id.eq(insurer.id.0))
        .filter(import_batches::file_kind.eq(FileKind::Registrations.code()))
        .filter(import_batches::file_name.eq(demo_file_name(insurer, "registrations.csv")))
        .filter(import_batches::status.eq("completed"))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The import history's name of the demo's generated file `name`.
fn demo_file_name(insurer: &Insurer, name: &str) -> String {
    format!("demo-{}-{}", insurer.number, name)
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
    let file_name = demo_file_name(insurer, name);
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
    refuse_rejects(&summary, &file_name)?;
    crate::reports::rollups::refresh_after_change(conn, insurer.id);
    audit::record(
        conn,
        &audit::AuditEntry {
            insurer: Some(insurer.id),
            user: None,
            actor: "demo",
            action: match kind {
                FileKind::Notices => AuditAction::ImportNoticesCli,
                FileKind::Registrations => AuditAction::ImportRegistrationsCli,
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
    let mut errors = NoticeFilter::new(as_of);
    errors.reg_error = true;
    Ok(CaseCounts {
        notices: count(&all)?,
        open: count(&registration(Status::Open, true))?,
        at_risk: count(&registration(Status::AtRisk, true))?,
        open_breached: count(&registration(Status::Breached, true))?,
        breached: count(&breached)?,
        ex_officio: count(&ex)?,
        registration_errors: count(&errors)?,
    })
}

/// Name of the demo's import profile for the core system's Excel list of notices (SPEC §3.1).
pub const EXCEL_PROFILE: &str = "基幹システム出力（資格届一覧 Excel）";
/// Name of the demo's import profile for the intermediate server's results by member.
pub const RESULTS_PROFILE: &str = "中間サーバー処理結果（被保険者単位 CSV）";

/// How many of the most recently received notices come in the core system's Excel list.
pub const EXCEL_NOTICES: usize = 40;

/// The core system's 「資格届受付一覧」: title in row 1, the output date in row 2, headers in row 3,
/// on its second sheet; 届出区分 and マイナンバー記載 as the system's codes.
const EXCEL_PROFILE_TOML: &str = r#"
[notices]
sheet = "届書一覧"
header_row = 3

[notices.columns]
notice_id = "受付No"
kind = "届出区分"
employer_code = "事業所番号"
employer_name = "事業所名"
member_symbol = "記号"
member_number = "番号"
dependent_seq = "枝番"
name = "氏名"
name_kana = "カナ氏名"
event_date = "異動日"
received_on = "受付年月日"
my_number_status = "マイナンバー記載"
delay_cause = "遅延事由"

[notices.values.kind]
"01" = "acquisition"
"02" = "dependent"
"03" = "loss"

[notices.values.my_number_status]
"有" = "valid"
"無" = "missing"
"誤り" = "invalid"
"#;

/// The intermediate server's processing results (Shift_JIS CSV): one row per attempt, naming
/// the member (記号・番号・枝番) instead of the insurer's 受付番号; 処理結果 0 正常, 1 エラー.
const RESULTS_PROFILE_TOML: &str = r#"
[registrations]
header_row = 1

[registrations.columns]
registered_at = "処理日時"
member_symbol = "記号"
member_number = "番号"
dependent_seq = "枝番"
result = "処理結果"
error_code = "エラーコード"
error_message = "エラーメッセージ"

[registrations.values.result]
"0" = "ok"
"1" = "error"
"#;

/// The demo's import profiles for an insurer of `kind` as TOML, the form a user exports and
/// imports: (name, TOML). A 共済組合's system says 所属所 where a 健保組合's says 事業所.
pub fn profile_tomls(kind: InsurerKind) -> [(&'static str, String); 2] {
    let excel = match kind {
        InsurerKind::Kenpo => EXCEL_PROFILE_TOML.to_string(),
        InsurerKind::Kyosai => EXCEL_PROFILE_TOML.replace("事業所", "所属所"),
    };
    [
        (EXCEL_PROFILE, excel),
        (RESULTS_PROFILE, RESULTS_PROFILE_TOML.to_string()),
    ]
}

/// Saves the demo's import profiles the insurer does not have yet (by name: one a user has
/// changed is kept as it is).
fn ensure_profiles(conn: &mut DbConn, demo: &DemoInsurer, insurer: &Insurer) -> anyhow::Result<()> {
    let acting = demo_acting(insurer);
    for (name, toml) in profile_tomls(demo.kind) {
        if profiles::by_name(conn, insurer.id, name)?.is_none() {
            app_imports::save_toml(conn, &acting, name, &toml).map_err(|e| {
                anyhow::anyhow!("デモの取込プロファイル「{name}」を保存できません: {e}")
            })?;
        }
    }
    Ok(())
}

fn demo_acting(insurer: &Insurer) -> Acting {
    Acting {
        insurer: insurer.id,
        user: None,
        label: "demo".into(),
    }
}

/// A file in the insurer's own layout (SPEC §3.1), loaded between notices.csv and
/// registrations.csv.
struct OwnFile {
    kind: FileKind,
    path: PathBuf,
    /// As the import history names it.
    file_name: String,
    profile: Option<&'static str>,
    /// e-Gov files: the day the insurer received the file.
    received_on: NaiveDate,
}

fn import_own_file(
    conn: &mut DbConn,
    insurer: &Insurer,
    f: &OwnFile,
    today: NaiveDate,
) -> anyhow::Result<ImportSummary> {
    let profile = match f.profile {
        Some(name) => Some(
            profiles::by_name(conn, insurer.id, name)?
                .with_context(|| format!("取込プロファイル「{name}」がありません"))?,
        ),
        None => None,
    };
    let file = std::fs::File::open(&f.path)
        .with_context(|| format!("ファイル {} を開けません", f.path.display()))?;
    let summary = app_imports::load_file(
        conn,
        &demo_acting(insurer),
        FileInput {
            kind: f.kind,
            file_name: &f.file_name,
            source: file,
            profile: profile.as_ref(),
            received_on: f.received_on,
            as_of: today,
        },
        Mode::Commit,
    )
    .map_err(|e| anyhow::anyhow!("デモデータ {} を取り込めません: {e}", f.file_name))?;
    refuse_rejects(&summary, &f.file_name)?;
    Ok(summary)
}

fn refuse_rejects(summary: &ImportSummary, file_name: &str) -> anyhow::Result<()> {
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
    Ok(())
}

/// Columns of the generated notices.csv (see `gen.rs`).
mod col {
    pub const ID: usize = 0;
    pub const KIND: usize = 1;
    pub const EMPLOYER_CODE: usize = 2;
    pub const EMPLOYER_NAME: usize = 3;
    pub const SYMBOL: usize = 4;
    pub const NUMBER: usize = 5;
    pub const SEQ: usize = 6;
    pub const NAME: usize = 7;
    pub const KANA: usize = 8;
    pub const EVENT: usize = 9;
    pub const RECEIVED: usize = 10;
    pub const MY_NUMBER: usize = 11;
    pub const CAUSE: usize = 12;
}

/// Generates the insurer's year into `dir` and makes sure that, as of `today`, some registrations
/// are still open, some at risk and some 資格確認書 due: when the generated year happens to have
/// none in a group (its registrations all came early), the registration results of some of the
/// notices in that group are left out, as if the insurer had not registered them yet.
///
/// Part of the year then comes in the insurer's own files (SPEC §3.1), returned in load order:
/// the latest notices as the core system's Excel list, a few 資格取得届 of one employer as its
/// e-Gov file (健保組合), and the results of the Excel list's notices as the intermediate
/// server's file by member. They are carved out of notices.csv and registrations.csv, so the
/// year's totals are the same whichever file a notice comes in.
fn prepare_files(
    dir: &Path,
    demo: &DemoInsurer,
    today: NaiveDate,
    settings: &RuleSettings,
) -> anyhow::Result<Vec<OwnFile>> {
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
        event: NaiveDate,
        received: NaiveDate,
        my_number: MyNumberStatus,
        deadline: NaiveDate,
    }
    let mut facts: Vec<Facts> = Vec::with_capacity(demo.notices as usize);
    let mut rows: Vec<csv::StringRecord> = Vec::with_capacity(demo.notices as usize);
    let mut rd = csv::Reader::from_path(raw.join("notices.csv"))?;
    let notice_headers = rd.headers()?.clone();
    for rec in rd.records() {
        let rec = rec?;
        let field = |i: usize| rec.get(i).unwrap_or("");
        let kind = NoticeKind::parse(field(col::KIND))
            .with_context(|| format!("届書種別が読めません: {}", field(col::KIND)))?;
        let event: NaiveDate = field(col::EVENT).parse().context("事実発生日")?;
        let received: NaiveDate = field(col::RECEIVED).parse().context("受付日")?;
        let my_number = MyNumberStatus::classify(field(col::MY_NUMBER));
        let nf = NoticeFacts {
            kind,
            event_date: event,
            received_on: received,
            my_number,
            registered_on: None,
        };
        facts.push(Facts {
            id: field(col::ID).to_string(),
            kind,
            event,
            received,
            my_number,
            deadline: rules::deadlines(&nf, settings, cal).registration,
        });
        if demo.kind == InsurerKind::Kyosai {
            let name = kyosai_unit_name(field(col::EMPLOYER_CODE));
            let mut out: Vec<&str> = rec.iter().collect();
            out[col::EMPLOYER_NAME] = &name;
            rows.push(csv::StringRecord::from(out));
        } else {
            rows.push(rec);
        }
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

    // e-Gov (健保組合): the 資格取得届 of one employer received on the latest day before today
    // that has two or more without a 遅延理由 (an e-Gov file has no such item).
    let egov: Option<(NaiveDate, Vec<usize>)> = if demo.kind == InsurerKind::Kenpo {
        let mut by_day: std::collections::BTreeMap<(NaiveDate, &str), Vec<usize>> =
            Default::default();
        for (i, f) in facts.iter().enumerate() {
            if f.kind == NoticeKind::Acquisition
                && f.received < today
                && f.event >= REIWA
                && rows[i].get(col::CAUSE).unwrap_or("").is_empty()
            {
                by_day
                    .entry((f.received, rows[i].get(col::EMPLOYER_CODE).unwrap_or("")))
                    .or_default()
                    .push(i);
            }
        }
        by_day
            .into_iter()
            .rev()
            .find(|(_, v)| v.len() >= 2)
            .map(|((day, _), v)| (day, v.into_iter().take(3).collect()))
    } else {
        None
    };
    let egov_rows: HashSet<usize> = egov.iter().flat_map(|(_, v)| v.iter().copied()).collect();

    // The Excel list: the latest notices, in the order of receipt.
    let mut newest: Vec<usize> = (0..rows.len()).collect();
    newest.sort_by_key(|&i| std::cmp::Reverse((facts[i].received, i)));
    let mut excel: Vec<usize> = newest
        .into_iter()
        .filter(|i| !egov_rows.contains(i))
        .take(EXCEL_NOTICES)
        .collect();
    excel.sort_by_key(|&i| (facts[i].received, i));
    let excel_rows: HashSet<usize> = excel.iter().copied().collect();

    let mut wr = csv::Writer::from_path(dir.join("notices.csv"))?;
    wr.write_record(&notice_headers)?;
    for (i, rec) in rows.iter().enumerate() {
        if !excel_rows.contains(&i) && !egov_rows.contains(&i) {
            wr.write_record(rec)?;
        }
    }
    wr.flush()?;

    let mut own = Vec::new();
    let (excel_profile, results_profile) = {
        let [(_, excel_toml), (_, results_toml)] = profile_tomls(demo.kind);
        let parse = |t: &str| Profile::from_toml_str(t).map_err(anyhow::Error::msg);
        (parse(&excel_toml)?, parse(&results_toml)?)
    };
    let excel_part = excel_profile
        .notices
        .as_ref()
        .context("デモの取込プロファイルに [notices] がありません")?;
    let excel_path = dir.join("excel.xlsx");
    let list: Vec<&csv::StringRecord> = excel.iter().map(|&i| &rows[i]).collect();
    write_excel(&excel_path, demo, today, excel_part, &list)?;
    own.push(OwnFile {
        kind: FileKind::Notices,
        path: excel_path,
        file_name: format!("資格届受付一覧_{}.xlsx", today.format("%Y%m%d")),
        profile: Some(EXCEL_PROFILE),
        received_on: today,
    });

    // e-Gov notices get the 受付番号 the file gives them; their results follow.
    let mut renamed: std::collections::HashMap<&str, String> = Default::default();
    if let Some((day, idx)) = &egov {
        let path = dir.join("SHFD0006.CSV");
        let list: Vec<&csv::StringRecord> = idx.iter().map(|&i| &rows[i]).collect();
        let ids = write_egov(&path, *day, &list)?;
        for (&i, id) in idx.iter().zip(ids) {
            renamed.insert(facts[i].id.as_str(), id);
        }
        own.push(OwnFile {
            kind: FileKind::Notices,
            path,
            file_name: "SHFD0006.CSV".into(),
            profile: None,
            received_on: *day,
        });
    }

    // The Excel list's results come from the intermediate server by member, for members with
    // no other notice in the year (so the member names the notice); the rest stay by 受付番号.
    let mut notices_of: std::collections::HashMap<(&str, &str, &str), u32> = Default::default();
    for rec in &rows {
        let f = |c: usize| rec.get(c).unwrap_or("");
        *notices_of
            .entry((f(col::SYMBOL), f(col::NUMBER), f(col::SEQ)))
            .or_default() += 1;
    }
    let by_member: std::collections::HashMap<&str, &csv::StringRecord> = excel
        .iter()
        .map(|&i| &rows[i])
        .filter(|rec| {
            let f = |c: usize| rec.get(c).unwrap_or("");
            notices_of.get(&(f(col::SYMBOL), f(col::NUMBER), f(col::SEQ))) == Some(&1)
        })
        .map(|rec| (rec.get(col::ID).unwrap_or(""), rec))
        .collect();
    let mut server: Vec<&csv::StringRecord> = Vec::new();
    let mut wr = csv::Writer::from_path(dir.join("registrations.csv"))?;
    wr.write_record(&reg_headers)?;
    for rec in &reg_rows {
        let id = rec.get(0).unwrap_or("");
        if drop.contains(id) {
            continue;
        }
        if by_member.contains_key(id) {
            server.push(rec);
        } else if let Some(new_id) = renamed.get(id) {
            let mut out: Vec<&str> = rec.iter().collect();
            out[0] = new_id;
            wr.write_record(&out)?;
        } else {
            wr.write_record(rec)?;
        }
    }
    // The 登録エラー worklist: some notices still unregistered got an error from the server.
    let unregistered = facts.iter().filter(|f| {
        f.received <= today
            && (!registered.contains(&f.id) || drop.contains(f.id.as_str()))
            && !by_member.contains_key(f.id.as_str())
    });
    for (i, f) in unregistered.enumerate() {
        let Some((code, message, dated)) = demo_error(i, f.my_number) else {
            continue;
        };
        let id = renamed
            .get(f.id.as_str())
            .map_or(f.id.as_str(), String::as_str);
        // A dated error came the working day after receipt (never after today).
        let at = (f.received + Days::new(1)).min(today);
        let at = if dated {
            format!("{at}T10:30:00+09:00")
        } else {
            String::new()
        };
        wr.write_record([id, at.as_str(), "エラー", code, message])?;
    }
    wr.flush()?;
    if !server.is_empty() {
        let path = dir.join("server-results.csv");
        write_server_results(&path, &results_profile, &by_member, &server)?;
        own.push(OwnFile {
            kind: FileKind::Registrations,
            path,
            file_name: format!("中間サーバー処理結果_{}.csv", today.format("%Y%m%d")),
            profile: Some(RESULTS_PROFILE),
            received_on: today,
        });
    }
    Ok(own)
}

/// The error the intermediate server gave the `i`-th unregistered notice, if any (code, message,
/// whether the result is dated): a J-LIS mismatch for most notices without a correct My Number,
/// now and then another error for the rest.
fn demo_error(i: usize, my_number: MyNumberStatus) -> Option<(&'static str, &'static str, bool)> {
    match (my_number, i % 6) {
        (MyNumberStatus::Valid, 0) => Some((
            "E0203",
            "基本4情報（氏名・生年月日・性別・住所）が住民基本台帳と一致しません",
            true,
        )),
        (MyNumberStatus::Valid, 3) => {
            Some(("E0310", "被保険者記号・番号が既に登録されています", false))
        }
        (MyNumberStatus::Valid, _) => None,
        (_, 5) => None,
        (_, n) => Some(("E0101", "J-LIS照会結果不一致", n % 2 == 0)),
    }
}

/// The first day of 令和 (e-Gov dates are 元号 + YYMMDD).
const REIWA: NaiveDate = match NaiveDate::from_ymd_opt(2019, 5, 1) {
    Some(d) => d,
    None => panic!("2019-05-01 exists"),
};

/// The header the profile part maps `field` onto.
fn header_of<'a>(part: &'a FileProfile, field: &str) -> anyhow::Result<&'a str> {
    part.columns
        .get(field)
        .map(String::as_str)
        .with_context(|| format!("デモの取込プロファイルに {field} の列がありません"))
}

/// The file's value the profile part maps onto regwatch's `value` of `field`.
fn code_of<'a>(part: &'a FileProfile, field: &str, value: &str) -> anyhow::Result<&'a str> {
    part.values
        .get(field)
        .and_then(|m| m.iter().find(|(_, v)| v.as_str() == value))
        .map(|(k, _)| k.as_str())
        .with_context(|| format!("デモの取込プロファイルに {field} = {value} の値がありません"))
}

/// The core system's 「資格届受付一覧」 (.xlsx) in the layout `part` reads: a sheet of output
/// conditions first, then the list with a title row, the output date and the headers; dates as
/// date cells (異動日 in 和暦 format). The My Number is not in it, only whether it was written.
fn write_excel(
    path: &Path,
    demo: &DemoInsurer,
    today: NaiveDate,
    part: &FileProfile,
    rows: &[&csv::StringRecord],
) -> anyhow::Result<()> {
    use rust_xlsxwriter::{Color, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook};
    let date = |d: NaiveDate| -> anyhow::Result<ExcelDateTime> {
        Ok(ExcelDateTime::from_ymd(
            u16::try_from(d.year())?,
            u8::try_from(d.month())?,
            u8::try_from(d.day())?,
        )?)
    };
    let ymd = |d: NaiveDate| d.format("%Y/%m/%d").to_string();
    let (from, to) = match (rows.first(), rows.last()) {
        (Some(a), Some(b)) => (
            a.get(col::RECEIVED).unwrap_or("").replace('-', "/"),
            b.get(col::RECEIVED).unwrap_or("").replace('-', "/"),
        ),
        _ => (ymd(today), ymd(today)),
    };
    let (forms, unit) = match demo.kind {
        InsurerKind::Kenpo => ("資格取得届・被扶養者届・資格喪失届", "事業所"),
        InsurerKind::Kyosai => ("組合員資格取得届・被扶養者申告書・資格喪失届", "所属所"),
    };

    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let date_fmt = Format::new().set_num_format("yyyy/mm/dd");
    let cond = wb.add_worksheet();
    cond.set_name("出力条件")?;
    cond.set_column_width(0, 16)?;
    cond.set_column_width(1, 44)?;
    cond.write_string_with_format(0, 0, "出力条件", &bold)?;
    cond.write_string(1, 0, "帳票")?;
    cond.write_string(1, 1, format!("{forms} 受付一覧"))?;
    cond.write_string(2, 0, "受付年月日")?;
    cond.write_string(2, 1, format!("{from}～{to}"))?;
    cond.write_string(3, 0, "事業所")?;
    cond.write_string(3, 1, format!("全{unit}"))?;
    cond.write_string(4, 0, "件数")?;
    cond.write_number(4, 1, rows.len() as f64)?;
    cond.write_string(5, 0, "出力日")?;
    cond.write_datetime_with_format(5, 1, date(today)?, &date_fmt)?;

    let ws = wb.add_worksheet();
    ws.set_name(part.sheet.as_deref().unwrap_or("届書一覧"))?;
    const FIELDS: [(&str, f64); 13] = [
        ("notice_id", 14.0),
        ("kind", 9.0),
        ("employer_code", 11.0),
        ("employer_name", 30.0),
        ("member_symbol", 7.0),
        ("member_number", 9.0),
        ("dependent_seq", 6.0),
        ("name", 13.0),
        ("name_kana", 18.0),
        ("event_date", 17.0),
        ("received_on", 12.0),
        ("my_number_status", 15.0),
        ("delay_cause", 20.0),
    ];
    let last_col = (FIELDS.len() - 1) as u16;
    let title = Format::new().set_bold().set_font_size(14);
    ws.merge_range(
        0,
        0,
        0,
        last_col,
        &format!("{forms} 受付一覧（基幹システム出力）"),
        &title,
    )?;
    ws.write_string(
        1,
        0,
        format!(
            "出力日：{}　受付年月日：{from}～{to}　{} 件",
            ymd(today),
            rows.len()
        ),
    )?;
    let head = Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let center = cell.clone().set_align(FormatAlign::Center);
    let received_fmt = cell.clone().set_num_format("yyyy/mm/dd");
    let era_fmt = cell
        .clone()
        .set_num_format("[$-411]ggge\"年\"m\"月\"d\"日\"");
    for (c, (field, width)) in FIELDS.iter().enumerate() {
        ws.write_string_with_format(2, c as u16, header_of(part, field)?, &head)?;
        ws.set_column_width(c as u16, *width)?;
    }
    for (r, rec) in rows.iter().enumerate() {
        let row = 3 + r as u32;
        let f = |c: usize| rec.get(c).unwrap_or("");
        let kind = NoticeKind::parse(f(col::KIND))
            .with_context(|| format!("届書種別が読めません: {}", f(col::KIND)))?;
        let event: NaiveDate = f(col::EVENT).parse().context("事実発生日")?;
        let received: NaiveDate = f(col::RECEIVED).parse().context("受付日")?;
        let status = MyNumberStatus::classify(f(col::MY_NUMBER));
        let text = [
            (0, f(col::ID), &cell),
            (1, code_of(part, "kind", kind.code())?, &center),
            (2, f(col::EMPLOYER_CODE), &center),
            (3, f(col::EMPLOYER_NAME), &cell),
            (4, f(col::SYMBOL), &center),
            (5, f(col::NUMBER), &center),
            (6, f(col::SEQ), &center),
            (7, f(col::NAME), &cell),
            (8, f(col::KANA), &cell),
            (
                11,
                code_of(part, "my_number_status", status.code())?,
                &center,
            ),
            (12, f(col::CAUSE), &cell),
        ];
        for (c, v, fmt) in text {
            if v.is_empty() {
                ws.write_blank(row, c, fmt)?;
            } else {
                ws.write_string_with_format(row, c, v, fmt)?;
            }
        }
        ws.write_datetime_with_format(row, 9, date(event)?, &era_fmt)?;
        ws.write_datetime_with_format(row, 10, date(received)?, &received_fmt)?;
    }
    ws.set_freeze_panes(3, 0)?;
    ws.autofilter(2, 0, 2 + rows.len() as u32, last_col)?;
    wb.save(path)
        .with_context(|| format!("{} を書き出せません", path.display()))?;
    Ok(())
}

/// One employer's e-Gov file (日本年金機構 `SHFD0006.CSV`, Shift_JIS, CRLF) with its 資格取得届,
/// created on `day`; returns the 受付番号 the import gives each (`ingest::egov`: from the media
/// record and the line).
fn write_egov(
    path: &Path,
    day: NaiveDate,
    rows: &[&csv::StringRecord],
) -> anyhow::Result<Vec<String>> {
    let first = rows.first().context("e-Gov ファイルの届書がありません")?;
    let employer = first.get(col::EMPLOYER_CODE).unwrap_or("");
    let employer_name = first.get(col::EMPLOYER_NAME).unwrap_or("");
    let created = day.format("%Y%m%d").to_string();
    let mut lines = vec![
        format!("13,01,ﾃﾞﾓ,001,{created},22223"),
        "[kanri]".to_string(),
        ",001".to_string(),
        format!(
            "13,01,ﾃﾞﾓ,{employer},100,0005,東京都千代田区丸の内１－１－１,{employer_name},代表取締役　青木　誠,03,3211,0001"
        ),
        "[data]".to_string(),
    ];
    let mut ids = Vec::with_capacity(rows.len());
    for rec in rows {
        let f = |c: usize| rec.get(c).unwrap_or("");
        let number = f(col::NUMBER);
        let n: u64 = number.parse().unwrap_or(0);
        let event: NaiveDate = f(col::EVENT).parse().context("事実発生日")?;
        let (event_era, event_ymd) = era_yymmdd(event);
        // A new employee of 22 to 51.
        let birth = event
            .checked_sub_months(chrono::Months::new(12 * (22 + (n % 30) as u32)))
            .and_then(|d| d.checked_sub_days(Days::new(n * 37 % 365)))
            .unwrap_or(event);
        let (birth_era, birth_ymd) = era_yymmdd(birth);
        let female = ["陽菜", "結衣", "美咲", "葵", "さくら", "和子", "彩花"]
            .iter()
            .any(|g| f(col::NAME).ends_with(g));
        let my_number: String = f(col::MY_NUMBER)
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        // 基礎年金番号 instead when the My Number is not written.
        let (pension_a, pension_b) = if my_number.is_empty() {
            (
                format!("{:04}", 1000 + n % 9000),
                format!("{:06}", n % 1_000_000),
            )
        } else {
            (String::new(), String::new())
        };
        let pay = format!("{:07}", 200_000 + (n % 26) * 10_000);
        let items: Vec<String> = vec![
            "2200700".into(),
            "13".into(),
            "01".into(),
            "ﾃﾞﾓ".into(),
            employer.into(),
            number.into(),
            halfwidth_kana(f(col::KANA)),
            f(col::NAME).replace(' ', "　"),
            birth_era.into(),
            birth_ymd,
            if female { "2" } else { "1" }.into(),
            "1".into(),
            my_number,
            String::new(),
            String::new(),
            pension_a,
            pension_b,
            event_era.into(),
            event_ymd,
            "0".into(),
            pay.clone(),
            "0000000".into(),
            pay,
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "166".into(),
            "0004".into(),
            "ﾄｳｷｮｳﾄｽｷﾞﾅﾐｸ".into(),
            "東京都杉並区阿佐谷南１－２－３".into(),
            String::new(),
            String::new(),
        ];
        lines.push(items.join(","));
        ids.push(format!("EG{created}-E{employer}-S001-L{:04}", lines.len()));
    }
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    write_shift_jis(path, &text)?;
    Ok(ids)
}

/// 元号 code (5 昭和, 7 平成, 9 令和) and YYMMDD of a date, as e-Gov files write dates.
fn era_yymmdd(d: NaiveDate) -> (&'static str, String) {
    let heisei = NaiveDate::from_ymd_opt(1989, 1, 8).unwrap_or(REIWA);
    let (code, year) = if d >= REIWA {
        ("9", d.year() - 2018)
    } else if d >= heisei {
        ("7", d.year() - 1988)
    } else {
        ("5", d.year() - 1925)
    };
    (code, format!("{year:02}{:02}{:02}", d.month(), d.day()))
}

/// Full-width katakana as the half-width katakana e-Gov files use for 氏名カナ.
fn halfwidth_kana(s: &str) -> String {
    const FULL: &str = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンァィゥェォャュョッー";
    const HALF: &str = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｧｨｩｪｫｬｭｮｯｰ";
    const VOICED: &str = "ガギグゲゴザジズゼゾダヂヅデドバビブベボ";
    const VOICED_BASE: &str = "カキクケコサシスセソタチツテトハヒフヘホ";
    const SEMI: &str = "パピプペポ";
    const SEMI_BASE: &str = "ハヒフヘホ";
    let half_of = |c: char| -> Option<char> {
        FULL.chars()
            .position(|x| x == c)
            .and_then(|i| HALF.chars().nth(i))
    };
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if let Some(h) = half_of(c) {
            out.push(h);
        } else if let Some(i) = VOICED.chars().position(|x| x == c) {
            out.extend(VOICED_BASE.chars().nth(i).and_then(half_of));
            out.push('ﾞ');
        } else if let Some(i) = SEMI.chars().position(|x| x == c) {
            out.extend(SEMI_BASE.chars().nth(i).and_then(half_of));
            out.push('ﾟ');
        } else if c == 'ヴ' {
            out.push_str("ｳﾞ");
        } else if c == '\u{3000}' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

fn write_shift_jis(path: &Path, text: &str) -> anyhow::Result<()> {
    let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode(text);
    anyhow::ensure!(
        !had_errors,
        "{} に Shift_JIS で書けない文字があります",
        path.display()
    );
    std::fs::write(path, &bytes).with_context(|| format!("{} を書き出せません", path.display()))
}

/// The intermediate server's processing results (Shift_JIS, CRLF) for the notices of
/// `by_member` (受付番号 → generated notice row): the member instead of the 受付番号, times in
/// Japan time, 処理結果 as the server's codes, in the order processed.
fn write_server_results(
    path: &Path,
    profile: &Profile,
    by_member: &std::collections::HashMap<&str, &csv::StringRecord>,
    results: &[&csv::StringRecord],
) -> anyhow::Result<()> {
    use chrono::NaiveDateTime;
    let part = profile
        .registrations
        .as_ref()
        .context("デモの取込プロファイルに [registrations] がありません")?;
    let jst = |raw: &str| -> anyhow::Result<NaiveDateTime> {
        let at = crate::ingest::parse_timestamp(raw)
            .map_err(|e| anyhow::anyhow!("登録完了日時「{raw}」が読めません: {e}"))?;
        Ok(crate::time::to_jst(at.utc))
    };
    // The success of each notice: an error before it is dated between receipt and success.
    let mut success: std::collections::HashMap<&str, NaiveDateTime> = Default::default();
    for rec in results {
        if rec.get(2) == Some("正常") {
            success.insert(rec.get(0).unwrap_or(""), jst(rec.get(1).unwrap_or(""))?);
        }
    }
    let mut out: Vec<(Option<NaiveDateTime>, [String; 9])> = Vec::with_capacity(results.len());
    for rec in results {
        let id = rec.get(0).unwrap_or("");
        let notice = by_member
            .get(id)
            .with_context(|| format!("登録結果の届書 {id} がありません"))?;
        let f = |c: usize| notice.get(c).unwrap_or("").to_string();
        let ok = rec.get(2) == Some("正常");
        let at = if ok {
            Some(jst(rec.get(1).unwrap_or(""))?)
        } else {
            let received: NaiveDate = f(col::RECEIVED).parse().context("受付日")?;
            success.get(id).map(|s| {
                let halfway =
                    received + Days::new(((s.date() - received).num_days() / 2).max(0) as u64);
                let guess = halfway.and_hms_opt(10, 30, 0).unwrap_or_default();
                if guess < *s {
                    guess
                } else {
                    *s - chrono::Duration::hours(1)
                }
            })
        };
        let kind = match NoticeKind::parse(&f(col::KIND)) {
            Some(NoticeKind::Acquisition) => "資格取得",
            Some(NoticeKind::Dependent) => "被扶養者追加",
            _ => "資格喪失",
        };
        out.push((
            at,
            [
                at.map(|t| t.format("%Y/%m/%d %H:%M:%S").to_string())
                    .unwrap_or_default(),
                f(col::SYMBOL),
                f(col::NUMBER),
                f(col::SEQ),
                f(col::KANA),
                kind.to_string(),
                code_of(part, "result", if ok { "ok" } else { "error" })?.to_string(),
                rec.get(3).unwrap_or("").to_string(),
                rec.get(4).unwrap_or("").to_string(),
            ],
        ));
    }
    out.sort_by_key(|(at, _)| (at.is_none(), *at));
    let header = [
        header_of(part, "registered_at")?,
        header_of(part, "member_symbol")?,
        header_of(part, "member_number")?,
        header_of(part, "dependent_seq")?,
        "カナ氏名",
        "処理区分",
        header_of(part, "result")?,
        header_of(part, "error_code")?,
        header_of(part, "error_message")?,
    ];
    let mut wr = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    wr.write_record(header)?;
    for (_, row) in &out {
        wr.write_record(row)?;
    }
    let text = String::from_utf8(wr.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?;
    write_shift_jis(path, &text)
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

/// What a working insurer has done by the time of the demo, so that the pages that show work have
/// some: 改善計画 actions with their reviews, the 登録期間 letters of the overdue notices produced
/// a week ago and the cases staff follow. Each part only when the insurer has none yet, so a reused
/// demo database is left as it is. The e-mails are [`ensure_mail_history`], once for all insurers.
pub fn ensure_activity(
    conn: &mut DbConn,
    insurer: &Insurer,
    today: NaiveDate,
    tera: &tera::Tera,
) -> anyhow::Result<()> {
    let acting = demo_acting(insurer);
    if crate::store::survey::plan_actions(conn, insurer.id)?.is_empty() {
        plan_actions(conn, &acting, insurer, today)?;
    }
    let letters_made: i64 = crate::store::schema::letters::table
        .filter(crate::store::schema::letters::insurer_id.eq(insurer.id.0))
        .count()
        .get_result(conn)?;
    if letters_made == 0 {
        overdue_letters(conn, &acting, today, tera)?;
    }
    case_workflow(conn, insurer, today)?;
    Ok(())
}

/// Last week's reminder e-mails delivered a week ago and today's queued, for the insurers that have
/// none yet: last week's evaluation is queued and delivered at once through `worker`'s transport
/// (SMTP when configured, else `.eml` files in `./outbox/`) without the per-minute limit, then
/// dated a week back, so the pages show them sent last week and the limit of this minute is left
/// to `outbox run` and `serve`; today's evaluation stays queued for them. Runs before anything
/// else sends (the demo's server has no scheduler yet), so only these messages are due.
pub fn ensure_mail_history(
    conn: &mut DbConn,
    insurers: &[&Insurer],
    today: NaiveDate,
    worker: &crate::mail::worker::Worker,
) -> anyhow::Result<()> {
    use crate::store::schema::outbox;
    let mut fresh = Vec::new();
    for insurer in insurers {
        let queued: i64 = outbox::table
            .filter(outbox::insurer_id.eq(insurer.id.0))
            .count()
            .get_result(conn)?;
        if queued == 0 {
            fresh.push(*insurer);
        }
    }
    if fresh.is_empty() {
        return Ok(());
    }
    let now = store::now_utc();
    for insurer in &fresh {
        crate::mail::evaluate::evaluate_insurer(conn, insurer, today - Days::new(7), now)?;
    }
    let last_week: Vec<i64> = outbox::table
        .filter(outbox::insurer_id.eq_any(fresh.iter().map(|i| i.id.0)))
        .select(outbox::id)
        .load(conn)?;
    let mut settings = worker.settings.clone();
    settings.rate_per_minute = u32::MAX;
    let unlimited = crate::mail::worker::Worker::new(worker.transport.clone(), settings);
    unlimited.drain(conn, now)?;
    let week = chrono::Duration::days(7);
    let times: Vec<(i64, NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>)> = outbox::table
        .filter(outbox::id.eq_any(&last_week))
        .select((
            outbox::id,
            outbox::created_at,
            outbox::next_attempt_at,
            outbox::sent_at,
        ))
        .load(conn)?;
    for (id, created, next, sent) in times {
        diesel::update(outbox::table.find(id))
            .set((
                outbox::created_at.eq(created - week),
                outbox::next_attempt_at.eq(next - week),
                outbox::sent_at.eq(sent.map(|t| t - week)),
            ))
            .execute(conn)?;
    }
    for insurer in &fresh {
        crate::mail::evaluate::evaluate_insurer(conn, insurer, today, now)?;
    }
    Ok(())
}

/// The 案件の対応 of the most urgent open cases, once per insurer: the staff user follows six and
/// the admin three, with 次回対応日 past, today, later or none, and notes as staff write them — so
/// `mine=1` and `follow_up_due=1` list something on the demo's day. Through `app::workflow`, so
/// audited as those users.
pub fn case_workflow(conn: &mut DbConn, insurer: &Insurer, today: NaiveDate) -> anyhow::Result<()> {
    use crate::app::workflow::{add_note, set_workflow, SetWorkflow};
    let followed: i64 = crate::store::schema::case_workflow::table
        .filter(crate::store::schema::case_workflow::insurer_id.eq(insurer.id.0))
        .count()
        .get_result(conn)?;
    if followed > 0 {
        return Ok(());
    }
    let user_of = |conn: &mut DbConn, role: Role| -> anyhow::Result<Option<(i64, String)>> {
        Ok(users_table::table
            .filter(users_table::insurer_id.eq(insurer.id.0))
            .filter(users_table::role.eq(role.code()))
            .filter(users_table::deactivated_at.is_null())
            .order(users_table::id.asc())
            .select((users_table::id, users_table::email))
            .first(conn)
            .optional()?)
    };
    let (Some(staff), Some(admin)) = (user_of(conn, Role::Staff)?, user_of(conn, Role::Admin)?)
    else {
        return Ok(());
    };
    let as_user = |(id, email): &(i64, String)| Acting {
        insurer: insurer.id,
        user: Some(users::UserId(*id)),
        label: email.clone(),
    };
    let (staff, admin) = (as_user(&staff), as_user(&admin));
    let mut f = NoticeFilter::new(today);
    f.pending = true;
    f.sort = notice_store::Sort::RegistrationDeadlineAsc;
    let rows = notice_store::rows(conn, insurer.id, &insurer.rules, &f, 0, 12)?;
    let notes: [&[&str]; 6] = [
        &[
            "事業所に電話。今週中に再提出の予定",
            "再提出の書類を受領。中間サーバーへの登録を依頼済み",
        ],
        &["J-LIS照会で不一致。事業所に本人確認書類の写しを依頼"],
        &["被扶養者の続柄の確認のため、事業所の担当者に折り返しを依頼"],
        &[],
        &["個人番号が未記載。事業所にマイナンバーの提出を督促（電話・メール）"],
        &["資格確認書の交付を検討。来週、登録状況を再確認する"],
    ];
    for (i, row) in rows.iter().enumerate() {
        let who = match i {
            0..=5 => Some(&staff),
            6..=8 => Some(&admin),
            _ => None,
        };
        let follow_up_on = match i % 4 {
            0 => Some(today - Days::new(2)),
            1 => Some(today),
            2 => Some(today + Days::new(3)),
            _ => None,
        };
        let input = SetWorkflow {
            assignee: who.and_then(|a| a.user),
            follow_up_on,
        };
        let by = who.unwrap_or(&admin);
        set_workflow(conn, by, row.id, input)?;
        for text in notes.get(i).copied().unwrap_or_default() {
            add_note(conn, by, row.id, text)?;
        }
    }
    Ok(())
}

/// Three actions of the 改善計画, on checklist items of the insurer's kind: one done, one under
/// way with two reviews, one planned.
fn plan_actions(
    conn: &mut DbConn,
    acting: &Acting,
    insurer: &Insurer,
    today: NaiveDate,
) -> anyhow::Result<()> {
    use crate::app::survey::{add_action, add_review, NewPlanAction, NewReview};
    use crate::store::survey::PlanStatus;
    let item = |id: &'static str| {
        crate::reports::checklist::find(insurer.kind, id)
            .map(|_| id.to_string())
            .unwrap_or_default()
    };
    let day = |back: u64| today - Days::new(back);
    let actions = [
        (
            "J-LIS照会で不一致となった場合の対応フローを文書にし、担当者全員で共有する",
            item("2-③"),
            "資格管理係",
            day(75),
            today + Days::new(20),
            PlanStatus::InProgress,
            vec![
                (day(45), 30, "フロー案を作成し、係内で確認した"),
                (
                    day(10),
                    60,
                    "事業所への照会文例を追加。来月の係会で決定する",
                ),
            ],
        ),
        (
            "事業所への届出督促メールを自動送信にする",
            item("4-②"),
            "適用係",
            day(120),
            day(60),
            PlanStatus::Done,
            vec![(day(55), 100, "全事業所の連絡先を登録し、自動送信を開始した")],
        ),
        (
            "中間サーバーへの登録を毎営業日午前に行う運用に改める",
            item("2-⑤"),
            "資格管理係",
            today + Days::new(10),
            today + Days::new(70),
            PlanStatus::Planned,
            vec![],
        ),
    ];
    for (title, checklist_item, owner, start_on, due_on, status, reviews) in actions {
        let id = add_action(
            conn,
            acting,
            NewPlanAction {
                title: title.into(),
                checklist_item,
                owner: owner.into(),
                start_on: Some(start_on),
                due_on: Some(due_on),
                status,
            },
        )?;
        for (on, progress, note) in reviews {
            add_review(
                conn,
                acting,
                id,
                NewReview {
                    reviewed_on: Some(on),
                    progress: Some(progress),
                    note: note.into(),
                },
            )?;
        }
    }
    Ok(())
}

/// The 登録期間のお知らせ of every overdue, unregistered notice, produced (as the letters page
/// would, in HTML; the PDF is printed again from it on download) and dated a week ago.
fn overdue_letters(
    conn: &mut DbConn,
    acting: &Acting,
    today: NaiveDate,
    tera: &tera::Tera,
) -> anyhow::Result<()> {
    use crate::app::letters::{prepare_bulk_run, print, record, BulkRun, LetterError, Selection};
    let date = today - Days::new(7);
    let mut filter = NoticeFilter::new(date);
    filter.rule = Some(RuleSel::Registration);
    filter.status = Some(Status::Breached);
    filter.pending = true;
    let run = BulkRun {
        selection: Selection {
            filter,
            kind: crate::letters::LetterKind::RegistrationPeriod,
            date,
            again: false,
        },
        format: crate::letters::workflow::Format::Html,
        issue_until: None,
        filter_query: "status=breached&rule=registration&pending=1".into(),
    };
    let job = match prepare_bulk_run(conn, acting, run) {
        Ok(job) => job,
        Err(LetterError::NoLetters(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let printed = print(tera, &job)?;
    record(conn, acting, job, printed)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_gov_kana_and_dates() {
        assert_eq!(halfwidth_kana("サトウ　ショウタ"), "ｻﾄｳ ｼｮｳﾀ");
        assert_eq!(halfwidth_kana("ワタナベ ダイスケ"), "ﾜﾀﾅﾍﾞ ﾀﾞｲｽｹ");
        assert_eq!(halfwidth_kana("ポール"), "ﾎﾟｰﾙ");
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(era_yymmdd(d("2026-12-01")), ("9", "081201".to_string()));
        assert_eq!(era_yymmdd(d("2019-04-30")), ("7", "310430".to_string()));
        assert_eq!(era_yymmdd(d("1975-08-11")), ("5", "500811".to_string()));
    }

    #[test]
    fn the_demo_profiles_parse() {
        for kind in [InsurerKind::Kenpo, InsurerKind::Kyosai] {
            for (name, toml) in profile_tomls(kind) {
                let p = Profile::from_toml_str(&toml).unwrap();
                assert!(app_imports::profile_name(name).is_ok());
                assert_eq!(Profile::from_toml_str(&p.to_toml()).unwrap(), p);
            }
        }
    }
}
