//! Audit log: who did what to which tenant's data, and when.
use super::insurers::InsurerId;
use super::schema::audit_log;
use super::users::UserId;
use super::{now_utc, DbConn};
use diesel::prelude::*;

/// One audit entry. `actor` is a readable label (an e-mail, or "cli") so entries stay meaningful
/// after a user is removed.
pub struct AuditEntry<'a> {
    pub insurer: Option<InsurerId>,
    pub user: Option<UserId>,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub detail: Option<&'a str>,
}

pub fn record(conn: &mut DbConn, e: &AuditEntry<'_>) -> Result<(), diesel::result::Error> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::insurer_id.eq(e.insurer.map(|i| i.0)),
            audit_log::user_id.eq(e.user.map(|u| u.0)),
            audit_log::actor.eq(e.actor),
            audit_log::action.eq(e.action),
            audit_log::target.eq(e.target),
            audit_log::detail.eq(e.detail),
            audit_log::created_at.eq(now_utc()),
        ))
        .execute(conn)
        .map(|_| ())
}
