//! HTTP for Gridward: the JSON API (`/api/v1`), server-rendered pages, OpenAPI and Swagger UI, health and
//! metrics, and the static assets embedded in the binary. Only this crate knows HTTP and JSON.

pub mod access;
pub mod api;
pub mod cases;
pub mod error;
pub mod evidence;
pub mod i18n;
pub mod limits;
pub mod metrics;
pub mod open311;
pub mod pages;
pub mod pdf;
pub mod places;
pub mod powers;
pub mod reports;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router, middleware};
use gridward_app::App;
use gridward_app::directory::STAFF_READERS;
use gridward_domain::access::{Access, Role};
use gridward_domain::division::DivisionCode;
use rust_embed::RustEmbed;
use serde_json::json;
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::access::{RouteInfo, RouteTable};
use crate::metrics::Metrics;

/// Request bodies larger than this are refused with 413 before any handler runs.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<Metrics>,
    /// Whether the demo city is loaded (the login page then hints at the demo accounts).
    pub demo: bool,
    /// Adds `Secure` to cookies; set when served over HTTPS.
    pub secure_cookies: bool,
    /// Rate limits on public intake.
    pub limits: Arc<limits::Limiter>,
}

impl AppState {
    pub fn new(app: App, demo: bool, secure_cookies: bool) -> AppState {
        AppState {
            app,
            metrics: Arc::new(Metrics::default()),
            demo,
            secure_cookies,
            limits: Arc::new(limits::Limiter::new(limits::RateLimits::default())),
        }
    }

    /// Uses these rate limits on public intake instead of the defaults.
    pub fn with_rate_limits(mut self, limits: limits::RateLimits) -> AppState {
        self.limits = Arc::new(limits::Limiter::new(limits));
        self
    }

    pub(crate) fn cookie_suffix(&self) -> &'static str {
        if self.secure_cookies { "; Secure" } else { "" }
    }
}

/// The city a division belongs to: the top of every map and division browser.
pub fn city_of(code: &DivisionCode) -> DivisionCode {
    DivisionCode::parse(&format!("{}00000000", &code.as_str()[..4])).unwrap_or_else(|_| code.clone())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Gridward API", description = "Integrated administrative law enforcement. Errors are `{\"error\": code, \"message\": text}`; lists page with `limit` and `cursor`."),
    paths(
        api::create_session, api::delete_session, api::me,
        api::list_divisions, api::get_division, api::get_boundary, api::list_boundaries,
        api::list_bodies, api::get_body, api::list_staff,
        api::list_users, api::create_user,
        api::latest_checkpoint, api::sign_checkpoint, api::consistency_proof, api::entry_proof, api::add_cosignature,
        api::attach_evidence, api::list_evidence, api::get_evidence, api::evidence_content,
        powers::list_powers, powers::export_powers, powers::import_powers, powers::get_power, powers::power_holder,
        powers::delegation_check, powers::create_assignment, powers::preview_plan, powers::commit_plan, powers::list_plans,
        powers::staffing, powers::division_responsibilities, powers::export_responsibilities, powers::dormant_duties,
        places::route, places::list_grids, places::get_grid, places::import_grids, places::set_owner, places::set_owners,
        places::coverage,
        reports::list_reports, reports::get_report, reports::act_on_report, reports::place_report, reports::file_report,
        reports::list_keys, reports::issue_key, reports::revoke_key, reports::list_rewards, reports::decide_reward,
        reports::reward_stats, reports::link_case, reports::import_services,
        cases::calendar_deadline, cases::list_cases, cases::open_case, cases::get_case, cases::take_step, cases::get_document,
        cases::deadlines, cases::published_decisions, cases::import_calendar,
    ),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

async fn static_asset(Path(path): Path<String>) -> Response {
    match Assets::get(&path) {
        Some(file) => {
            let mime = mime_for(&path);
            ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=3600")], file.data).into_response()
        }
        None => error::ApiError(gridward_app::AppError::NotFound("asset")).into_response(),
    }
}

fn mime_for(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("md") | Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.app.store.ping().await {
        Ok(()) => Json(json!({"status": "ok", "backend": state.app.backend()})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "error": "database_unavailable"})))
                .into_response()
        }
    }
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    let backend = format!("{:?}", state.app.backend()).to_lowercase();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render(&backend)).into_response()
}

