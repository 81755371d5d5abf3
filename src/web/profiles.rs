//! 取込プロファイル (SPEC §3.1): the editor on the import page (a sample file, its sheet and
//! header row, a column for each field with suggestions, code values, the first 20 rows as the
//! import will read them), TOML export and import, and `/api/v1/import-profiles`.
use super::auth::CurrentUser;
use super::error::{ErrorBody, WebError};
use super::pages::{
    acting, base_context, db, html, insurer_of, redirect, PageError, PageForm, PageUser,
};
use super::upload::{receive, UploadError};
use super::AppState;
use crate::app::imports as app;
use crate::app::profiles as editor_view;
use crate::ingest::{FileProfile, Part};
use crate::store::profiles::{self, StoredProfile};
use crate::store::users::Role;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::{OpenApi, ToSchema};

fn part_of(code: &str) -> Part {
    match code {
        "registrations" => Part::Registrations,
        _ => Part::Notices,
    }
}

/// The editor's state as form fields: `name`, `part`, `sheet`, `header_row`, `col_{field}` (a
/// header of the file), `val_{field}` (lines `file value=regwatch value`).
fn from_fields(map: &HashMap<String, String>, part: Part) -> Result<FileProfile, String> {
    let get = |k: &str| map.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let header_row = match get("header_row") {
        None => 1,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("見出し行は1以上の行番号です（「{v}」）"))?,
    };
    let mut columns = BTreeMap::new();
    for f in part.fields() {
        if let Some(h) = get(&format!("col_{}", f.key)) {
            columns.insert(f.key.to_string(), h.to_string());
        }
    }
    let mut values = BTreeMap::new();
    for (field, _) in part.value_fields() {
        let Some(text) = get(&format!("val_{field}")) else {
            continue;
        };
        let mut map = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (from, to) = line.split_once('=').ok_or_else(|| {
                format!(
                    "{field} の値の対応の {} 行目「{line}」は「ファイルの値=regwatch の値」の形にしてください",
                    i + 1
                )
            })?;
            map.insert(from.trim().to_string(), to.trim().to_string());
        }
        if !map.is_empty() {
            values.insert(field.to_string(), map);
        }
    }
    let p = FileProfile {
        sheet: get("sheet").map(str::to_string),
        header_row,
        columns,
        values,
    };
    p.validate(part).map_err(|e| e.to_string())?;
    Ok(p)
}

/// Renders the editor for `fp` (of profile `name`, part `part`) with the sample upload, if any.
#[allow(clippy::too_many_arguments)]
async fn render_editor(
    state: &AppState,
    user: &CurrentUser,
    id: Option<i64>,
    name: String,
    part: Part,
    fp: FileProfile,
    upload: Option<i64>,
    suggest: bool,
    message: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let iid = user.insurer_id;
    let content = match upload {
        Some(uid) => Some(
            db(state, move |c| {
                profiles::upload(c, iid, uid)?.ok_or(WebError::NotFound)
            })
            .await?,
        ),
        None => None,
    };
    let view = editor_view::editor(content.as_ref(), part, fp, suggest);
    let insurer = insurer_of(state, user).await?;
    let mut ctx = base_context(user, &insurer, "imports");
    ctx.insert("id", &id);
    ctx.insert("name", &name);
    ctx.insert("part", part.code());
    ctx.insert("part_label", app::part_label(part));
    ctx.insert("fp", &view.fp);
    ctx.insert("fields", &view.fields);
    ctx.insert("values", &view.values);
    ctx.insert("upload", &upload);
    ctx.insert("upload_name", &view.upload_name);
    ctx.insert("sample", &view.sample);
    ctx.insert("sample_error", &view.sample_error);
    ctx.insert("preview", &view.preview);
    ctx.insert("preview_error", &view.preview_error);
    ctx.insert("toml", &view.toml);
    ctx.insert("message", &message);
    ctx.insert("error", &error);
    html(state, "pages/import_profile.html", &ctx)
}

