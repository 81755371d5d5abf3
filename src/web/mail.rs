//! The e-mail outbox pages: 送信予定 (queued, with a preview as the employer will see it),
//! 送信履歴 (sent), 失敗 (retrying and dead, with the last error). Staff may retry, hold, release
//! or cancel a message; every action is audited. Scoped to the caller's insurer.
use super::auth::{Csrf, CurrentUser};
use super::error::{ErrorBody, WebError};
use super::pages::{base_context, db, html, insurer_of, redirect, PageError, PageForm, PageUser};
use super::params::json_config;
use super::AppState;
use crate::mail::prefs::{self, PrefsInput, WEEKDAYS_JA};
use crate::mail::transport::MailSettings;
use crate::store::audit::AuditAction;
use crate::store::audit::{self, AuditEntry};
use crate::store::employers::EmployerId;
use crate::store::mail_settings::{self, MailPrefs};
use crate::store::outbox::{self, Action, MailKind, OutboxId, OutboxRow, OutboxStatus};
use crate::store::users::Role;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

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
    // The From line as it will be sent (the sender frozen into the message, then the defaults).
    let from = MailSettings::from_config(&state.config)
        .ok()
        .and_then(|s| s.sender_of(&row).ok())
        .map(|s| s.from.to_string());
    ctx.insert("from", &from);
    ctx.insert("m", &row);
    ctx.insert("done", &q.done.is_some());
    Ok(html(&state, "pages/mail_message.html", &ctx)?)
}

#[derive(Deserialize)]
pub struct ActionForm {
    action: String,
}

fn parse_action(a: &str) -> Result<Action, WebError> {
    match a.trim() {
        "retry" => Ok(Action::Retry),
        "hold" => Ok(Action::Hold),
        "release" => Ok(Action::Release),
        "cancel" => Ok(Action::Cancel),
        _ => Err(WebError::BadRequest(
            "不明な操作です（retry・hold・release・cancel のいずれか）".into(),
        )),
    }
}

fn parse_id(s: &str) -> Result<OutboxId, WebError> {
    s.parse::<i64>()
        .map(OutboxId)
        .map_err(|_| WebError::NotFound)
}

/// Applies a staff action to one message of the caller's insurer, audited in the same
/// transaction. Another insurer's id is a 404; a message not in a state the action applies to
/// (or being sent right now) a 400.
async fn act(
    state: &AppState,
    user: &CurrentUser,
    id: OutboxId,
    action_code: &str,
) -> Result<OutboxRow, WebError> {
    user.require(Role::Staff)?;
    let action = parse_action(action_code)?;
    let (ins, uid, email) = (user.insurer_id, user.user_id, user.email.clone());
    let audited = match action {
        Action::Retry => AuditAction::MailRetry,
        Action::Hold => AuditAction::MailHold,
        Action::Release => AuditAction::MailRelease,
        Action::Cancel => AuditAction::MailCancel,
    };
    let (applied, row) = db(state, move |c| {
        crate::store::write_tx(c, |c| {
            if outbox::get(c, ins, id)?.is_none() {
                return Err(WebError::NotFound);
            }
            let ok = outbox::apply(c, ins, id, action, crate::store::now_utc())?;
            if ok {
                audit::record(
                    c,
                    &AuditEntry {
                        insurer: Some(ins),
                        user: Some(uid),
                        actor: &email,
                        action: audited,
                        target: Some(&format!("outbox:{}", id.0)),
                        detail: None,
                    },
                )?;
            }
            let row = outbox::get(c, ins, id)?.ok_or(WebError::NotFound)?;
            Ok((ok, row))
        })
    })
    .await?;
    if !applied {
        return Err(WebError::BadRequest(
            "このメールは現在の状態ではその操作ができません（送信中か、既に処理済みです）".into(),
        ));
    }
    Ok(row)
}

