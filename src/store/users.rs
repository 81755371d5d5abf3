//! Users of an insurer, with argon2 password hashes.
use super::insurers::InsurerId;
use super::schema::users;
use super::{now_utc, DbConn};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use diesel::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

/// What a user may do: `admin` (users and settings), `staff` (imports, letters, e-mails),
/// `viewer` (read only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Staff,
    Admin,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Viewer => "viewer",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Role::Admin => "管理者",
            Role::Staff => "担当者",
            Role::Viewer => "閲覧者",
        }
    }
    pub fn parse(s: &str) -> Result<Role, String> {
        match s.trim() {
            "admin" => Ok(Role::Admin),
            "staff" => Ok(Role::Staff),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!(
                "役割は admin / staff / viewer のいずれかです（指定: {other}）"
            )),
        }
    }
}

/// A syntactically plausible e-mail address, lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, String> {
        let t = s.trim().to_lowercase();
        let valid = t.len() <= 254
            && !t.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(t.split_once('@'), Some((local, domain))
                if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                    && !domain.ends_with('.') && !domain.contains('@'));
        if valid {
            Ok(Email(t))
        } else {
            Err(format!(
                "メールアドレスの形式が正しくありません: {}",
                s.trim()
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub const MIN_PASSWORD_LEN: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("メールアドレス {0} は登録済みです")]
    Duplicate(String),
    #[error("パスワードは{MIN_PASSWORD_LEN}文字以上にしてください")]
    WeakPassword,
    #[error("パスワードのハッシュ化に失敗しました")]
    Hash,
    #[error("現在のパスワードが正しくありません")]
    WrongPassword,
    #[error("利用者が見つかりません")]
    NotFound,
    #[error("最後の管理者の役割は変更できません")]
    LastAdmin,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub insurer_id: i64,
    pub email: String,
    pub role: String,
    pub password_hash: String,
}

pub fn hash_password(password: &SecretString) -> Result<String, UserError> {
    if password.expose_secret().chars().count() < MIN_PASSWORD_LEN {
        return Err(UserError::WeakPassword);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| UserError::Hash)
}

/// Constant-time verification against a stored PHC string; a malformed hash never verifies.
pub fn verify_password(password: &SecretString, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

pub fn create(
    conn: &mut DbConn,
    insurer: InsurerId,
    email: &Email,
    role: Role,
    password: &SecretString,
) -> Result<UserId, UserError> {
    let hash = hash_password(password)?;
    super::write_tx(conn, |conn| insert_in_tx(conn, insurer, email, role, &hash))
}

/// Adds a user whose password is already hashed ([`hash_password`], slow: before the transaction).
/// Runs in the caller's write transaction.
pub fn insert_in_tx(
    conn: &mut DbConn,
    insurer: InsurerId,
    email: &Email,
    role: Role,
    hash: &str,
) -> Result<UserId, UserError> {
    let exists: i64 = users::table
        .filter(users::email.eq(email.as_str()))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Err(UserError::Duplicate(email.as_str().to_string()));
    }
    let now = now_utc();
    diesel::insert_into(users::table)
        .values((
            users::insurer_id.eq(insurer.0),
            users::email.eq(email.as_str()),
            users::role.eq(role.code()),
            users::password_hash.eq(hash),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    let id: i64 = users::table
        .filter(users::email.eq(email.as_str()))
        .select(users::id)
        .first(conn)?;
    Ok(UserId(id))
}

pub fn find_by_email(
    conn: &mut DbConn,
    email: &Email,
) -> Result<Option<UserRow>, diesel::result::Error> {
    users::table
        .filter(users::email.eq(email.as_str()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// A user as the user list shows it (no hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserSummary {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub created_at: chrono::NaiveDateTime,
}

/// The users of one insurer, by e-mail.
pub fn list(
    conn: &mut DbConn,
    insurer: InsurerId,
) -> Result<Vec<UserSummary>, diesel::result::Error> {
    list_where(conn, insurer, None)
}

fn list_where(
    conn: &mut DbConn,
    insurer: InsurerId,
    only: Option<UserId>,
) -> Result<Vec<UserSummary>, diesel::result::Error> {
    let mut q = users::table
        .filter(users::insurer_id.eq(insurer.0))
        .order(users::email.asc())
        .select((users::id, users::email, users::role, users::created_at))
        .into_boxed();
    if let Some(u) = only {
        q = q.filter(users::id.eq(u.0));
    }
    let rows: Vec<(i64, String, String, chrono::NaiveDateTime)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, email, role, created_at)| UserSummary {
            id: UserId(id),
            email,
            // A role this version does not know gets the least rights.
            role: Role::parse(&role).unwrap_or(Role::Viewer),
            created_at,
        })
        .collect())
}

/// One user of `insurer` (None for a user of another insurer).
pub fn get(
    conn: &mut DbConn,
    insurer: InsurerId,
    user: UserId,
) -> Result<Option<UserSummary>, diesel::result::Error> {
    Ok(list_where(conn, insurer, Some(user))?.into_iter().next())
}

/// Changes the role of a user of `insurer` and revokes that user's sessions, so the new role
/// applies from the next sign-in. Returns the previous role (no change and no revocation when it
/// is the same). Refuses to leave the insurer without an admin. The insurer row is locked first,
/// so two admins demoting each other at once cannot both succeed.
pub fn set_role(
    conn: &mut DbConn,
    insurer: InsurerId,
    user: UserId,
    role: Role,
) -> Result<Role, UserError> {
    super::write_tx(conn, |conn| set_role_in_tx(conn, insurer, user, role))
}

/// [`set_role`] in the caller's write transaction.
pub fn set_role_in_tx(
    conn: &mut DbConn,
    insurer: InsurerId,
    user: UserId,
    role: Role,
) -> Result<Role, UserError> {
    use super::schema::insurers;
    diesel::update(insurers::table.find(insurer.0))
        .set(insurers::id.eq(insurers::id))
        .execute(conn)?;
    let current: String = users::table
        .filter(users::insurer_id.eq(insurer.0))
        .filter(users::id.eq(user.0))
        .select(users::role)
        .first(conn)
        .optional()?
        .ok_or(UserError::NotFound)?;
    let current = Role::parse(&current).unwrap_or(Role::Viewer);
    if current == role {
        return Ok(current);
    }
    if current == Role::Admin {
        let admins: i64 = users::table
            .filter(users::insurer_id.eq(insurer.0))
            .filter(users::role.eq(Role::Admin.code()))
            .count()
            .get_result(conn)?;
        if admins <= 1 {
            return Err(UserError::LastAdmin);
        }
    }
    diesel::update(users::table.find(user.0))
        .set((users::role.eq(role.code()), users::updated_at.eq(now_utc())))
        .execute(conn)?;
    super::sessions::revoke_all(conn, user)?;
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            Email::parse(" A@Example.JP ").unwrap().as_str(),
            "a@example.jp"
        );
        assert!(Email::parse("no-at-sign").is_err());
        assert!(Email::parse("a@b").is_err());
        assert!(Email::parse("a b@example.jp").is_err());
    }

    #[test]
    fn password_hash_round_trips_and_rejects_short() {
        let pw = SecretString::from("correct horse battery");
        let h = hash_password(&pw).unwrap();
        assert!(h.starts_with("$argon2"));
        assert!(verify_password(&pw, &h));
        assert!(!verify_password(&SecretString::from("wrong password!"), &h));
        assert!(matches!(
            hash_password(&SecretString::from("short")),
            Err(UserError::WeakPassword)
        ));
    }
}
