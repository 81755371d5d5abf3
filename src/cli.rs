//! Command line: clap commands that call the same library functions as the web routes.
use crate::config::Config;
use crate::domain::{InsurerKind, InsurerNumber, RuleSettings};
use crate::store::audit::AuditAction;
use crate::store::{self, audit, insurers, users, DatabaseUrl};
use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "regwatch",
    version,
    about = "regwatch — マイナ保険証のデータ登録（5日ルール）を見守る保険者向けサービス",
    long_about = "regwatch watches the 5-day submission and registration rules for the notices a health \
insurer receives (資格取得届・被扶養者届・資格喪失届), warns before a breach, drafts member letters, \
reminds employers and answers the MHLW follow-up survey."
)]
pub struct Cli {
    /// Configuration file (TOML). 設定ファイル
    #[arg(long, global = true, env = "REGWATCH_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://FILE (default sqlite://regwatch.db) or postgres://… データベースURL
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app (creates and migrates the database if needed). Webアプリを起動
    Serve(ServeArgs),
    /// Serve the web app with two demo insurers and a year of generated data (./regwatch-demo.db).
    /// デモ用データで起動
    Demo(DemoArgs),
    /// Create or upgrade the database schema. データベースを作成・更新
    Migrate,
    /// Manage insurers (tenants). 保険者の管理
    #[command(subcommand)]
    Insurer(InsurerCommand),
    /// Manage users of an insurer. 利用者の管理
    #[command(subcommand)]
    User(UserCommand),
    /// Evaluate a notices file against the rules, without a database. 届書ファイルの期限判定
    Check(CheckArgs),
    /// Generate realistic synthetic notices and registrations. 試験用データの生成
    Gen(GenArgs),
    /// Load a notices or registrations file into the database. ファイルの取込
    #[command(subcommand)]
    Import(ImportCommand),
    /// Reminder e-mails to employers (outbox). 事業所へのお知らせメール
    #[command(subcommand)]
    Outbox(OutboxCommand),
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Evaluate every insurer, queue the reminders due and deliver pending e-mails. 評価と送信
    Run(OutboxRunArgs),
}

