//! The signed-in user's own account: signing in (with the lockout rule), signing out, changing
//! the password. Sign-ins, failed ones included, and password changes are audited.
use super::Acting;
use crate::store::audit::{self, AuditAction, AuditEntry};
use crate::store::insurers::InsurerId;
use crate::store::sessions::{self, LoginError, SessionUser};
use crate::store::users::{self, Email, UserError, UserId};
use crate::store::DbConn;
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Wrong e-mail or password.
    #[error("{0}")]
    Login(String),
    /// Too many failures in a row from this source for this address: try again later.
    #[error("{message}")]
    Throttled { message: String, retry_after: u64 },
    /// The change cannot be made; the message is for the user.
    #[error("{0}")]
    Invalid(String),
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
}

/// Checks the password (with the throttling per address and source of `sessions::login`) and
/// opens a session of `hours`. `source` is the client's address. A failed sign-in to a known
/// account goes into that insurer's audit log, so its admins see attempts on their users; an
/// unknown address is recorded without an insurer.
pub fn sign_in(
    conn: &mut DbConn,
    email: &str,
    source: &str,
    password: &SecretString,
    hours: u32,
) -> Result<SessionUser, AccountError> {
    let r = sessions::login(conn, email, source, password, hours);
    let known = |c: &mut DbConn| -> Result<(Option<UserId>, Option<InsurerId>), AccountError> {
        let found = Email::parse(email)
            .ok()
            .map(|e| users::find_by_email(c, &e))
            .transpose()?
            .flatten();
        Ok(match found {
            Some(u) => (Some(UserId(u.id)), Some(InsurerId(u.insurer_id))),
            None => (None, None),
        })
    };
    let (action, user, insurer) = match &r {
        Ok(u) => (AuditAction::Login, Some(u.user_id), Some(u.insurer_id)),
        Err(LoginError::Throttled { .. }) => {
            let (u, i) = known(conn)?;
            (AuditAction::LoginLocked, u, i)
        }
        Err(_) => {
            let (u, i) = known(conn)?;
            (AuditAction::LoginFailed, u, i)
        }
    };
    if !matches!(r, Err(LoginError::Db(_))) {
        audit::record(
            conn,
            &AuditEntry {
                insurer,
                user,
                actor: &email.trim().to_lowercase(),
                action,
                target: None,
                detail: None,
            },
        )?;
    }
    r.map_err(|e| match e {
        e @ LoginError::BadCredentials => AccountError::Login(e.to_string()),
        e @ LoginError::Throttled { retry_after, .. } => AccountError::Throttled {
            message: e.to_string(),
            retry_after,
        },
        LoginError::Db(e) => AccountError::Db(e),
    })
}

/// Signs out: the session's token stops working.
pub fn sign_out(conn: &mut DbConn, session_id: &str) -> Result<(), AccountError> {
    Ok(sessions::revoke(conn, session_id)?)
}

/// A password change as typed: the current password, the new one and its confirmation.
pub struct PasswordChange {
    pub current: SecretString,
    pub new: SecretString,
    pub confirm: SecretString,
}

/// Changes the acting user's password after checking the current one; every session of the user
/// (the one in use included) is revoked. Audited.
pub fn change_password(
    conn: &mut DbConn,
    acting: &Acting,
    change: PasswordChange,
) -> Result<(), AccountError> {
    if change.new.expose_secret() != change.confirm.expose_secret() {
        return Err(AccountError::Invalid(
            "新しいパスワードと確認用の入力が一致しません".into(),
        ));
    }
    let uid = acting.user.ok_or(diesel::result::Error::NotFound)?;
    sessions::change_password(conn, uid, &change.current, &change.new).map_err(|e| match e {
        UserError::Db(e) => AccountError::Db(e),
        other => AccountError::Invalid(other.to_string()),
    })?;
    audit::record(
        conn,
        &AuditEntry {
            insurer: Some(acting.insurer),
            user: Some(uid),
            actor: &acting.label,
            action: AuditAction::PasswordChanged,
            target: None,
            detail: None,
        },
    )?;
    Ok(())
}