const ADMINS: &[Role] = &[Role::Admin];
/// Who may draft delegation plans and read staffing: administration and leadership.
const PLANNERS: &[Role] = &[Role::Admin, Role::Leader];
/// Who reads grid coverage: those who assign work and those who check it.
const GRID_KEEPERS: &[Role] = &[Role::Admin, Role::Leader, Role::Dispatcher, Role::Supervisor];
/// Who may give grids to squads and officers (inside their territory; the use-case checks it).
const GRID_ASSIGNERS: &[Role] = &[Role::Admin, Role::Leader, Role::Dispatcher];
/// Who may read entries of the record with their proofs: administration, leadership, legal review and the
/// procuratorate's oversight.
pub(crate) const RECORD_READERS: &[Role] = &[Role::Admin, Role::Leader, Role::LegalReviewer, Role::Procuratorate];

/// Every route with its access rule. The router is built from this table, so the table is complete.
pub fn route_table(state: AppState) -> RouteTable {
    use Access::{Public, Roles, SignedIn};
    let swagger = utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi.json", ApiDoc::openapi());
    RouteTable::new(state)
        .add(Method::GET, "/healthz", Public, get(healthz))
        .add(Method::GET, "/metrics", Public, get(metrics_text))
        .add(Method::GET, "/static/{*path}", Public, get(static_asset))
        .add(Method::POST, "/api/v1/session", Public, post(api::create_session))
        .add(Method::DELETE, "/api/v1/session", SignedIn, delete(api::delete_session))
        .add(Method::GET, "/api/v1/me", SignedIn, get(api::me))
        .add(Method::GET, "/api/v1/divisions", SignedIn, get(api::list_divisions))
        .add(Method::GET, "/api/v1/divisions/{code}", SignedIn, get(api::get_division))
        .add(Method::GET, "/api/v1/divisions/{code}/boundary", SignedIn, get(api::get_boundary))
        .add(Method::GET, "/api/v1/boundaries", SignedIn, get(api::list_boundaries))
        .add(Method::GET, "/api/v1/bodies", SignedIn, get(api::list_bodies))
        .add(Method::GET, "/api/v1/bodies/{code}", SignedIn, get(api::get_body))
        .add(Method::GET, "/api/v1/bodies/{code}/staff", Roles(STAFF_READERS), get(api::list_staff))
        .add(Method::GET, "/api/v1/users", Roles(ADMINS), get(api::list_users))
        .add(Method::POST, "/api/v1/users", Roles(ADMINS), post(api::create_user))
        .add(Method::GET, "/api/v1/ledger/checkpoint", Public, get(api::latest_checkpoint))
        .add(Method::POST, "/api/v1/ledger/checkpoint", Roles(ADMINS), post(api::sign_checkpoint))
        .add(
            Method::POST,
            "/api/v1/evidence",
            SignedIn,
            post(api::attach_evidence).layer(DefaultBodyLimit::max(gridward_domain::evidence::MAX_EVIDENCE_BYTES)),
        )
        .add(Method::GET, "/api/v1/evidence", SignedIn, get(api::list_evidence))
        .add(Method::GET, "/api/v1/evidence/{id}", SignedIn, get(api::get_evidence))
        .add(Method::GET, "/api/v1/evidence/{id}/content", SignedIn, get(api::evidence_content))
        .add(Method::GET, "/api/v1/ledger/consistency", Public, get(api::consistency_proof))
        // Public, because a witness has no account: its SM2 signature is what authenticates it.
        .add(Method::POST, "/api/v1/ledger/cosignatures", Public, post(api::add_cosignature))
        .add(Method::GET, "/api/v1/ledger/entries/{seq}/proof", Roles(RECORD_READERS), get(api::entry_proof))
        .add(Method::GET, "/.well-known/gridward-ledger-key", Public, get(api::ledger_key))
        .add(Method::GET, "/transparency", Public, get(pages::transparency))
        .add(Method::GET, "/login", Public, get(pages::login_form))
        .add(Method::POST, "/login", Public, post(pages::login_submit))
        .add(Method::POST, "/logout", SignedIn, post(pages::logout))
        .add(Method::GET, "/lang/{lang}", Public, get(pages::switch_language))
        .add(Method::GET, "/", SignedIn, get(pages::home))
        .add(Method::GET, "/divisions", SignedIn, get(pages::divisions_root))
        .add(Method::GET, "/divisions/{code}", SignedIn, get(pages::division_page))
        .add(Method::GET, "/map", SignedIn, get(pages::map_page))
        .add(Method::GET, "/bodies/{code}", SignedIn, get(pages::body_page))
        // Who may attach, and where, is the app's decision; the limit only stops bodies no file could need.
        .add(
            Method::POST,
            "/bodies/{code}/evidence",
            SignedIn,
            post(evidence::upload_to_body).layer(DefaultBodyLimit::max(evidence::MAX_UPLOAD_FORM_BYTES)),
        )
        .add(Method::GET, "/api/v1/powers", SignedIn, get(powers::list_powers))
        .add(Method::GET, "/api/v1/powers/export", SignedIn, get(powers::export_powers))
        .add(
            Method::POST,
            "/api/v1/powers/import",
            Roles(ADMINS),
            post(powers::import_powers).layer(DefaultBodyLimit::max(powers::MAX_CATALOG_BYTES)),
        )
        .add(Method::GET, "/api/v1/powers/{code}", SignedIn, get(powers::get_power))
        .add(Method::GET, "/api/v1/powers/{code}/holder", SignedIn, get(powers::power_holder))
        .add(Method::GET, "/api/v1/delegation/check", SignedIn, get(powers::delegation_check))
        .add(Method::POST, "/api/v1/assignments", Roles(ADMINS), post(powers::create_assignment))
        .add(Method::POST, "/api/v1/plans/preview", Roles(PLANNERS), post(powers::preview_plan))
        .add(Method::POST, "/api/v1/plans", Roles(ADMINS), post(powers::commit_plan))
        .add(Method::GET, "/api/v1/plans", SignedIn, get(powers::list_plans))
        .add(Method::GET, "/api/v1/staffing", Roles(PLANNERS), get(powers::staffing))
        // Published by law (责任清单): no account needed.
        .add(Method::GET, "/api/v1/divisions/{code}/responsibilities", Public, get(powers::division_responsibilities))
        .add(Method::GET, "/api/v1/bodies/{code}/responsibilities", Public, get(powers::export_responsibilities))
        .add(Method::GET, "/api/v1/bodies/{code}/dormant-duties", SignedIn, get(powers::dormant_duties))
        .add(Method::GET, "/responsibilities", Public, get(powers::responsibilities_index))
        .add(Method::GET, "/responsibilities/{code}", Public, get(powers::responsibility_page))
        .add(Method::GET, "/catalog", SignedIn, get(powers::catalog_page))
        .add(Method::GET, "/powers/{code}", SignedIn, get(powers::power_page))
        .add(Method::GET, "/delegation", SignedIn, get(powers::delegation_page))
        .add(Method::GET, "/plans/new", Roles(PLANNERS), get(powers::plan_editor))
        .add(Method::POST, "/plans/preview", Roles(PLANNERS), post(powers::plan_preview_page))
        .add(Method::POST, "/plans/commit", Roles(ADMINS), post(powers::plan_commit_page))
        .add(Method::GET, "/staffing", Roles(PLANNERS), get(powers::staffing_page))
        .add(Method::GET, "/api/v1/route", SignedIn, get(places::route))
        .add(Method::GET, "/api/v1/grids", SignedIn, get(places::list_grids))
        .add(Method::GET, "/api/v1/grids/coverage", Roles(GRID_KEEPERS), get(places::coverage))
        .add(
            Method::POST,
            "/api/v1/grids/import",
            Roles(ADMINS),
            post(places::import_grids).layer(DefaultBodyLimit::max(places::MAX_GRID_FILE_BYTES)),
        )
        .add(Method::POST, "/api/v1/grids/owners", Roles(GRID_ASSIGNERS), post(places::set_owners))
        .add(Method::GET, "/api/v1/grids/{code}", SignedIn, get(places::get_grid))
        .add(Method::PUT, "/api/v1/grids/{code}/owner", Roles(GRID_ASSIGNERS), put(places::set_owner))
        .add(Method::GET, "/grids", Roles(GRID_KEEPERS), get(places::coverage_page))
        .add(Method::GET, "/grids/{code}", SignedIn, get(places::grid_page))
        .add(Method::POST, "/grids/{code}/owner", Roles(GRID_ASSIGNERS), post(places::grid_owner_form))
        // Reports: the public form and status pages; staff queues, work pages and their API.
        .add(Method::GET, "/report", Public, get(reports::report_form))
        .add(Method::POST, "/report", Public, post(reports::submit_form).layer(DefaultBodyLimit::max(reports::MAX_FORM_BYTES)))
        .add(Method::GET, "/report/outlines", Public, get(reports::outlines))
        .add(Method::GET, "/reports/lookup", Public, get(reports::lookup))
        .add(Method::GET, "/reports/t/{token}", Public, get(reports::ticket_page))
        .add(Method::GET, "/reports/{id}", Public, get(reports::status_page))
        .add(Method::GET, "/reports/{id}/photos/{evidence}", Public, get(reports::public_photo))
        .add(Method::GET, "/queue", Roles(reports::REPORT_WORKERS), get(reports::queue_page))
        .add(Method::GET, "/tasks/map", Roles(reports::REPORT_WORKERS), get(reports::tasks_map))
        .add(Method::GET, "/work/{id}", Roles(reports::REPORT_WORKERS), get(reports::work_page))
        .add(Method::POST, "/work/{id}", Roles(reports::REPORT_WORKERS), post(reports::work_action))
        .add(
            Method::POST,
            "/work/{id}/photo",
            Roles(reports::REPORT_WORKERS),
            post(reports::work_photo).layer(DefaultBodyLimit::max(evidence::MAX_UPLOAD_FORM_BYTES)),
        )
        .add(Method::GET, "/rewards", Public, get(reports::rewards_page))
        .add(Method::POST, "/rewards/{id}", Roles(&[Role::Leader]), post(reports::reward_form))
        .add(Method::GET, "/open311-keys", Roles(ADMINS), get(reports::keys_page))
        .add(Method::POST, "/open311-keys", Roles(ADMINS), post(reports::keys_form))
        .add(Method::GET, "/api/v1/calendar/deadline", Public, get(cases::calendar_deadline))
        .add(Method::GET, "/api/v1/decisions", Public, get(cases::published_decisions))
        .add(Method::POST, "/api/v1/calendar/import", Roles(ADMINS), post(cases::import_calendar))
        .add(Method::GET, "/decisions", Public, get(cases::decisions_page))
        .add(Method::GET, "/api/v1/cases", Roles(cases::CASE_READERS), get(cases::list_cases))
        .add(Method::POST, "/api/v1/cases", Roles(&[Role::Officer, Role::Leader]), post(cases::open_case))
        .add(Method::GET, "/api/v1/cases/deadlines", Roles(cases::CASE_READERS), get(cases::deadlines))
        .add(Method::GET, "/api/v1/cases/{id}", Roles(cases::CASE_READERS), get(cases::get_case))
        .add(Method::POST, "/api/v1/cases/{id}/steps", Roles(cases::CASE_WORKERS), post(cases::take_step))
        .add(Method::GET, "/api/v1/cases/{id}/documents/{document}", Roles(cases::CASE_READERS), get(cases::get_document))
        .add(Method::GET, "/cases", Roles(cases::CASE_READERS), get(cases::cases_page))
        .add(Method::GET, "/cases/new", Roles(gridward_app::cases::OPENS_CASES), get(cases::new_case_page))
        .add(Method::POST, "/cases/new", Roles(gridward_app::cases::OPENS_CASES), post(cases::new_case_form))
        .add(Method::GET, "/cases/{id}", Roles(cases::CASE_READERS), get(cases::case_page))
        .add(Method::POST, "/cases/{id}", Roles(cases::CASE_WORKERS), post(cases::case_form))
        .add(
            Method::POST,
            "/cases/{id}/evidence",
            Roles(cases::CASE_WORKERS),
            post(cases::upload_evidence).layer(DefaultBodyLimit::max(evidence::MAX_UPLOAD_FORM_BYTES)),
        )
        .add(Method::GET, "/cases/{id}/documents/{document}", Roles(cases::CASE_READERS), get(cases::document_page))
        .add(Method::GET, "/cases/{id}/documents/{document}/pdf", Roles(cases::CASE_READERS), get(cases::document_pdf))
        .add(Method::GET, "/api/v1/reports", Roles(reports::REPORT_WORKERS), get(reports::list_reports))
        .add(
            Method::POST,
            "/api/v1/reports",
            Roles(&[Role::Supervisor, Role::Dispatcher, Role::Officer]),
            post(reports::file_report),
        )
        .add(Method::GET, "/api/v1/reports/{id}", Roles(reports::REPORT_WORKERS), get(reports::get_report))
        .add(Method::POST, "/api/v1/reports/{id}/actions", Roles(reports::REPORT_WORKERS), post(reports::act_on_report))
        .add(Method::POST, "/api/v1/reports/{id}/place", Roles(&[Role::Dispatcher]), post(reports::place_report))
        .add(Method::POST, "/api/v1/reports/{id}/case", Roles(&[Role::Officer, Role::Leader]), post(reports::link_case))
        .add(Method::POST, "/api/v1/services/import", Roles(ADMINS), post(reports::import_services))
        .add(Method::GET, "/api/v1/open311-keys", Roles(ADMINS), get(reports::list_keys))
        .add(Method::POST, "/api/v1/open311-keys", Roles(ADMINS), post(reports::issue_key))
        .add(Method::DELETE, "/api/v1/open311-keys/{name}", Roles(ADMINS), delete(reports::revoke_key))
        .add(Method::GET, "/api/v1/rewards", Roles(&[Role::Leader]), get(reports::list_rewards))
        .add(Method::GET, "/api/v1/rewards/stats", Public, get(reports::reward_stats))
        .add(Method::POST, "/api/v1/rewards/{id}", Roles(&[Role::Leader]), post(reports::decide_reward))
        // Open311: reading is public, posting needs an api_key (checked by the handler, as the spec says).
        .add(Method::GET, "/open311/{file}", Public, get(open311::root_resource))
        .add(Method::GET, "/open311/v2/{file}", Public, get(open311::get_resource))
        .add(
            Method::POST,
            "/open311/v2/{file}",
            Public,
            post(open311::post_resource).layer(DefaultBodyLimit::max(open311::MAX_POST_BYTES)),
        )
        .add(Method::GET, "/open311/v2/services/{file}", Public, get(open311::service_definition))
        .add(Method::GET, "/open311/v2/requests/{file}", Public, get(open311::get_request))
        .add(Method::GET, "/open311/v2/tokens/{file}", Public, get(open311::get_token))
        .add_public_external(Method::GET, "/api/openapi.json")
        .add_public_external(Method::GET, "/api/docs")
        .add_public_external(Method::GET, "/api/docs/")
        .add_public_external(Method::GET, "/api/docs/{*rest}")
        .merge(swagger.into())
}

