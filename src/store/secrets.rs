//! Service-wide generated secrets, kept in the database so every instance and restart shares them.
use super::schema::app_secrets;
use super::{now_utc, DbConn};
use diesel::prelude::*;
use rand::RngCore;

/// Returns the secret `name`, generating 64 random bytes (hex) on first use. Safe with several
/// instances starting at once: the insert of a loser fails on the primary key and it reads the
/// winner's value.
pub fn get_or_create(conn: &mut DbConn, name: &str) -> Result<String, diesel::result::Error> {
    if let Some(v) = read(conn, name)? {
        return Ok(v);
    }
    let mut bytes = [0u8; 64];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let value = hex::encode(bytes);
    let inserted = diesel::insert_into(app_secrets::table)
        .values((
            app_secrets::name.eq(name),
            app_secrets::value.eq(&value),
            app_secrets::created_at.eq(now_utc()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(value),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => read(conn, name)?.ok_or(diesel::result::Error::NotFound),
        Err(e) => Err(e),
    }
}

fn read(conn: &mut DbConn, name: &str) -> Result<Option<String>, diesel::result::Error> {
    app_secrets::table
        .find(name)
        .select(app_secrets::value)
        .first(conn)
        .optional()
}

/// The key that signs sessions, CSRF tokens and e-mail unsubscribe tokens: `jwt_secret` when
/// configured, else the generated one every instance shares.
pub fn app_key(
    conn: &mut DbConn,
    configured: Option<&secrecy::SecretString>,
) -> Result<secrecy::SecretString, diesel::result::Error> {
    match configured {
        Some(k) => Ok(k.clone()),
        None => get_or_create(conn, "jwt_key").map(secrecy::SecretString::from),
    }
}
