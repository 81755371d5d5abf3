//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database answers).
use super::AppState;
use actix_web::{web, HttpResponse};
use std::time::Duration;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if !state.ready.load(std::sync::atomic::Ordering::Acquire) {
        return HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"status": "loading", "message": "データを準備しています"}));
    }
    let pool = state.pool.clone();
    let result = web::block(move || -> Result<(), String> {
        let mut conn = pool
            .get_timeout(Duration::from_secs(2))
            .map_err(|e| e.to_string())?;
        crate::store::ping(&mut conn).map_err(|e| e.to_string())
    })
    .await;
    match result {
        Ok(Ok(())) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({"status": "unavailable", "message": "データベースに接続できません"}))
        }
        Err(e) => {
            tracing::error!(error = %e, "readiness check crashed");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({"status": "unavailable", "message": "データベースに接続できません"}))
        }
    }
}
