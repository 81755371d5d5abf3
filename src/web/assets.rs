//! The pages' own scripts, embedded in the binary and served from this origin (the
//! Content-Security-Policy allows no inline script).
use actix_web::http::header;
use actix_web::{web, HttpResponse};

const APP_JS: &str = include_str!("../../static/app.js");
const IMPORTS_JS: &str = include_str!("../../static/imports.js");

fn script(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body)
}

pub async fn app_js() -> HttpResponse {
    script(APP_JS)
}

pub async fn imports_js() -> HttpResponse {
    script(IMPORTS_JS)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/app.js", web::get().to(app_js))
        .route("/assets/imports.js", web::get().to(imports_js));
}
