//! The power catalog, delegation and responsibility lists over HTTP: the JSON API (with OpenAPI) and the
//! pages (catalog search, a power's legal text and holders, the public responsibility lists, the conflict
//! dashboard, the plan editor with its preview, staffing).

use askama::Template;
use axum::Form;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gridward_app::AppError;
use gridward_app::catalog::{CatalogFilter, PowerDetail};
use gridward_app::delegation::{DelegationCheck, PlanPreview, Resolution, ResponsibilityList, StaffingReport};
use gridward_app::sheet::SheetFormat;
use gridward_domain::Date;
use gridward_domain::catalog::PowerKind;
use gridward_domain::delegation::{Assignment, Plan, PlanStep};
use gridward_domain::division::DivisionCode;
use gridward_domain::org::EnforcementDomain;
use gridward_domain::staffing::{QuotaChange, QuotaKind};
use gridward_store::{CatalogImport, PlanRecord, PowerVersion};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::{MaybeSignedIn, SignedIn, same_secret, urlencode};
use crate::api::{ApiResult, JsonBody};
use crate::error::{ErrorBody, bad_request};
use crate::i18n::Lang;
use crate::pages::{Chrome, domain_label, kind_label, page_result, render};

/// The largest catalog spreadsheet taken (a 10,000-row XLSX is about 2 MB).
pub const MAX_CATALOG_BYTES: usize = 32 * 1024 * 1024;

fn parse_day(s: Option<&str>) -> ApiResult<Date> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(gridward_app::today()),
        Some(s) => s.parse().map_err(|_| bad_request("bad_date", format!("{s:?} is not a date like 2025-01-01"))),
    }
}

fn parse_format(s: Option<&str>) -> ApiResult<SheetFormat> {
    SheetFormat::parse(s.unwrap_or("csv")).ok_or_else(|| bad_request("bad_format", "format is csv or xlsx"))
}

fn sheet_response(format: SheetFormat, name: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{name}.{}\"", format.extension());
    ([(header::CONTENT_TYPE, format.media_type().to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
}

/// Catalog search: every part optional.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// A piece of the code or the name.
    pub text: Option<String>,
    /// An enforcement domain code, e.g. `urban_management`.
    pub domain: Option<String>,
    /// `penalty`, `coercion` or `inspection`.
    pub kind: Option<String>,
    /// A category, e.g. 市容环境卫生.
    pub category: Option<String>,
    /// A piece of a cited law's title.
    pub law: Option<String>,
    /// A body code: only powers it holds somewhere on `date`.
    pub holder: Option<String>,
    /// The day the catalog is read for (default today).
    pub date: Option<String>,
    /// Exports only: `csv` or `xlsx`.
    pub format: Option<String>,
}

impl CatalogQuery {
    fn filter(&self) -> ApiResult<CatalogFilter> {
        let some = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        let domain = match some(&self.domain) {
            None => None,
            Some(d) => Some(
                EnforcementDomain::parse(&d)
                    .ok_or_else(|| bad_request("bad_domain", format!("{d:?} is not an enforcement domain")))?,
            ),
        };
        let kind = match some(&self.kind) {
            None => None,
            Some(k) => Some(PowerKind::parse(&k).ok_or_else(|| bad_request("bad_kind", format!("{k:?} is not a power kind")))?),
        };
        Ok(CatalogFilter {
            text: some(&self.text),
            domain,
            kind,
            category: some(&self.category),
            law: some(&self.law),
            holder: some(&self.holder),
        })
    }
}

/// A power as the API shows it: the catalog row's fields, its version and ledger entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct PowerListBody {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<PowerVersion>,
}

/// Powers in force on a day, filtered.
#[utoipa::path(get, path = "/api/v1/powers", tag = "catalog", security(("bearer" = [])), params(CatalogQuery),
    responses((status = 200, body = PowerListBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_powers(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(q): Query<CatalogQuery>,
) -> ApiResult<Json<PowerListBody>> {
    let items = state.app.catalog(&auth.principal, parse_day(q.date.as_deref())?, &q.filter()?).await?;
    Ok(Json(PowerListBody { items }))
}

/// The catalog as a spreadsheet (`format=csv|xlsx`); it imports back unchanged.
#[utoipa::path(get, path = "/api/v1/powers/export", tag = "catalog", security(("bearer" = [])), params(CatalogQuery),
    responses((status = 200, description = "CSV or XLSX"), (status = 400, body = ErrorBody)))]
