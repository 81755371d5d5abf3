//! Sign-in sessions and the sign-in checks (password, throttling per address and source). Each issued token's id (jti) is a
//! row here, so sign-out and a password change revoke tokens before they expire.
use super::insurers::InsurerId;
use super::schema::{login_throttle, sessions, users};
use super::users::{verify_password, Email, Role, UserId};
use super::{now_utc, write_tx, DbConn};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::RngCore;
use secrecy::SecretString;

/// Failed sign-ins in a row, from one source for one address, before that pair has to wait.
pub const FREE_FAILURES: i32 = 5;
/// The wait after the 5th failure in a row; it doubles with each further failure, up to
/// [`MAX_WAIT_MINUTES`].
pub const FIRST_WAIT_MINUTES: i64 = 1;
pub const MAX_WAIT_MINUTES: i64 = 15;
/// A pair's failures are forgotten a day after the last one.
const FORGET_AFTER_HOURS: i64 = 24;

/// The signed-in user as every handler sees it: ids come from the database, never from the client.
#[derive(Clone, Debug)]
pub struct SessionUser {
    pub session_id: String,
    pub user_id: UserId,
    pub insurer_id: InsurerId,
    pub email: String,
    pub role: Role,
}

/// Why a sign-in failed. Neither answer tells whether the address belongs to an account: an
/// unknown address fails and is held back exactly like a known one.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("メールアドレスまたはパスワードが正しくありません")]
    BadCredentials,
    #[error("ログインの失敗が続いたため、このメールアドレスでのこの接続元からのログインを {until} まで受け付けません")]
    Throttled {
        /// Japan time, to the minute.
        until: String,
        /// Seconds until the next try is accepted (Retry-After).
        retry_after: u64,
    },
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

/// The throttle row of an address as typed (trimmed, lower-cased) and a source (the client's
/// IP address): a SHA-256, so neither is kept in clear.
fn throttle_key(email: &str, source: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(email.trim().to_lowercase().as_bytes());
    h.update([0]);
    h.update(source.as_bytes());
    hex::encode(h.finalize())
}

/// The wait after `failures` failures in a row: none before [`FREE_FAILURES`], then 1, 2, 4, 8
/// minutes, then 15.
pub fn wait_after(failures: i32) -> Option<Duration> {
    let beyond = failures - FREE_FAILURES;
    if beyond < 0 {
        return None;
    }
    let minutes = FIRST_WAIT_MINUTES
        .checked_shl(beyond.min(16) as u32)
        .unwrap_or(MAX_WAIT_MINUTES)
        .min(MAX_WAIT_MINUTES);
    Some(Duration::minutes(minutes))
}

fn throttled(until: NaiveDateTime, now: NaiveDateTime) -> LoginError {
    LoginError::Throttled {
        until: crate::time::jst_minute(until),
        retry_after: (until - now).num_seconds().max(1) as u64,
    }
}

/// Checks the password and, on success, opens a session of `hours`. `source` is the client's
/// address: after [`FREE_FAILURES`] failures in a row for one address from one source, that
/// pair waits (growing, at most [`MAX_WAIT_MINUTES`]); the account itself is never locked, so
/// a stranger elsewhere cannot keep its user out. Returns the session's user with its new
/// session id.
pub fn login(
    conn: &mut DbConn,
    email: &str,
    source: &str,
    password: &SecretString,
    hours: u32,
) -> Result<SessionUser, LoginError> {
    let key = throttle_key(email, source);
    let now = now_utc();
    let blocked: Option<NaiveDateTime> = login_throttle::table
        .find(&key)
        .select(login_throttle::blocked_until)
        .first::<Option<NaiveDateTime>>(conn)
        .optional()?
        .flatten();
    if let Some(until) = blocked.filter(|u| *u > now) {
        return Err(throttled(until, now));
    }
    let user = match Email::parse(email) {
        Ok(e) => super::users::find_by_email(conn, &e)?,
        Err(_) => None,
    };
    // argon2 runs outside the write transaction so a slow hash never holds the write lock. An
    // unknown address is checked against a dummy hash: it takes as long as a wrong password.
    let ok = match &user {
        Some(u) => verify_password(password, &u.password_hash),
        None => {
            verify_password(password, dummy_hash());
            false
        }
    };
    // The failure count must be committed even though the sign-in fails, so the transaction
    // returns the outcome as a value (an Err would roll it back).
    write_tx(
        conn,
        |conn| -> Result<Result<SessionUser, LoginError>, LoginError> {
            let Some(user) = user.filter(|_| ok) else {
                return Ok(Err(record_failure(conn, &key, now)?));
            };
            diesel::delete(login_throttle::table.find(&key)).execute(conn)?;
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

/// Counts one more failure for the pair (read inside the write transaction, so two wrong
/// passwords at once both count) and says what to answer: the wait, once there is one.
fn record_failure(
    conn: &mut DbConn,
    key: &str,
    now: NaiveDateTime,
) -> Result<LoginError, diesel::result::Error> {
    let forget = now - Duration::hours(FORGET_AFTER_HOURS);
    diesel::delete(login_throttle::table.filter(login_throttle::last_failure_at.lt(forget)))
        .execute(conn)?;
    let before: i32 = login_throttle::table
        .find(key)
        .select(login_throttle::failures)
        .first(conn)
        .optional()?
        .unwrap_or(0);
    let failures = before.saturating_add(1);
    let until = wait_after(failures).map(|w| now + w);
    if before == 0 {
        diesel::insert_into(login_throttle::table)
            .values((
                login_throttle::key.eq(key),
                login_throttle::failures.eq(failures),
                login_throttle::blocked_until.eq(until),
                login_throttle::last_failure_at.eq(now),
            ))
            .execute(conn)?;
    } else {
        diesel::update(login_throttle::table.find(key))
            .set((
                login_throttle::failures.eq(failures),
                login_throttle::blocked_until.eq(until),
                login_throttle::last_failure_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(match until {
        Some(until) => throttled(until, now),
        None => LoginError::BadCredentials,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_fifteen_minutes() {
        let minutes = |f| wait_after(f).map(|d| d.num_minutes());
        assert_eq!(minutes(1), None);
        assert_eq!(minutes(4), None);
        assert_eq!(minutes(5), Some(1));
        assert_eq!(minutes(6), Some(2));
        assert_eq!(minutes(7), Some(4));
        assert_eq!(minutes(8), Some(8));
        assert_eq!(minutes(9), Some(15));
        assert_eq!(minutes(40), Some(15));
        assert_eq!(minutes(i32::MAX), Some(15));
    }

    #[test]
    fn the_key_keeps_neither_address_nor_source_and_ignores_case() {
        let k = throttle_key(" Staff@Example.jp ", "10.0.0.1");
        assert_eq!(k, throttle_key("staff@example.jp", "10.0.0.1"));
        assert_ne!(k, throttle_key("staff@example.jp", "10.0.0.2"));
        assert_eq!(k.len(), 64);
        assert!(!k.contains("example"));
    }
}
