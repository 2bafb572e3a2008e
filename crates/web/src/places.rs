//! Unit grids, their owners and routing over HTTP: the JSON API (with OpenAPI) and the pages (coverage
//! report, a grid and its owner form). The map page's "who is responsible here" panel calls `/api/v1/route`.

use askama::Template;
use axum::Form;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use gridward_app::AppError;
use gridward_app::places::{Coverage, GivenPoint, GridDetail, GridImportReport, Route};
use gridward_domain::division::DivisionCode;
use gridward_grid::Datum;
use gridward_store::GridOwner;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::access::{SignedIn, same_secret};
use crate::api::{ApiResult, JsonBody};
use crate::error::{ErrorBody, bad_request};
use crate::pages::{Chrome, page_result, render};

/// The largest grid file taken: 100,000 grids of GeoJSON are about 40 MB.
pub const MAX_GRID_FILE_BYTES: usize = 128 * 1024 * 1024;

/// Reads a `datum` parameter; absent means WGS-84, the datum of GPS and Open311.
pub fn parse_datum(text: Option<&str>) -> ApiResult<Datum> {
    match text.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Datum::Wgs84),
        Some(s) => Datum::parse(s).map_err(|e| bad_request("unsupported_crs", e)),
    }
}

fn parse_territory(text: Option<&str>) -> ApiResult<Option<DivisionCode>> {
    text.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| DivisionCode::parse(s).map_err(|e| bad_request("bad_code", e.to_string())))
        .transpose()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RouteQuery {
    pub lon: f64,
    pub lat: f64,
    /// `wgs84` (default), `cgcs2000` or `gcj02`.
    pub datum: Option<String>,
    /// A power's code: adds the body holding it here, its legal basis, and the squad and officer acting for it.
    pub power: Option<String>,
}

