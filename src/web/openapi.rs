//! What makes `/api/v1/openapi.json` tell the truth beyond the handlers' own annotations: the
//! schemas of coded query parameters (built from the codes the handlers parse), the error answers
//! every operation can give, and 405 with `Allow` for a method an API path does not have.
use super::error::WebError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::ResponseError;
use std::sync::OnceLock;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Object, OpenApi, Ref, RefOr, Response, ResponseBuilder};

// ---------------------------------------------------------------------------------------------
// Coded parameters: `#[param(schema_with = …)]` on the query structs. The values come from the
// same lists the handlers parse with, so the document cannot drift from them.

fn codes<'a>(description: &str, codes: impl IntoIterator<Item = &'a str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(codes))
        .build()
}

/// `status` of the case list.
pub fn status() -> Object {
    use crate::domain::Status;
    codes(
        "Status of `rule`, or of either rule when `rule` is empty",
        Status::ALL.map(Status::code),
    )
}

/// Every `rule` the case list filters by (`store::notices::RuleSel::parse`).
pub const RULES: [&str; 5] = ["submission", "registration", "five_day", "standard", "loss"];

/// `rule` of the case list.
pub fn rule() -> Object {
    codes(
        "The rule `status` applies to (the submission rule, the registration rule, or one registration population)",
        RULES,
    )
}

/// `kind` of the case list.
pub fn kind() -> Object {
    use crate::domain::NoticeKind;
    codes("届書種別", NoticeKind::ALL.map(NoticeKind::code))
}

/// `my_number` of the case list.
pub fn my_number() -> Object {
    use crate::domain::MyNumberStatus as M;
    codes(
        "What the notice said of the My Number (the number itself is never stored)",
        [M::Valid, M::Invalid, M::Missing].map(M::code),
    )
}

/// `sort` of the case list.
pub fn sort() -> Object {
    use crate::store::notices::Sort;
    codes(
        "Order of the list (default -received_on; `-` for descending)",
        Sort::ALL.map(|(_, code, _)| code),
    )
}

/// `format` of a letter.
pub fn letter_format() -> Object {
    use crate::letters::workflow::Format;
    codes(
        "pdf (default) or html",
        [Format::Pdf, Format::Html].map(Format::code),
    )
}

/// `date_style` of 設定 → 表示.
pub fn date_style() -> Object {
    use crate::time::DateStyle;
    codes(
        "How the insurer's pages show dates: iso (2026-10-21) or wareki (令和8年10月21日)",
        DateStyle::ALL.map(DateStyle::code),
    )
}

/// `action` of the audit log.
pub fn audit_action() -> Object {
    use crate::store::audit::AuditAction;
    codes("Only this action", AuditAction::ALL.map(AuditAction::code))
}

// ---------------------------------------------------------------------------------------------
// Error answers every operation can give

/// The shared error responses, by status: (status, name in `components/responses`, description).
const ERRORS: [(&str, &str, &str); 6] = [
    (
        "400",
        "BadRequest",
        "A parameter or body that cannot be used (bad_request), or a URL holding a My Number",
    ),
    ("401", "Unauthorized", "Not signed in (unauthorized)"),
    (
        "403",
        "Forbidden",
        "The user's role may not do this (forbidden), or a cookie session without its CSRF token (csrf)",
    ),
    ("404", "NotFound", "No such resource for this insurer (not_found)"),
    (
        "413",
        "PayloadTooLarge",
        "The body is larger than the operation accepts (payload_too_large)",
    ),
    (
        "503",
        "Unavailable",
        "The database does not answer (unavailable); try again after `Retry-After` seconds",
    ),
];

fn error_response(description: &str, header: Option<(&str, &str)>) -> Response {
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    let mut r = ResponseBuilder::new()
        .description(description)
        .content("application/json", body);
    if let Some((name, description)) = header {
        r = r.header(
            name,
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(description))
                .build(),
        );
    }
    r.build()
}

