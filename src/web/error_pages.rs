//! Error pages that keep the navigation: an unknown path, a 403/404 of a page or a 500 shows the
//! Japanese error page inside the signed-in user's layout (menu, insurer, sign-out), so nobody is
//! stranded on a bare page. API paths (`/api/…`) keep their JSON errors.
use super::auth;
use super::error::WebError;
use super::pages::{base_context, insurer_of, PageError};
use super::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

/// A path no route serves: JSON for the API, the error page for everything else.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    if req.path().starts_with("/api/") {
        Err(WebError::NotFound.into())
    } else {
        Err(PageError(WebError::NotFound).into())
    }
}

/// Re-renders a page's error ([`PageError`]) inside the layout of whoever is signed in. Without a
/// session (or when the database cannot say who it is) the plain error page stands.
pub async fn with_navigation(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    // The request is cloned only once routed: a clone held during routing would stop it.
    let res = next.call(req).await?;
    let signed_out = res
        .response()
        .error()
        .and_then(|e| e.as_error::<PageError>())
        .is_some_and(|e| matches!(e.0, WebError::Unauthorized));
    if signed_out && res.request().method() == actix_web::http::Method::GET {
        // A bookmarked or shared link survives the sign-in: the sign-in page returns to it.
        let http = res.request().clone();
        let target = http.uri().path_and_query().map_or("/", |p| p.as_str());
        let response = HttpResponse::SeeOther()
            .insert_header((header::LOCATION, super::pages::login_location(target)))
            .finish();
        return Ok(ServiceResponse::new(http, response).map_into_right_body());
    }
    let failure = res
        .response()
        .error()
        .and_then(|e| e.as_error::<PageError>())
        .filter(|e| {
            // Sign-in redirects stay redirects; an unavailable database cannot render a layout.
            !matches!(e.0, WebError::Unauthorized | WebError::Unavailable(_))
        })
        .map(|e| (e.0.status_code(), e.0.public_message()));
    let Some((status, message)) = failure else {
        return Ok(res.map_into_left_body());
    };
    let http = res.request().clone();
    let Some(page) = page_with_navigation(&http, status.as_u16(), &message).await else {
        return Ok(res.map_into_left_body());
    };
    let response = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page);
    Ok(ServiceResponse::new(http, response).map_into_right_body())
}

async fn page_with_navigation(req: &HttpRequest, status: u16, message: &str) -> Option<String> {
    let state = req.app_data::<web::Data<AppState>>()?.clone();
    let user = auth::viewer(req).await?;
    let insurer = insurer_of(&state, &user).await.ok()?;
    let mut ctx = base_context(&user, &insurer, "");
    ctx.insert("message", message);
    ctx.insert("status", &status);
    match state.tera.render("pages/error.html", &ctx) {
        Ok(body) => Some(body),
        Err(e) => {
            WebError::from(e).log("error page");
            None
        }
    }
}
