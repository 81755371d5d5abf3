//! Server-rendered pages (Japanese).
use super::error::WebError;
use super::AppState;
use actix_web::{web, HttpResponse};

pub async fn login_page(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let ctx = tera::Context::new();
    let html = state.tera.render("pages/login.html", &ctx)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}
