//! Reminder e-mails to employers: the daily evaluation that queues them, the transports, the worker.
pub mod evaluate;
pub mod prefs;
pub mod render;
pub mod schedule;
pub mod smtp;
pub mod transport;
pub mod unsubscribe;
pub mod worker;

pub use evaluate::{
    evaluate_all, evaluate_insurer, evaluate_scheduled, preview_insurer, EvalCounts,
};
pub use schedule::Scheduler;
pub use transport::{MailSettings, Transport};
pub use worker::{run_once, Worker, WorkerCounts};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("メール設定が正しくありません: {0}")]
    Config(String),
    #[error("メールの作成に失敗しました: {0}")]
    Render(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Insurer(#[from] crate::store::insurers::InsurerError),
}

/// `regwatch outbox run --once`: one evaluation of every insurer as of `as_of`, one delivery
/// pass, and the counts as printed lines.
pub fn run_once_report(
    config: &crate::config::Config,
    as_of: chrono::NaiveDate,
) -> anyhow::Result<String> {
    use crate::store::outbox::{self, MailKind, OutboxStatus};
    use std::fmt::Write as _;
    let url = crate::store::DatabaseUrl::parse(&config.database_url)?;
    let mut conn = crate::store::establish(&url)?;
    crate::store::migrate(&mut conn)?;
    let key = crate::store::secrets::app_key(&mut conn, config.jwt_secret.as_ref())?;
    let settings = MailSettings::from_config(config)?.with_token_key(std::sync::Arc::new(key));
    let transport = Transport::from_config(config)?;
    let worker = Worker::new(transport, settings);
    let now = crate::store::now_utc();
    let (eval, sent) = run_once(&mut conn, &worker, as_of, now)?;
    let totals = outbox::totals(&mut conn)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "評価（{as_of}）: 保険者 {} / 事業所 {}（配信停止 {}・連絡先なし {}）",
        eval.insurers, eval.employers, eval.opted_out, eval.no_contact
    );
    let queued: Vec<String> = MailKind::ALL
        .iter()
        .map(|k| {
            format!(
                "{} {}",
                k.label_ja(),
                eval.queued.get(k.code()).copied().unwrap_or(0)
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "キュー登録: {} 件（{}）、登録済みのため省略 {} 件",
        eval.queued_total(),
        queued.join("・"),
        eval.already_queued
    );
    let _ = writeln!(
        out,
        "送信: {} 件 / 再送待ち {} 件 / 送信不可 {} 件",
        sent.sent, sent.failed, sent.dead
    );
    let left: Vec<String> = OutboxStatus::ALL
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s.label_ja(),
                totals.get(s.code()).copied().unwrap_or(0)
            )
        })
        .collect();
    let _ = writeln!(out, "送信箱: {}", left.join("・"));
    Ok(out)
}