/// retry / hold / release / cancel (staff).
pub async fn message_action(
    state: web::Data<AppState>,
    path: web::Path<String>,
    post: PageForm<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    let id = parse_id(&path)?;
    act(&state, &user, id, &form.action).await?;
    Ok(redirect(&format!("/mail/{}?done=1", id.0)))
}

// ---------------------------------------------------------------------------------------------
// API: one message, and the staff actions

/// One queued, sent or failed e-mail as the employer will see it.
#[derive(Serialize, ToSchema)]
pub struct MessageBody {
    pub id: i64,
    /// late_submission | my_number | certificate_expiry | weekly_digest
    pub kind: String,
    /// pending | sending | sent | failed | dead | held | cancelled
    pub status: String,
    pub status_label: String,
    pub employer_id: i64,
    pub recipients: Vec<String>,
    /// The From header it is (or was) sent with
    pub from: Option<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub as_of: chrono::NaiveDate,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub next_attempt_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn message_body(state: &AppState, row: OutboxRow) -> MessageBody {
    let from = MailSettings::from_config(&state.config)
        .ok()
        .and_then(|s| s.sender_of(&row).ok())
        .map(|s| s.from.to_string());
    MessageBody {
        id: row.id,
        kind: row.kind.clone(),
        status_label: status_label(&row.status).to_string(),
        status: row.status.clone(),
        employer_id: row.employer_id,
        recipients: row.recipient_list(),
        from,
        subject: row.subject,
        body_text: row.body_text,
        body_html: row.body_html,
        attempts: row.attempts,
        last_error: row.last_error,
        as_of: row.as_of,
        created_at: row.created_at.and_utc(),
        next_attempt_at: row.next_attempt_at.and_utc(),
        sent_at: row.sent_at.map(|t| t.and_utc()),
    }
}

/// One e-mail of the caller's insurer (another insurer's id is a 404).
#[utoipa::path(
    get,
    path = "/api/v1/mail/{id}",
    tag = "mail",
    params(("id" = i64, Path, description = "Outbox id")),
    responses(
        (status = 200, description = "The message", body = MessageBody),
        (status = 404, description = "No such message of this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_message(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = parse_id(&path)?;
    let ins = user.insurer_id;
    let row = db(&state, move |c| {
        outbox::get(c, ins, id)?.ok_or(WebError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(message_body(&state, row)))
}

#[derive(Deserialize, ToSchema)]
pub struct ActionBody {
    /// retry (failed/dead → pending) | hold (pending/failed → held) | release (held → pending) |
    /// cancel (pending/failed/held/dead → cancelled)
    pub action: String,
}

/// A staff action on one e-mail, audited. 400 when the message is not in a state the action
/// applies to (or is being sent right now).
#[utoipa::path(
    post,
    path = "/api/v1/mail/{id}/actions",
    tag = "mail",
    params(("id" = i64, Path, description = "Outbox id")),
    request_body = ActionBody,
    responses(
        (status = 200, description = "The message after the action", body = MessageBody),
        (status = 400, description = "Unknown action, or not applicable now", body = ErrorBody),
        (status = 403, description = "Viewer, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such message of this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_message_action(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<ActionBody>,
) -> Result<HttpResponse, WebError> {
    let id = parse_id(&path)?;
    let row = act(&state, &user, id, &body.action).await?;
    Ok(HttpResponse::Ok().json(message_body(&state, row)))
}

// ---------------------------------------------------------------------------------------------
// メール設定 (admin)

/// The insurer's e-mail settings. Empty / null fields use the server's configuration.
#[derive(Serialize, Deserialize, ToSchema, Default)]
pub struct MailSettingsBody {
    /// Display name of the From header (null: the configured mail_from's name)
    pub sender_name: Option<String>,
    /// From address (null: REGWATCH_MAIL_FROM)
    pub from_address: Option<String>,
    /// Reply-To, also the contact named in the e-mails when the insurer has no contact text
    pub reply_to: Option<String>,
    /// Envelope sender that receives bounces (null: mail_bounce, else the From address)
    pub bounce_address: Option<String>,
    /// Automatic reminders on or off (missing: off, the default of a new insurer)
    #[serde(default)]
    pub reminders_enabled: bool,
    /// ISO weekday of the weekly digest, 1 = Monday … 7 = Sunday
    #[serde(default = "monday")]
    pub digest_weekday: u32,
    /// Japan hour (0–23) of the daily evaluation (null: mail_schedule_hour)
    pub schedule_hour: Option<u32>,
}

fn monday() -> u32 {
    1
}

impl From<&MailPrefs> for MailSettingsBody {
    fn from(p: &MailPrefs) -> Self {
        MailSettingsBody {
            sender_name: p.sender_name.clone(),
            from_address: p.from_address.clone(),
            reply_to: p.reply_to.clone(),
            bounce_address: p.bounce_address.clone(),
            reminders_enabled: p.reminders_enabled,
            digest_weekday: p.digest_weekday,
            schedule_hour: p.schedule_hour,
        }
    }
}

impl MailSettingsBody {
    fn prefs(&self) -> Result<MailPrefs, WebError> {
        let weekday = self.digest_weekday.to_string();
        let hour = self
            .schedule_hour
            .map(|h| h.to_string())
            .unwrap_or_default();
        prefs::parse(&PrefsInput {
            sender_name: self.sender_name.as_deref().unwrap_or(""),
            from_address: self.from_address.as_deref().unwrap_or(""),
            reply_to: self.reply_to.as_deref().unwrap_or(""),
            bounce_address: self.bounce_address.as_deref().unwrap_or(""),
            reminders_enabled: self.reminders_enabled,
            digest_weekday: &weekday,
            schedule_hour: &hour,
        })
        .map_err(WebError::BadRequest)
    }
}

fn describe_prefs(old: &MailPrefs, new: &MailPrefs) -> String {
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "（既定）".into());
    let hour = |v: Option<u32>| {
        v.map(|h| format!("{h}時"))
            .unwrap_or_else(|| "（既定）".into())
    };
    let onoff = |b: bool| if b { "送信する" } else { "送信しない" };
    let mut out = Vec::new();
    let mut diff = |label: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{label}: {a} → {b}"));
        }
    };
    diff("差出人名", show(&old.sender_name), show(&new.sender_name));
    diff(
        "差出人アドレス",
        show(&old.from_address),
        show(&new.from_address),
    );
    diff("返信先", show(&old.reply_to), show(&new.reply_to));
    diff(
        "不達通知の受取",
        show(&old.bounce_address),
        show(&new.bounce_address),
    );
    diff(
        "自動送信",
        onoff(old.reminders_enabled).into(),
        onoff(new.reminders_enabled).into(),
    );
    diff(
        "週次のご案内",
        prefs::weekday_ja(old.digest_weekday).into(),
        prefs::weekday_ja(new.digest_weekday).into(),
    );
    diff(
        "評価の時刻",
        hour(old.schedule_hour),
        hour(new.schedule_hour),
    );
    if out.is_empty() {
        "変更なし".into()
    } else {
        out.join("、")
    }
}

/// Saves the settings under the insurer's evaluation lock, audited with what changed.
async fn save_prefs(state: &AppState, user: &CurrentUser, new: MailPrefs) -> Result<(), WebError> {
    user.require(Role::Admin)?;
    let (iid, uid, actor) = (user.insurer_id, user.user_id, user.email.clone());
    db(state, move |c| {
        crate::store::write_tx(c, |c| {
            outbox::lock_insurer(c, iid)?;
            let old = mail_settings::get(c, iid)?.prefs;
            mail_settings::save(c, iid, &new, &actor, crate::store::now_utc())?;
            let detail = describe_prefs(&old, &new);
            audit::record(
                c,
                &AuditEntry {
                    insurer: Some(iid),
                    user: Some(uid),
                    actor: &actor,
                    action: AuditAction::MailSettingsChanged,
                    target: None,
                    detail: Some(&detail),
                },
            )?;
            Ok::<_, WebError>(())
        })
    })
    .await
}

async fn load_prefs(
    state: &AppState,
    user: &CurrentUser,
) -> Result<mail_settings::StoredPrefs, WebError> {
    user.require(Role::Admin)?;
    let iid = user.insurer_id;
    db(state, move |c| Ok(mail_settings::get(c, iid)?)).await
}

/// The settings form: every field a string, so what was typed comes back with the error.
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct MailSettingsForm {
    #[serde(default)]
    sender_name: String,
    #[serde(default)]
    from_address: String,
    #[serde(default)]
    reply_to: String,
    #[serde(default)]
    bounce_address: String,
    #[serde(default)]
    reminders_enabled: Option<String>,
    #[serde(default)]
    digest_weekday: String,
    #[serde(default)]
    schedule_hour: String,
}

impl MailSettingsForm {
    fn of(p: &MailPrefs) -> Self {
        MailSettingsForm {
            sender_name: p.sender_name.clone().unwrap_or_default(),
            from_address: p.from_address.clone().unwrap_or_default(),
            reply_to: p.reply_to.clone().unwrap_or_default(),
            bounce_address: p.bounce_address.clone().unwrap_or_default(),
            reminders_enabled: p.reminders_enabled.then(|| "on".into()),
            digest_weekday: p.digest_weekday.to_string(),
            schedule_hour: p.schedule_hour.map(|h| h.to_string()).unwrap_or_default(),
        }
    }
    fn prefs(&self) -> Result<MailPrefs, String> {
        prefs::parse(&PrefsInput {
            sender_name: &self.sender_name,
            from_address: &self.from_address,
            reply_to: &self.reply_to,
            bounce_address: &self.bounce_address,
            reminders_enabled: self.reminders_enabled.is_some(),
            digest_weekday: &self.digest_weekday,
            schedule_hour: &self.schedule_hour,
        })
    }
}

async fn render_settings(
    state: &AppState,
    user: &CurrentUser,
    form: Option<MailSettingsForm>,
    saved: bool,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let stored = load_prefs(state, user).await?;
    let insurer = insurer_of(state, user).await?;
    let defaults = MailSettings::from_config(&state.config).ok();
    let mut ctx = base_context(user, &insurer, "mail");
    ctx.insert(
        "f",
        &form.unwrap_or_else(|| MailSettingsForm::of(&stored.prefs)),
    );
    let weekdays: Vec<(String, &str)> = WEEKDAYS_JA
        .iter()
        .map(|(n, l)| (n.to_string(), *l))
        .collect();
    ctx.insert("weekdays", &weekdays);
    ctx.insert(
        "default_from",
        &defaults.as_ref().map(|d| d.from.to_string()),
    );
    ctx.insert(
        "default_bounce",
        &defaults.as_ref().map(|d| {
            d.bounce
                .clone()
                .unwrap_or_else(|| d.from.email.clone())
                .to_string()
        }),
    );
    ctx.insert("default_hour", &state.config.mail_schedule_hour);
    ctx.insert("public_url", &state.config.public_url);
    ctx.insert("updated_by", &stored.updated_by);
    ctx.insert("last_evaluated_on", &stored.last_evaluated_on);
    ctx.insert("saved", &saved);
    ctx.insert("error", &error);
    html(state, "pages/mail_settings.html", &ctx)
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn settings_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<SavedQuery>,
) -> Result<HttpResponse, PageError> {
    Ok(render_settings(&state, &user.0, None, q.saved.is_some(), None).await?)
}

pub async fn settings_submit(
    state: web::Data<AppState>,
    post: PageForm<MailSettingsForm>,
) -> Result<HttpResponse, PageError> {
    let Csrf { user, form } = post.0;
    user.require(Role::Admin)?;
    match form.prefs() {
        Ok(p) => {
            save_prefs(&state, &user, p).await?;
            Ok(redirect("/mail/settings?saved=1"))
        }
        Err(msg) => {
            let mut res = render_settings(&state, &user, Some(form), false, Some(msg)).await?;
            *res.status_mut() = StatusCode::BAD_REQUEST;
            Ok(res)
        }
    }
}

/// The insurer's e-mail settings. Admin only.
#[utoipa::path(
    get,
    path = "/api/v1/mail/settings",
    tag = "mail",
    responses(
        (status = 200, description = "The settings", body = MailSettingsBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_settings(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let stored = load_prefs(&state, &user).await?;
    Ok(HttpResponse::Ok().json(MailSettingsBody::from(&stored.prefs)))
}

/// Replaces the insurer's e-mail settings; audited. Messages queued from now on carry the new
/// sender; messages already queued keep theirs (what the preview showed). Admin only.
#[utoipa::path(
    put,
    path = "/api/v1/mail/settings",
    tag = "mail",
    request_body = MailSettingsBody,
    responses(
        (status = 200, description = "Saved", body = MailSettingsBody),
        (status = 400, description = "A bad value; the Japanese message names the field", body = ErrorBody),
        (status = 403, description = "Not an admin, or CSRF token missing", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_settings_put(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<MailSettingsBody>,
) -> Result<HttpResponse, WebError> {
    user.require(Role::Admin)?;
    let p = body.prefs()?;
    save_prefs(&state, &user, p.clone()).await?;
    Ok(HttpResponse::Ok().json(MailSettingsBody::from(&p)))
}

// ---------------------------------------------------------------------------------------------
// The admin's preview before switching automatic reminders on (SPEC §5): what the evaluation would
// queue now, rendered with the current settings, without queuing anything.

/// Messages shown in full on the preview page (all are counted).
const PREVIEW_SHOWN: usize = 20;

#[derive(Deserialize)]
pub struct PreviewQuery {
    as_of: Option<String>,
}

/// One message the evaluation would queue, as the employer would receive it.
#[derive(Serialize, ToSchema)]
pub struct MailPreviewMessage {
    pub kind: String,
    pub kind_label: String,
    pub employer_id: i64,
    pub recipients: Vec<String>,
    /// The From line with the current settings
    pub from: Option<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

/// What the daily evaluation as of a date would queue now; nothing is written.
#[derive(Serialize, ToSchema)]
pub struct MailPreviewBody {
    pub as_of: chrono::NaiveDate,
    /// Whether automatic reminders are on (the preview is the same either way)
    pub reminders_enabled: bool,
    /// Messages per kind code
    pub queued: std::collections::BTreeMap<String, usize>,
    /// Reminders already queued earlier (not repeated)
    pub already_queued: usize,
    pub opted_out: usize,
    pub no_contact: usize,
    pub messages: Vec<MailPreviewMessage>,
}

fn mail_error(e: crate::mail::MailError) -> WebError {
    match e {
        crate::mail::MailError::Db(e) => e.into(),
        crate::mail::MailError::Insurer(e) => e.into(),
        other => WebError::Internal(other.into()),
    }
}

async fn load_preview(
    state: &AppState,
    user: &CurrentUser,
    as_of: chrono::NaiveDate,
) -> Result<MailPreviewBody, WebError> {
    user.require(Role::Admin)?;
    let iid = user.insurer_id;
    let defaults = MailSettings::from_config(&state.config).ok();
    db(state, move |c| {
        let insurer = crate::store::insurers::get(c, iid)?;
        let enabled = mail_settings::get(c, iid)?.prefs.reminders_enabled;
        let (counts, msgs) =
            crate::mail::preview_insurer(c, &insurer, as_of, crate::store::now_utc())
                .map_err(mail_error)?;
        let messages = msgs
            .into_iter()
            .map(|m| MailPreviewMessage {
                kind: m.kind.code().to_string(),
                kind_label: m.kind.label_ja().to_string(),
                employer_id: m.employer_id,
                from: defaults.as_ref().and_then(|d| {
                    d.sender(
                        m.sender.name.as_deref(),
                        m.sender.from_address.as_deref(),
                        m.sender.reply_to.as_deref(),
                        m.sender.bounce_address.as_deref(),
                    )
                    .ok()
                    .map(|s| s.from.to_string())
                }),
                recipients: m.recipients,
                subject: m.subject,
                body_text: m.body_text,
                body_html: m.body_html,
            })
            .collect();
        Ok(MailPreviewBody {
            as_of,
            reminders_enabled: enabled,
            queued: counts
                .queued
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            already_queued: counts.already_queued,
            opted_out: counts.opted_out,
            no_contact: counts.no_contact,
            messages,
        })
    })
    .await
}

fn preview_date(q: &PreviewQuery) -> Result<chrono::NaiveDate, WebError> {
    match q.as_of.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(crate::time::today_jst()),
        Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            WebError::BadRequest(format!(
                "基準日「{s}」は YYYY-MM-DD の形式で入力してください"
            ))
        }),
    }
}

/// The preview page: counts per kind and the first messages with both bodies. Admin only.
pub async fn preview_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<PreviewQuery>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    let as_of = preview_date(&q)?;
    let p = load_preview(&state, &user, as_of).await?;
    let insurer = insurer_of(&state, &user).await?;
    let mut ctx = base_context(&user, &insurer, "mail");
    let counts: Vec<(&str, usize)> = MailKind::ALL
        .iter()
        .map(|k| (k.label_ja(), p.queued.get(k.code()).copied().unwrap_or(0)))
        .collect();
    ctx.insert("counts", &counts);
    ctx.insert("total", &p.messages.len());
    ctx.insert(
        "shown",
        &p.messages.iter().take(PREVIEW_SHOWN).collect::<Vec<_>>(),
    );
    ctx.insert("p", &p);
    ctx.insert("as_of", &as_of.to_string());
    html(&state, "pages/mail_preview.html", &ctx).map_err(Into::into)
}

/// What the daily evaluation as of `as_of` (default: today in Japan) would queue now, rendered
/// with the current settings; nothing is queued. Admin only.
#[utoipa::path(
    get,
    path = "/api/v1/mail/preview",
    tag = "mail",
    params(("as_of" = Option<String>, Query, description = "YYYY-MM-DD (default: today, JST)")),
    responses(
        (status = 200, description = "The messages that would be queued", body = MailPreviewBody),
        (status = 400, description = "A bad date", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_preview(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PreviewQuery>,
) -> Result<HttpResponse, WebError> {
    let as_of = preview_date(&q)?;
    Ok(HttpResponse::Ok().json(load_preview(&state, &user, as_of).await?))
}

// ---------------------------------------------------------------------------------------------
// RFC 8058 one-click unsubscribe: no sign-in, no CSRF token — the signed token is the authority,
// and it can only set the opt-out of the one employer it names.

fn unsubscribe_page(
    state: &AppState,
    status: StatusCode,
    ctx: &tera::Context,
) -> Result<HttpResponse, WebError> {
    let mut res = html(state, "pages/unsubscribe.html", ctx)?;
    *res.status_mut() = status;
    Ok(res)
}

/// The employer's label, or `None` for a token that is not genuine (or names no employer).
async fn unsubscribe_target(
    state: &AppState,
    token: &str,
) -> Result<Option<(crate::store::insurers::InsurerId, i64, String, String)>, WebError> {
    let key = state.jwt_key.expose_secret().as_bytes().to_vec();
    let Some((ins, emp)) = crate::mail::unsubscribe::verify(&key, token) else {
        return Ok(None);
    };
    db(state, move |c| {
        let Some(code) = crate::store::employers::code_of(c, ins, EmployerId(emp))? else {
            return Ok(None);
        };
        let insurer = crate::store::insurers::get(c, ins)?;
        Ok(Some((ins, emp, code, insurer.name)))
    })
    .await
}

fn bad_token(state: &AppState) -> Result<HttpResponse, WebError> {
    let mut ctx = tera::Context::new();
    ctx.insert(
        "error",
        "このリンクは無効です。メールに記載されたリンクをそのままお使いいただくか、保険者までお問い合わせください。",
    );
    unsubscribe_page(state, StatusCode::NOT_FOUND, &ctx)
}

pub async fn unsubscribe_get(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let Some((_, _, code, insurer)) = unsubscribe_target(&state, &path).await? else {
        return Ok(bad_token(&state)?);
    };
    let mut ctx = tera::Context::new();
    ctx.insert("token", path.as_str());
    ctx.insert("employer_code", &code);
    ctx.insert("insurer_name", &insurer);
    ctx.insert("done", &false);
    Ok(unsubscribe_page(&state, StatusCode::OK, &ctx)?)
}

/// Sets the opt-out (idempotent) and audits it. Mail clients post `List-Unsubscribe=One-Click`;
/// the confirmation page's button posts the same.
pub async fn unsubscribe_post(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let Some((ins, emp, code, insurer)) = unsubscribe_target(&state, &path).await? else {
        return Ok(bad_token(&state)?);
    };
    let target = code.clone();
    db(&state, move |c| {
        crate::store::write_tx(c, |c| {
            if crate::store::employers::set_opt_out(c, ins, EmployerId(emp))? {
                audit::record(
                    c,
                    &AuditEntry {
                        insurer: Some(ins),
                        user: None,
                        actor: "事業所（メールの配信停止リンク）",
                        action: AuditAction::EmployerUnsubscribed,
                        target: Some(&target),
                        detail: Some("RFC 8058 one-click"),
                    },
                )?;
            }
            Ok::<_, WebError>(())
        })
    })
    .await?;
    tracing::info!(insurer = ins.0, employer = emp, "employer unsubscribed");
    let mut ctx = tera::Context::new();
    ctx.insert("employer_code", &code);
    ctx.insert("insurer_name", &insurer);
    ctx.insert("done", &true);
    Ok(unsubscribe_page(&state, StatusCode::OK, &ctx)?)
}

/// `mail::configure(cfg)` beside the other areas in `web::routes`. `/mail/settings` and
/// `/mail/preview` come before `/mail/{id}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/mail", web::get().to(mail_page))
        .route("/mail/settings", web::get().to(settings_page))
        .route("/mail/settings", web::post().to(settings_submit))
        .route("/mail/preview", web::get().to(preview_page))
        .route("/mail/{id}", web::get().to(message_page))
        .route("/mail/{id}", web::post().to(message_action))
        .route("/unsubscribe/{token}", web::get().to(unsubscribe_get))
        .route("/unsubscribe/{token}", web::post().to(unsubscribe_post))
        .service(
            web::resource("/api/v1/mail/settings")
                .app_data(json_config())
                .route(web::get().to(api_settings))
                .route(web::put().to(api_settings_put)),
        )
        .route("/api/v1/mail/preview", web::get().to(api_preview))
        .route("/api/v1/mail/{id}", web::get().to(api_message))
        .service(
            web::resource("/api/v1/mail/{id}/actions")
                .app_data(json_config())
                .route(web::post().to(api_message_action)),
        );
}

#[derive(OpenApi)]
#[openapi(paths(
    api_settings,
    api_settings_put,
    api_preview,
    api_message,
    api_message_action
))]
struct MailApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    MailApi::openapi()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_outbox_pages_and_mail_templates_parse() {
        let t = super::super::templates::load().unwrap();
        let names: Vec<&str> = t.get_template_names().collect();
        for n in [
            "pages/mail.html",
            "pages/mail_settings.html",
            "pages/mail_preview.html",
            "mail/_footer.txt",
            "pages/unsubscribe.html",
            "pages/mail_message.html",
            "mail/late_submission/body.html",
        ] {
            assert!(names.contains(&n), "{n}");
        }
    }
}
