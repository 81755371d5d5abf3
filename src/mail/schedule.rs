//! The schedule `serve` runs: the daily evaluation at the configured hour (Japan time) and the
//! delivery worker every few seconds, on a thread of its own (diesel and the SMTP client block).
use super::evaluate::{evaluate_scheduled, EvalCounts};
use super::worker::{Worker, WorkerCounts};
use super::MailError;
use crate::store::{insurers, mail_settings, DbConn, DbPool};
use chrono::{NaiveDate, NaiveDateTime, Timelike};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The Japan date and hour of a UTC time.
pub fn jst(now_utc: NaiveDateTime) -> (NaiveDate, u32) {
    let t = now_utc.and_utc().with_timezone(&chrono_tz::Asia::Tokyo);
    (t.date_naive(), t.hour())
}

/// The Japan date to evaluate at `now_utc`, if the day's evaluation is due and not yet done here.
/// Running it again (another instance, a restart) is harmless: the dedupe keys make it idempotent.
pub fn evaluation_due(
    now_utc: NaiveDateTime,
    hour: u32,
    last: Option<NaiveDate>,
) -> Option<NaiveDate> {
    let (day, h) = jst(now_utc);
    (h >= hour && last.is_none_or(|l| l < day)).then_some(day)
}

pub struct Scheduler {
    pub worker: Worker,
    /// `mail_schedule_hour`: the hour of insurers that set none.
    pub hour: u32,
    pub poll: Duration,
}

impl Scheduler {
    pub fn new(worker: Worker, hour: u32) -> Scheduler {
        Scheduler {
            worker,
            hour,
            poll: Duration::from_secs(15),
        }
    }

    /// One turn at `now_utc`: the evaluation of every insurer whose hour has come and that was not
    /// evaluated today (the date is kept in the database, so several `serve` instances evaluate
    /// each insurer once a day between them), then deliveries.
    pub fn tick(
        &mut self,
        conn: &mut DbConn,
        now_utc: NaiveDateTime,
    ) -> Result<(Option<EvalCounts>, WorkerCounts), MailError> {
        let mut eval: Option<EvalCounts> = None;
        for ins in insurers::list(conn)? {
            let stored = mail_settings::get(conn, ins.id)?;
            let hour = stored.prefs.schedule_hour.unwrap_or(self.hour);
            let Some(day) = evaluation_due(now_utc, hour, stored.last_evaluated_on) else {
                continue;
            };
            if let Some(c) = evaluate_scheduled(conn, &ins, day, now_utc)? {
                tracing::info!(insurer = ins.id.0, as_of = %day, queued = c.queued_total(), "daily reminder evaluation");
                eval.get_or_insert_with(EvalCounts::default).add(c);
            }
        }
        let sent = self.worker.drain(conn, now_utc)?;
        if sent.claimed > 0 {
            tracing::info!(
                sent = sent.sent,
                failed = sent.failed,
                dead = sent.dead,
                "outbox delivery"
            );
        }
        Ok((eval, sent))
    }

    /// Runs until `stop` is set. Errors are logged and the next turn tries again.
    pub fn spawn(mut self, pool: DbPool, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name("regwatch-mail".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match pool.get() {
                        Ok(mut conn) => {
                            if let Err(e) = self.tick(&mut conn, crate::store::now_utc()) {
                                tracing::error!(error = %e, "mail schedule turn failed");
                            }
                        }
                        Err(e) => tracing::error!(error = %e, "mail schedule: no connection"),
                    }
                    std::thread::park_timeout(self.poll);
                }
            })
            .expect("spawn mail thread")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn evaluation_runs_once_a_japan_day_from_the_configured_hour() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // 08:59 JST: not yet.
        assert_eq!(evaluation_due(utc("2026-11-20 23:59"), 9, None), None);
        // 09:00 JST on the 21st.
        assert_eq!(
            evaluation_due(utc("2026-11-21 00:00"), 9, None),
            Some(d("2026-11-21"))
        );
        assert_eq!(
            evaluation_due(utc("2026-11-21 05:00"), 9, Some(d("2026-11-21"))),
            None
        );
        // Started in the afternoon: the day's run still happens.
        assert_eq!(
            evaluation_due(utc("2026-11-21 06:00"), 9, Some(d("2026-11-20"))),
            Some(d("2026-11-21"))
        );
        // 23:30 UTC is 08:30 JST the next day: not yet.
        assert_eq!(
            evaluation_due(utc("2026-11-21 23:30"), 9, Some(d("2026-11-21"))),
            None
        );
    }
}
