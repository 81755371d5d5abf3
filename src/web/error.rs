//! Web errors: user errors become 4xx with a safe Japanese message; everything else is an opaque
//! 500 whose cause chain goes to the log only.
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("見つかりません")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("ログインしてください")]
    Unauthorized,
    #[error("この操作の権限がありません")]
    Forbidden,
    /// An admin reset the password: only the account page (to change it) and sign-out are open.
    #[error("管理者がパスワードを再設定しました。アカウント画面（/account）で新しいパスワードに変更してください")]
    PasswordChangeRequired,
    #[error(
        "フォームの有効期限が切れたか、不正な送信です。画面を開き直してからもう一度お試しください"
    )]
    Csrf,
    #[error("{0}")]
    Login(String),
    /// Sign-in failures in a row from this source for this address: wait `retry_after` seconds.
    #[error("{message}")]
    Throttled { message: String, retry_after: u64 },
    /// Another method on an API path; holds the `Allow` value (`GET, PUT`).
    #[error("この URL ではこのメソッドは使えません（使えるメソッド: {0}）")]
    MethodNotAllowed(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("データベースに接続できません。しばらくしてからもう一度お試しください")]
    Unavailable(#[source] anyhow::Error),
    #[error("サーバー内部でエラーが発生しました")]
    Internal(#[source] anyhow::Error),
}

impl WebError {
    pub fn code(&self) -> &'static str {
        match self {
            WebError::NotFound => "not_found",
            WebError::BadRequest(_) => "bad_request",
            WebError::Unauthorized => "unauthorized",
            WebError::Forbidden => "forbidden",
            WebError::PasswordChangeRequired => "password_change_required",
            WebError::Csrf => "csrf",
            WebError::Login(_) => "invalid_credentials",
            WebError::Throttled { .. } => "too_many_attempts",
            WebError::MethodNotAllowed(_) => "method_not_allowed",
            WebError::TooLarge(_) => "payload_too_large",
            WebError::Unavailable(_) => "unavailable",
            WebError::Internal(_) => "internal",
        }
    }

    /// The message a response shows: any digit run that could be a My Number masked, whatever
    /// value a message quotes back (SPEC §6).
    pub fn public_message(&self) -> String {
        crate::ingest::mask_digits(&self.to_string()).into_owned()
    }

    /// Logs a server-side failure (its cause chain, masked); user errors are not logged.
    pub fn log(&self, what: &str) {
        match self {
            WebError::Internal(e) => {
                let chain = format!("{e:#}");
                tracing::error!(error = %crate::ingest::mask_digits(&chain), "{what} failed");
            }
            WebError::Unavailable(e) => {
                let chain = format!("{e:#}");
                tracing::warn!(error = %crate::ingest::mask_digits(&chain), "{what}: database unavailable");
            }
            _ => {}
        }
    }
}

/// No connection within `store::POOL_WAIT`: the database is down or saturated.
impl From<diesel::r2d2::PoolError> for WebError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        WebError::Unavailable(e.into())
    }
}

impl From<tera::Error> for WebError {
    fn from(e: tera::Error) -> Self {
        WebError::Internal(e.into())
    }
}

/// The caller's own insurer is read on almost every request; failing to read it (or its stored
/// settings) is a server fault, never the caller's.
impl From<crate::store::insurers::InsurerError> for WebError {
    fn from(e: crate::store::insurers::InsurerError) -> Self {
        WebError::Internal(e.into())
    }
}

impl From<diesel::result::Error> for WebError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => WebError::NotFound,
            other => WebError::Internal(other.into()),
        }
    }
}

impl From<actix_web::error::BlockingError> for WebError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        WebError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

/// The JSON error body of every API error: a stable `code` and a Japanese `message`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// not_found | bad_request | unauthorized | forbidden | password_change_required | csrf | invalid_credentials | too_many_attempts | method_not_allowed | payload_too_large | unavailable | internal, and an area's own (import_failed, already_sent, …)
    pub code: String,
    pub message: String,
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Forbidden | WebError::Csrf | WebError::PasswordChangeRequired => {
                StatusCode::FORBIDDEN
            }
            WebError::Login(_) => StatusCode::UNAUTHORIZED,
            WebError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log("request");
        let mut r = HttpResponse::build(self.status_code());
        match self {
            WebError::Unavailable(_) => {
                r.insert_header((actix_web::http::header::RETRY_AFTER, "5"));
            }
            WebError::Throttled { retry_after, .. } => {
                r.insert_header((
                    actix_web::http::header::RETRY_AFTER,
                    retry_after.to_string(),
                ));
            }
            WebError::MethodNotAllowed(allow) => {
                r.insert_header((actix_web::http::header::ALLOW, allow.as_str()));
            }
            _ => {}
        }
        r.json(
            serde_json::json!({"error": {"code": self.code(), "message": self.public_message()}}),
        )
    }
}

impl From<crate::app::imports::ImportsError> for WebError {
    fn from(e: crate::app::imports::ImportsError) -> Self {
        use crate::app::imports::ImportsError;
        match e {
            ImportsError::Profile(m) | ImportsError::Rejected(m) | ImportsError::Invalid(m) => {
                WebError::BadRequest(m)
            }
            ImportsError::NotFound => WebError::NotFound,
            ImportsError::Import(e) => WebError::BadRequest(e.to_string()),
            ImportsError::Db(e) => WebError::Internal(e.into()),
            ImportsError::Insurer(e) => WebError::Internal(e.into()),
        }
    }
}

impl From<crate::app::employers::EmployersError> for WebError {
    fn from(e: crate::app::employers::EmployersError) -> Self {
        use crate::app::employers::EmployersError;
        match e {
            EmployersError::NotFound => WebError::NotFound,
            EmployersError::Invalid(m) => WebError::BadRequest(m),
            EmployersError::Db(e) => e.into(),
        }
    }
}