/// `GET /imports/profiles/edit`: a new profile, or a stored one (`id`), for a file `part`, with
/// the sample upload `upload`.
pub async fn editor_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    let user = user.0;
    user.require(Role::Staff)?;
    let q = q.into_inner();
    let num = |k: &str| q.get(k).and_then(|v| v.trim().parse::<i64>().ok());
    let id = num("id");
    let upload = num("upload");
    let part = part_of(q.get("part").map_or("notices", String::as_str));
    let iid = user.insurer_id;
    let stored: Option<StoredProfile> = match id {
        Some(pid) => Some(
            db(&state, move |c| {
                profiles::get(c, iid, pid)?.ok_or(WebError::NotFound)
            })
            .await?,
        ),
        None => None,
    };
    let name = q
        .get("name")
        .cloned()
        .or_else(|| stored.as_ref().map(|p| p.name.clone()))
        .unwrap_or_default();
    let fp = stored
        .as_ref()
        .and_then(|p| p.profile.part(part).cloned())
        .unwrap_or_default();
    let message = q.contains_key("saved").then(|| "保存しました".to_string());
    // Suggestions fill the mapping only when a sample is first opened with a new profile part.
    let suggest = upload.is_some() && fp.columns.is_empty();
    Ok(render_editor(
        &state, &user, id, name, part, fp, upload, suggest, message, None,
    )
    .await?)
}

/// `POST /imports/profiles/edit`: the editor again with the form's state (「読み取りを確認」).
pub async fn editor_post(
    state: web::Data<AppState>,
    post: PageForm<EditorForm>,
) -> Result<HttpResponse, PageError> {
    let user = post.0.user;
    user.require(Role::Staff)?;
    let map = post.0.form.0;
    let part = part_of(map.get("part").map_or("notices", String::as_str));
    let num = |k: &str| map.get(k).and_then(|v| v.trim().parse::<i64>().ok());
    let (fp, error) = match from_fields(&map, part) {
        Ok(fp) => (fp, None),
        Err(e) => (FileProfile::default(), Some(e)),
    };
    // Nothing mapped yet (a new header row chosen, say): suggest from the header text again.
    let suggest = error.is_none() && fp.columns.is_empty();
    Ok(render_editor(
        &state,
        &user,
        num("id"),
        map.get("name").cloned().unwrap_or_default(),
        part,
        fp,
        num("upload"),
        suggest,
        None,
        error,
    )
    .await?)
}

/// `POST /imports/profiles/sample`: keeps a sample file and opens the editor with it.
pub async fn sample_page(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let user = super::auth::upload_user(&req).await?;
    user.require(Role::Staff)?;
    let (got, fields) = receive(&req, payload, &user, None)
        .await
        .map_err(|e| match e {
            UploadError::Web(w) => w,
            other => WebError::BadRequest(other.to_string()),
        })?;
    let part = part_of(fields.kind.as_deref().unwrap_or("notices"));
    let acting = acting(&user);
    let upload = db(&state, move |c| {
        let content = got.read().map_err(|e| WebError::Internal(e.into()))?;
        Ok(app::keep_sample(
            c,
            &acting,
            part,
            &got.file_name,
            &content,
        )?)
    })
    .await?;
    let mut to = format!(
        "/imports/profiles/edit?part={}&upload={upload}",
        part.code()
    );
    if let Some(id) = fields
        .profile
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
    {
        to.push_str(&format!("&id={id}"));
    }
    Ok(redirect(&to))
}

/// The editor's form.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct EditorForm(HashMap<String, String>);

