//! (being written) Letters to members and 資格確認書 records.
use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}

pub fn api_doc() -> utoipa::openapi::OpenApi {
    utoipa::openapi::OpenApiBuilder::new().build()
}
