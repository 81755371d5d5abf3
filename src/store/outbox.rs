//! The e-mail outbox: queueing with a dedupe key, claiming with a lease, retries with backoff and a
//! dead letter. Workers on PostgreSQL claim with `FOR UPDATE SKIP LOCKED`; on SQLite the claim runs
//! under `BEGIN IMMEDIATE`, so one worker at a time takes rows and the lease column does the rest.
use super::insurers::InsurerId;
use super::schema::{employers, outbox, outbox_notices};
use super::{write_tx, DbConn};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Database id of an outbox message; also the source of its stable Message-ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct OutboxId(pub i64);

/// What a reminder is about (SPEC §5, issue 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    LateSubmission,
    MyNumber,
    CertificateExpiry,
    WeeklyDigest,
}

impl MailKind {
    pub const ALL: [MailKind; 4] = [
        MailKind::LateSubmission,
        MailKind::MyNumber,
        MailKind::CertificateExpiry,
        MailKind::WeeklyDigest,
    ];
    pub fn code(self) -> &'static str {
        match self {
            MailKind::LateSubmission => "late_submission",
            MailKind::MyNumber => "my_number",
            MailKind::CertificateExpiry => "certificate_expiry",
            MailKind::WeeklyDigest => "weekly_digest",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            MailKind::LateSubmission => "提出遅延のお知らせ",
            MailKind::MyNumber => "個人番号ご提出のお願い",
            MailKind::CertificateExpiry => "資格確認書の有効期限が近づいています",
            MailKind::WeeklyDigest => "週次のご案内",
        }
    }
    pub fn parse(s: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.code() == s.trim())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    Sending,
    Sent,
    /// Failed at least once; retried at `next_attempt_at`.
    Failed,
    /// Out of attempts (or refused permanently): kept for staff to look at and retry.
    Dead,
    Held,
    Cancelled,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 7] = [
        OutboxStatus::Pending,
        OutboxStatus::Sending,
        OutboxStatus::Sent,
        OutboxStatus::Failed,
        OutboxStatus::Dead,
        OutboxStatus::Held,
        OutboxStatus::Cancelled,
    ];
    pub fn code(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Dead => "dead",
            OutboxStatus::Held => "held",
            OutboxStatus::Cancelled => "cancelled",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "送信待ち",
            OutboxStatus::Sending => "送信中",
            OutboxStatus::Sent => "送信済み",
            OutboxStatus::Failed => "再送待ち",
            OutboxStatus::Dead => "送信失敗",
            OutboxStatus::Held => "保留",
            OutboxStatus::Cancelled => "取消",
        }
    }
    pub fn parse(s: &str) -> Option<OutboxStatus> {
        OutboxStatus::ALL.into_iter().find(|k| k.code() == s.trim())
    }
}

/// Exponential backoff: 1 minute after the first failure, doubling, never more than 24 hours.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub max_attempts: u32,
}

impl RetryPolicy {
    pub const BASE_SECS: i64 = 60;
    pub const CAP_SECS: i64 = 24 * 60 * 60;

    /// Delay before the next try after `attempts` failed tries (attempts ≥ 1).
    pub fn backoff(attempts: u32) -> Duration {
        let shift = attempts.saturating_sub(1).min(30);
        let secs = Self::BASE_SECS.saturating_mul(1i64 << shift);
        Duration::seconds(secs.min(Self::CAP_SECS))
    }
}

/// A message to queue, already rendered.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub insurer: InsurerId,
    pub employer_id: i64,
    pub kind: MailKind,
    pub dedupe_key: String,
    pub recipients: Vec<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub as_of: NaiveDate,
    /// (notice id, certificate id) covered by the message.
    pub items: Vec<(i64, Option<i64>)>,
    /// The insurer's sender settings when it was queued (`None`: the configuration's).
    pub sender: FrozenSender,
}