/// `POST /imports/profiles/save`: saves the part being edited under the name.
pub async fn save_page(
    state: web::Data<AppState>,
    post: PageForm<EditorForm>,
) -> Result<HttpResponse, PageError> {
    let user = post.0.user;
    user.require(Role::Staff)?;
    let map = post.0.form.0;
    let part = part_of(map.get("part").map_or("notices", String::as_str));
    let name = map.get("name").cloned().unwrap_or_default();
    let upload = map.get("upload").and_then(|v| v.parse::<i64>().ok());
    let id = map.get("id").and_then(|v| v.parse::<i64>().ok());
    let fp = match from_fields(&map, part) {
        Ok(fp) => fp,
        Err(e) => {
            return Ok(render_editor(
                &state,
                &user,
                id,
                name,
                part,
                FileProfile::default(),
                upload,
                false,
                None,
                Some(e),
            )
            .await?)
        }
    };
    let acting = acting(&user);
    let (n, f) = (name.clone(), fp.clone());
    let saved = db(&state, move |c| Ok(app::save_part(c, &acting, &n, part, f))).await?;
    match saved {
        Ok(new_id) => {
            let mut to = format!(
                "/imports/profiles/edit?id={new_id}&part={}&saved=1",
                part.code()
            );
            if let Some(u) = upload {
                to.push_str(&format!("&upload={u}"));
            }
            Ok(redirect(&to))
        }
        Err(e) => Ok(render_editor(
            &state,
            &user,
            id,
            name,
            part,
            fp,
            upload,
            false,
            None,
            Some(WebError::from(e).to_string()),
        )
        .await?),
    }
}

fn toml_download(p: &StoredProfile) -> HttpResponse {
    let encoded: String = percent_encoding::utf8_percent_encode(
        &format!("{}.toml", p.name),
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    HttpResponse::Ok()
        .content_type("application/toml; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"profile-{}.toml\"; filename*=UTF-8''{encoded}",
                p.id
            ),
        ))
        .body(p.profile.to_toml())
}

/// `GET /imports/profiles/{id}/profile.toml`: the profile as the CLI's `--profile` file.
pub async fn export_page(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let iid = user.0.insurer_id;
    let id = path.into_inner();
    let p = db(&state, move |c| {
        profiles::get(c, iid, id)?.ok_or(WebError::NotFound)
    })
    .await?;
    Ok(toml_download(&p))
}

#[derive(Deserialize)]
pub struct ImportTomlForm {
    #[serde(default)]
    name: String,
    toml: String,
}

/// `POST /imports/profiles/import`: a whole profile from TOML text, under a name.
pub async fn import_toml_page(
    state: web::Data<AppState>,
    post: PageForm<ImportTomlForm>,
) -> Result<HttpResponse, PageError> {
    let user = post.0.user;
    user.require(Role::Staff)?;
    let f = post.0.form;
    let acting = acting(&user);
    let id = db(&state, move |c| {
        Ok(app::save_toml(c, &acting, &f.name, &f.toml)?)
    })
    .await?;
    Ok(redirect(&format!("/imports/profiles/edit?id={id}&saved=1")))
}

/// `POST /imports/profiles/{id}/delete`.
pub async fn delete_page(
    state: web::Data<AppState>,
    post: PageForm<super::pages::CsrfOnly>,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let user = post.0.user;
    user.require(Role::Staff)?;
    let acting = acting(&user);
    let id = path.into_inner();
    db(&state, move |c| Ok(app::delete(c, &acting, id)?)).await?;
    Ok(redirect("/imports#profiles"))
}

// ---------------------------------------------------------------------------------------------
// API