pub async fn export_powers(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(q): Query<CatalogQuery>,
) -> ApiResult<Response> {
    let format = parse_format(q.format.as_deref())?;
    let bytes = state.app.export_catalog(&auth.principal, parse_day(q.date.as_deref())?, &q.filter()?, format).await?;
    Ok(sheet_response(format, "catalog", bytes))
}

/// What a catalog import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogImportBody {
    pub added: usize,
    pub revised: usize,
    pub unchanged: usize,
}

impl From<CatalogImport> for CatalogImportBody {
    fn from(c: CatalogImport) -> Self {
        CatalogImportBody { added: c.added, revised: c.revised, unchanged: c.unchanged }
    }
}

/// Imports a catalog spreadsheet (the request body: CSV or XLSX bytes). All or nothing: every bad row and
/// column comes back in `problems` (422). A changed power becomes a new version.
#[utoipa::path(post, path = "/api/v1/powers/import", tag = "catalog", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "CSV or XLSX"),
    responses((status = 200, body = CatalogImportBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_powers(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    body: Bytes,
) -> ApiResult<Json<CatalogImportBody>> {
    Ok(Json(state.app.import_catalog(&auth.principal, &body).await?.into()))
}

/// One power: every version, its holders today, and how often it was used.
#[utoipa::path(get, path = "/api/v1/powers/{code}", tag = "catalog", security(("bearer" = [])),
    params(("code" = String, Path, description = "power code, e.g. dqwr.118.1")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_power(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
) -> ApiResult<Json<PowerDetail>> {
    Ok(Json(state.app.power(&auth.principal, &code, gridward_app::today()).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HolderQuery {
    /// A 12-digit division code; or give `lon` and `lat` instead.
    pub division: Option<String>,
    /// A point's longitude and latitude, in `datum`.
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// `wgs84` (default), `cgcs2000` or `gcj02`.
    pub datum: Option<String>,
    /// Default today.
    pub date: Option<String>,
}

/// Who holds a power in a division, or at a point, on a day: exactly one body, or `holder: null` for nobody.
#[utoipa::path(get, path = "/api/v1/powers/{code}/holder", tag = "delegation", security(("bearer" = [])),
    params(("code" = String, Path, description = "power code"), HolderQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn power_holder(
    State(state): State<AppState>,
    SignedIn(_auth): SignedIn,
    Path(code): Path<String>,
    Query(q): Query<HolderQuery>,
) -> ApiResult<Json<Resolution>> {
    let division = match (q.division.as_deref(), q.lon, q.lat) {
        (Some(d), None, None) => DivisionCode::parse(d.trim()).map_err(|e| bad_request("bad_code", e.to_string()))?,
        (None, Some(lon), Some(lat)) => state
            .app
            .locate(lon, lat, crate::places::parse_datum(q.datum.as_deref())?)
            .await?
            .ok_or_else(|| bad_request("point_outside", "no division outline contains the point"))?,
        _ => return Err(bad_request("bad_place", "give either division, or lon and lat")),
    };
    Ok(Json(state.app.resolve_power(&code, &division, parse_day(q.date.as_deref())?).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    pub date: Option<String>,
}

/// The whole city on a day: the gaps (largest divisions where a power has no holder) and the overlaps.
#[utoipa::path(get, path = "/api/v1/delegation/check", tag = "delegation", security(("bearer" = [])), params(DayQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody)))]
pub async fn delegation_check(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(q): Query<DayQuery>,
) -> ApiResult<Json<DelegationCheck>> {
    Ok(Json(state.app.delegation_check(&auth.principal, parse_day(q.date.as_deref())?).await?))
}

/// A new assignment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAssignmentBody {
    pub power_code: String,
    pub body_code: String,
    /// A 12-digit division code: the subtree the body holds the power in.
    pub territory: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    /// The legal instrument, e.g. a provincial decision under 行政处罚法 Art. 24.
    pub instrument: String,
    pub evaluation_due: Option<String>,
    /// The assignment this one replaces; it ends the day before this one starts.
    pub supersedes: Option<i64>,
}

fn parse_opt_day(column: &'static str, s: Option<&str>) -> ApiResult<Option<Date>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| bad_request("bad_date", format!("{column}: {s:?} is not a date"))),
    }
}

/// Adds an assignment. An overlap with another is refused (409 `assignment_overlap`, both named) unless
/// the new one names the old in `supersedes`.
#[utoipa::path(post, path = "/api/v1/assignments", tag = "delegation", security(("bearer" = [])), request_body = NewAssignmentBody,
    responses((status = 201, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_assignment(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    JsonBody(body): JsonBody<NewAssignmentBody>,
) -> ApiResult<(StatusCode, Json<Assignment>)> {
    let assignment = Assignment {
        id: 0,
        power_code: body.power_code.trim().to_string(),
        body_code: body.body_code.trim().to_string(),
        territory: DivisionCode::parse(body.territory.trim()).map_err(|e| bad_request("bad_code", e.to_string()))?,
        valid_from: parse_opt_day("valid_from", Some(&body.valid_from))?
            .ok_or_else(|| bad_request("bad_date", "valid_from is required"))?,
        valid_to: parse_opt_day("valid_to", body.valid_to.as_deref())?,
        instrument: body.instrument.trim().to_string(),
        evaluation_due: parse_opt_day("evaluation_due", body.evaluation_due.as_deref())?,
    };
    let stored = state.app.assign(&auth.principal, &assignment, body.supersedes).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// Previews a delegation plan: the powers moved, overlaps and gaps after, open cases affected, and the
/// staffing change, with every problem. Nothing is written.
#[utoipa::path(post, path = "/api/v1/plans/preview", tag = "delegation", security(("bearer" = [])), request_body = Object,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn preview_plan(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    JsonBody(plan): JsonBody<Plan>,
) -> ApiResult<Json<PlanPreview>> {
    Ok(Json(state.app.preview_plan(&auth.principal, &plan).await?))
}

/// Commits a plan atomically; refused whole with its problems (422) or an overlap (409).
#[utoipa::path(post, path = "/api/v1/plans", tag = "delegation", security(("bearer" = [])), request_body = Object,
    responses((status = 201, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn commit_plan(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    JsonBody(plan): JsonBody<Plan>,
) -> ApiResult<(StatusCode, Json<PlanRecord>)> {
    Ok((StatusCode::CREATED, Json(state.app.commit_plan(&auth.principal, &plan).await?)))
}

/// Committed plans, newest first.
#[utoipa::path(get, path = "/api/v1/plans", tag = "delegation", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody)))]
pub async fn list_plans(State(state): State<AppState>, SignedIn(auth): SignedIn) -> ApiResult<Json<Vec<PlanRecord>>> {
    Ok(Json(state.app.plans(&auth.principal).await?))
}

/// The responsibility lists (责任清单) of the bodies seated in a division. Public, as the law requires.
#[utoipa::path(get, path = "/api/v1/divisions/{code}/responsibilities", tag = "delegation", params(("code" = String, Path), DayQuery),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn division_responsibilities(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<DayQuery>,
) -> ApiResult<Json<Vec<ResponsibilityList>>> {
    let division = DivisionCode::parse(code.trim()).map_err(|e| bad_request("bad_code", e.to_string()))?;
    Ok(Json(state.app.division_responsibilities(&division, parse_day(q.date.as_deref())?).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` or `xlsx`.
    pub format: Option<String>,
    pub date: Option<String>,
}

/// A body's responsibility list as a spreadsheet. Public.
#[utoipa::path(get, path = "/api/v1/bodies/{code}/responsibilities", tag = "delegation", params(("code" = String, Path), ExportQuery),
    responses((status = 200, description = "CSV or XLSX"), (status = 404, body = ErrorBody)))]
pub async fn export_responsibilities(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let format = parse_format(q.format.as_deref())?;
    let bytes = state.app.export_responsibility_list(&code, parse_day(q.date.as_deref())?, format).await?;
    Ok(sheet_response(format, &format!("responsibilities-{code}"), bytes))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    pub from: String,
    pub to: String,
}

/// Powers a body holds that saw no activity in a period (法定职责必须为).
#[utoipa::path(get, path = "/api/v1/bodies/{code}/dormant-duties", tag = "delegation", security(("bearer" = [])),
    params(("code" = String, Path), PeriodQuery), responses((status = 200, body = Object), (status = 400, body = ErrorBody)))]
pub async fn dormant_duties(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let from = parse_opt_day("from", Some(&q.from))?.ok_or_else(|| bad_request("bad_date", "from is required"))?;
    let to = parse_opt_day("to", Some(&q.to))?.ok_or_else(|| bad_request("bad_date", "to is required"))?;
    let duties = state.app.dormant_duties(&auth.principal, &code, from, to).await?;
    Ok(Json(serde_json::json!({ "from": from, "to": to, "activity_source": "cases", "items": duties })))
}

/// Every body's posts (编制) against its people, with flags, and the city's totals.
#[utoipa::path(get, path = "/api/v1/staffing", tag = "delegation", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn staffing(State(state): State<AppState>, SignedIn(auth): SignedIn) -> ApiResult<Json<StaffingReport>> {
    Ok(Json(state.app.staffing(&auth.principal).await?))
}

// Pages.

fn label(lang: Lang, zh: &str, code: &str) -> String {
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => code.replace('_', " "),
    }
}

/// A power as a catalog row shows it.
pub struct PowerRowView {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub domain: String,
    pub category: String,
    pub laws: String,
    pub fine: String,
    pub level: String,
}

fn power_row_view(chrome: &Chrome, p: &PowerVersion) -> PowerRowView {
    let power = &p.power;
    PowerRowView {
        code: power.code.clone(),
        name: power.name.clone(),
        kind: label(chrome.lang, power.kind.zh(), power.kind.as_str()),
        domain: domain_label(chrome.lang, power.domain),
        category: power.category.clone(),
        laws: power.laws().iter().map(|l| format!("《{l}》")).collect::<Vec<_>>().join(" "),
        fine: power.fine_text(),
        level: chrome.t(&format!("level.{}", power.default_level)),
    }
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    chrome: Chrome,
    rows: Vec<PowerRowView>,
    total: usize,
    text: String,
    domain: String,
    kind: String,
    category: String,
    law: String,
    holder: String,
    /// (code, label)
    domains: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    categories: Vec<String>,
    export_query: String,
    can_import: bool,
}

pub async fn catalog_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Query(q): Query<CatalogQuery>,
) -> Response {
    let result = async {
        let chrome = Chrome::new(&headers, Some(&auth));
        let filter = q.filter().map_err(|e| e.0)?;
        let day = gridward_app::today();
        let all = state.app.catalog(&auth.principal, day, &CatalogFilter::default()).await?;
        let mut categories: Vec<String> = all.iter().map(|p| p.power.category.clone()).collect();
        categories.sort();
        categories.dedup();
        let found = state.app.catalog(&auth.principal, day, &filter).await?;
        let rows = found.iter().map(|p| power_row_view(&chrome, p)).collect();
        let value = |s: &Option<String>| s.clone().unwrap_or_default();
        let export_query = [
            ("text", &q.text),
            ("domain", &q.domain),
            ("kind", &q.kind),
            ("category", &q.category),
            ("law", &q.law),
            ("holder", &q.holder),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| format!("&{k}={}", urlencode(v))))
        .collect();
        Ok(render(
            StatusCode::OK,
            &CatalogPage {
                domains: EnforcementDomain::ALL.iter().map(|d| (d.as_str().to_string(), domain_label(chrome.lang, *d))).collect(),
                kinds: PowerKind::ALL.iter().map(|k| (k.as_str().to_string(), label(chrome.lang, k.zh(), k.as_str()))).collect(),
                total: all.len(),
                rows,
                text: value(&q.text),
                domain: value(&q.domain),
                kind: value(&q.kind),
                category: value(&q.category),
                law: value(&q.law),
                holder: value(&q.holder),
                categories,
                export_query,
                can_import: auth.principal.has(gridward_domain::access::Role::Admin),
                chrome,
            },
        ))
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

pub struct CitationView {
    pub reference: String,
    pub text: String,
}

pub struct HoldingView {
    pub body_code: String,
    pub body_name: String,
    pub territory: String,
    pub territory_name: String,
    pub since: String,
    pub instrument: String,
    pub evaluation_due: String,
}

#[derive(Template)]
#[template(path = "power.html")]
struct PowerPage {
    chrome: Chrome,
    row: PowerRowView,
    version: u32,
    valid_from: String,
    ledger_seq: i64,
    violation: Vec<CitationView>,
    penalty: Vec<CitationView>,
    penalty_types: Vec<String>,
    hearing: bool,
    notes: String,
    usage: u64,
    holders: Vec<HoldingView>,
    /// (version, valid_from, name, ledger_seq)
    history: Vec<(u32, String, String, i64)>,
}

fn citations(c: &[gridward_domain::catalog::Citation]) -> Vec<CitationView> {
    c.iter().map(|c| CitationView { reference: c.reference(), text: c.text.clone() }).collect()
}

pub async fn power_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
) -> Response {
    let result = async {
        let chrome = Chrome::new(&headers, Some(&auth));
        let detail = state.app.power(&auth.principal, &code, gridward_app::today()).await?;
        let p = &detail.current.power;
        let mut holders: Vec<HoldingView> = detail
            .holders
            .iter()
            .map(|h| HoldingView {
                body_code: h.assignment.body_code.clone(),
                body_name: h.body_name.clone(),
                territory: h.assignment.territory.to_string(),
                territory_name: h.territory_name.clone(),
                since: h.assignment.valid_from.to_string(),
                instrument: h.assignment.instrument.clone(),
                evaluation_due: h.assignment.evaluation_due.map(|d| d.to_string()).unwrap_or_default(),
            })
            .collect();
        holders.sort_by(|a, b| a.territory.cmp(&b.territory));
        Ok(render(
            StatusCode::OK,
            &PowerPage {
                row: power_row_view(&chrome, &detail.current),
                version: detail.current.version,
                valid_from: p.valid_from.to_string(),
                ledger_seq: detail.current.ledger_seq,
                violation: citations(&p.violation_basis),
                penalty: citations(&p.penalty_basis),
                penalty_types: p.penalty_types.iter().map(|t| label(chrome.lang, t.zh(), t.as_str())).collect(),
                hearing: p.hearing,
                notes: p.notes.clone(),
                usage: detail.usage,
                holders,
                history: detail
                    .history
                    .iter()
                    .rev()
                    .map(|v| (v.version, v.power.valid_from.to_string(), v.power.name.clone(), v.ledger_seq))
                    .collect(),
                chrome,
            },
        ))
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

// Public responsibility lists.

#[derive(Template)]
#[template(path = "responsibilities.html")]
struct ResponsibilitiesIndex {
    chrome: Chrome,
    /// (body code, body name, powers held)
    bodies: Vec<(String, String, usize)>,
}

pub async fn responsibilities_index(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeSignedIn(auth): MaybeSignedIn,
) -> Response {
    let result = async {
        let chrome = Chrome::new(&headers, auth.as_ref());
        let report = state.app.holdings(gridward_app::today(), |_| true).await?;
        let mut counts: std::collections::BTreeMap<String, (String, usize)> = Default::default();
        for h in report {
            counts.entry(h.assignment.body_code.clone()).or_insert((h.body_name.clone(), 0)).1 += 1;
        }
        let bodies = counts.into_iter().map(|(code, (name, n))| (code, name, n)).collect();
        Ok(render(StatusCode::OK, &ResponsibilitiesIndex { chrome, bodies }))
    }
    .await;
    page_result(&headers, auth.as_ref(), result)
}

pub struct ResponsibilityView {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub basis: Vec<CitationView>,
    pub penalty_types: String,
    pub fine: String,
    pub territory_name: String,
    pub since: String,
}

#[derive(Template)]
#[template(path = "responsibility_list.html")]
struct ResponsibilityPage {
    chrome: Chrome,
    body_code: String,
    body_name: String,
    body_kind: String,
    date: String,
    total: usize,
    /// (category, items)
    groups: Vec<(String, Vec<ResponsibilityView>)>,
}

pub async fn responsibility_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeSignedIn(auth): MaybeSignedIn,
    Path(code): Path<String>,
) -> Response {
    let result = async {
        let chrome = Chrome::new(&headers, auth.as_ref());
        let list = state.app.responsibility_list(&code, gridward_app::today()).await?;
        let mut groups: Vec<(String, Vec<ResponsibilityView>)> = Vec::new();
        for (category, _) in &list.categories {
            let items = list
                .items
                .iter()
                .filter(|r| &r.power.category == category)
                .map(|r| ResponsibilityView {
                    code: r.power.code.clone(),
                    name: r.power.name.clone(),
                    kind: label(chrome.lang, r.power.kind.zh(), r.power.kind.as_str()),
                    basis: citations(&r.power.violation_basis).into_iter().chain(citations(&r.power.penalty_basis)).collect(),
                    penalty_types: r
                        .power
                        .penalty_types
                        .iter()
                        .map(|t| label(chrome.lang, t.zh(), t.as_str()))
                        .collect::<Vec<_>>()
                        .join("、"),
                    fine: r.power.fine_text(),
                    territory_name: r.holding.territory_name.clone(),
                    since: r.holding.assignment.valid_from.to_string(),
                })
                .collect();
            groups.push((category.clone(), items));
        }
        Ok(render(
            StatusCode::OK,
            &ResponsibilityPage {
                body_code: list.body.code.clone(),
                body_name: list.body.name.clone(),
                body_kind: kind_label(chrome.lang, list.body.kind),
                date: list.date.to_string(),
                total: list.items.len(),
                groups,
                chrome,
            },
        ))
    }
    .await;
    page_result(&headers, auth.as_ref(), result)
}

// The conflict dashboard and plans.

#[derive(Template)]
#[template(path = "delegation.html")]
struct DelegationPage {
    chrome: Chrome,
    check: DelegationCheck,
    plans: Vec<(i64, String, String, usize, String)>,
    committed: Option<i64>,
    can_plan: bool,
}

#[derive(Deserialize)]
pub struct DelegationQuery {
    committed: Option<i64>,
}

pub async fn delegation_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Query(q): Query<DelegationQuery>,
) -> Response {
    let result = async {
        let chrome = Chrome::new(&headers, Some(&auth));
        let check = state.app.delegation_check(&auth.principal, gridward_app::today()).await?;
        let plans = state
            .app
            .plans(&auth.principal)
            .await?
            .into_iter()
            .map(|p| (p.id, p.plan.title, p.plan.effective_from.to_string(), p.plan.steps.len(), p.committed_by))
            .collect();
        let p = &auth.principal;
        let can_plan = p.has(gridward_domain::access::Role::Admin) || p.has(gridward_domain::access::Role::Leader);
        Ok(render(StatusCode::OK, &DelegationPage { chrome, check, plans, committed: q.committed, can_plan }))
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

/// The plan editor's form: one target body and territory, the powers to move there, and up to two quota
/// transfers.
#[derive(Debug, Default, Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub instrument: String,
    #[serde(default)]
    pub effective_from: String,
    #[serde(default)]
    pub body_code: String,
    #[serde(default)]
    pub territory: String,
    #[serde(default)]
    pub evaluation_due: String,
    /// Power codes, one per line or comma-separated (the checkboxes post them joined by the page).
    #[serde(default)]
    pub powers: String,
    #[serde(default)]
    pub quota_from: String,
    #[serde(default)]
    pub quota_to: String,
    #[serde(default)]
    pub quota_kind: String,
    #[serde(default)]
    pub quota_posts: String,
    #[serde(default)]
    pub csrf: String,
    /// The previewed plan, as JSON, when committing.
    #[serde(default)]
    pub plan: String,
}

impl PlanForm {
    fn plan(&self) -> Result<Plan, AppError> {
        let bad = |code: &'static str, m: &str| AppError::bad_request(code, m.to_string());
        let effective_from: Date =
            self.effective_from.trim().parse().map_err(|_| bad("bad_date", "the plan needs the day it takes effect"))?;
        let territory = DivisionCode::parse(self.territory.trim()).map_err(|e| bad("bad_code", &e.to_string()))?;
        let evaluation_due = match self.evaluation_due.trim() {
            "" => None,
            s => Some(s.parse().map_err(|_| bad("bad_date", "the evaluation date is not a date"))?),
        };
        let steps = self
            .powers
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|p| PlanStep::Assign {
                power_code: p.to_string(),
                body_code: self.body_code.trim().to_string(),
                territory: territory.clone(),
                evaluation_due,
            })
            .collect();
        let mut quota_changes = Vec::new();
        if !self.quota_posts.trim().is_empty() && self.quota_posts.trim() != "0" {
            let posts: u32 = self.quota_posts.trim().parse().map_err(|_| bad("bad_quota", "posts is a whole number"))?;
            let kind = QuotaKind::parse(self.quota_kind.trim()).ok_or_else(|| bad("bad_quota", "choose a quota kind"))?;
            if self.quota_from.trim().is_empty() {
                // Posts from nowhere: the plan then grows the total, which the preview refuses with the numbers.
                quota_changes.push(QuotaChange { body_code: self.quota_to.trim().to_string(), kind, delta: i64::from(posts) });
            } else {
                quota_changes.extend(QuotaChange::transfer(self.quota_from.trim(), self.quota_to.trim(), kind, posts));
            }
        }
        Ok(Plan {
            title: self.title.trim().to_string(),
            instrument: self.instrument.trim().to_string(),
            effective_from,
            steps,
            quota_changes,
        })
    }
}

pub struct PowerChoice {
    pub code: String,
    pub name: String,
    pub category: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "plan_new.html")]
struct PlanEditor {
    chrome: Chrome,
    form: PlanForm,
    /// (code, name)
    bodies: Vec<(String, String)>,
    /// (category, choices)
    groups: Vec<(String, Vec<PowerChoice>)>,
    kinds: Vec<(String, String)>,
    error: Option<String>,
}

async fn editor(
    state: &AppState,
    chrome: Chrome,
    who: &gridward_domain::access::Principal,
    form: PlanForm,
    error: Option<String>,
) -> Result<Response, AppError> {
    let powers = state.app.catalog(who, gridward_app::today(), &CatalogFilter::default()).await?;
    let chosen: std::collections::HashSet<&str> = form.powers.split(|c: char| c == ',' || c.is_whitespace()).collect();
    let mut groups: Vec<(String, Vec<PowerChoice>)> = Vec::new();
    for p in &powers {
        let choice = PowerChoice {
            code: p.power.code.clone(),
            name: p.power.name.clone(),
            category: p.power.category.clone(),
            checked: chosen.contains(p.power.code.as_str()),
        };
        match groups.iter_mut().find(|(c, _)| *c == p.power.category) {
            Some((_, list)) => list.push(choice),
            None => groups.push((p.power.category.clone(), vec![choice])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let bodies = state.app.store.all_bodies().await?.into_iter().map(|b| (b.code, b.name)).collect();
    let kinds = QuotaKind::ALL.iter().map(|k| (k.as_str().to_string(), label(chrome.lang, k.zh(), k.as_str()))).collect();
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok(render(status, &PlanEditor { chrome, form, bodies, groups, kinds, error }))
}

#[derive(Deserialize)]
pub struct NewPlanQuery {
    body: Option<String>,
}

pub async fn plan_editor(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Query(q): Query<NewPlanQuery>,
) -> Response {
    let result = async {
        let chrome = Chrome::new(&headers, Some(&auth));
        let mut form = PlanForm {
            effective_from: gridward_app::today().tomorrow().map(|d| d.to_string()).unwrap_or_default(),
            ..PlanForm::default()
        };
        if let Some(body) = q.body.filter(|b| !b.is_empty()) {
            let b = state.app.body(&auth.principal, &body).await?;
            form.territory = b.division_code.to_string();
            form.quota_to = b.code.clone();
            form.body_code = b.code;
        }
        editor(&state, chrome, &auth.principal, form, None).await
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

pub struct MoveView {
    pub power: String,
    pub territory: String,
    pub from: String,
    pub to: String,
}

#[derive(Template)]
#[template(path = "plan_preview.html")]
struct PlanPreviewPage {
    chrome: Chrome,
    plan: Plan,
    plan_json: String,
    preview: PlanPreview,
    moves: Vec<MoveView>,
    /// (kind label, before, after)
    totals: Vec<(String, u64, u64)>,
    problems: Vec<String>,
    can_commit: bool,
}

pub async fn plan_preview_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Form(form): Form<PlanForm>,
) -> Response {
    let result = async {
        let chrome = Chrome::new(&headers, Some(&auth));
        if !same_secret(&form.csrf, &auth.csrf_token) {
            return Err(AppError::bad_request("csrf", "the form's token is missing or stale"));
        }
        let plan = match form.plan() {
            Ok(plan) => plan,
            Err(e) => {
                let message = chrome.t(&format!("error.{}", e.code()));
                return editor(&state, chrome, &auth.principal, form, Some(message)).await;
            }
        };
        let preview = state.app.preview_plan(&auth.principal, &plan).await?;
        let moves = preview
            .moves_named
            .iter()
            .map(|(power, territory, from, to)| MoveView {
                power: power.clone(),
                territory: territory.clone(),
                from: from.clone(),
                to: to.clone(),
            })
            .collect();
        let totals = preview
            .effect
            .quotas
            .totals
            .iter()
            .map(|t| (label(chrome.lang, t.kind.zh(), t.kind.as_str()), t.before, t.after))
            .collect();
        let problems = preview
            .effect
            .problems
            .0
            .iter()
            .map(|p| match p.line {
                Some(line) => format!("{} {line}: {}", chrome.t("plan.step"), p.message),
                None => p.message.clone(),
            })
            .collect();
        let can_commit = preview.committable && auth.principal.has(gridward_domain::access::Role::Admin);
        let plan_json = serde_json::to_string(&plan).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(render(StatusCode::OK, &PlanPreviewPage { chrome, plan, plan_json, preview, moves, totals, problems, can_commit }))
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

pub async fn plan_commit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Form(form): Form<PlanForm>,
) -> Response {
    let result = async {
        if !same_secret(&form.csrf, &auth.csrf_token) {
            return Err(AppError::bad_request("csrf", "the form's token is missing or stale"));
        }
        let plan: Plan =
            serde_json::from_str(&form.plan).map_err(|_| AppError::bad_request("bad_plan", "the plan could not be read"))?;
        let record = state.app.commit_plan(&auth.principal, &plan).await?;
        Ok(Redirect::to(&format!("/delegation?committed={}", record.id)).into_response())
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

// Staffing.

pub struct StaffingView {
    pub code: String,
    pub name: String,
    pub administrative: u32,
    pub public_institution: u32,
    pub auxiliary_cap: u32,
    pub established: u32,
    pub auxiliaries: u32,
    pub flags: Vec<String>,
}

#[derive(Template)]
#[template(path = "staffing.html")]
struct StaffingPage {
    chrome: Chrome,
    lines: Vec<StaffingView>,
    totals: Vec<(String, u64)>,
}

pub async fn staffing_page(State(state): State<AppState>, headers: HeaderMap, SignedIn(auth): SignedIn) -> Response {
    let result = async {
        let chrome = Chrome::new(&headers, Some(&auth));
        let report = state.app.staffing(&auth.principal).await?;
        let lines = report
            .lines
            .into_iter()
            .map(|l| StaffingView {
                code: l.body.code,
                name: l.body.name,
                administrative: l.staffing.administrative,
                public_institution: l.staffing.public_institution,
                auxiliary_cap: l.staffing.auxiliary_cap,
                established: l.staffing.established,
                auxiliaries: l.staffing.auxiliaries,
                flags: l.flags.iter().map(|f| chrome.t(&format!("staffing.{f}"))).collect(),
            })
            .collect();
        let totals = report.totals.iter().map(|(k, n)| (label(chrome.lang, k.zh(), k.as_str()), *n)).collect();
        Ok(render(StatusCode::OK, &StaffingPage { chrome, lines, totals }))
    }
    .await;
    page_result(&headers, Some(&auth), result)
}
