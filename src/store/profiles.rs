//! Import profiles (SPEC §3.1) and uploads waiting for the staff member's confirmation.
//!
//! A profile is kept as the same TOML the CLI reads (`ingest::Profile`), so what is stored,
//! exported and given to `regwatch import --profile` can never drift apart. Every query takes
//! the insurer.
use super::insurers::InsurerId;
use super::schema::{import_profiles, import_uploads};
use super::{now_utc, update_or_insert, DbConn};
use crate::ingest::Profile;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// One stored profile.
#[derive(Clone, Debug)]
pub struct StoredProfile {
    pub id: i64,
    pub name: String,
    pub profile: Profile,
    pub updated_by_label: String,
    pub updated_at: NaiveDateTime,
}

type Row = (i64, String, String, String, NaiveDateTime);

fn from_row((id, name, toml, updated_by_label, updated_at): Row) -> StoredProfile {
    // Stored profiles were checked when saved; one that no longer parses (a field removed in a
    // later version) is shown empty rather than failing the page, and saving it again fixes it.
    let profile = Profile::from_toml_str(&toml).unwrap_or_default();
    StoredProfile {
        id,
        name,
        profile,
        updated_by_label,
        updated_at,
    }
}

const COLUMNS: (
    import_profiles::id,
    import_profiles::name,
    import_profiles::profile_toml,
    import_profiles::updated_by_label,
    import_profiles::updated_at,
) = (
    import_profiles::id,
    import_profiles::name,
    import_profiles::profile_toml,
    import_profiles::updated_by_label,
    import_profiles::updated_at,
);

/// The insurer's profiles by name.
pub fn list(conn: &mut DbConn, insurer: InsurerId) -> QueryResult<Vec<StoredProfile>> {
    Ok(import_profiles::table
        .filter(import_profiles::insurer_id.eq(insurer.0))
        .order(import_profiles::name.asc())
        .select(COLUMNS)
        .load::<Row>(conn)?
        .into_iter()
        .map(from_row)
        .collect())
}

/// One profile of this insurer by id (None for another insurer's).
pub fn get(conn: &mut DbConn, insurer: InsurerId, id: i64) -> QueryResult<Option<StoredProfile>> {
    Ok(import_profiles::table
        .filter(import_profiles::insurer_id.eq(insurer.0))
        .filter(import_profiles::id.eq(id))
        .select(COLUMNS)
        .first::<Row>(conn)
        .optional()?
        .map(from_row))
}

/// One profile of this insurer by name.
pub fn by_name(
    conn: &mut DbConn,
    insurer: InsurerId,
    name: &str,
) -> QueryResult<Option<StoredProfile>> {
    Ok(import_profiles::table
        .filter(import_profiles::insurer_id.eq(insurer.0))
        .filter(import_profiles::name.eq(name))
        .select(COLUMNS)
        .first::<Row>(conn)
        .optional()?
        .map(from_row))
}

/// Creates or replaces the profile `name`; returns its id. Call inside a write transaction.
pub fn save(
    conn: &mut DbConn,
    insurer: InsurerId,
    name: &str,
    profile: &Profile,
    by: &str,
) -> QueryResult<i64> {
    let now = now_utc();
    let toml = profile.to_toml();
    update_or_insert(
        conn,
        |c| {
            diesel::update(
                import_profiles::table
                    .filter(import_profiles::insurer_id.eq(insurer.0))
                    .filter(import_profiles::name.eq(name)),
            )
            .set((
                import_profiles::profile_toml.eq(&toml),
                import_profiles::updated_by_label.eq(by),
                import_profiles::updated_at.eq(now),
            ))
            .execute(c)
        },
        |c| {
            diesel::insert_into(import_profiles::table)
                .values((
                    import_profiles::insurer_id.eq(insurer.0),
                    import_profiles::name.eq(name),
                    import_profiles::profile_toml.eq(&toml),
                    import_profiles::updated_by_label.eq(by),
                    import_profiles::created_at.eq(now),
                    import_profiles::updated_at.eq(now),
                ))
                .execute(c)
        },
    )?;
    import_profiles::table
        .filter(import_profiles::insurer_id.eq(insurer.0))
        .filter(import_profiles::name.eq(name))
        .select(import_profiles::id)
        .first(conn)
}

