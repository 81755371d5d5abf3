//! The e-mail outbox pages: 送信予定 (queued, with a preview as the employer will see it),
//! 送信履歴 (sent), 失敗 (retrying and dead, with the last error). Staff may retry, hold, release
//! or cancel a message; every action is audited. Scoped to the caller's insurer.
use super::auth::{FormPost, HasCsrf};
use super::error::WebError;
use super::pages::{base_context, db, html, insurer_of, redirect, PageError, PageForm, PageUser};
use super::AppState;
use crate::store::audit::{self, AuditEntry};
use crate::store::outbox::{self, Action, MailKind, OutboxId, OutboxStatus};
use crate::store::users::Role;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

/// Rows shown per tab.
const LIST_LIMIT: i64 = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Tab {
    Queued,
    Sent,
    Failed,
}

impl Tab {
    fn parse(s: Option<&str>) -> Tab {
        match s {
            Some("sent") => Tab::Sent,
            Some("failed") => Tab::Failed,
            _ => Tab::Queued,
        }
    }
    fn statuses(self) -> &'static [OutboxStatus] {
        match self {
            Tab::Queued => &[
                OutboxStatus::Pending,
                OutboxStatus::Sending,
                OutboxStatus::Held,
            ],
            Tab::Sent => &[OutboxStatus::Sent, OutboxStatus::Cancelled],
            Tab::Failed => &[OutboxStatus::Failed, OutboxStatus::Dead],
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MailQuery {
    tab: Option<String>,
    done: Option<String>,
}

#[derive(Serialize)]
struct Item {
    id: i64,
    kind_ja: &'static str,
    status: String,
    status_ja: &'static str,
    employer_code: String,
    employer_name: Option<String>,
    recipients: String,
    subject: String,
    attempts: i32,
    next_attempt_at: String,
    last_error: Option<String>,
    as_of: String,
    created_at: String,
    sent_at: Option<String>,
}

fn label(kind: &str) -> &'static str {
    MailKind::parse(kind).map(MailKind::label_ja).unwrap_or("—")
}

fn status_label(s: &str) -> &'static str {
    OutboxStatus::parse(s)
        .map(OutboxStatus::label_ja)
        .unwrap_or("—")
}

/// UTC as stored → Japan time for display.
fn jst(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub async fn mail_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<MailQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let tab = Tab::parse(q.tab.as_deref());
    let insurer = insurer_of(&state, &user).await?;
    let id = insurer.id;
    let (rows, counts) = db(&state, move |c| {
        Ok((
            outbox::list(c, id, tab.statuses(), LIST_LIMIT)?,
            outbox::counts(c, id)?,
        ))
    })
    .await?;
    let items: Vec<Item> = rows
        .into_iter()
        .map(|m| Item {
            id: m.row.id,
            kind_ja: label(&m.row.kind),
            status_ja: status_label(&m.row.status),
            status: m.row.status,
            employer_code: m.employer_code,
            employer_name: m.employer_name,
            recipients: m.row.recipients.replace(',', ", "),
            subject: m.row.subject,
            attempts: m.row.attempts,
            next_attempt_at: jst(m.row.next_attempt_at),
            last_error: m.row.last_error,
            as_of: m.row.as_of.to_string(),
            created_at: jst(m.row.created_at),
            sent_at: m.row.sent_at.map(jst),
        })
        .collect();
    let n = |s: &[OutboxStatus]| -> i64 {
        s.iter()
            .map(|s| counts.get(s.code()).copied().unwrap_or(0))
            .sum()
    };
    let mut ctx = base_context(&user, &insurer, "mail");
    ctx.insert("tab", &tab);
    ctx.insert("items", &items);
    ctx.insert("n_queued", &n(Tab::Queued.statuses()));
    ctx.insert("n_sent", &n(Tab::Sent.statuses()));
    ctx.insert("n_failed", &n(Tab::Failed.statuses()));
    ctx.insert("done", &q.done.is_some());
    Ok(html(&state, "pages/mail.html", &ctx)?)
}

/// One message as the employer will see it (subject, recipients, text and HTML bodies).
pub async fn message_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<String>,
    q: web::Query<MailQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let id = OutboxId(path.parse::<i64>().map_err(|_| WebError::NotFound)?);
    let insurer = insurer_of(&state, &user).await?;
    let ins = insurer.id;
    let row = db(&state, move |c| {
        outbox::get(c, ins, id)?.ok_or(WebError::NotFound)
    })
    .await?;
    let mut ctx = base_context(&user, &insurer, "mail");
    ctx.insert("kind_ja", label(&row.kind));
    ctx.insert("status_ja", status_label(&row.status));
    ctx.insert("created", &jst(row.created_at));
    ctx.insert("next_attempt", &jst(row.next_attempt_at));
    ctx.insert("sent", &row.sent_at.map(jst));
    ctx.insert("m", &row);
    ctx.insert("done", &q.done.is_some());
    Ok(html(&state, "pages/mail_message.html", &ctx)?)
}

#[derive(Deserialize)]
pub struct ActionForm {
    action: String,
    #[serde(default)]
    csrf: String,
}

impl HasCsrf for ActionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// retry / hold / release / cancel (staff).
pub async fn message_action(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let FormPost { user, form } = post.0;
    user.require(Role::Staff)?;
    let id = OutboxId(path.parse::<i64>().map_err(|_| WebError::NotFound)?);
    let action = match form.action.as_str() {
        "retry" => Action::Retry,
        "hold" => Action::Hold,
        "release" => Action::Release,
        "cancel" => Action::Cancel,
        _ => return Err(WebError::BadRequest("不明な操作です".into()).into()),
    };
    let (ins, uid, email) = (user.insurer_id, user.user_id, user.email.clone());
    let code = form.action.clone();
    let applied = db(&state, move |c| {
        crate::store::write_tx(c, |c| {
            let ok = outbox::apply(c, ins, id, action, crate::store::now_utc())?;
            if ok {
                audit::record(
                    c,
                    &AuditEntry {
                        insurer: Some(ins),
                        user: Some(uid),
                        actor: &email,
                        action: &format!("mail.{code}"),
                        target: Some(&format!("outbox:{}", id.0)),
                        detail: None,
                    },
                )?;
            }
            Ok::<_, diesel::result::Error>(ok)
        })
        .map_err(WebError::from)
    })
    .await?;
    if !applied {
        return Err(WebError::BadRequest(
            "このメールは現在の状態ではその操作ができません（送信中か、既に処理済みです）".into(),
        )
        .into());
    }
    Ok(redirect(&format!("/mail/{}?done=1", id.0)))
}

/// `mail::configure(cfg)` beside the other areas in `web::routes`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/mail", web::get().to(mail_page))
        .route("/mail/{id}", web::get().to(message_page))
        .route("/mail/{id}", web::post().to(message_action));
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_outbox_pages_and_mail_templates_parse() {
        let t = super::super::templates::load().unwrap();
        let names: Vec<&str> = t.get_template_names().collect();
        for n in [
            "pages/mail.html",
            "pages/mail_message.html",
            "mail/late_submission/body.html",
        ] {
            assert!(names.contains(&n), "{n}");
        }
    }
}
