//! JSON API under /api/v1: sign-in, sign-out, and the OpenAPI document of every endpoint.
use super::auth::{self, CurrentUser};
use super::error::WebError;
use super::pages::{db, sign_in};
use super::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    email: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// A JWT; send it as `Authorization: Bearer <token>`. It expires after the configured session
    /// hours (8 by default) and stops working at sign-out or a password change.
    token: String,
}

/// Signs in. After five failures in a row for one address from one client address, that pair
/// waits 1, 2, 4, 8, then 15 minutes before the next try (429 with Retry-After); the account
/// itself is never locked, and an unknown address is answered exactly like a known one.
#[utoipa::path(
    post,
    path = "/api/v1/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 401, description = "Wrong e-mail or password (invalid_credentials)", body = super::error::ErrorBody),
        (status = 429, description = "Too many failures in a row from this client for this address (too_many_attempts); see Retry-After", body = super::error::ErrorBody),
    )
)]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, WebError> {
    let body = body.into_inner();
    let source = auth::client_address(&req, &state.config);
    let token = sign_in(&state, body.email, source, body.password).await?;
    Ok(HttpResponse::Ok().json(LoginResponse { token }))
}

/// Signs out: the token (or session cookie) used for this call stops working.
#[utoipa::path(
    post,
    path = "/api/v1/logout",
    tag = "auth",
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn logout(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let id = user.session_id.clone();
    db(&state, move |c| Ok(crate::app::account::sign_out(c, &id)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "regwatch API",
        description = "マイナ保険証のデータ登録状況（5日以内の提出・登録）を保険者ごとに確認する API。すべての呼び出しはログインした利用者の保険者のデータに限られます。Errors are JSON: {\"error\": {\"code\", \"message\"}}."
    ),
    paths(
        login,
        logout,
        super::cases::api_dashboard,
        super::cases::api_notices,
        super::cases::api_notice,
        super::cases::api_export_csv,
        super::cases::api_export_xlsx,
    ),
    modifiers(&BearerAuth)
)]
struct CoreApi;

/// The whole document: the core paths plus each area's own.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = CoreApi::openapi();
    for part in super::area_docs() {
        doc.merge(part);
    }
    doc
}

pub async fn openapi_json() -> HttpResponse {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| openapi().to_pretty_json().unwrap_or_else(|_| "{}".into()));
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.as_str())
}
