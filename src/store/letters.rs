//! 資格確認書 records and the log of letters produced, plus the sender fields the letters print.
//! Every function takes the insurer: another insurer's notice is simply not found.
use super::insurers::InsurerId;
use super::notices::NoticeDbId;
use super::schema::{certificates, employers, insurers, letters, members, notices};
use super::users::UserId;
use super::{now_utc, DbConn};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{count_star, max, min};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// Rows per `IN (…)` list: well under the bind-parameter limits of both backends.
const CHUNK: usize = 500;

/// Database id of a 資格確認書 record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CertificateId(pub i64);

/// One 資格確認書 issued ex officio.
#[derive(Clone, Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = certificates)]
pub struct CertificateRow {
    pub id: i64,
    pub notice_id: i64,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub issued_by_label: String,
    pub created_at: NaiveDateTime,
}

impl CertificateRow {
    /// In force on `day` (both ends included).
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.issued_on <= day && day <= self.valid_until
    }
}

/// Who did something: the user (if any) and a label that stays readable after the user is gone.
#[derive(Clone, Debug)]
pub struct By {
    pub user: Option<UserId>,
    pub label: String,
}

/// Records a 資格確認書. The caller has checked the notice and the validity (see
/// `crate::letters::check_validity`); this only writes, scoped to the insurer's notice.
pub fn insert_certificate(
    conn: &mut DbConn,
    insurer: InsurerId,
    notice: NoticeDbId,
    issued_on: NaiveDate,
    valid_until: NaiveDate,
    by: &By,
) -> Result<CertificateRow, diesel::result::Error> {
    let owned: i64 = notices::table
        .filter(notices::insurer_id.eq(insurer.0))
        .filter(notices::id.eq(notice.0))
        .count()
        .get_result(conn)?;
    if owned == 0 {
        return Err(diesel::result::Error::NotFound);
    }
    let id: i64 = diesel::insert_into(certificates::table)
        .values((
            certificates::insurer_id.eq(insurer.0),
            certificates::notice_id.eq(notice.0),
            certificates::issued_on.eq(issued_on),
            certificates::valid_until.eq(valid_until),
            certificates::issued_by.eq(by.user.map(|u| u.0)),
            certificates::issued_by_label.eq(&by.label),
            certificates::created_at.eq(now_utc()),
        ))
        .returning(certificates::id)
        .get_result(conn)?;
    certificates::table
        .find(id)
        .select(CertificateRow::as_select())
        .first(conn)
}

/// The certificates of one notice, newest issue first.
pub fn certificates_of(
    conn: &mut DbConn,
    insurer: InsurerId,
    notice: NoticeDbId,
) -> Result<Vec<CertificateRow>, diesel::result::Error> {
    certificates::table
        .filter(certificates::insurer_id.eq(insurer.0))
        .filter(certificates::notice_id.eq(notice.0))
        .order((certificates::issued_on.desc(), certificates::id.desc()))
        .select(CertificateRow::as_select())
        .load(conn)
}

/// The certificates of many notices (a page of the case list, a bulk run), newest first per notice.
pub fn certificates_for(
    conn: &mut DbConn,
    insurer: InsurerId,
    notice_ids: &[i64],
) -> Result<HashMap<i64, Vec<CertificateRow>>, diesel::result::Error> {
    let mut out: HashMap<i64, Vec<CertificateRow>> = HashMap::new();
    for chunk in notice_ids.chunks(CHUNK) {
        let rows: Vec<CertificateRow> = certificates::table
            .filter(certificates::insurer_id.eq(insurer.0))
            .filter(certificates::notice_id.eq_any(chunk))
            .order((certificates::issued_on.desc(), certificates::id.desc()))
            .select(CertificateRow::as_select())
            .load(conn)?;
        for r in rows {
            out.entry(r.notice_id).or_default().push(r);
        }
    }
    Ok(out)
}

/// A letter to record.
#[derive(Clone, Debug)]
pub struct NewLetter {
    pub notice: NoticeDbId,
    /// registration_period | qualification_info | certificate
    pub kind: &'static str,
    pub variant: &'static str,
    pub template_version: String,
    pub certificate: Option<CertificateId>,
    /// The complete HTML document of this one letter, kept to download it again as it was.
    pub html: Option<String>,
}

/// What one run of letters shares.
#[derive(Clone, Debug)]
pub struct Run<'a> {
    pub id: &'a str,
    /// pdf | html
    pub format: &'a str,
    pub letter_date: NaiveDate,
    pub by: &'a By,
}

