//! The delivery worker: claim due messages with a lease, send, record the outcome. Time is passed
//! in (`now`), so tests drive it step by step without sleeping.
use super::evaluate::{evaluate_all, EvalCounts};
use super::transport::{build_message, MailSettings, Transport};
use super::MailError;
use crate::store::outbox::{self, OutboxId, OutboxStatus, RetryPolicy};
use crate::store::DbConn;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;

/// How long a claim holds before another worker may take the row (a crashed worker's rows come
/// back after this).
pub const DEFAULT_LEASE_SECS: i64 = 300;
pub const DEFAULT_BATCH: i64 = 50;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WorkerCounts {
    pub claimed: usize,
    pub sent: usize,
    /// Failed and scheduled for a retry.
    pub failed: usize,
    pub dead: usize,
    /// Sent, but the lease had been taken over meanwhile (the other worker records it).
    pub lost_lease: usize,
}

impl WorkerCounts {
    fn add(&mut self, o: WorkerCounts) {
        self.claimed += o.claimed;
        self.sent += o.sent;
        self.failed += o.failed;
        self.dead += o.dead;
        self.lost_lease += o.lost_lease;
    }
}

#[derive(Clone, Debug)]
pub struct Worker {
    pub id: String,
    pub transport: Transport,
    pub settings: MailSettings,
    pub lease: Duration,
    pub batch: i64,
}

impl Worker {
    pub fn new(transport: Transport, settings: MailSettings) -> Worker {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "regwatch".into());
        Worker {
            id: format!(
                "{host}-{}-{:08x}",
                std::process::id(),
                rand::random::<u32>()
            ),
            transport,
            settings,
            lease: Duration::seconds(DEFAULT_LEASE_SECS),
            batch: DEFAULT_BATCH,
        }
    }

    /// Messages this worker may still send in the minute before `now` (shared with all workers).
    pub fn budget(&self, conn: &mut DbConn, now: NaiveDateTime) -> Result<i64, MailError> {
        let sent = outbox::sent_since(conn, now - Duration::minutes(1))?;
        Ok((i64::from(self.settings.rate_per_minute) - sent).max(0))
    }

    /// One claim and the sends of what it claimed.
    pub fn step(&self, conn: &mut DbConn, now: NaiveDateTime) -> Result<WorkerCounts, MailError> {
        let limit = self.batch.min(self.budget(conn, now)?);
        let rows = outbox::claim(conn, &self.id, now, self.lease, limit)?;
        let mut c = WorkerCounts {
            claimed: rows.len(),
            ..WorkerCounts::default()
        };
        let policy = RetryPolicy {
            max_attempts: self.settings.max_attempts,
        };
        for row in rows {
            let id = OutboxId(row.id);
            let outcome = build_message(&row, &self.settings)
                .map_err(|e| (e, true))
                .and_then(|m| {
                    self.transport
                        .send(&m)
                        .map_err(|e| (e.message, e.permanent))
                });
            match outcome {
                Ok(()) => {
                    if outbox::mark_sent(conn, id, &self.id, now)? {
                        c.sent += 1;
                    } else {
                        c.lost_lease += 1;
                    }
                }
                Err((error, permanent)) => {
                    tracing::warn!(outbox_id = row.id, attempts = row.attempts + 1, %error, "send failed");
                    match outbox::mark_failed(conn, id, &self.id, now, &error, permanent, policy)? {
                        OutboxStatus::Dead => c.dead += 1,
                        _ => c.failed += 1,
                    }
                }
            }
        }
        Ok(c)
    }

    /// Steps until nothing is due at `now` or the rate limit is reached.
    pub fn drain(&self, conn: &mut DbConn, now: NaiveDateTime) -> Result<WorkerCounts, MailError> {
        let mut total = WorkerCounts::default();
        loop {
            let c = self.step(conn, now)?;
            total.add(c);
            if c.claimed == 0 {
                return Ok(total);
            }
        }
    }
}

/// `regwatch outbox run --once`: evaluate every insurer as of `as_of`, then deliver what is due.
pub fn run_once(
    conn: &mut DbConn,
    worker: &Worker,
    as_of: NaiveDate,
    now: NaiveDateTime,
) -> Result<(EvalCounts, WorkerCounts), MailError> {
    let eval = evaluate_all(conn, as_of, now)?;
    let sent = worker.drain(conn, now)?;
    Ok((eval, sent))
}