/// Deletes a profile of this insurer; false when there was none. Uploads previewed through it
/// go too: committed without it they would be read otherwise than their preview showed.
pub fn delete(conn: &mut DbConn, insurer: InsurerId, id: i64) -> QueryResult<bool> {
    diesel::delete(
        import_uploads::table
            .filter(import_uploads::insurer_id.eq(insurer.0))
            .filter(import_uploads::profile_id.eq(id)),
    )
    .execute(conn)?;
    let n = diesel::delete(
        import_profiles::table
            .filter(import_profiles::insurer_id.eq(insurer.0))
            .filter(import_profiles::id.eq(id)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

/// A file kept between the preview of what it would change and the staff member's decision
/// (or, for the profile editor, a sample to map).
#[derive(Clone, Debug)]
pub struct Upload {
    pub id: i64,
    /// notices | registrations
    pub file_kind: String,
    pub file_name: String,
    pub profile_id: Option<i64>,
    pub received_on: Option<NaiveDate>,
    pub content: Vec<u8>,
    pub created_at: NaiveDateTime,
}

/// Uploads older than this are removed when the next one is kept.
const UPLOAD_HOURS: i64 = 24;

/// An upload to keep.
pub struct NewUpload<'a> {
    pub user: Option<i64>,
    /// notices | registrations
    pub file_kind: &'a str,
    pub file_name: &'a str,
    pub profile_id: Option<i64>,
    pub received_on: Option<NaiveDate>,
    pub content: &'a [u8],
}

/// Keeps an upload; returns its id. Old uploads of every insurer are cleared on the way.
pub fn keep_upload(conn: &mut DbConn, insurer: InsurerId, u: &NewUpload<'_>) -> QueryResult<i64> {
    let NewUpload {
        user,
        file_kind,
        file_name,
        profile_id,
        received_on,
        content,
    } = *u;
    let now = now_utc();
    diesel::delete(
        import_uploads::table
            .filter(import_uploads::created_at.lt(now - chrono::Duration::hours(UPLOAD_HOURS))),
    )
    .execute(conn)?;
    diesel::insert_into(import_uploads::table)
        .values((
            import_uploads::insurer_id.eq(insurer.0),
            import_uploads::file_kind.eq(file_kind),
            import_uploads::file_name.eq(file_name),
            import_uploads::profile_id.eq(profile_id),
            import_uploads::received_on.eq(received_on),
            import_uploads::content.eq(content),
            import_uploads::created_by.eq(user),
            import_uploads::created_at.eq(now),
        ))
        .returning(import_uploads::id)
        .get_result(conn)
}

/// One kept upload of this insurer.
pub fn upload(conn: &mut DbConn, insurer: InsurerId, id: i64) -> QueryResult<Option<Upload>> {
    Ok(import_uploads::table
        .filter(import_uploads::insurer_id.eq(insurer.0))
        .filter(import_uploads::id.eq(id))
        .select((
            import_uploads::id,
            import_uploads::file_kind,
            import_uploads::file_name,
            import_uploads::profile_id,
            import_uploads::received_on,
            import_uploads::content,
            import_uploads::created_at,
        ))
        .first::<(
            i64,
            String,
            String,
            Option<i64>,
            Option<NaiveDate>,
            Vec<u8>,
            NaiveDateTime,
        )>(conn)
        .optional()?
        .map(
            |(id, file_kind, file_name, profile_id, received_on, content, created_at)| Upload {
                id,
                file_kind,
                file_name,
                profile_id,
                received_on,
                content,
                created_at,
            },
        ))
}

/// Removes a kept upload of this insurer.
pub fn drop_upload(conn: &mut DbConn, insurer: InsurerId, id: i64) -> QueryResult<bool> {
    Ok(diesel::delete(
        import_uploads::table
            .filter(import_uploads::insurer_id.eq(insurer.0))
            .filter(import_uploads::id.eq(id)),
    )
    .execute(conn)?
        > 0)
}