/// The sender fields frozen into a message, like its subject and bodies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrozenSender {
    pub name: Option<String>,
    pub from_address: Option<String>,
    pub reply_to: Option<String>,
    pub bounce_address: Option<String>,
}

pub fn dedupe_key_exists(conn: &mut DbConn, key: &str) -> Result<bool, diesel::result::Error> {
    let n: i64 = outbox::table
        .filter(outbox::dedupe_key.eq(key))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Queues a message unless its dedupe key is already there (then `None`). Call inside the
/// transaction of the evaluation that causes it; the caller serialises evaluations (see
/// `lock_insurer`), so the check and the insert cannot race.
pub fn queue(
    conn: &mut DbConn,
    m: &NewMessage,
    now: NaiveDateTime,
) -> Result<Option<OutboxId>, diesel::result::Error> {
    if dedupe_key_exists(conn, &m.dedupe_key)? {
        return Ok(None);
    }
    let id: i64 = diesel::insert_into(outbox::table)
        .values((
            outbox::insurer_id.eq(m.insurer.0),
            outbox::employer_id.eq(m.employer_id),
            outbox::kind.eq(m.kind.code()),
            outbox::dedupe_key.eq(&m.dedupe_key),
            outbox::recipients.eq(m.recipients.join(",")),
            outbox::subject.eq(&m.subject),
            outbox::body_text.eq(&m.body_text),
            outbox::body_html.eq(&m.body_html),
            outbox::status.eq(OutboxStatus::Pending.code()),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::as_of.eq(m.as_of),
            outbox::created_at.eq(now),
            outbox::updated_at.eq(now),
            outbox::sender_name.eq(m.sender.name.as_deref()),
            outbox::from_address.eq(m.sender.from_address.as_deref()),
            outbox::reply_to.eq(m.sender.reply_to.as_deref()),
            outbox::bounce_address.eq(m.sender.bounce_address.as_deref()),
        ))
        .returning(outbox::id)
        .get_result(conn)?;
    for chunk in m.items.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(notice, cert)| {
                (
                    outbox_notices::outbox_id.eq(id),
                    outbox_notices::insurer_id.eq(m.insurer.0),
                    outbox_notices::employer_id.eq(m.employer_id),
                    outbox_notices::kind.eq(m.kind.code()),
                    outbox_notices::notice_id.eq(*notice),
                    outbox_notices::certificate_id.eq(*cert),
                )
            })
            .collect();
        // One statement per row: MultiConnection has no batch insert for both backends.
        for r in rows {
            diesel::insert_into(outbox_notices::table)
                .values(r)
                .execute(conn)?;
        }
    }
    Ok(Some(OutboxId(id)))
}

/// Serialises evaluations of one insurer across instances (PostgreSQL advisory lock held until the
/// transaction ends). SQLite needs nothing: the write transaction is `BEGIN IMMEDIATE`.
pub fn lock_insurer(conn: &mut DbConn, insurer: InsurerId) -> Result<(), diesel::result::Error> {
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind::<diesel::sql_types::Integer, _>(0x0b0c_0001_i32)
            .bind::<diesel::sql_types::Integer, _>(insurer.0 as i32)
            .execute(c)?;
    }
    Ok(())
}

/// Notices (and certificates) of this kind already covered by a queued message of the insurer.
pub fn covered(
    conn: &mut DbConn,
    insurer: InsurerId,
    kind: MailKind,
) -> Result<(HashSet<i64>, HashSet<i64>), diesel::result::Error> {
    let rows: Vec<(i64, Option<i64>)> = outbox_notices::table
        .filter(outbox_notices::insurer_id.eq(insurer.0))
        .filter(outbox_notices::kind.eq(kind.code()))
        .select((outbox_notices::notice_id, outbox_notices::certificate_id))
        .load(conn)?;
    let mut notices = HashSet::new();
    let mut certs = HashSet::new();
    for (n, c) in rows {
        notices.insert(n);
        if let Some(c) = c {
            certs.insert(c);
        }
    }
    Ok((notices, certs))
}