impl From<crate::app::cases::CasesError> for WebError {
    fn from(e: crate::app::cases::CasesError) -> Self {
        use crate::app::cases::CasesError;
        match e {
            CasesError::NotFound => WebError::NotFound,
            CasesError::Db(e) => e.into(),
            CasesError::Insurer(e) => e.into(),
        }
    }
}

impl From<crate::app::workflow::WorkflowError> for WebError {
    fn from(e: crate::app::workflow::WorkflowError) -> Self {
        use crate::app::workflow::WorkflowError;
        match e {
            WorkflowError::NotFound => WebError::NotFound,
            WorkflowError::Invalid(m) => WebError::BadRequest(m),
            WorkflowError::Db(e) => e.into(),
        }
    }
}

impl From<crate::app::account::AccountError> for WebError {
    fn from(e: crate::app::account::AccountError) -> Self {
        use crate::app::account::AccountError;
        match e {
            AccountError::Login(m) => WebError::Login(m),
            AccountError::Throttled {
                message,
                retry_after,
            } => WebError::Throttled {
                message,
                retry_after,
            },
            AccountError::Invalid(m) => WebError::BadRequest(m),
            AccountError::Db(e) => e.into(),
        }
    }
}

/// The checklist, plan and survey: a rejected input is the caller's (400), a missing action or
/// submission 404; the rest is a server fault.
impl From<crate::app::survey::SurveyError> for WebError {
    fn from(e: crate::app::survey::SurveyError) -> Self {
        use crate::app::survey::SurveyError;
        match e {
            SurveyError::NotFound => WebError::NotFound,
            SurveyError::Invalid(m) => WebError::BadRequest(m),
            SurveyError::Db(e) => e.into(),
            SurveyError::Insurer(e) => e.into(),
            SurveyError::Export(e) => WebError::Internal(e.into()),
            SurveyError::Json(e) => WebError::Internal(e.into()),
        }
    }
}

impl From<crate::domain::settings::SettingsJsonError> for WebError {
    fn from(e: crate::domain::settings::SettingsJsonError) -> Self {
        WebError::BadRequest(e.to_string())
    }
}

impl From<crate::app::settings::SettingsSaveError> for WebError {
    fn from(e: crate::app::settings::SettingsSaveError) -> Self {
        use crate::app::settings::SettingsSaveError as E;
        match e {
            E::Db(e) => e.into(),
            E::Insurer(e) => e.into(),
        }
    }
}

impl From<crate::app::users::UsersError> for WebError {
    fn from(e: crate::app::users::UsersError) -> Self {
        use crate::store::users::UserError;
        match e {
            crate::app::users::UsersError::Db(e) => e.into(),
            crate::app::users::UsersError::User(e) => match e {
                UserError::NotFound => WebError::NotFound,
                UserError::Db(e) => e.into(),
                UserError::Hash => WebError::Internal(anyhow::anyhow!("password hashing failed")),
                other => WebError::BadRequest(other.to_string()),
            },
            e @ (crate::app::users::UsersError::DeactivateSelf
            | crate::app::users::UsersError::ResetSelf) => WebError::BadRequest(e.to_string()),
        }
    }
}

impl From<crate::app::audit::AuditError> for WebError {
    fn from(e: crate::app::audit::AuditError) -> Self {
        use crate::app::audit::AuditError;
        match e {
            e @ AuditError::TooMany(_) => WebError::BadRequest(e.to_string()),
            AuditError::Csv(e) => WebError::Internal(e.into()),
            AuditError::Db(e) => e.into(),
        }
    }
}

impl From<crate::app::mail::MailAppError> for WebError {
    fn from(e: crate::app::mail::MailAppError) -> Self {
        use crate::app::mail::MailAppError as E;
        use crate::mail::MailError;
        match e {
            E::NotFound => WebError::NotFound,
            E::NotApplicable => WebError::BadRequest(e.to_string()),
            E::Db(e) | E::Mail(MailError::Db(e)) => e.into(),
            E::Insurer(e) | E::Mail(MailError::Insurer(e)) => e.into(),
            E::Mail(other) => WebError::Internal(other.into()),
        }
    }
}

impl From<crate::app::staffing::StaffingSaveError> for WebError {
    fn from(e: crate::app::staffing::StaffingSaveError) -> Self {
        use crate::app::staffing::StaffingSaveError as E;
        match e {
            E::Invalid(m) => WebError::BadRequest(m),
            E::Db(e) => e.into(),
        }
    }
}

impl From<crate::app::error_causes::ErrorCausesError> for WebError {
    fn from(e: crate::app::error_causes::ErrorCausesError) -> Self {
        use crate::app::error_causes::ErrorCausesError as E;
        match e {
            E::Invalid(m) => WebError::BadRequest(m),
            E::Db(e) => e.into(),
        }
    }
}

/// The letter workflow's errors where only a [`WebError`] can be answered (the case page and
/// list). The letters' own outcomes keep their code and status (409, 503) through
/// `web::letters::Failure`; here a refusal is a 400 with its message, a PDF failure a 500.
impl From<crate::app::letters::LetterError> for WebError {
    fn from(e: crate::app::letters::LetterError) -> Self {
        use crate::app::letters::LetterError as E;
        match e {
            E::NotFound => WebError::NotFound,
            E::Invalid(m) => WebError::BadRequest(m),
            E::Db(e) => e.into(),
            E::Insurer(e) => e.into(),
            E::Render(e) => e.into(),
            E::Pdf(e) => WebError::Internal(e.into()),
            other => WebError::BadRequest(other.to_string()),
        }
    }
}
