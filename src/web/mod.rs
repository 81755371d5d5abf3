//! actix-web application: startup, shared state, routes.
pub mod admin;
pub mod analysis;
pub mod api;
pub mod assets;
pub mod auth;
pub mod cache;
pub mod cases;
pub mod certificates;
pub mod checklist;
pub mod download;
pub mod employers;
pub mod error;
pub mod error_causes;
pub mod error_pages;
pub mod guard;
pub mod health;
pub mod imports;
pub mod letters;
pub mod mail;
pub mod openapi;
pub mod pages;
pub mod params;
pub mod plan;
pub mod profiles;
pub mod staffing;
pub mod survey;
pub mod templates;
pub mod upload;
pub mod workflow;

use crate::config::Config;
use crate::store::{self, DatabaseUrl, DbPool};
use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use cache::BoundedCache;
use secrecy::SecretString;
use std::net::TcpListener;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// State every handler can read. Cheap to clone (Arcs inside).
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub tera: Arc<tera::Tera>,
    pub config: Arc<Config>,
    pub jwt_key: Arc<SecretString>,
    pub dashboards: Arc<DashboardCache>,
    /// Case-list totals by (insurer, data version, filter): counting a large filtered list is the
    /// slow part of a page, and paging through it repeats the same count.
    pub counts: Arc<CountCache>,
    /// `/readyz` answers 200 only when this is set and the database answers (the demo clears it
    /// while it loads its data).
    pub ready: Arc<AtomicBool>,
}

/// (insurer, from, to, as_of, data version) of a computed dashboard.
pub type DashboardKey = (
    i64,
    chrono::NaiveDate,
    chrono::NaiveDate,
    chrono::NaiveDate,
    i64,
);

/// Dashboards computed by this instance (see `cache`: keyed by the insurer's data version, so
/// several instances behind a load balancer need no cross-instance invalidation).
pub type DashboardCache = BoundedCache<DashboardKey, Arc<crate::reports::dashboard::Dashboard>>;

/// Case-list totals by (insurer, data version, filter); see `AppState::counts`.
pub type CountCache = BoundedCache<String, i64>;

/// Entries kept before a cache is emptied (a few KB each for dashboards).
const DASHBOARD_CACHE_MAX: usize = 1024;
const COUNT_CACHE_MAX: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("{addr} で待ち受けできません: {reason}")]
    Bind { addr: String, reason: String },
    #[error("テンプレートを読み込めません: {0}")]
    Templates(String),
    #[error("起動処理に失敗しました: {0}")]
    Other(String),
}

/// A built server bound to its port, not yet running (zero2prod's `Application`).
pub struct Application {
    port: u16,
    server: Server,
    pub state: AppState,
}

