//! Sign-in sessions and the sign-in checks (password, lockout). Each issued token's id (jti) is a
//! row here, so sign-out and a password change revoke tokens before they expire.
use super::insurers::InsurerId;
use super::schema::{sessions, users};
use super::users::{verify_password, Email, Role, UserId, UserRow};
use super::{now_utc, write_tx, DbConn};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::RngCore;
use secrecy::SecretString;

/// Failed sign-ins in a row that lock an account, and for how long.
pub const MAX_FAILED_LOGINS: i32 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;

/// The signed-in user as every handler sees it: ids come from the database, never from the client.
#[derive(Clone, Debug)]
pub struct SessionUser {
    pub session_id: String,
    pub user_id: UserId,
    pub insurer_id: InsurerId,
    pub email: String,
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("メールアドレスまたはパスワードが正しくありません")]
    BadCredentials,
    #[error("ログインに{MAX_FAILED_LOGINS}回続けて失敗したため、このアカウントは {until} までロックされています")]
    Locked { until: String },
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// An argon2 hash of a random password, verified when the e-mail is unknown so that an unknown
/// address takes as long as a wrong password (no account enumeration by timing).
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let mut b = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut b);
        super::users::hash_password(&SecretString::from(hex::encode(b))).unwrap_or_default()
    })
}

fn jst_clock(utc: NaiveDateTime) -> String {
    crate::time::jst_minute(utc)
}

/// Checks the password with the lockout rule (5 failures → 15 minutes) and, on success, opens a
/// session of `hours`. Returns the session's user with its new session id.
pub fn login(
    conn: &mut DbConn,
    email: &str,
    password: &SecretString,
    hours: u32,
) -> Result<SessionUser, LoginError> {
    let Ok(email) = Email::parse(email) else {
        verify_password(password, dummy_hash());
        return Err(LoginError::BadCredentials);
    };
    let Some(user) = super::users::find_by_email(conn, &email)? else {
        verify_password(password, dummy_hash());
        return Err(LoginError::BadCredentials);
    };
    let now = now_utc();
    if let Some(until) = user.locked_until.filter(|u| *u > now) {
        return Err(LoginError::Locked {
            until: jst_clock(until),
        });
    }
    // argon2 runs outside the write transaction so a slow hash never holds the write lock.
    let ok = verify_password(password, &user.password_hash);
    // The failure counter must be committed even though the sign-in fails, so the transaction
    // returns the outcome as a value (an Err would roll the counter back).
    write_tx(
        conn,
        |conn| -> Result<Result<SessionUser, LoginError>, LoginError> {
            if !ok {
                let failed = current_failures(conn, &user)? + 1;
                if failed >= MAX_FAILED_LOGINS {
                    let until = now + Duration::minutes(LOCKOUT_MINUTES);
                    diesel::update(users::table.find(user.id))
                        .set((
                            users::failed_logins.eq(0),
                            users::locked_until.eq(Some(until)),
                        ))
                        .execute(conn)?;
                    return Ok(Err(LoginError::Locked {
                        until: jst_clock(until),
                    }));
                }
                diesel::update(users::table.find(user.id))
                    .set(users::failed_logins.eq(failed))
                    .execute(conn)?;
                return Ok(Err(LoginError::BadCredentials));
            }
            diesel::update(users::table.find(user.id))
                .set((
                    users::failed_logins.eq(0),
                    users::locked_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
            let id = new_session_id();
            diesel::insert_into(sessions::table)
                .values((
                    sessions::id.eq(&id),
                    sessions::user_id.eq(user.id),
                    sessions::insurer_id.eq(user.insurer_id),
                    sessions::created_at.eq(now),
                    sessions::expires_at.eq(now + Duration::hours(i64::from(hours.max(1)))),
                ))
                .execute(conn)?;
            Ok(Ok(SessionUser {
                session_id: id,
                user_id: UserId(user.id),
                insurer_id: InsurerId(user.insurer_id),
                email: user.email.clone(),
                role: Role::parse(&user.role).unwrap_or(Role::Viewer),
            }))
        },
    )?
}

/// The failure count read inside the write transaction, so two wrong passwords at once both count.
fn current_failures(conn: &mut DbConn, user: &UserRow) -> Result<i32, diesel::result::Error> {
    users::table
        .find(user.id)
        .select(users::failed_logins)
        .first(conn)
}

fn new_session_id() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The live session `id`: not revoked, not expired, user still present. Role and insurer are read
/// from the database, so a role change applies at once.
pub fn active(conn: &mut DbConn, id: &str) -> Result<Option<SessionUser>, diesel::result::Error> {
    let now = now_utc();
    let row: Option<(String, i64, i64, String, String)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((
            sessions::id,
            users::id,
            users::insurer_id,
            users::email,
            users::role,
        ))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(session_id, user, insurer, email, role)| {
        Some(SessionUser {
            session_id,
            user_id: UserId(user),
            insurer_id: InsurerId(insurer),
            email,
            role: Role::parse(&role).ok()?,
        })
    }))
}

/// Sign-out: this session's token stops working.
pub fn revoke(conn: &mut DbConn, id: &str) -> Result<(), diesel::result::Error> {
    diesel::update(sessions::table.find(id))
        .set(sessions::revoked_at.eq(Some(now_utc())))
        .execute(conn)
        .map(|_| ())
}

/// Every session of a user (password change, role removal).
pub fn revoke_all(conn: &mut DbConn, user: UserId) -> Result<u64, diesel::result::Error> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user.0))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(now_utc())))
    .execute(conn)
    .map(|n| n as u64)
}

/// Changes a password after checking the current one; revokes every session of the user (the
/// caller signs in again).
pub fn change_password(
    conn: &mut DbConn,
    user: UserId,
    current: &SecretString,
    new: &SecretString,
) -> Result<(), super::users::UserError> {
    let hash: String = users::table
        .find(user.0)
        .select(users::password_hash)
        .first(conn)?;
    if !verify_password(current, &hash) {
        return Err(super::users::UserError::WrongPassword);
    }
    let new_hash = super::users::hash_password(new)?;
    write_tx(conn, |conn| {
        diesel::update(users::table.find(user.0))
            .set((
                users::password_hash.eq(&new_hash),
                users::updated_at.eq(now_utc()),
            ))
            .execute(conn)?;
        revoke_all(conn, user)?;
        Ok(())
    })
}