/// Records the letters of one run (one row each, in one statement per chunk).
pub fn record_letters(
    conn: &mut DbConn,
    insurer: InsurerId,
    run: &Run<'_>,
    items: &[NewLetter],
) -> Result<usize, diesel::result::Error> {
    let now = now_utc();
    let mut n = 0;
    for chunk in items.chunks(CHUNK / 4) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|l| {
                (
                    letters::insurer_id.eq(insurer.0),
                    letters::notice_id.eq(l.notice.0),
                    letters::kind.eq(l.kind),
                    letters::variant.eq(l.variant),
                    letters::template_version.eq(l.template_version.as_str()),
                    letters::format.eq(run.format),
                    letters::letter_date.eq(run.letter_date),
                    letters::certificate_id.eq(l.certificate.map(|c| c.0)),
                    letters::run_id.eq(run.id),
                    letters::created_by.eq(run.by.user.map(|u| u.0)),
                    letters::created_by_label.eq(run.by.label.as_str()),
                    letters::created_at.eq(now),
                    letters::html.eq(l.html.as_deref()),
                )
            })
            .collect();
        // A multi-row insert needs the concrete backend (MultiConnection has no batch insert).
        n += match conn {
            DbConn::Pg(c) => diesel::insert_into(letters::table)
                .values(rows)
                .execute(c)?,
            DbConn::Sqlite(c) => diesel::insert_into(letters::table)
                .values(rows)
                .execute(c)?,
        };
    }
    Ok(n)
}

/// One recorded letter.
#[derive(Clone, Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = letters)]
pub struct LetterRecord {
    pub id: i64,
    pub notice_id: i64,
    pub kind: String,
    pub variant: String,
    pub template_version: String,
    pub format: String,
    pub letter_date: NaiveDate,
    pub certificate_id: Option<i64>,
    pub run_id: String,
    pub created_by_label: String,
    /// UTC
    pub created_at: NaiveDateTime,
    /// 発送済: the day it was mailed
    pub sent_on: Option<NaiveDate>,
    pub sent_by_label: Option<String>,
    /// UTC
    pub sent_at: Option<NaiveDateTime>,
}

/// The latest letter of `kind` produced for a notice (None when there is none), with whether its
/// HTML is kept.
pub fn last_letter(
    conn: &mut DbConn,
    insurer: InsurerId,
    notice: NoticeDbId,
    kind: &str,
) -> Result<Option<(LetterRecord, bool)>, diesel::result::Error> {
    letters::table
        .filter(letters::insurer_id.eq(insurer.0))
        .filter(letters::notice_id.eq(notice.0))
        .filter(letters::kind.eq(kind))
        .order(letters::id.desc())
        .select((LetterRecord::as_select(), letters::html.is_not_null()))
        .first(conn)
        .optional()
}