impl Application {
    /// Opens and migrates the database, binds the port and builds the server.
    pub async fn build(config: Config) -> Result<Application, StartError> {
        let url = DatabaseUrl::parse(&config.database_url)?;
        let pool_size = config.pool_size;
        let configured_key = config.jwt_secret.clone();
        let (pool, jwt_key) = tokio::task::spawn_blocking(move || -> Result<_, StartError> {
            let pool = store::connect(&url, pool_size)?;
            let mut conn = pool.get().map_err(store::StoreError::from)?;
            let key = store::secrets::app_key(&mut conn, configured_key.as_ref())
                .map_err(store::StoreError::from)?;
            tracing::info!(database = %url, "database ready");
            Ok((pool, key))
        })
        .await
        .map_err(|e| StartError::Other(e.to_string()))??;

        // Everything that can take time happens before the port is bound: once it accepts
        // connections the server must also be ready to stop gracefully on a signal.
        let tera = Arc::new(
            templates::load().map_err(|e| StartError::Templates(templates::describe(&e)))?,
        );
        let listener = TcpListener::bind(&config.bind).map_err(|e| StartError::Bind {
            addr: config.bind.clone(),
            reason: bind_reason(&e),
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| StartError::Other(e.to_string()))?
            .port();
        let state = AppState {
            pool,
            tera,
            config: Arc::new(config),
            jwt_key: Arc::new(jwt_key),
            dashboards: Arc::new(DashboardCache::new(DASHBOARD_CACHE_MAX)),
            counts: Arc::new(CountCache::new(COUNT_CACHE_MAX)),
            ready: Arc::new(AtomicBool::new(true)),
        };
        let server = run(listener, state.clone()).map_err(|e| StartError::Bind {
            addr: state.config.bind.clone(),
            reason: e.to_string(),
        })?;
        Ok(Application {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until SIGINT/SIGTERM; actix-web then stops accepting and lets requests in flight finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn bind_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            "ポートが既に使われています（Address already in use）".into()
        }
        std::io::ErrorKind::PermissionDenied => "権限がありません（Permission denied）".into(),
        std::io::ErrorKind::AddrNotAvailable => {
            "このアドレスは使えません（Address not available）".into()
        }
        _ => e.to_string(),
    }
}

fn run(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let data = web::Data::new(state);
    // Created once and shared by every worker (each worker runs the app factory).
    let employer_figures = web::Data::new(employers::new_figures_cache());
    let server = HttpServer::new(move || {
        App::new()
            // Innermost: a page's error is shown inside the signed-in user's layout.
            .wrap(actix_web::middleware::from_fn(error_pages::with_navigation))
            // An API path asked with a method it does not have: 405 with Allow.
            .wrap(actix_web::middleware::from_fn(openapi::methods))
            .wrap(tracing_actix_web::TracingLogger::default())
            // Outermost: a URL with a My Number is refused before the logger records it.
            .wrap(actix_web::middleware::from_fn(guard::guard))
            .app_data(data.clone())
            .app_data(employer_figures.clone())
            .app_data(params::json_config())
            .app_data(params::query_config())
            .app_data(params::path_config())
            .configure(routes)
    })
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Every route of the service.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/", web::get().to(pages::root))
        .route("/login", web::get().to(pages::login_page))
        .route("/login", web::post().to(pages::login_submit))
        .route("/logout", web::post().to(pages::logout))
        .route("/account", web::get().to(pages::account_page))
        .route("/account/password", web::post().to(pages::password_submit))
        .route("/dashboard", web::get().to(cases::dashboard_page))
        .route("/notices", web::get().to(cases::notices_page))
        .route("/notices/export.csv", web::get().to(cases::export_csv_page))
        .route(
            "/notices/export.xlsx",
            web::get().to(cases::export_xlsx_page),
        )
        .route("/notices/{id}", web::get().to(cases::notice_page))
        .route("/api/v1/openapi.json", web::get().to(api::openapi_json))
        .route("/api/v1/login", web::post().to(api::login))
        .route("/api/v1/logout", web::post().to(api::logout))
        .route("/api/v1/dashboard", web::get().to(cases::api_dashboard))
        .route("/api/v1/notices", web::get().to(cases::api_notices))
        .route("/api/v1/notices.csv", web::get().to(cases::api_export_csv))
        .route(
            "/api/v1/notices.xlsx",
            web::get().to(cases::api_export_xlsx),
        )
        .route("/api/v1/notices/{id}", web::get().to(cases::api_notice));
    assets::configure(cfg);
    profiles::configure(cfg);
    error_causes::configure(cfg);
    imports::configure(cfg);
    employers::configure(cfg);
    admin::configure(cfg);
    letters::configure(cfg);
    checklist::configure(cfg);
    plan::configure(cfg);
    analysis::configure(cfg);
    survey::configure(cfg);
    staffing::configure(cfg);
    workflow::configure(cfg);
    mail::configure(cfg);
    cfg.default_service(web::to(error_pages::not_found));
}

/// The OpenAPI parts of the areas that keep their own (merged into `/api/v1/openapi.json`).
pub fn area_docs() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        imports::api_doc(),
        profiles::api_doc(),
        error_causes::api_doc(),
        employers::api_doc(),
        admin::api_doc(),
        letters::api_doc(),
        checklist::api_doc(),
        plan::api_doc(),
        analysis::api_doc(),
        survey::api_doc(),
        staffing::api_doc(),
        mail::api_doc(),
        workflow::api_doc(),
    ]
}