/// Who is responsible at a point, and why: grid → community → street → district → city, and with a power
/// the delegated body, the legal basis, the acting squad and the grid's officer. A point outside the city
/// answers `outside_jurisdiction`. On a border shared by grids or divisions, the lowest code wins.
#[utoipa::path(get, path = "/api/v1/route", tag = "grids", security(("bearer" = [])), params(RouteQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn route(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(q): Query<RouteQuery>,
) -> ApiResult<Json<Route>> {
    let datum = parse_datum(q.datum.as_deref())?;
    let power = q.power.as_deref().map(str::trim).filter(|p| !p.is_empty());
    Ok(Json(state.app.route(&auth.principal, GivenPoint { lon: q.lon, lat: q.lat, datum }, power).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TerritoryQuery {
    /// A 12-digit division code; default the caller's territory.
    pub territory: Option<String>,
}

/// The grids in service within a territory, as a GeoJSON FeatureCollection (each in its stored datum).
#[utoipa::path(get, path = "/api/v1/grids", tag = "grids", security(("bearer" = [])), params(TerritoryQuery),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn list_grids(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(q): Query<TerritoryQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let territory = parse_territory(q.territory.as_deref())?.unwrap_or_else(|| auth.principal.scope.clone());
    Ok(Json(state.app.grid_features(&auth.principal, &territory).await?))
}

/// One grid, its owner and the squads that may own it.
#[utoipa::path(get, path = "/api/v1/grids/{code}", tag = "grids", security(("bearer" = [])),
    params(("code" = String, Path, description = "grid code, e.g. 320613007001001")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_grid(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
) -> ApiResult<Json<GridDetail>> {
    Ok(Json(state.app.grid_detail(&auth.principal, &code).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The datum of a file that names none (GeoJSON without `crs`, a Shapefile without `.prj`).
    pub datum: Option<String>,
    /// Where the grids come from, for attribution.
    pub source: Option<String>,
}

/// Imports unit grids from GeoJSON or a zipped Shapefile, all or nothing; every problem is listed with
/// its feature index. Grids of the file's communities missing from it are retired.
#[utoipa::path(post, path = "/api/v1/grids/import", tag = "grids", security(("bearer" = [])), params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn import_grids(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> ApiResult<Json<GridImportReport>> {
    let declared = q.datum.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(Datum::parse).transpose();
    let declared = declared.map_err(|e| bad_request("unsupported_crs", e))?;
    let source = q.source.as_deref().unwrap_or("upload");
    Ok(Json(state.app.import_grids(&auth.principal, &body, declared, source).await?))
}

/// A grid's owner: the squad, its primary officer and backups.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OwnerBody {
    pub squad: String,
    pub primary_officer: Option<String>,
    #[serde(default)]
    pub backups: Vec<String>,
}

/// Sets one grid's owner; the change is recorded.
#[utoipa::path(put, path = "/api/v1/grids/{code}/owner", tag = "grids", security(("bearer" = [])),
    params(("code" = String, Path, description = "grid code")), request_body = OwnerBody,
    responses((status = 200, body = Object), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_owner(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<OwnerBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let owner = GridOwner { grid: code, squad: body.squad, primary_officer: body.primary_officer, backups: body.backups };
    let changed = state.app.assign_grids(&auth.principal, &[owner]).await?;
    Ok(Json(serde_json::json!({ "changed": changed })))
}

/// Sets many grids' owners at once (a reassignment of a whole 片), all or nothing.
#[utoipa::path(post, path = "/api/v1/grids/owners", tag = "grids", security(("bearer" = [])),
    request_body = Object, responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
pub async fn set_owners(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    JsonBody(owners): JsonBody<Vec<GridOwner>>,
) -> ApiResult<Json<serde_json::Value>> {
    let changed = state.app.assign_grids(&auth.principal, &owners).await?;
    Ok(Json(serde_json::json!({ "changed": changed })))
}

/// Coverage of a territory: grids without an owner, officers without grids, every officer's load, and
/// the parts of communities no grid covers.
#[utoipa::path(get, path = "/api/v1/grids/coverage", tag = "grids", security(("bearer" = [])), params(TerritoryQuery),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn coverage(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(q): Query<TerritoryQuery>,
) -> ApiResult<Json<Coverage>> {
    let territory = parse_territory(q.territory.as_deref())?;
    Ok(Json(state.app.coverage(&auth.principal, territory.as_ref()).await?))
}

// Pages.

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    chrome: Chrome,
    report: Coverage,
    /// The first unowned grids shown; the API lists them all.
    unowned_shown: usize,
}

impl CoveragePage {
    fn hectares(&self, m2: &f64) -> String {
        format!("{:.1}", m2 / 10_000.0)
    }
}

pub async fn coverage_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Query(q): Query<TerritoryQuery>,
) -> Response {
    let result = async {
        let territory = parse_territory(q.territory.as_deref()).map_err(|e| e.0)?;
        let report = state.app.coverage(&auth.principal, territory.as_ref()).await?;
        let chrome = Chrome::new(&headers, Some(&auth));
        Ok(render(StatusCode::OK, &CoveragePage { chrome, unowned_shown: report.unowned.len().min(200), report }))
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

#[derive(Template)]
#[template(path = "grid.html")]
struct GridPage {
    chrome: Chrome,
    detail: GridDetail,
    geometry: String,
    may_assign: bool,
    saved: bool,
}

impl GridPage {
    fn is_primary(&self, staff_no: &str) -> bool {
        self.detail.owner.as_ref().and_then(|o| o.primary_officer.as_ref()).is_some_and(|p| p.staff_no == staff_no)
    }
    fn is_backup(&self, staff_no: &str) -> bool {
        self.detail.owner.as_ref().is_some_and(|o| o.backups.iter().any(|b| b.staff_no == staff_no))
    }
    fn is_squad(&self, code: &str) -> bool {
        self.detail.owner.as_ref().is_some_and(|o| o.squad.code == code)
    }
}

#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    pub saved: Option<String>,
}

pub async fn grid_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Response {
    let result = async {
        let detail = state.app.grid_detail(&auth.principal, &code).await?;
        let chrome = Chrome::new(&headers, Some(&auth));
        let may_assign = auth.principal.has_any(&[
            gridward_domain::access::Role::Admin,
            gridward_domain::access::Role::Leader,
            gridward_domain::access::Role::Dispatcher,
        ]);
        let geometry = detail.geometry.to_string();
        Ok(render(StatusCode::OK, &GridPage { chrome, detail, geometry, may_assign, saved: q.saved.is_some() }))
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

/// The owner form: `csrf`, `squad`, `primary_officer`, and one `backup` per ticked box. A backup ticked
/// under another squad than the one chosen is refused by the use-case, like any other mistake.
pub async fn grid_owner_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
        if !same_secret(&field("csrf").unwrap_or_default(), &auth.csrf_token) {
            return Err(AppError::bad_request("csrf", "the form's token is missing or stale"));
        }
        let squad =
            field("squad").filter(|s| !s.is_empty()).ok_or_else(|| AppError::bad_request("missing_squad", "choose a squad"))?;
        let primary_officer = field("primary_officer").filter(|s| !s.is_empty());
        let backups = fields.iter().filter(|(k, v)| k == "backup" && !v.is_empty()).map(|(_, v)| v.clone()).collect();
        state.app.assign_grids(&auth.principal, &[GridOwner { grid: code.clone(), squad, primary_officer, backups }]).await?;
        Ok(Redirect::to(&format!("/grids/{}?saved=1", crate::access::urlencode(&code))).into_response())
    }
    .await;
    page_result(&headers, Some(&auth), result)
}