/// An employer as the evaluation sees it.
#[derive(Clone, Debug)]
pub struct EmployerContact {
    pub id: i64,
    pub code: String,
    pub name: Option<String>,
    pub contacts: Vec<String>,
    pub opt_out: bool,
}

/// Every employer of the insurer, in code order.
pub fn employers_of(
    conn: &mut DbConn,
    insurer: InsurerId,
) -> Result<Vec<EmployerContact>, diesel::result::Error> {
    let rows: Vec<(i64, String, Option<String>, String, bool)> = employers::table
        .filter(employers::insurer_id.eq(insurer.0))
        .order(employers::code.asc())
        .select((
            employers::id,
            employers::code,
            employers::name,
            employers::contact_emails,
            employers::opt_out,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, code, name, contacts, opt_out)| EmployerContact {
            id,
            code,
            name,
            contacts: super::employers::contacts_of(&contacts),
            opt_out,
        })
        .collect())
}

/// 資格確認書 of the insurer whose validity ends in `[from, to]`: (certificate id, notice id,
/// valid until).
pub fn certificates_ending(
    conn: &mut DbConn,
    insurer: InsurerId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(i64, i64, NaiveDate)>, diesel::result::Error> {
    use super::schema::certificates;
    certificates::table
        .filter(certificates::insurer_id.eq(insurer.0))
        .filter(certificates::valid_until.between(from, to))
        .order(certificates::id.asc())
        .select((
            certificates::id,
            certificates::notice_id,
            certificates::valid_until,
        ))
        .load(conn)
}

/// A claimed message, ready to send.
#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub insurer_id: i64,
    pub employer_id: i64,
    pub kind: String,
    pub recipients: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub as_of: NaiveDate,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub sender_name: Option<String>,
    pub from_address: Option<String>,
    pub reply_to: Option<String>,
    pub bounce_address: Option<String>,
}