#[derive(Debug, Args)]
pub struct OutboxRunArgs {
    /// One pass, then exit (`serve` runs the daily schedule). 1回だけ実行
    #[arg(long)]
    pub once: bool,
    /// Evaluate as of this date (YYYY-MM-DD; default today in Japan). 基準日
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Load a notices file (資格取得届・被扶養者届・資格喪失届). 届書ファイルの取込
    Notices(ImportArgs),
    /// Load intermediate-server registration results. 登録結果ファイルの取込
    Registrations(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// CSV (UTF-8 or Shift_JIS, comma or tab separated), Excel (.xlsx, .xls) or an employer's
    /// e-Gov file (SHFD0006.CSV / KPFD0006.CSV). 取込ファイル
    pub file: PathBuf,
    /// 保険者番号 of the insurer the file belongs to. 保険者番号
    #[arg(long)]
    pub insurer: String,
    /// Validate dates as of this date (default today in Japan). 基準日
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Import profile (TOML, SPEC §3.1): the file's sheet, header row, columns and codes. 取込プロファイル
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// e-Gov files: the day the insurer received the file (default today in Japan). 受付日
    #[arg(long, value_name = "DATE")]
    pub received_on: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Notices file (CSV, TSV, Excel or e-Gov; see `import`). 届書ファイル
    #[arg(long, value_name = "FILE")]
    pub notices: PathBuf,
    /// Registration results file (CSV, TSV or Excel), by 受付番号 or by member. 中間サーバー登録結果ファイル
    #[arg(long, value_name = "FILE")]
    pub registrations: Option<PathBuf>,
    /// Evaluate as of this date (YYYY-MM-DD; default today in Japan). 基準日
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Rule settings (TOML; SPEC §2 defaults when omitted). ルール設定
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Output format. 出力形式
    #[arg(long, value_enum, default_value = "table")]
    pub format: crate::reports::check::CheckFormat,
    /// Import profile (TOML, SPEC §3.1) with a [notices] and/or [registrations] part. 取込プロファイル
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// e-Gov files: the day the insurer received the file (default today in Japan). 受付日
    #[arg(long, value_name = "DATE")]
    pub received_on: Option<String>,
}

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Number of notices. 届書の件数
    #[arg(long)]
    pub notices: u64,
    /// Random seed: the same seed gives the same files. 乱数シード
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory (notices.csv, registrations.csv). 出力先
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Last day of the 12 months generated (default today in Japan). 最終日
    #[arg(long, value_name = "DATE")]
    pub end: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080). 待ち受けアドレス
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on (default 127.0.0.1:8080). 待ち受けアドレス
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Password of every demo user (default regwatch-demo, at least 10 characters). パスワード
    #[arg(long, value_name = "PW")]
    pub password: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum InsurerCommand {
    /// Register an insurer. 保険者を登録
    Add {
        /// 保険者番号 (8 digits)
        #[arg(long)]
        number: String,
        /// Name, e.g. ○○健康保険組合. 名称
        #[arg(long)]
        name: String,
        /// kenpo (健保組合) or kyosai (共済組合等). 種別
        #[arg(long)]
        kind: String,
        /// Rule settings (TOML, SPEC §2); defaults when omitted. ルール設定ファイル
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
    },
    /// List insurers. 保険者の一覧
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user to an insurer. 利用者を追加
    Add {
        /// 保険者番号 of the user's insurer
        #[arg(long)]
        insurer: String,
        /// Sign-in e-mail. メールアドレス
        #[arg(long)]
        email: String,
        /// admin | staff | viewer. 役割
        #[arg(long, default_value = "staff")]
        role: String,
        /// Read the password from the first line of standard input (otherwise it is prompted for).
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Parses the command line and runs it. Errors are returned for `main` to print as one line.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    // check and gen need no database or configuration: keep them fast and side-effect free.
    match &cli.command {
        Command::Check(args) => return check_command(args),
        Command::Gen(args) => return gen_command(args),
        _ => {}
    }
    let mut config = Config::load(cli.config.as_deref())?;
    if let Command::Demo(_) = &cli.command {
        // The demo never writes into the configured (possibly production) database: its own
        // SQLite file unless --database-url names another one.
        config.database_url = crate::demo::DEFAULT_DATABASE_URL.to_string();
    }
    if let Some(url) = &cli.database_url {
        config.database_url = url.clone();
    }
    crate::telemetry::init(config.log_format);
    match cli.command {
        Command::Serve(args) => {
            if let Some(bind) = args.bind {
                config.bind = bind;
            }
            serve(config)?;
        }
        Command::Demo(args) => demo(config, args)?,
        Command::Migrate => {
            let url = DatabaseUrl::parse(&config.database_url)?;
            let mut conn = store::establish(&url)?;
            let applied = store::migrate(&mut conn)?;
            if applied.is_empty() {
                println!("データベースは最新です（{url}）");
            } else {
                println!(
                    "{} 件のマイグレーションを適用しました（{url}）",
                    applied.len()
                );
            }
        }
        Command::Insurer(cmd) => insurer_command(&config, cmd)?,
        Command::User(cmd) => user_command(&config, cmd)?,
        Command::Import(cmd) => return import_command(&config, cmd),
        Command::Outbox(OutboxCommand::Run(args)) => {
            if !args.once {
                bail!("--once を指定してください（定期実行は serve が行います）");
            }
            let as_of = parse_date_arg("--as-of", args.as_of.as_deref())?;
            print!("{}", crate::mail::run_once_report(&config, as_of)?);
        }
        Command::Check(_) | Command::Gen(_) => unreachable!("handled above"),
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(config: Config) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("非同期ランタイムを起動できません")?;
    rt.block_on(async move {
        let app = crate::web::Application::build(config.clone()).await?;
        let host = config
            .bind
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or("127.0.0.1");
        tracing::info!(port = app.port(), "regwatch serving");
        eprintln!(
            "regwatch: http://{}:{}/ で待ち受けています（Ctrl-C で停止）",
            host,
            app.port()
        );
        // The daily reminder evaluation and the outbox delivery run beside the web server; every
        // instance may run them (claims are leased, evaluations deduplicated).
        let settings = crate::mail::transport::MailSettings::from_config(&config)?
            .with_token_key(app.state.jwt_key.clone());
        let worker = crate::mail::worker::Worker::new(
            crate::mail::transport::Transport::from_config(&config)?,
            settings,
        );
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mail = crate::mail::schedule::Scheduler::new(worker, config.mail_schedule_hour)
            .spawn(app.state.pool.clone(), stop.clone());
        spawn_rollup_refresh(app.state.pool.clone());
        let result = app
            .run_until_stopped()
            .await
            .context("サーバーが異常終了しました");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        mail.thread().unpark();
        if mail.join().is_err() {
            tracing::error!("mail thread panicked");
        }
        result
    })
}

/// Rebuilds, in the background, the report rollups a database lacks (loaded before they existed)
/// or that an older version wrote; pages evaluate those days live meanwhile.
fn spawn_rollup_refresh(pool: crate::store::DbPool) {
    let spawned = std::thread::Builder::new()
        .name("rollups".into())
        .spawn(move || {
            let r = pool.get().map_err(|e| e.to_string()).and_then(|mut c| {
                crate::reports::rollups::refresh_all(&mut c).map_err(|e| e.to_string())
            });
            match r {
                Ok(0) => {}
                Ok(days) => tracing::info!(days, "report rollups brought up to date"),
                Err(e) => tracing::warn!(error = %e, "report rollups not rebuilt"),
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "report rollups not rebuilt");
    }
}

fn demo(mut config: Config, args: DemoArgs) -> anyhow::Result<()> {
    use std::sync::atomic::Ordering;
    if let Some(bind) = args.bind {
        config.bind = bind;
    }
    let password = args
        .password
        .unwrap_or_else(|| crate::demo::DEFAULT_PASSWORD.to_string());
    if password.chars().count() < users::MIN_PASSWORD_LEN {
        bail!(
            "--password は{}文字以上にしてください",
            users::MIN_PASSWORD_LEN
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("非同期ランタイムを起動できません")?;
    rt.block_on(async move {
        let database = DatabaseUrl::parse(&config.database_url)?;
        let app = crate::web::Application::build(config.clone()).await?;
        // /readyz answers 503 until the demo data is loaded.
        app.state.ready.store(false, Ordering::Release);
        let host = config
            .bind
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or("127.0.0.1");
        let host = if host == "0.0.0.0" || host.is_empty() {
            "127.0.0.1"
        } else {
            host
        };
        let port = app.port();
        println!("regwatch デモ: http://{host}:{port}/ （Ctrl-C で停止）");
        println!("データベース: {database}");
        println!("サインイン（パスワードはすべて {password}）:");
        for (demo, email, role) in crate::demo::sign_ins() {
            println!("  {email:<28} {}（{}）", demo.name, role.label_ja());
        }
        println!("デモデータを準備しています…");
        let ready = app.state.ready.clone();
        let pool = app.state.pool.clone();
        let tera = app.state.tera.clone();
        // The demo's e-mails go where `serve`'s would: SMTP when configured, else ./outbox/.
        let settings = crate::mail::transport::MailSettings::from_config(&config)?
            .with_token_key(app.state.jwt_key.clone());
        let worker = crate::mail::worker::Worker::new(
            crate::mail::transport::Transport::from_config(&config)?,
            settings,
        );
        let server = tokio::spawn(app.run_until_stopped());
        let started = std::time::Instant::now();
        let loaded = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut conn = pool.get().map_err(store::StoreError::from)?;
            let today = today_jst();
            let loaded = crate::demo::load(&mut conn, today, &SecretString::from(password))?;
            for l in &loaded {
                crate::demo::ensure_activity(&mut conn, &l.insurer, today, &tera)?;
            }
            let insurers: Vec<_> = loaded.iter().map(|l| &l.insurer).collect();
            crate::demo::ensure_mail_history(&mut conn, &insurers, today, &worker)?;
            Ok(loaded)
        })
        .await
        .context("デモデータの準備が異常終了しました")?
        .context("デモデータを準備できません")?;
        for l in &loaded {
            let c = l.counts;
            println!(
                "  {} {}: 届書 {} 件（{}）— 期限超過（未登録）{} 件、期限間近 {} 件、対応中 {} 件、資格確認書の交付対象 {} 件、登録エラー {} 件",
                l.insurer.number,
                l.insurer.name,
                c.notices,
                if l.reused { "既存のデータ" } else { "今回生成" },
                c.open_breached,
                c.at_risk,
                c.open,
                c.ex_officio,
                c.registration_errors
            );
            if let Some(until) = l.data_until.filter(|d| l.reused && *d < today_jst()) {
                println!(
                    "    （{until} までのデータです。今日までのデータにするには {database} を削除して起動し直してください）"
                );
            }
        }
        ready.store(true, Ordering::Release);
        println!(
            "準備ができました（{:.1} 秒）。http://{}:{}/ を開いてください",
            started.elapsed().as_secs_f64(),
            host,
            port
        );
        server
            .await
            .context("サーバーが異常終了しました")?
            .context("サーバーが異常終了しました")
    })
}

fn open_db(config: &Config) -> anyhow::Result<store::DbConn> {
    let url = DatabaseUrl::parse(&config.database_url)?;
    let mut conn = store::establish(&url)?;
    store::migrate(&mut conn)?;
    Ok(conn)
}

fn insurer_command(config: &Config, cmd: InsurerCommand) -> anyhow::Result<()> {
    match cmd {
        InsurerCommand::Add {
            number,
            name,
            kind,
            rules,
        } => {
            let number = InsurerNumber::parse(&number).map_err(anyhow::Error::msg)?;
            let kind = InsurerKind::parse(&kind).map_err(anyhow::Error::msg)?;
            let name = name.trim();
            if name.is_empty() {
                bail!("保険者の名称が空です");
            }
            let rules = match rules {
                None => RuleSettings::default(),
                Some(p) => {
                    let text = std::fs::read_to_string(&p).with_context(|| {
                        format!("ルール設定ファイル {} を読めません", p.display())
                    })?;
                    RuleSettings::from_toml_str(&text)
                        .with_context(|| format!("ルール設定ファイル {}", p.display()))?
                }
            };
            let mut conn = open_db(config)?;
            let ins = insurers::create(&mut conn, &number, name, kind, &rules)?;
            audit::record(
                &mut conn,
                &audit::AuditEntry {
                    insurer: Some(ins.id),
                    user: None,
                    actor: "cli",
                    action: AuditAction::InsurerAddCli,
                    target: Some(number.as_str()),
                    detail: None,
                },
            )?;
            println!(
                "保険者を登録しました: {} {}（{}）",
                ins.number,
                ins.name,
                ins.kind.label_ja()
            );
        }
        InsurerCommand::List => {
            let mut conn = open_db(config)?;
            let all = insurers::list(&mut conn)?;
            if all.is_empty() {
                println!("保険者は登録されていません");
            }
            for i in all {
                println!("{}\t{}\t{}", i.number, i.kind.code(), i.name);
            }
        }
    }
    Ok(())
}

fn user_command(config: &Config, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            insurer,
            email,
            role,
            password_stdin,
        } => {
            let number = InsurerNumber::parse(&insurer).map_err(anyhow::Error::msg)?;
            let email = users::Email::parse(&email).map_err(anyhow::Error::msg)?;
            let role = users::Role::parse(&role).map_err(anyhow::Error::msg)?;
            let password = read_password(password_stdin)?;
            let mut conn = open_db(config)?;
            let ins = insurers::find_by_number(&mut conn, &number)?;
            let id = users::create(&mut conn, ins.id, &email, role, &password)?;
            audit::record(
                &mut conn,
                &audit::AuditEntry {
                    insurer: Some(ins.id),
                    user: Some(id),
                    actor: "cli",
                    action: AuditAction::UserAddCli,
                    target: Some(email.as_str()),
                    detail: Some(role.code()),
                },
            )?;
            println!(
                "利用者を追加しました: {}（{}、{} {}）",
                email.as_str(),
                role.label_ja(),
                ins.number,
                ins.name
            );
        }
    }
    Ok(())
}

fn read_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("標準入力からパスワードを読めません")?;
        let pw = line.trim_end_matches(['\r', '\n']).to_string();
        if pw.is_empty() {
            bail!("標準入力にパスワードがありません");
        }
        return Ok(SecretString::from(pw));
    }
    if !std::io::stdin().is_terminal() {
        bail!("パスワードを入力できません: 端末がないときは --password-stdin を使ってください");
    }
    let first = rpassword::prompt_password("パスワード: ").context("パスワードを読めません")?;
    let second =
        rpassword::prompt_password("パスワード（確認）: ").context("パスワードを読めません")?;
    if first != second {
        bail!("パスワードが一致しません");
    }
    Ok(SecretString::from(first))
}

