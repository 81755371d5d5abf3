//! 監査ログ as people read it: Japan times, the user's 表示名, the action's Japanese label; the
//! filter by a range of Japan dates, a user and an action; the CSV export.
use crate::store::audit::{self, AuditAction, AuditFilter, AuditRecord};
use crate::store::insurers::InsurerId;
use crate::store::users::{self, UserId};
use crate::store::DbConn;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;

/// Which entries, as the page, the API and the export take it: dates are Japan dates, both ends
/// included.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub action: Option<AuditAction>,
    pub user: Option<UserId>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl AuditQuery {
    fn store_filter(&self) -> AuditFilter {
        AuditFilter {
            action: self.action,
            user: self.user,
            from: self.from.map(crate::time::jst_day_start_utc),
            until: self
                .to
                .and_then(|d| d.succ_opt())
                .map(crate::time::jst_day_start_utc),
        }
    }
}

/// One entry as shown.
#[derive(Clone, Debug, Serialize)]
pub struct AuditLine {
    pub id: i64,
    /// UTC
    pub at: chrono::NaiveDateTime,
    pub at_jst: String,
    pub user_id: Option<i64>,
    /// The user's 表示名 when the entry is a known user's and has one, else `actor`.
    pub user_name: String,
    /// As recorded: an e-mail, or "cli".
    pub actor: String,
    pub action: String,
    pub action_label: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// The 表示名 of every user of the insurer who has one, by id.
fn display_names(
    c: &mut DbConn,
    insurer: InsurerId,
) -> Result<HashMap<i64, String>, diesel::result::Error> {
    Ok(users::list(c, insurer)?
        .into_iter()
        .filter(|u| !u.display_name.is_empty())
        .map(|u| (u.id.0, u.display_name))
        .collect())
}

fn lines(records: Vec<AuditRecord>, names: &HashMap<i64, String>) -> Vec<AuditLine> {
    records
        .into_iter()
        .map(|r| AuditLine {
            id: r.id,
            at: r.at,
            at_jst: crate::time::jst_second(r.at),
            user_id: r.user_id,
            user_name: r
                .user_id
                .and_then(|u| names.get(&u).cloned())
                .unwrap_or_else(|| r.actor.clone()),
            actor: r.actor,
            action_label: AuditAction::label_of(&r.action).to_string(),
            action: r.action,
            target: r.target,
            detail: r.detail,
        })
        .collect()
}

/// One page (1-based) of the insurer's entries that match, newest first, and their total.
pub fn page(
    c: &mut DbConn,
    insurer: InsurerId,
    q: &AuditQuery,
    page: i64,
    per_page: i64,
) -> Result<(Vec<AuditLine>, i64), diesel::result::Error> {
    let (records, total) = audit::page(c, insurer, &q.store_filter(), page, per_page)?;
    Ok((lines(records, &display_names(c, insurer)?), total))
}

/// Up to `limit` of the insurer's entries that match, newest first.
pub fn matching(
    c: &mut DbConn,
    insurer: InsurerId,
    q: &AuditQuery,
    limit: i64,
) -> Result<Vec<AuditLine>, diesel::result::Error> {
    let records = audit::matching(c, insurer, &q.store_filter(), limit)?;
    Ok(lines(records, &display_names(c, insurer)?))
}

/// The export: one row an entry, Japan times, Japanese labels (the code beside them, for
/// machines), through the one CSV writer.
pub fn csv(lines: &[AuditLine]) -> csv::Result<Vec<u8>> {
    let headers = [
        "日時（日本時間）",
        "利用者",
        "ログインID",
        "操作",
        "操作コード",
        "対象",
        "内容",
    ];
    crate::reports::export::csv_bytes(
        headers.map(String::from),
        lines.iter().map(|l| {
            [
                l.at_jst.clone(),
                l.user_name.clone(),
                l.actor.clone(),
                l.action_label.clone(),
                l.action.clone(),
                l.target.clone().unwrap_or_default(),
                l.detail.clone().unwrap_or_default(),
            ]
        }),
    )
}

/// `監査ログ_{保険者番号}_{from}_{to}.csv`.
pub fn file_name(insurer_number: &str, from: NaiveDate, to: NaiveDate) -> String {
    format!(
        "監査ログ_{insurer_number}_{}_{}.csv",
        from.format("%Y-%m-%d"),
        to.format("%Y-%m-%d")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_of_japan_dates_is_the_utc_span_of_those_days() {
        let q = AuditQuery {
            from: NaiveDate::from_ymd_opt(2026, 4, 1),
            to: NaiveDate::from_ymd_opt(2026, 4, 1),
            ..AuditQuery::default()
        };
        let f = q.store_filter();
        assert_eq!(f.from.unwrap().to_string(), "2026-03-31 15:00:00");
        assert_eq!(f.until.unwrap().to_string(), "2026-04-01 15:00:00");
    }

    #[test]
    fn the_file_is_named_after_the_insurer_and_the_period() {
        let d = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert_eq!(
            file_name("06123456", d(4, 1), d(4, 30)),
            "監査ログ_06123456_2026-04-01_2026-04-30.csv"
        );
    }
}