/// The notices among `ids` that already have a letter of `kind`.
pub fn notices_with_letter(
    conn: &mut DbConn,
    insurer: InsurerId,
    ids: &[i64],
    kind: &str,
) -> Result<std::collections::HashSet<i64>, diesel::result::Error> {
    let mut out = std::collections::HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<i64> = letters::table
            .filter(letters::insurer_id.eq(insurer.0))
            .filter(letters::kind.eq(kind))
            .filter(letters::notice_id.eq_any(chunk))
            .select(letters::notice_id)
            .distinct()
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// One recorded letter of this insurer with its stored HTML document (None for another insurer's
/// id; the HTML is None for letters recorded before it was kept).
pub fn letter_with_html(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: i64,
) -> Result<Option<(LetterRecord, Option<String>)>, diesel::result::Error> {
    letters::table
        .filter(letters::insurer_id.eq(insurer.0))
        .filter(letters::id.eq(id))
        .select((LetterRecord::as_select(), letters::html))
        .first(conn)
        .optional()
}

/// Marks a letter 発送済 on `sent_on`. False when the id is not this insurer's.
pub fn mark_sent(
    conn: &mut DbConn,
    insurer: InsurerId,
    id: i64,
    sent_on: NaiveDate,
    by: &By,
) -> Result<bool, diesel::result::Error> {
    let n = diesel::update(
        letters::table
            .filter(letters::insurer_id.eq(insurer.0))
            .filter(letters::id.eq(id)),
    )
    .set((
        letters::sent_on.eq(Some(sent_on)),
        letters::sent_by_label.eq(Some(by.label.as_str())),
        letters::sent_at.eq(Some(now_utc())),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The letters produced for one notice, newest first, each with whether its HTML is kept (it
/// can be downloaded again).
pub fn letters_of(
    conn: &mut DbConn,
    insurer: InsurerId,
    notice: NoticeDbId,
) -> Result<Vec<(LetterRecord, bool)>, diesel::result::Error> {
    letters::table
        .filter(letters::insurer_id.eq(insurer.0))
        .filter(letters::notice_id.eq(notice.0))
        .order(letters::id.desc())
        .select((LetterRecord::as_select(), letters::html.is_not_null()))
        .load(conn)
}

/// One run of letters (one letter from a case page, or a bulk run).
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub kind: String,
    pub format: String,
    pub letters: i64,
    pub letter_date: NaiveDate,
    pub created_by_label: String,
    /// UTC
    pub created_at: NaiveDateTime,
}

/// The latest runs of the insurer, newest first.
pub fn recent_runs(
    conn: &mut DbConn,
    insurer: InsurerId,
    limit: i64,
) -> Result<Vec<RunSummary>, diesel::result::Error> {
    type Row = (
        String,
        String,
        String,
        i64,
        Option<NaiveDate>,
        Option<String>,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = letters::table
        .filter(letters::insurer_id.eq(insurer.0))
        .group_by((letters::run_id, letters::kind, letters::format))
        .select((
            letters::run_id,
            letters::kind,
            letters::format,
            count_star(),
            min(letters::letter_date),
            min(letters::created_by_label),
            max(letters::created_at),
        ))
        .order(max(letters::created_at).desc())
        .limit(limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(run_id, kind, format, n, date, label, at)| {
            Some(RunSummary {
                run_id,
                kind,
                format,
                letters: n,
                letter_date: date?,
                created_by_label: label.unwrap_or_default(),
                created_at: at?,
            })
        })
        .collect())
}

/// Counts over a period for the follow-up survey (別添3): letters by kind by their letter date,
/// and 資格確認書 by issue date. Each notice counts once per kind, however often it was reprinted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LetterCounts {
    /// Notices that were given データ登録完了までの期間のお知らせ
    pub registration_period: i64,
    /// Notices that were given 資格情報のお知らせ
    pub qualification_info: i64,
    /// Notices that were given the 資格確認書 cover letter
    pub certificate_letters: i64,
    /// 資格確認書 issued ex officio (records)
    pub certificates_issued: i64,
    /// Notices with at least one 資格確認書 issued
    pub notices_with_certificate: i64,
}

pub fn counts(
    conn: &mut DbConn,
    insurer: InsurerId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<LetterCounts, diesel::result::Error> {
    let pairs: Vec<(String, i64)> = letters::table
        .filter(letters::insurer_id.eq(insurer.0))
        .filter(letters::letter_date.between(from, to))
        .select((letters::kind, letters::notice_id))
        .distinct()
        .load(conn)?;
    let mut out = LetterCounts::default();
    for (kind, _) in &pairs {
        match kind.as_str() {
            "registration_period" => out.registration_period += 1,
            "qualification_info" => out.qualification_info += 1,
            "certificate" => out.certificate_letters += 1,
            _ => {}
        }
    }
    let issued: Vec<i64> = certificates::table
        .filter(certificates::insurer_id.eq(insurer.0))
        .filter(certificates::issued_on.between(from, to))
        .select(certificates::notice_id)
        .load(conn)?;
    out.certificates_issued = issued.len() as i64;
    let mut distinct = issued;
    distinct.sort_unstable();
    distinct.dedup();
    out.notices_with_certificate = distinct.len() as i64;
    Ok(out)
}

/// What the letters print about the insurer besides its name and number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SenderFields {
    pub address: Option<String>,
    pub contact: Option<String>,
    pub seal_text: Option<String>,
    /// How the insurer calls itself (当組合／当会 等); None: by its kind.
    pub issuer_word: Option<String>,
    /// The representative's title and name (理事長　山田 太郎), printed under the insurer name.
    pub representative: Option<String>,
}

pub fn sender_fields(
    conn: &mut DbConn,
    insurer: InsurerId,
) -> Result<SenderFields, diesel::result::Error> {
    let (address, contact, seal_text, issuer_word, representative) = insurers::table
        .find(insurer.0)
        .select((
            insurers::address,
            insurers::contact,
            insurers::seal_text,
            insurers::issuer_word,
            insurers::representative,
        ))
        .first(conn)?;
    Ok(SenderFields {
        address,
        contact,
        seal_text,
        issuer_word,
        representative,
    })
}

pub fn update_sender_fields(
    conn: &mut DbConn,
    insurer: InsurerId,
    f: &SenderFields,
) -> Result<(), diesel::result::Error> {
    diesel::update(insurers::table.find(insurer.0))
        .set((
            insurers::address.eq(f.address.as_deref()),
            insurers::contact.eq(f.contact.as_deref()),
            insurers::seal_text.eq(f.seal_text.as_deref()),
            insurers::issuer_word.eq(f.issuer_word.as_deref()),
            insurers::representative.eq(f.representative.as_deref()),
            insurers::updated_at.eq(now_utc()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// What a letter needs to know about one notice, its member and its employer.
#[derive(Clone, Debug, Queryable)]
pub struct LetterFacts {
    pub id: i64,
    pub notice_id: String,
    pub kind: String,
    pub my_number_status: String,
    pub event_date: NaiveDate,
    pub received_on: NaiveDate,
    pub registered_on: Option<NaiveDate>,
    pub registration_deadline: NaiveDate,
    pub employer_code: String,
    pub employer_name: Option<String>,
    /// The employer's 「マイナンバー提出遅延」 mark: since when (None: not marked).
    pub employer_late_since: Option<NaiveDate>,
    /// The employer's postal address (the letter goes 気付 it when the member's is not known).
    pub employer_postal_code: Option<String>,
    pub employer_address: Option<String>,
    pub member_symbol: String,
    pub member_number: String,
    pub dependent_seq: String,
    pub member_name: Option<String>,
    pub member_name_kana: Option<String>,
    /// 生年月日 when an import gave it (None: not known, and not printed).
    pub member_birth_date: Option<NaiveDate>,
    /// The member's postal address from an import (None: not known).
    pub member_postal_code: Option<String>,
    pub member_address: Option<String>,
}

/// The facts of one notice and, for a dependent, the name of the insured person (枝番 blank or
/// 00) when that member is known: letters about a dependent are addressed to the insured.
#[derive(Clone, Debug)]
pub struct LetterSubject {
    pub facts: LetterFacts,
    pub insured_name: Option<String>,
}

/// The facts of the given notices of this insurer, in the order of `ids` (ids of other insurers
/// are left out).
pub fn letter_subjects(
    conn: &mut DbConn,
    insurer: InsurerId,
    ids: &[i64],
) -> Result<Vec<LetterSubject>, diesel::result::Error> {
    let mut found: HashMap<i64, LetterFacts> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<LetterFacts> = notices::table
            .inner_join(employers::table)
            .inner_join(members::table)
            .filter(notices::insurer_id.eq(insurer.0))
            .filter(employers::insurer_id.eq(insurer.0))
            .filter(members::insurer_id.eq(insurer.0))
            .filter(notices::id.eq_any(chunk))
            .select((
                notices::id,
                notices::notice_id,
                notices::kind,
                notices::my_number_status,
                notices::event_date,
                notices::received_on,
                notices::registered_on,
                notices::registration_deadline,
                employers::code,
                employers::name,
                employers::late_with_numbers_since,
                employers::postal_code,
                employers::address,
                members::symbol,
                members::number,
                members::dependent_seq,
                members::name,
                members::name_kana,
                members::birth_date,
                members::postal_code,
                members::address,
            ))
            .load(conn)?;
        for r in rows {
            found.insert(r.id, r);
        }
    }
    let facts: Vec<LetterFacts> = ids.iter().filter_map(|id| found.remove(id)).collect();

    // Insured persons of the dependents, by member key.
    let insured_keys = |f: &LetterFacts| -> [String; 2] {
        [
            super::import::member_key(&f.member_symbol, &f.member_number, ""),
            super::import::member_key(&f.member_symbol, &f.member_number, "00"),
        ]
    };
    let is_dependent = |f: &LetterFacts| !matches!(f.dependent_seq.trim(), "" | "00");
    let mut keys: Vec<String> = facts
        .iter()
        .filter(|f| is_dependent(f))
        .flat_map(insured_keys)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut names: HashMap<String, String> = HashMap::new();
    for chunk in keys.chunks(CHUNK) {
        let rows: Vec<(String, Option<String>)> = members::table
            .filter(members::insurer_id.eq(insurer.0))
            .filter(members::member_key.eq_any(chunk))
            .select((members::member_key, members::name))
            .load(conn)?;
        for (k, n) in rows {
            if let Some(n) = n.filter(|n| !n.trim().is_empty()) {
                names.insert(k, n);
            }
        }
    }
    Ok(facts
        .into_iter()
        .map(|f| {
            let insured_name = if is_dependent(&f) {
                insured_keys(&f).iter().find_map(|k| names.get(k).cloned())
            } else {
                None
            };
            LetterSubject {
                facts: f,
                insured_name,
            }
        })
        .collect())
}