/// How long a request may take, reading its body included.
const REQUEST_DEADLINE: Duration = Duration::from_secs(30);
/// How long an evidence upload may take: a 64 MB video from a phone on a slow link needs minutes.
const UPLOAD_DEADLINE: Duration = Duration::from_secs(600);

/// Evidence uploads and grid files are the only requests whose bodies may be large.
fn is_upload(method: &Method, path: &str) -> bool {
    method == Method::POST
        && (path.ends_with("/evidence") || path.ends_with("/photo") || path == "/report" || path == "/api/v1/grids/import")
}

/// Answers 408 when a request outlasts its deadline.
async fn deadline(req: axum::extract::Request, next: middleware::Next) -> axum::response::Response {
    let limit = if is_upload(req.method(), req.uri().path()) { UPLOAD_DEADLINE } else { REQUEST_DEADLINE };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// The whole HTTP application, with its route table (for tests).
pub fn router_with_table(state: AppState) -> (Router, Vec<RouteInfo>) {
    let (router, table) = route_table(state.clone()).into_parts();
    let request_id = HeaderName::from_static("x-request-id");
    let router = router
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(deadline))
        .layer(middleware::from_fn(error::json_errors))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "same-origin"))
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        })
        // One line per request at info: status and latency, inside the span that carries the request id.
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Millis)))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state);
    (router, table)
}

pub fn router(state: AppState) -> Router {
    router_with_table(state).0
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

#[cfg(test)]
mod deadline_tests {
    use super::*;

    #[test]
    fn only_evidence_uploads_get_the_long_deadline() {
        assert!(is_upload(&Method::POST, "/api/v1/evidence"));
        assert!(is_upload(&Method::POST, "/bodies/squad.320613007/evidence"));
        assert!(!is_upload(&Method::GET, "/api/v1/evidence"));
        assert!(!is_upload(&Method::POST, "/api/v1/users"));
    }
}
