//! (being written) 改善計画 checklist, 要因分析 and the MHLW follow-up survey.
use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}

pub fn api_doc() -> utoipa::openapi::OpenApi {
    utoipa::openapi::OpenApiBuilder::new().build()
}
