//! Administration: 設定 (the rule settings, with a preview of how many stored deadlines change),
//! 利用者 (users and roles) and 監査ログ (the audit log). Pages and API, one file per page.
mod audit;
mod settings;
mod users;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use utoipa::OpenApi;

pub(crate) use super::pages::acting;

fn with_status(mut res: HttpResponse, status: StatusCode) -> HttpResponse {
    *res.status_mut() = status;
    res
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    settings::configure(cfg);
    users::configure(cfg);
    audit::configure(cfg);
}

#[derive(OpenApi)]
#[openapi(paths(
    settings::api_settings,
    settings::api_settings_put,
    settings::api_settings_preview,
    settings::api_display,
    settings::api_display_put,
    users::api_users,
    users::api_user_add,
    users::api_user_role,
    users::api_user_patch,
    users::api_user_password_reset,
    audit::api_audit,
    audit::api_audit_csv
))]
struct AdminApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    AdminApi::openapi()
}
