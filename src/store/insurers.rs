//! Insurers: the tenants. Every other table hangs off an insurer id.
use super::schema::insurers;
use super::{now_utc, DbConn};
use crate::domain::{InsurerKind, InsurerNumber, RuleSettings};
use crate::time::DateStyle;
use diesel::prelude::*;
use serde::Serialize;

/// Database id of an insurer; a distinct type so it is never confused with another id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct InsurerId(pub i64);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = insurers)]
struct InsurerRow {
    id: i64,
    number: String,
    name: String,
    kind: String,
    rules_toml: String,
    address: Option<String>,
    contact: Option<String>,
    data_version: i64,
    date_style: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Insurer {
    pub id: InsurerId,
    pub number: InsurerNumber,
    pub name: String,
    pub kind: InsurerKind,
    pub rules: RuleSettings,
    pub address: Option<String>,
    pub contact: Option<String>,
    /// Bumped by every write to the insurer's notices or settings: the key of cached figures.
    pub data_version: i64,
    /// How its pages show dates (設定 → 表示).
    pub date_style: DateStyle,
}

#[derive(Debug, thiserror::Error)]
pub enum InsurerError {
    #[error("保険者番号 {0} は登録済みです")]
    Duplicate(String),
    #[error("保険者番号 {0} は登録されていません")]
    NotFound(String),
    #[error("保険者 {number} の設定が壊れています: {reason}")]
    BadSettings { number: String, reason: String },
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

impl TryFrom<InsurerRow> for Insurer {
    type Error = InsurerError;
    fn try_from(r: InsurerRow) -> Result<Self, Self::Error> {
        let bad = |reason: String| InsurerError::BadSettings {
            number: r.number.clone(),
            reason,
        };
        Ok(Insurer {
            id: InsurerId(r.id),
            number: InsurerNumber::parse(&r.number).map_err(&bad)?,
            kind: InsurerKind::parse(&r.kind).map_err(&bad)?,
            rules: RuleSettings::from_toml_str(&r.rules_toml).map_err(|e| bad(e.to_string()))?,
            name: r.name,
            address: r.address,
            contact: r.contact,
            data_version: r.data_version,
            date_style: DateStyle::parse(&r.date_style)
                .ok_or_else(|| bad(format!("日付の表示 {:?} は使えません", r.date_style)))?,
        })
    }
}

pub fn create(
    conn: &mut DbConn,
    number: &InsurerNumber,
    name: &str,
    kind: InsurerKind,
    rules: &RuleSettings,
) -> Result<Insurer, InsurerError> {
    super::write_tx(conn, |conn| {
        let exists: i64 = insurers::table
            .filter(insurers::number.eq(number.as_str()))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Err(InsurerError::Duplicate(number.to_string()));
        }
        let now = now_utc();
        diesel::insert_into(insurers::table)
            .values((
                insurers::number.eq(number.as_str()),
                insurers::name.eq(name),
                insurers::kind.eq(kind.code()),
                insurers::rules_toml.eq(rules.to_toml_string()),
                insurers::created_at.eq(now),
                insurers::updated_at.eq(now),
            ))
            .execute(conn)?;
        find_by_number(conn, number)
    })
}

pub fn find_by_number(conn: &mut DbConn, number: &InsurerNumber) -> Result<Insurer, InsurerError> {
    insurers::table
        .filter(insurers::number.eq(number.as_str()))
        .select(InsurerRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| InsurerError::NotFound(number.to_string()))?
        .try_into()
}

pub fn get(conn: &mut DbConn, id: InsurerId) -> Result<Insurer, InsurerError> {
    insurers::table
        .find(id.0)
        .select(InsurerRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| InsurerError::NotFound(format!("id {}", id.0)))?
        .try_into()
}

pub fn list(conn: &mut DbConn) -> Result<Vec<Insurer>, InsurerError> {
    insurers::table
        .order(insurers::number.asc())
        .select(InsurerRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Insurer::try_from)
        .collect()
}

/// Sets how the insurer's pages show dates. Figures do not change: the data version stays.
pub fn set_date_style(
    conn: &mut DbConn,
    id: InsurerId,
    style: DateStyle,
) -> Result<(), diesel::result::Error> {
    diesel::update(insurers::table.find(id.0))
        .set((
            insurers::date_style.eq(style.code()),
            insurers::updated_at.eq(now_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The current data version alone (one indexed read; cheap enough for every dashboard request).
pub fn data_version(conn: &mut DbConn, id: InsurerId) -> Result<i64, diesel::result::Error> {
    insurers::table
        .find(id.0)
        .select(insurers::data_version)
        .first(conn)
}

/// Marks the insurer's data as changed; call inside the transaction that changes it.
pub fn bump_data_version(conn: &mut DbConn, id: InsurerId) -> Result<(), diesel::result::Error> {
    diesel::update(insurers::table.find(id.0))
        .set(insurers::data_version.eq(insurers::data_version + 1))
        .execute(conn)
        .map(|_| ())
}
