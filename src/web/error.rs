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
    #[error(
        "フォームの有効期限が切れたか、不正な送信です。画面を開き直してからもう一度お試しください"
    )]
    Csrf,
    #[error("{0}")]
    Login(String),
    #[error("{0}")]
    Locked(String),
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
            WebError::Csrf => "csrf",
            WebError::Login(_) => "invalid_credentials",
            WebError::Locked(_) => "account_locked",
            WebError::Internal(_) => "internal",
        }
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
    /// not_found | bad_request | unauthorized | forbidden | csrf | invalid_credentials | account_locked | internal
    pub code: String,
    pub message: String,
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Forbidden | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::Login(_) | WebError::Locked(_) => StatusCode::UNAUTHORIZED,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::Internal(e) = self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
        HttpResponse::build(self.status_code())
            .json(serde_json::json!({"error": {"code": self.code(), "message": self.to_string()}}))
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