/// A stored import profile.
#[derive(Serialize, ToSchema)]
pub struct ProfileBody {
    pub id: i64,
    pub name: String,
    /// The profile in its TOML form (the CLI's `--profile` file; SPEC §3.1)
    pub toml: String,
    pub updated_by: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<StoredProfile> for ProfileBody {
    fn from(p: StoredProfile) -> Self {
        ProfileBody {
            id: p.id,
            toml: p.profile.to_toml(),
            name: p.name,
            updated_by: p.updated_by_label,
            updated_at: p.updated_at.and_utc(),
        }
    }
}

/// The insurer's import profiles.
#[utoipa::path(
    get,
    path = "/api/v1/import-profiles",
    tag = "imports",
    responses(
        (status = 200, description = "Profiles by name", body = Vec<ProfileBody>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_list(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let iid = user.insurer_id;
    let list = db(&state, move |c| Ok(profiles::list(c, iid)?)).await?;
    let body: Vec<ProfileBody> = list.into_iter().map(ProfileBody::from).collect();
    Ok(HttpResponse::Ok().json(body))
}

/// One import profile as TOML (`application/toml`), ready for `regwatch import --profile`.
#[utoipa::path(
    get,
    path = "/api/v1/import-profiles/{name}",
    tag = "imports",
    params(("name" = String, Path, description = "Profile name")),
    responses(
        (status = 200, description = "The profile", content_type = "application/toml", body = String),
        (status = 404, description = "No such profile for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_get(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let iid = user.insurer_id;
    let name = path.into_inner();
    let p = db(&state, move |c| {
        profiles::by_name(c, iid, &name)?.ok_or(WebError::NotFound)
    })
    .await?;
    Ok(toml_download(&p))
}

/// Creates or replaces an import profile from its TOML (the request body). Unknown keys, fields
/// and values are refused naming them (400). Needs the staff role.
#[utoipa::path(
    put,
    path = "/api/v1/import-profiles/{name}",
    tag = "imports",
    params(("name" = String, Path, description = "Profile name")),
    request_body(content = String, content_type = "application/toml", description = "The profile (SPEC §3.1)"),
    responses(
        (status = 200, description = "Saved", body = ProfileBody),
        (status = 400, description = "The TOML is not a valid profile", body = ErrorBody),
        (status = 403, description = "Not staff", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_put(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    user.require(Role::Staff)?;
    let text = String::from_utf8(body.to_vec()).map_err(|_| {
        WebError::BadRequest("プロファイルは UTF-8 の TOML で送ってください".into())
    })?;
    let acting = acting(&user);
    let name = path.into_inner();
    let iid = user.insurer_id;
    let p = db(&state, move |c| {
        let id = app::save_toml(c, &acting, &name, &text)?;
        profiles::get(c, iid, id)?.ok_or(WebError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ProfileBody::from(p)))
}

/// Deletes an import profile. Needs the staff role.
#[utoipa::path(
    delete,
    path = "/api/v1/import-profiles/{name}",
    tag = "imports",
    params(("name" = String, Path, description = "Profile name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such profile for this insurer", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn api_delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    user.require(Role::Staff)?;
    let acting = acting(&user);
    let name = path.into_inner();
    let iid = user.insurer_id;
    db(&state, move |c| {
        let p = profiles::by_name(c, iid, &name)?.ok_or(WebError::NotFound)?;
        Ok(app::delete(c, &acting, p.id)?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The insurer's profiles for the import page.
pub async fn list_for_page(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<ProfileBody>, WebError> {
    let iid = user.insurer_id;
    let list = db(state, move |c| Ok(profiles::list(c, iid)?)).await?;
    Ok(list.into_iter().map(ProfileBody::from).collect())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/imports/profiles/edit", web::get().to(editor_page))
        .route("/imports/profiles/edit", web::post().to(editor_post))
        .service(
            web::resource("/imports/profiles/sample")
                .app_data(super::upload::upload_config())
                .route(web::post().to(sample_page)),
        )
        .route("/imports/profiles/save", web::post().to(save_page))
        .route("/imports/profiles/import", web::post().to(import_toml_page))
        .route(
            "/imports/profiles/{id}/profile.toml",
            web::get().to(export_page),
        )
        .route("/imports/profiles/{id}/delete", web::post().to(delete_page))
        .route("/api/v1/import-profiles", web::get().to(api_list))
        .route("/api/v1/import-profiles/{name}", web::get().to(api_get))
        .route("/api/v1/import-profiles/{name}", web::put().to(api_put))
        .route(
            "/api/v1/import-profiles/{name}",
            web::delete().to(api_delete),
        );
}

#[derive(OpenApi)]
#[openapi(paths(api_list, api_get, api_put, api_delete))]
struct ProfilesApi;

pub fn api_doc() -> utoipa::openapi::OpenApi {
    ProfilesApi::openapi()
}
