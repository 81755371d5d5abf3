//! Staff changes to an employer (事業所 / 所属所): reminder contacts and opt-out, the
//! 「マイナンバー提出遅延」 mark (SPEC §4.1) and the postal address, each audited in the transaction
//! that makes it. The employer page's forms and `PUT /api/v1/employers/{id}` both come here.
use super::Acting;
use crate::store::audit::AuditAction;
use crate::store::employers::{self, EmployerId};
use crate::store::users::Email;
use crate::store::{write_tx, DbConn};
use chrono::NaiveDate;

#[derive(Debug, thiserror::Error)]
pub enum EmployersError {
    #[error("見つかりません")]
    NotFound,
    /// The change cannot be made; the message is for the user.
    #[error("{0}")]
    Invalid(String),
    #[error("データベースエラー: {0}")]
    Db(#[from] diesel::result::Error),
}

/// The 「マイナンバー提出遅延」 mark as asked: set (from `since`; default today, or the stored date
/// when already marked) or cleared.
#[derive(Clone, Copy, Debug)]
pub struct LateChange {
    pub late: bool,
    pub since: Option<NaiveDate>,
}

/// What to change on an employer; `None` leaves that part as stored.
#[derive(Clone, Debug, Default)]
pub struct EmployerChanges {
    /// Replaces the stored contact addresses.
    pub contact_emails: Option<Vec<Email>>,
    pub opt_out: Option<bool>,
    pub my_number_late: Option<LateChange>,
    /// 郵便番号 as typed ("" clears); checked together with the address.
    pub postal_code: Option<String>,
    /// The postal address as typed ("" clears).
    pub address: Option<String>,
}

/// Applies the changes that are present, in one transaction (nothing is stored if one of them is
/// refused). Each part is audited as before: contacts and address as 事業所の更新, the mark as its
/// own action (and not at all when the mark is already as asked).
pub fn update(
    conn: &mut DbConn,
    acting: &Acting,
    id: EmployerId,
    changes: EmployerChanges,
) -> Result<(), EmployersError> {
    let today = crate::time::today_jst();
    if let Some(d) = changes
        .my_number_late
        .and_then(|l| l.since)
        .filter(|d| *d > today)
    {
        return Err(EmployersError::Invalid(format!(
            "マイナンバー提出遅延の設定日（{d}）が今日より後です"
        )));
    }
    write_tx(conn, |c| {
        let current =
            employers::editable(c, acting.insurer, id)?.ok_or(EmployersError::NotFound)?;
        if changes.contact_emails.is_some() || changes.opt_out.is_some() {
            let emails = match changes.contact_emails {
                Some(e) => e,
                None => employers::parse_contacts(&current.contact_emails.join("\n"))
                    .map_err(EmployersError::Invalid)?,
            };
            let opt_out = changes.opt_out.unwrap_or(current.opt_out);
            if !employers::update_contacts(c, acting.insurer, id, &emails, opt_out)? {
                return Err(EmployersError::NotFound);
            }
            let detail = format!(
                "連絡先 {} 件、メール配信: {}",
                emails.len(),
                if opt_out { "停止" } else { "送信する" }
            );
            record(
                c,
                acting,
                AuditAction::EmployerUpdated,
                &current.code,
                &detail,
            )?;
        }
        if let Some(l) = changes.my_number_late {
            set_late(c, acting, id, &current.code, l, today)?;
        }
        if changes.postal_code.is_some() || changes.address.is_some() {
            let (postal_code, address) = parse_address(
                &changes
                    .postal_code
                    .unwrap_or_else(|| current.postal_code.clone().unwrap_or_default()),
                &changes
                    .address
                    .unwrap_or_else(|| current.address.clone().unwrap_or_default()),
            )
            .map_err(EmployersError::Invalid)?;
            if !employers::update_address(
                c,
                acting.insurer,
                id,
                postal_code.as_deref(),
                address.as_deref(),
            )? {
                return Err(EmployersError::NotFound);
            }
            let detail = if address.is_some() {
                "郵便番号・住所を設定"
            } else {
                "郵便番号・住所を削除"
            };
            record(
                c,
                acting,
                AuditAction::EmployerUpdated,
                &current.code,
                detail,
            )?;
        }
        Ok(())
    })
}

/// Sets or clears the 「マイナンバー提出遅延」 mark. Marking an employer already marked keeps its
/// date unless `since` gives another one. Nothing changes (and nothing is audited) when the mark
/// is already as asked.
fn set_late(
    c: &mut DbConn,
    acting: &Acting,
    id: EmployerId,
    code: &str,
    change: LateChange,
    today: NaiveDate,
) -> Result<(), EmployersError> {
    let LateChange { late, since } = change;
    let current =
        employers::my_number_late(c, acting.insurer, id)?.ok_or(EmployersError::NotFound)?;
    let detail = match (late, &current) {
        (false, None) => return Ok(()),
        (false, Some((was, _))) => {
            employers::set_my_number_late(c, acting.insurer, id, None)?;
            format!("マイナンバー提出遅延: 解除（{was} から設定されていたもの）")
        }
        (true, Some((was, _))) if since.is_none() || since == Some(*was) => return Ok(()),
        (true, _) => {
            let d = since.unwrap_or(today);
            employers::set_my_number_late(c, acting.insurer, id, Some((d, &acting.label)))?;
            match current {
                Some((was, _)) => {
                    format!("マイナンバー提出遅延: 設定日を {was} から {d} に変更")
                }
                None => format!("マイナンバー提出遅延: 設定（{d} から）"),
            }
        }
    };
    record(c, acting, AuditAction::EmployerMyNumberLate, code, &detail)?;
    Ok(())
}

/// The employer's postal address as typed: a 郵便番号 (7 digits) and an address of at most 200
/// characters, both blank to clear; a 郵便番号 needs an address.
pub fn parse_address(
    postal_code: &str,
    address: &str,
) -> Result<(Option<String>, Option<String>), String> {
    let address = address.trim().replace("\r\n", "\n");
    if address.chars().count() > 200 {
        return Err("住所は200文字以内で入力してください".into());
    }
    let address = Some(address).filter(|a| !a.is_empty());
    let postal = postal_code.trim();
    let postal_code = if postal.is_empty() {
        None
    } else {
        Some(crate::ingest::postal_code(postal).ok_or_else(|| {
            format!("郵便番号は7桁の数字で入力してください（例: 100-0001。入力: {postal}）")
        })?)
    };
    if postal_code.is_some() && address.is_none() {
        return Err("郵便番号だけでは宛先になりません。住所も入力してください".into());
    }
    Ok((postal_code, address))
}

fn record(
    c: &mut DbConn,
    acting: &Acting,
    action: AuditAction,
    code: &str,
    detail: &str,
) -> Result<(), diesel::result::Error> {
    acting.audit(c, action, Some(code), Some(detail))
}