/// Adds the shared error responses to the document and to every operation that can give them and
/// does not describe them itself: 400 and 503 everywhere (any URL is checked for a My Number, and
/// every call reads the database), 401 where a sign-in is needed, 403 on signed-in changes (CSRF),
/// 404 where the path names a resource, 413 where a JSON body is read.
pub fn add_error_responses(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    for (status, name, description) in ERRORS {
        let header = (status == "503").then_some(("Retry-After", "Seconds to wait"));
        components
            .responses
            .insert(name.into(), RefOr::T(error_response(description, header)));
    }
    for item in doc.paths.paths.values_mut() {
        for (method, op) in operations(item) {
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let in_path = op
                .parameters
                .iter()
                .flatten()
                .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path));
            let json_body = op
                .request_body
                .as_ref()
                .is_some_and(|b| b.content.contains_key("application/json"));
            let changes = method != Method::GET;
            for (status, name, _) in ERRORS {
                let applies = match status {
                    "400" | "503" => true,
                    "401" => secured,
                    "403" => secured && changes,
                    "404" => in_path,
                    "413" => json_body,
                    _ => false,
                };
                if applies {
                    op.responses
                        .responses
                        .entry(status.into())
                        .or_insert_with(|| {
                            RefOr::Ref(Ref::new(format!("#/components/responses/{name}")))
                        });
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = (Method, &mut Operation)> {
    [
        (Method::GET, item.get.as_mut()),
        (Method::PUT, item.put.as_mut()),
        (Method::POST, item.post.as_mut()),
        (Method::DELETE, item.delete.as_mut()),
        (Method::OPTIONS, item.options.as_mut()),
        (Method::HEAD, item.head.as_mut()),
        (Method::PATCH, item.patch.as_mut()),
        (Method::TRACE, item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
}

// ---------------------------------------------------------------------------------------------
// 405 for the other methods

/// The API paths with their methods, from the document (and the document's own path).
fn api_methods() -> &'static [(ResourceDef, Vec<Method>)] {
    static TABLE: OnceLock<Vec<(ResourceDef, Vec<Method>)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut doc = super::api::openapi();
        let mut table: Vec<(ResourceDef, Vec<Method>)> = doc
            .paths
            .paths
            .iter_mut()
            .map(|(path, item)| {
                let methods = operations(item).map(|(m, _)| m).collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        table.push((ResourceDef::new("/api/v1/openapi.json"), vec![Method::GET]));
        table
    })
}

/// The `Allow` value for a request whose method its API path does not have; `None` when the path
/// is not an API path or has the method (the router decides then). A path written out in the
/// document (`/api/v1/letters/bulk`) is that path only, though a template (`/api/v1/letters/{id}`)
/// would match it too.
pub fn not_allowed(method: &Method, path: &str) -> Option<String> {
    if !path.starts_with("/api/") {
        return None;
    }
    let table = api_methods();
    let literal = table.iter().find(|(def, _)| def.pattern() == Some(path));
    let matching: Vec<&Vec<Method>> = match literal {
        Some((_, methods)) => vec![methods],
        None => table
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .map(|(_, methods)| methods)
            .collect(),
    };
    if matching.is_empty() || matching.iter().any(|methods| methods.contains(method)) {
        return None;
    }
    let mut allowed: Vec<&str> = Vec::new();
    for m in matching.into_iter().flatten() {
        if !allowed.contains(&m.as_str()) {
            allowed.push(m.as_str());
        }
    }
    Some(allowed.join(", "))
}

/// Middleware: another method on an API path is a 405 with `Allow` (the router alone says 404).
pub async fn methods(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(allow) = not_allowed(req.method(), req.path()) {
        let response = WebError::MethodNotAllowed(allow).error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_codes_are_the_ones_the_case_list_parses() {
        for code in RULES {
            assert!(
                crate::store::notices::RuleSel::parse(code).is_some(),
                "{code}"
            );
        }
    }

    #[test]
    fn another_method_on_an_api_path_lists_the_allowed_ones() {
        assert_eq!(
            not_allowed(&Method::TRACE, "/api/v1/employers/7").as_deref(),
            Some("GET, PUT")
        );
        assert_eq!(not_allowed(&Method::GET, "/api/v1/employers/7"), None);
        // A path written out is itself, not an id of the template beside it.
        assert_eq!(
            not_allowed(&Method::GET, "/api/v1/letters/bulk").as_deref(),
            Some("POST")
        );
        assert_eq!(not_allowed(&Method::POST, "/api/v1/letters/bulk"), None);
        assert_eq!(not_allowed(&Method::TRACE, "/notices"), None);
        assert_eq!(not_allowed(&Method::TRACE, "/api/v1/nothing-here"), None);
    }
}