impl OutboxRow {
    pub fn recipient_list(&self) -> Vec<String> {
        super::employers::contacts_of(&self.recipients)
    }
    pub fn kind(&self) -> Option<MailKind> {
        MailKind::parse(&self.kind)
    }
    pub fn status(&self) -> Option<OutboxStatus> {
        OutboxStatus::parse(&self.status)
    }
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// Claims up to `limit` due messages for `worker` with a lease until `now + lease`: pending or
/// failed rows whose time has come, and `sending` rows whose lease ran out (a worker died).
pub fn claim(
    conn: &mut DbConn,
    worker: &str,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
) -> Result<Vec<OutboxRow>, diesel::result::Error> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    write_tx(conn, |conn| {
        let ids: Vec<i64> = if let DbConn::Pg(c) = conn {
            diesel::sql_query(
                "SELECT id FROM outbox WHERE (status IN ('pending', 'failed') AND next_attempt_at <= $1) \
                 OR (status = 'sending' AND locked_until < $1) \
                 ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .bind::<diesel::sql_types::BigInt, _>(limit)
            .load::<IdRow>(c)?
            .into_iter()
            .map(|r| r.id)
            .collect()
        } else {
            outbox::table
                .filter(
                    outbox::status
                        .eq_any([OutboxStatus::Pending.code(), OutboxStatus::Failed.code()])
                        .and(outbox::next_attempt_at.le(now))
                        .or(outbox::status
                            .eq(OutboxStatus::Sending.code())
                            .and(outbox::locked_until.assume_not_null().lt(now))),
                )
                .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
                .limit(limit)
                .select(outbox::id)
                .load(conn)?
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set((
                outbox::status.eq(OutboxStatus::Sending.code()),
                outbox::locked_by.eq(worker),
                outbox::locked_until.eq(now + lease),
                outbox::updated_at.eq(now),
            ))
            .execute(conn)?;
        outbox::table
            .filter(outbox::id.eq_any(&ids))
            .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
            .select(OutboxRow::as_select())
            .load(conn)
    })
}

/// Marks a claimed message sent, in its own short transaction right after the server accepted it.
/// False if the lease was lost meanwhile (another worker took it).
///
/// On PostgreSQL the commit does not wait for the WAL flush (`synchronous_commit = off` for this
/// transaction only): it is visible to every other session at once, so a killed worker loses
/// nothing; only a crash of PostgreSQL itself within ~0.6 s (3 × `wal_writer_delay`) can forget
/// the last marks, and those messages are then sent again with their stable Message-ID — the same
/// at-least-once guarantee. Waiting for a flush per message halved the delivery rate.
pub fn mark_sent(
    conn: &mut DbConn,
    id: OutboxId,
    worker: &str,
    now: NaiveDateTime,
) -> Result<bool, diesel::result::Error> {
    let update = |c: &mut DbConn| {
        diesel::update(
            outbox::table
                .filter(outbox::id.eq(id.0))
                .filter(outbox::status.eq(OutboxStatus::Sending.code()))
                .filter(outbox::locked_by.eq(worker)),
        )
        .set((
            outbox::status.eq(OutboxStatus::Sent.code()),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::sent_at.eq(Some(now)),
            outbox::locked_by.eq(None::<String>),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
            outbox::updated_at.eq(now),
        ))
        .execute(c)
    };
    let n = if matches!(conn, DbConn::Pg(_)) {
        conn.transaction(|c| {
            if let DbConn::Pg(pg) = c {
                diesel::sql_query("SET LOCAL synchronous_commit TO OFF").execute(pg)?;
            }
            update(c)
        })?
    } else {
        update(conn)?
    };
    Ok(n == 1)
}

/// Records a failed try: retried after the backoff, or dead when out of attempts or `permanent`.
pub fn mark_failed(
    conn: &mut DbConn,
    id: OutboxId,
    worker: &str,
    now: NaiveDateTime,
    error: &str,
    permanent: bool,
    policy: RetryPolicy,
) -> Result<OutboxStatus, diesel::result::Error> {
    let attempts: i32 = outbox::table
        .find(id.0)
        .select(outbox::attempts)
        .first(conn)?;
    let attempts = attempts.saturating_add(1);
    let status = if permanent || attempts as u32 >= policy.max_attempts {
        OutboxStatus::Dead
    } else {
        OutboxStatus::Failed
    };
    let error: String = error.chars().take(1000).collect();
    diesel::update(
        outbox::table
            .filter(outbox::id.eq(id.0))
            .filter(outbox::status.eq(OutboxStatus::Sending.code()))
            .filter(outbox::locked_by.eq(worker)),
    )
    .set((
        outbox::status.eq(status.code()),
        outbox::attempts.eq(attempts),
        outbox::next_attempt_at.eq(now + RetryPolicy::backoff(attempts as u32)),
        outbox::locked_by.eq(None::<String>),
        outbox::locked_until.eq(None::<NaiveDateTime>),
        outbox::last_error.eq(Some(error)),
        outbox::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(status)
}

/// Messages sent since `since`, by any worker: the rate limit is shared.
pub fn sent_since(conn: &mut DbConn, since: NaiveDateTime) -> Result<i64, diesel::result::Error> {
    outbox::table
        .filter(outbox::sent_at.assume_not_null().gt(since))
        .count()
        .get_result(conn)
}

/// Messages of an insurer per status.
pub fn counts(
    conn: &mut DbConn,
    insurer: InsurerId,
) -> Result<HashMap<String, i64>, diesel::result::Error> {
    let rows: Vec<(String, i64)> = outbox::table
        .filter(outbox::insurer_id.eq(insurer.0))
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Messages of all insurers per status (the CLI summary).
pub fn totals(conn: &mut DbConn) -> Result<HashMap<String, i64>, diesel::result::Error> {
    let rows: Vec<(String, i64)> = outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// One message for the list, with the employer's code.
#[derive(Clone, Debug, Serialize)]
pub struct ListedMessage {
    #[serde(flatten)]
    pub row: OutboxRow,
    pub employer_code: String,
    pub employer_name: Option<String>,
}

/// The insurer's messages in the given statuses, newest first.
pub fn list(
    conn: &mut DbConn,
    insurer: InsurerId,
    statuses: &[OutboxStatus],
    limit: i64,
) -> Result<Vec<ListedMessage>, diesel::result::Error> {
    let codes: Vec<&str> = statuses.iter().map(|s| s.code()).collect();
    let rows: Vec<(OutboxRow, String, Option<String>)> = outbox::table
        .inner_join(employers::table)
        .filter(outbox::insurer_id.eq(insurer.0))
        .filter(outbox::status.eq_any(codes))
        .order((outbox::updated_at.desc(), outbox::id.desc()))
        .limit(limit)
        .select((OutboxRow::as_select(), employers::code, employers::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, employer_code, employer_name)| ListedMessage {
            row,
            employer_code,
            employer_name,
        })
        .collect())
}

/// One message of this insurer; `None` for another insurer's id.
pub fn get(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: OutboxId,
) -> Result<Option<OutboxRow>, diesel::result::Error> {
    outbox::table
        .filter(outbox::insurer_id.eq(insurer.0))
        .filter(outbox::id.eq(id.0))
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()
}

/// A staff action on one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// failed / dead → pending now (attempts kept, so the history shows).
    Retry,
    /// pending / failed → held.
    Hold,
    /// held → pending.
    Release,
    /// pending / failed / held / dead → cancelled.
    Cancel,
}

/// Applies `action` if the message is in a state it applies to; false otherwise (including
/// another insurer's id, or a message a worker is sending right now).
pub fn apply(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: OutboxId,
    action: Action,
    now: NaiveDateTime,
) -> Result<bool, diesel::result::Error> {
    use OutboxStatus as S;
    let (from, to): (&[S], S) = match action {
        Action::Retry => (&[S::Failed, S::Dead], S::Pending),
        Action::Hold => (&[S::Pending, S::Failed], S::Held),
        Action::Release => (&[S::Held], S::Pending),
        Action::Cancel => (&[S::Pending, S::Failed, S::Held, S::Dead], S::Cancelled),
    };
    let from: Vec<&str> = from.iter().map(|s| s.code()).collect();
    let target = outbox::table
        .filter(outbox::insurer_id.eq(insurer.0))
        .filter(outbox::id.eq(id.0))
        .filter(outbox::status.eq_any(from));
    let n = if to == S::Pending {
        diesel::update(target)
            .set((
                outbox::status.eq(to.code()),
                outbox::next_attempt_at.eq(now),
                outbox::updated_at.eq(now),
            ))
            .execute(conn)?
    } else {
        diesel::update(target)
            .set((outbox::status.eq(to.code()), outbox::updated_at.eq(now)))
            .execute(conn)?
    };
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_starts_at_one_minute_doubles_and_caps_at_a_day() {
        assert_eq!(RetryPolicy::backoff(1), Duration::minutes(1));
        assert_eq!(RetryPolicy::backoff(2), Duration::minutes(2));
        assert_eq!(RetryPolicy::backoff(3), Duration::minutes(4));
        assert_eq!(RetryPolicy::backoff(11), Duration::minutes(1024));
        assert_eq!(RetryPolicy::backoff(12), Duration::hours(24));
        assert_eq!(RetryPolicy::backoff(100), Duration::hours(24));
    }

    #[test]
    fn kinds_and_statuses_round_trip() {
        for k in MailKind::ALL {
            assert_eq!(MailKind::parse(k.code()), Some(k));
        }
        for s in OutboxStatus::ALL {
            assert_eq!(OutboxStatus::parse(s.code()), Some(s));
        }
    }
}