/// Today's date in Japan: every rule counts Japan dates (SPEC §2.1).
pub use crate::time::today_jst;

fn parse_date_arg(flag: &str, v: Option<&str>) -> anyhow::Result<chrono::NaiveDate> {
    match v {
        None => Ok(today_jst()),
        Some(s) => crate::ingest::parse_date(s)
            .map_err(|e| anyhow::anyhow!("{flag} の日付が正しくありません: {s}（{e}）")),
    }
}

/// An import profile file (SPEC §3.1).
fn read_profile(path: &std::path::Path) -> anyhow::Result<crate::ingest::Profile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("取込プロファイル {} を読めません", path.display()))?;
    crate::ingest::Profile::from_toml_str(&text)
        .with_context(|| format!("取込プロファイル {}", path.display()))
}

fn check_command(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    use crate::reports::check;
    let as_of = parse_date_arg("--as-of", args.as_of.as_deref())?;
    let rules = match &args.rules {
        None => RuleSettings::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("ルール設定ファイル {} を読めません", p.display()))?;
            RuleSettings::from_toml_str(&text)
                .with_context(|| format!("ルール設定ファイル {}", p.display()))?
        }
    };
    let opts = check::CheckOptions {
        notices: args.notices.clone(),
        registrations: args.registrations.clone(),
        as_of,
        rules,
        format: args.format,
        profile: args.profile.as_deref().map(read_profile).transpose()?,
        received_on: Some(parse_date_arg(
            "--received-on",
            args.received_on.as_deref(),
        )?),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let stderr = std::io::stderr();
    let mut err = std::io::BufWriter::new(stderr.lock());
    let outcome = check::run(&opts, &mut out, &mut err);
    use std::io::Write;
    out.flush().context("出力できません")?;
    err.flush().context("出力できません")?;
    let outcome = outcome?;
    if outcome.rejected + outcome.registrations_rejected > 0 {
        eprintln!(
            "{} 件を判定し、{} 行を却下しました（届書 {} 行、登録結果 {} 行）",
            outcome.accepted,
            outcome.rejected + outcome.registrations_rejected,
            outcome.rejected,
            outcome.registrations_rejected
        );
    }
    Ok(ExitCode::from(outcome.exit_code()))
}

