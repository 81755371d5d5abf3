//! 利用者: adding a user and changing a role, each audited in the same transaction.
use super::Acting;
use crate::store::audit::AuditAction;
use crate::store::users::{self, Email, Role, UserError, UserId, UserSummary};
use crate::store::{write_tx, DbConn};
use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// Duplicate e-mail, short password, the last admin…; `UserError::NotFound` for a user of
    /// another insurer.
    #[error(transparent)]
    User(#[from] UserError),
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
}

/// A user to add; the e-mail and role already parsed at the edge.
pub struct NewUser {
    pub email: Email,
    pub role: Role,
    /// Checked for length and hashed here, before the transaction.
    pub password: SecretString,
}

/// Adds a user to the acting insurer; audited.
pub fn add(conn: &mut DbConn, acting: &Acting, new: NewUser) -> Result<UserSummary, UsersError> {
    let hash = users::hash_password(&new.password)?;
    write_tx(conn, |c| {
        let id = users::insert_in_tx(c, acting.insurer, &new.email, new.role, &hash)?;
        record(
            c,
            acting,
            AuditAction::UserAdded,
            new.email.as_str(),
            new.role.label_ja(),
        )?;
        users::get(c, acting.insurer, id)?.ok_or(UsersError::User(UserError::NotFound))
    })
}

/// Changes a user's role (revoking that user's sessions); refuses to demote the last admin.
/// Audited when the role actually changes.
pub fn change_role(
    conn: &mut DbConn,
    acting: &Acting,
    target: UserId,
    role: Role,
) -> Result<UserSummary, UsersError> {
    write_tx(conn, |c| {
        let before = users::set_role_in_tx(c, acting.insurer, target, role)?;
        let after =
            users::get(c, acting.insurer, target)?.ok_or(UsersError::User(UserError::NotFound))?;
        if before != role {
            let detail = format!("{} → {}", before.label_ja(), role.label_ja());
            record(c, acting, AuditAction::RoleChanged, &after.email, &detail)?;
        }
        Ok(after)
    })
}

fn record(
    c: &mut DbConn,
    acting: &Acting,
    action: AuditAction,
    target: &str,
    detail: &str,
) -> Result<(), diesel::result::Error> {
    acting.audit(c, action, Some(target), Some(detail))
}
