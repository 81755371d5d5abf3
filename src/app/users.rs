//! 利用者: adding a user, changing a role or a 表示名, deactivating and reactivating, an admin's
//! password reset; each audited in the same transaction.
use super::Acting;
use crate::store::audit::AuditAction;
use crate::store::users::{
    self, DisplayName, Email, Role, UserError, UserId, UserSummary, MIN_PASSWORD_LEN,
};
use crate::store::{write_tx, DbConn};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// Duplicate e-mail, short password, the last admin…; `UserError::NotFound` for a user of
    /// another insurer.
    #[error(transparent)]
    User(#[from] UserError),
    #[error("自分自身を無効にすることはできません")]
    DeactivateSelf,
    #[error("自分のパスワードはアカウント画面で変更してください")]
    ResetSelf,
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
}

/// A user to add; the e-mail, 表示名 and role already parsed at the edge.
pub struct NewUser {
    pub email: Email,
    pub display_name: DisplayName,
    pub role: Role,
    /// Checked for length and hashed here, before the transaction.
    pub password: SecretString,
}

/// Adds a user to the acting insurer; audited.
pub fn add(conn: &mut DbConn, acting: &Acting, new: NewUser) -> Result<UserSummary, UsersError> {
    let hash = users::hash_password(&new.password)?;
    write_tx(conn, |c| {
        let id = users::insert_in_tx(
            c,
            acting.insurer,
            &new.email,
            &new.display_name,
            new.role,
            &hash,
        )?;
        record(
            c,
            acting,
            AuditAction::UserAdded,
            new.email.as_str(),
            new.role.label_ja(),
        )?;
        Ok(users::get(c, acting.insurer, id)?.ok_or(UserError::NotFound)?)
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
    update(
        conn,
        acting,
        target,
        UserChange {
            role: Some(role),
            ..UserChange::default()
        },
    )
}

/// What an admin changes about a user; `None` leaves that part as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChange {
    pub display_name: Option<DisplayName>,
    pub role: Option<Role>,
    /// `false` deactivates (no sign-in, every session ended), `true` reactivates.
    pub active: Option<bool>,
}

/// Applies a change to a user of the acting insurer in one transaction; each part that actually
/// changes is audited. The insurer always keeps an active admin, and nobody deactivates themself.
pub fn update(
    conn: &mut DbConn,
    acting: &Acting,
    target: UserId,
    change: UserChange,
) -> Result<UserSummary, UsersError> {
    if change.active == Some(false) && acting.user == Some(target) {
        return Err(UsersError::DeactivateSelf);
    }
    write_tx(conn, |c| {
        let email = users::get(c, acting.insurer, target)?
            .ok_or(UserError::NotFound)?
            .email;
        if let Some(name) = &change.display_name {
            let before = users::set_display_name_in_tx(c, acting.insurer, target, name)?;
            if before != name.as_str() {
                let detail = format!("「{before}」→「{}」", name.as_str());
                record(c, acting, AuditAction::DisplayNameChanged, &email, &detail)?;
            }
        }
        if let Some(role) = change.role {
            let before = users::set_role_in_tx(c, acting.insurer, target, role)?;
            if before != role {
                let detail = format!("{} → {}", before.label_ja(), role.label_ja());
                record(c, acting, AuditAction::RoleChanged, &email, &detail)?;
            }
        }
        if let Some(active) = change.active {
            if users::set_active_in_tx(c, acting.insurer, target, active)? {
                let (action, detail) = if active {
                    (AuditAction::UserReactivated, "ログインできるようにしました")
                } else {
                    (
                        AuditAction::UserDeactivated,
                        "ログイン不可、すべてのセッションを終了",
                    )
                };
                record(c, acting, action, &email, detail)?;
            }
        }
        Ok(users::get(c, acting.insurer, target)?.ok_or(UserError::NotFound)?)
    })
}

/// A password reset by an admin: the temporary password (generated when none is given) and the
/// user it was set for. The password is shown to the admin once and never stored in clear.
pub struct PasswordReset {
    pub user: UserSummary,
    pub temporary_password: SecretString,
}

/// Characters of a generated password: no 0/O, 1/l/I, so it can be read out and typed.
const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn generate_password() -> SecretString {
    let mut rng = rand::thread_rng();
    let s: String = (0..MIN_PASSWORD_LEN + 4)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    SecretString::from(s)
}

/// Sets a temporary password for a user of the acting insurer (`None`: a generated one); the user
/// must change it at the next sign-in, and every session of the user ends. Audited (without the
/// password).
pub fn reset_password(
    conn: &mut DbConn,
    acting: &Acting,
    target: UserId,
    password: Option<SecretString>,
) -> Result<PasswordReset, UsersError> {
    if acting.user == Some(target) {
        return Err(UsersError::ResetSelf);
    }
    let password = password
        .filter(|p| !p.expose_secret().is_empty())
        .unwrap_or_else(generate_password);
    let hash = users::hash_password(&password)?;
    let user = write_tx(conn, |c| {
        let user = users::reset_password_in_tx(c, acting.insurer, target, &hash)?;
        record(
            c,
            acting,
            AuditAction::PasswordReset,
            &user.email,
            "一時パスワードを設定（次回ログイン時に変更）",
        )?;
        Ok::<_, UsersError>(user)
    })?;
    Ok(PasswordReset {
        user,
        temporary_password: password,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_password_is_long_enough_and_unambiguous() {
        let p = generate_password();
        let s = p.expose_secret();
        assert!(s.chars().count() >= MIN_PASSWORD_LEN);
        assert!(!s.contains(['0', 'O', '1', 'l', 'I']));
        assert_ne!(s, generate_password().expose_secret());
    }
}