fn gen_command(args: &GenArgs) -> anyhow::Result<ExitCode> {
    let end = parse_date_arg("--end", args.end.as_deref())?;
    if args.notices == 0 {
        bail!("--notices は1以上を指定してください");
    }
    let stats = crate::gen::generate(
        &args.out,
        &crate::gen::GenOptions {
            notices: args.notices,
            seed: args.seed,
            end,
        },
    )
    .with_context(|| format!("{} に書き込めません", args.out.display()))?;
    println!(
        "{} 件の届書と {} 件の登録結果を {} に書き出しました（未登録 {} 件、個人番号 未記載 {} 件・誤り {} 件）",
        stats.notices,
        stats.registrations,
        args.out.display(),
        stats.pending,
        stats.my_number_missing,
        stats.my_number_invalid
    );
    Ok(ExitCode::SUCCESS)
}

fn import_command(config: &Config, cmd: ImportCommand) -> anyhow::Result<ExitCode> {
    use crate::store::import::{self, Actor, FileKind};
    let (kind, args) = match cmd {
        ImportCommand::Notices(a) => (FileKind::Notices, a),
        ImportCommand::Registrations(a) => (FileKind::Registrations, a),
    };
    let as_of = parse_date_arg("--as-of", args.as_of.as_deref())?;
    let received_on = parse_date_arg("--received-on", args.received_on.as_deref())?;
    let number = InsurerNumber::parse(&args.insurer).map_err(anyhow::Error::msg)?;
    let part = match kind {
        FileKind::Notices => crate::ingest::Part::Notices,
        FileKind::Registrations => crate::ingest::Part::Registrations,
    };
    let profile = args.profile.as_deref().map(read_profile).transpose()?;
    let part_profile = match (&profile, &args.profile) {
        (Some(p), Some(path)) => Some(p.part(part).with_context(|| {
            format!(
                "取込プロファイル {} に [{}] がありません",
                path.display(),
                part.code()
            )
        })?),
        _ => None,
    };
    let opened = crate::ingest::convert::open_path(
        &args.file,
        part,
        crate::ingest::SourceOptions {
            profile: part_profile,
            received_on: Some(received_on),
        },
    )
    .with_context(|| format!("ファイル {}", args.file.display()))?;
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| args.file.display().to_string());
    let mut conn = open_db(config)?;
    // A large file holds the write lock for a while; a second import waits for it instead of
    // failing with "database is locked".
    if let store::DbConn::Sqlite(c) = &mut conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute(
            "PRAGMA busy_timeout = 3600000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;",
        )?;
    }
    let insurer = insurers::find_by_number(&mut conn, &number)?;
    let actor = Actor {
        user: None,
        label: "cli".into(),
    };
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} {pos} 行（{per_sec}）{elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        b.set_message(format!("{}を取込中", kind.label_ja()));
        b.enable_steady_tick(std::time::Duration::from_millis(200));
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut progress = |rows: u64| bar.set_position(rows);
    let reader = std::io::BufReader::with_capacity(1 << 20, opened.reader);
    let result = match kind {
        FileKind::Notices => import::import_notices(
            &mut conn,
            &insurer,
            reader,
            &file_name,
            &actor,
            as_of,
            &mut progress,
        ),
        FileKind::Registrations => import::import_registrations(
            &mut conn,
            &insurer,
            reader,
            &file_name,
            &actor,
            &mut progress,
        ),
    };
    bar.finish_and_clear();
    let summary = result?;
    crate::reports::rollups::refresh_after_change(&mut conn, insurer.id);
    audit::record(
        &mut conn,
        &audit::AuditEntry {
            insurer: Some(insurer.id),
            user: None,
            actor: "cli",
            action: if kind == FileKind::Notices {
                AuditAction::ImportNoticesCli
            } else {
                AuditAction::ImportRegistrationsCli
            },
            target: Some(&file_name),
            detail: Some(&format!("batch {}", summary.batch_id)),
        },
    )?;
    for r in &summary.rejects {
        eprintln!("line {}: {}", r.line, r.reason);
    }
    if summary.rejected as usize > summary.rejects.len() {
        eprintln!(
            "…ほか {} 行（全件は取込履歴の却下行CSVで確認できます）",
            summary.rejected as usize - summary.rejects.len()
        );
    }
    println!(
        "{} {}（{} {}）: {}。取込番号 {}",
        kind.label_ja(),
        file_name,
        insurer.number,
        insurer.name,
        summary.line_ja(),
        summary.batch_id
    );
    if summary.without_notice > 0 {
        println!(
            "うち {} 件は届書が未取込です（届書の取込時に反映されます）",
            summary.without_notice
        );
    }
    Ok(ExitCode::from(if summary.rejected > 0 { 3 } else { 0 }))
}
