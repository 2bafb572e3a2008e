//! Reports over HTTP: the JSON API for staff (queues, steps, placing, patrol findings, Open311 keys,
//! rewards) and the pages: the public report form and status page, the role queues, a report's work page,
//! the officer's task map and the key administration page.

use std::net::SocketAddr;

use askama::Template;
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Multipart, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gridward_app::AppError;
use gridward_app::evidence::Upload;
use gridward_app::reports::{NewReport, PublicReport, Queue, ReportView, Submitter};
use gridward_domain::access::Role;
use gridward_domain::report::{Action, CancelReason, Channel, Service, Severity};
use gridward_grid::Datum;
use gridward_store::{Open311Key, Reporter, RewardRecord};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::{MaybeSignedIn, SignedIn, same_secret};
use crate::api::ApiResult;
use crate::error::{ApiError, ErrorBody};
use crate::pages::{Chrome, page_result, render};

/// The public form takes at most this many photos, each a photo the evidence rules accept.
pub const MAX_FORM_PHOTOS: usize = 3;
/// The public form's whole body: three phone photos and the text.
pub const MAX_FORM_BYTES: usize = 3 * 20 * 1024 * 1024 + 64 * 1024;
/// Who works reports in the UI.
pub const REPORT_WORKERS: &[Role] =
    &[Role::Admin, Role::Leader, Role::Dispatcher, Role::Officer, Role::Auxiliary, Role::Supervisor, Role::Procuratorate];

/// The caller's network address, when the server knows it (it does behind `serve`).
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default()))
    }
}

// The JSON API.

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportListQuery {
    /// `intake`, `tasks`, `checks` or `overdue`; default `intake`.
    pub queue: Option<String>,
    /// At most this many (1–500, default 100).
    pub limit: Option<u32>,
}

/// A role's queue of reports in the caller's territory, oldest first, with the steps the caller may take.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", security(("bearer" = [])), params(ReportListQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_reports(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(q): Query<ReportListQuery>,
) -> ApiResult<Json<Value>> {
    let queue = Queue::parse(q.queue.as_deref().unwrap_or("intake"))
        .ok_or_else(|| AppError::bad_request("bad_queue", "queue is intake, tasks, checks or overdue"))?;
    let items = state.app.queue(&auth.principal, queue, q.limit.unwrap_or(100)).await?;
    Ok(Json(json!({"items": items})))
}

/// One report with its history; 404 outside the caller's territory.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the report's number (its service_request_id)")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_report(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(id): Path<i64>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(state.app.report_view(&auth.principal, id).await?))
}

/// Takes one step: `{"action": "verify"}`, `{"action": "dispatch", "squad": …}`, `{"action": "handle",
/// "note": …}` (after attaching a photo), `{"action": "close"}`, `{"action": "rework", "reason": …}`,
/// `{"action": "cancel", "reason": "invalid|not_ours|withdrawn", "note": …}`, `{"action": "reassign", …}`,
/// `{"action": "mark_duplicate", "of": N}`.
#[utoipa::path(post, path = "/api/v1/reports/{id}/actions", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the report's number")), request_body = Object,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn act_on_report(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(id): Path<i64>,
    Json(action): Json<Action>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(state.app.act_on_report(&auth.principal, id, action).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlaceBody {
    pub lon: f64,
    pub lat: f64,
    /// `wgs84` (default), `cgcs2000` or `gcj02`.
    pub datum: Option<String>,
}

/// Pins a report that came with an address only (dispatcher).
#[utoipa::path(post, path = "/api/v1/reports/{id}/place", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the report's number")), request_body = PlaceBody,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn place_report(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(id): Path<i64>,
    Json(body): Json<PlaceBody>,
) -> ApiResult<Json<ReportView>> {
    let datum = crate::places::parse_datum(body.datum.as_deref())?;
    Ok(Json(state.app.place_report(&auth.principal, id, body.lon, body.lat, datum).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StaffReportBody {
    /// `patrol` (a supervisor's finding) or `referral` (from another agency).
    pub channel: String,
    pub service_code: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub datum: Option<String>,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub description: String,
    /// `minor`, `serious` or `severe`.
    pub severity: Option<String>,
}

/// Files a patrol finding or a referral into the same flow.
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports", security(("bearer" = [])), request_body = StaffReportBody,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn file_report(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Json(body): Json<StaffReportBody>,
) -> ApiResult<Json<Value>> {
    let channel = Channel::parse(&body.channel)
        .filter(|c| matches!(c, Channel::Patrol | Channel::Referral))
        .ok_or_else(|| AppError::bad_request("bad_channel", "channel is patrol or referral"))?;
    let mut attributes = std::collections::BTreeMap::new();
    if let Some(s) = body.severity.filter(|s| !s.is_empty()) {
        attributes.insert("severity".to_string(), vec![s]);
    }
    let input = NewReport {
        service_code: body.service_code,
        lon: body.lon,
        lat: body.lat,
        datum: Some(crate::places::parse_datum(body.datum.as_deref())?),
        address: body.address,
        description: body.description,
        reporter: Reporter { name: auth.principal.display_name.clone(), ..Reporter::default() },
        attributes,
        media_url: None,
    };
    let submitted = state.app.submit_report(&Submitter::Staff(auth.principal.clone(), channel), input).await?;
    Ok(Json(json!(submitted)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CaseLink {
    /// The enforcement case's reference (its number once cases are kept).
    pub case_ref: String,
}

/// Records that the report revealed a violation and became an enforcement case (officers, leaders).
#[utoipa::path(post, path = "/api/v1/reports/{id}/case", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the report's number")), request_body = CaseLink,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn link_case(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(id): Path<i64>,
    Json(body): Json<CaseLink>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(state.app.link_case(&auth.principal, id, &body.case_ref).await?))
}

/// Replaces the report service list from a CSV body (administrators), all or nothing.
#[utoipa::path(post, path = "/api/v1/services/import", tag = "reports", security(("bearer" = [])), request_body = String,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_services(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let changed = state.app.import_services_csv(&auth.principal, &body).await?;
    Ok(Json(json!({"changed": changed})))
}

/// The Open311 client keys (admin); keys themselves are shown only when issued.
#[utoipa::path(get, path = "/api/v1/open311-keys", tag = "reports", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn list_keys(State(state): State<AppState>, SignedIn(auth): SignedIn) -> ApiResult<Json<Value>> {
    let keys: Vec<Open311Key> = state.app.open311_keys(&auth.principal).await?;
    let items: Vec<Value> = keys
        .iter()
        .map(|k| json!({"name": k.name, "contact": k.contact, "created_by": k.created_by, "created_at": k.created_at, "revoked_at": k.revoked_at}))
        .collect();
    Ok(Json(json!({"items": items})))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct KeyBody {
    pub name: String,
    #[serde(default)]
    pub contact: String,
}

/// Issues a key for a client application (admin). The answer holds the key; it is never shown again.
#[utoipa::path(post, path = "/api/v1/open311-keys", tag = "reports", security(("bearer" = [])), request_body = KeyBody,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn issue_key(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Json(body): Json<KeyBody>,
) -> ApiResult<Json<Value>> {
    let key = state.app.issue_open311_key(&auth.principal, &body.name, &body.contact).await?;
    Ok(Json(json!({"name": body.name.trim(), "api_key": key})))
}

/// Revokes a key (admin): posts with it are refused from then on.
#[utoipa::path(delete, path = "/api/v1/open311-keys/{name}", tag = "reports", security(("bearer" = [])),
    params(("name" = String, Path, description = "the key's name")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    state.app.revoke_open311_key(&auth.principal, &name).await?;
    Ok(Json(json!({"revoked": name})))
}

/// Rewards in the caller's territory (leader).
#[utoipa::path(get, path = "/api/v1/rewards", tag = "reports", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn list_rewards(State(state): State<AppState>, SignedIn(auth): SignedIn) -> ApiResult<Json<Value>> {
    let rewards = state.app.rewards(&auth.principal).await?;
    let items: Vec<Value> = rewards.iter().map(|(r, v)| json!({"reward": r, "report": v.report})).collect();
    Ok(Json(json!({"items": items})))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RewardDecision {
    /// `approved`, `paid` or `refused`.
    pub decision: String,
}

/// Approves, pays or refuses a reward (leader).
#[utoipa::path(post, path = "/api/v1/rewards/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the report's number")), request_body = RewardDecision,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn decide_reward(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(id): Path<i64>,
    Json(body): Json<RewardDecision>,
) -> ApiResult<Json<RewardRecord>> {
    Ok(Json(state.app.decide_reward(&auth.principal, id, body.decision.trim()).await?))
}

/// Reward statistics by month, nobody named: how many were proposed, approved and paid, and how much.
#[utoipa::path(get, path = "/api/v1/rewards/stats", tag = "reports",
    responses((status = 200, body = Object)))]
pub async fn reward_stats(State(state): State<AppState>) -> ApiResult<Json<gridward_app::reports::RewardStats>> {
    Ok(Json(state.app.reward_stats().await?))
}

// Public pages.

#[derive(Template)]
#[template(path = "report_form.html")]
struct ReportFormPage {
    chrome: Chrome,
    groups: Vec<(String, Vec<Service>)>,
    error: Option<String>,
}

async fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    auth: Option<&gridward_app::auth::Authenticated>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let services = state.app.services(true).await?;
    let mut groups: Vec<(String, Vec<Service>)> = Vec::new();
    for s in services {
        match groups.iter_mut().find(|(g, _)| *g == s.group) {
            Some((_, list)) => list.push(s),
            None => groups.push((s.group.clone(), vec![s])),
        }
    }
    Ok(render(status, &ReportFormPage { chrome: Chrome::new(headers, auth), groups, error }))
}

/// `GET /report`: the public report form, phone first.
pub async fn report_form(State(state): State<AppState>, headers: HeaderMap, MaybeSignedIn(auth): MaybeSignedIn) -> Response {
    let result = form_page(&state, &headers, auth.as_ref(), None, StatusCode::OK).await;
    page_result(&headers, auth.as_ref(), result)
}

/// One photo taken from the form.
struct FormPhoto {
    name: Option<String>,
    bytes: Vec<u8>,
}

/// `POST /report`: the form's fields and up to three photos; the ticket page follows.
pub async fn submit_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeSignedIn(auth): MaybeSignedIn,
    ClientAddress(address): ClientAddress,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let result = async {
        let mut form = form.map_err(|e| AppError::bad_request("bad_form", e.body_text()))?;
        let bad_form = |e: axum::extract::multipart::MultipartError| AppError::bad_request("bad_form", e.body_text());
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut photos: Vec<FormPhoto> = Vec::new();
        while let Some(field) = form.next_field().await.map_err(bad_form)? {
            let name = field.name().unwrap_or("").to_string();
            if name == "photo" {
                let file_name = field.file_name().map(str::to_string);
                let bytes = field.bytes().await.map_err(bad_form)?;
                if bytes.is_empty() {
                    continue;
                }
                if photos.len() == MAX_FORM_PHOTOS {
                    return Err(AppError::bad_request("too_many_photos", format!("at most {MAX_FORM_PHOTOS} photos")));
                }
                // Every photo is checked before the report is stored, so a bad one refuses the whole report.
                let inspected = gridward_app::evidence::inspect(&bytes)?;
                if inspected.kind != gridward_domain::evidence::EvidenceKind::Photo {
                    return Err(AppError::bad_request("not_a_photo", "only photos are taken with a report"));
                }
                photos.push(FormPhoto { name: file_name, bytes: bytes.to_vec() });
            } else {
                fields.push((name, field.text().await.map_err(bad_form)?));
            }
        }
        let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
        let number = |name: &str| -> Result<Option<f64>, AppError> {
            let v = field(name);
            if v.is_empty() {
                Ok(None)
            } else {
                v.parse().map(Some).map_err(|_| AppError::bad_request("bad_point", format!("{name} is a number")))
            }
        };
        let device = field("device_id");
        state.limits.take(&[("address", &address), ("device", &device)])?;
        let anonymous = field("anonymous") == "on";
        let reporter = if anonymous {
            Reporter { device_id: device, ..Reporter::default() }
        } else {
            Reporter { name: field("name"), phone: field("phone"), email: String::new(), device_id: device }
        };
        let mut attributes = std::collections::BTreeMap::new();
        let severity = field("severity");
        if !severity.is_empty() {
            attributes.insert("severity".to_string(), vec![severity]);
        }
        let input = NewReport {
            service_code: field("service_code"),
            lon: number("lon")?,
            lat: number("lat")?,
            datum: Some(crate::places::parse_datum(Some(&field("datum"))).map_err(|e| e.0)?),
            address: field("address"),
            description: field("description"),
            reporter,
            attributes,
            media_url: None,
        };
        // A supervisor on patrol uses the same form, signed in: the report is a patrol finding (监督员上报).
        let submitter = match &auth {
            Some(a) if a.principal.has(Role::Supervisor) => Submitter::Staff(a.principal.clone(), Channel::Patrol),
            _ => Submitter::Public,
        };
        let submitted = state.app.submit_report(&submitter, input).await?;
        for photo in &photos {
            state.app.attach_public_photo(&submitted.token, &photo.bytes, photo.name.as_deref()).await?;
        }
        Ok(Redirect::to(&format!("/reports/t/{}?new=1", submitted.token)).into_response())
    }
    .await;
    match result {
        Ok(r) => r,
        Err(e) => {
            let chrome = Chrome::new(&headers, auth.as_ref());
            let message = crate::pages::error_message(&chrome, &e);
            let status = crate::error::status_of(&e);
            form_page(&state, &headers, auth.as_ref(), Some(message), status)
                .await
                .unwrap_or_else(|e| crate::pages::error_response(chrome, e))
        }
    }
}

#[derive(Template)]
#[template(path = "report_status.html")]
struct ReportStatusPage {
    chrome: Chrome,
    report: PublicReport,
    is_new: bool,
    /// The ticket's private address, shown to the reporter once.
    ticket_url: Option<String>,
}

impl ReportStatusPage {
    /// The translation of `prefix.key`, e.g. a state's or a step's name.
    fn label(&self, prefix: &str, key: &str) -> String {
        self.chrome.t(&format!("{prefix}.{key}"))
    }

    fn when(&self, at: &i64) -> String {
        crate::open311::w3c(*at).replace('T', " ").chars().take(16).collect()
    }
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    pub new: Option<String>,
}

/// `GET /reports/t/{token}`: the reporter's own ticket page.
pub async fn ticket_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeSignedIn(auth): MaybeSignedIn,
    Path(token): Path<String>,
    Query(q): Query<NewQuery>,
) -> Response {
    let result = async {
        let report = state.app.public_report_by_token(&token).await?;
        let ticket_url = Some(format!("/reports/t/{token}"));
        let chrome = Chrome::new(&headers, auth.as_ref());
        Ok(render(StatusCode::OK, &ReportStatusPage { chrome, report, is_new: q.new.is_some(), ticket_url }))
    }
    .await;
    page_result(&headers, auth.as_ref(), result)
}

/// `GET /reports/{id}`: a report's public status by its number.
pub async fn status_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeSignedIn(auth): MaybeSignedIn,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let id: i64 = id.parse().map_err(|_| AppError::NotFound("report"))?;
        let report = state.app.public_report(id).await?;
        if report.lon.is_none() {
            return Err(AppError::NotFound("report"));
        }
        Ok(render(
            StatusCode::OK,
            &ReportStatusPage { chrome: Chrome::new(&headers, auth.as_ref()), report, is_new: false, ticket_url: None },
        ))
    }
    .await;
    page_result(&headers, auth.as_ref(), result)
}

/// `GET /reports/{id}/photos/{evidence}`: a photo the public may see (the report was accepted).
pub async fn public_photo(State(state): State<AppState>, Path((id, evidence)): Path<(i64, String)>) -> Response {
    let result = async {
        let report = state.app.public_report(id).await?;
        if !report.photos.iter().any(|p| p.id == evidence) {
            return Err(AppError::NotFound("photo"));
        }
        state.app.public_evidence_content(&evidence).await
    }
    .await;
    match result {
        Ok((record, bytes)) => {
            ([(header::CONTENT_TYPE, record.media_type), (header::CACHE_CONTROL, "public, max-age=300".to_string())], bytes)
                .into_response()
        }
        Err(e) => ApiError(e).into_response(),
    }
}

// Staff pages.

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    queue: &'static str,
    tabs: Vec<(&'static str, String, usize)>,
    items: Vec<ReportView>,
    now: i64,
}

impl QueuePage {
    /// The translation of `prefix.key`, e.g. a state's or a step's name.
    fn label(&self, prefix: &str, key: &str) -> String {
        self.chrome.t(&format!("{prefix}.{key}"))
    }

    fn when(&self, at: &i64) -> String {
        crate::open311::w3c(*at).replace('T', " ").chars().take(16).collect()
    }
    fn due_class(&self, due: &Option<i64>) -> &'static str {
        due_class(*due, self.now)
    }
}

/// The deadline colour used everywhere: on time, due within two hours, overdue.
fn due_class(due: Option<i64>, now: i64) -> &'static str {
    match due {
        None => "due-none",
        Some(d) if d < now => "due-over",
        Some(d) if d - now < 2 * 3600 => "due-soon",
        Some(_) => "due-ok",
    }
}

#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    pub queue: Option<String>,
}

/// The queue a role sees first.
fn default_queue(roles: &[Role]) -> &'static str {
    if roles.contains(&Role::Dispatcher) {
        "intake"
    } else if roles.contains(&Role::Supervisor) {
        "checks"
    } else if roles.contains(&Role::Officer) || roles.contains(&Role::Auxiliary) {
        "tasks"
    } else {
        "overdue"
    }
}

/// `GET /queue`: the caller's queue (intake, tasks, checks, overdue) in their territory.
pub async fn queue_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Query(q): Query<QueueQuery>,
) -> Response {
    let result = async {
        let chrome = Chrome::new(&headers, Some(&auth));
        let name = match q.queue.as_deref() {
            Some("intake") => "intake",
            Some("tasks") => "tasks",
            Some("checks") => "checks",
            Some("overdue") => "overdue",
            Some(_) => return Err(AppError::bad_request("bad_queue", "queue is intake, tasks, checks or overdue")),
            None => default_queue(&auth.principal.roles),
        };
        let mut tabs = Vec::new();
        let mut items = Vec::new();
        for tab in ["intake", "tasks", "checks", "overdue"] {
            let list = state.app.queue(&auth.principal, Queue::parse(tab).expect("a known queue"), 200).await?;
            tabs.push((tab, chrome.t(&format!("queue.{tab}")), list.len()));
            if tab == name {
                items = list;
            }
        }
        Ok(render(StatusCode::OK, &QueuePage { chrome, queue: name, tabs, items, now: gridward_app::now() }))
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage {
    chrome: Chrome,
    view: ReportView,
    photos: Vec<gridward_store::EvidenceRecord>,
    squads: Vec<(String, String)>,
    may_attach: bool,
    notice: Option<String>,
    now: i64,
}

impl WorkPage {
    /// The translation of `prefix.key`, e.g. a state's or a step's name.
    fn label(&self, prefix: &str, key: &str) -> String {
        self.chrome.t(&format!("{prefix}.{key}"))
    }

    fn when(&self, at: &i64) -> String {
        crate::open311::w3c(*at).replace('T', " ").chars().take(16).collect()
    }
    fn can(&self, action: &str) -> bool {
        self.view.actions.contains(&action)
    }
    fn due_class(&self) -> &'static str {
        due_class(self.view.report.step_due, self.now)
    }
    fn reasons(&self) -> Vec<(&'static str, String)> {
        CancelReason::ALL.iter().map(|r| (r.as_str(), self.chrome.t(&format!("report.cancel.{}", r.as_str())))).collect()
    }
    fn is_severity(&self, key: &str) -> bool {
        key == self.view.report.severity.as_str()
    }
    fn severities(&self) -> Vec<(&'static str, &'static str)> {
        Severity::ALL.iter().map(|s| (s.as_str(), s.label_zh())).collect()
    }
}

async fn work_page_response(
    state: &AppState,
    headers: &HeaderMap,
    auth: &gridward_app::auth::Authenticated,
    id: i64,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let view = state.app.report_view(&auth.principal, id).await?;
    let photos = state.app.evidence_of(&auth.principal, "report", &id.to_string()).await?;
    let squads = if view.actions.iter().any(|a| *a == "dispatch" || *a == "reassign") {
        state.app.squads_for_report(&auth.principal, id).await?
    } else {
        Vec::new()
    };
    let may_attach = gridward_app::evidence::may_attach(&auth.principal) && view.report.state.is_open();
    let chrome = Chrome::new(headers, Some(auth));
    Ok(render(status, &WorkPage { chrome, view, photos, squads, may_attach, notice, now: gridward_app::now() }))
}

#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    pub done: Option<String>,
}

/// `GET /work/{id}`: a report for staff: where it is, its history, its photos and the next lawful steps.
pub async fn work_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let notice = q.done.map(|a| Chrome::new(&headers, Some(&auth)).t(&format!("report.done.{a}")));
    let result = work_page_response(&state, &headers, &auth, id, notice, StatusCode::OK).await;
    page_result(&headers, Some(&auth), result)
}

/// `POST /work/{id}`: one step from the work page's forms (`csrf`, `action` and the step's fields).
pub async fn work_action(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path(id): Path<i64>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let result = async {
        if !same_secret(&field("csrf"), &auth.csrf_token) {
            return Err(AppError::bad_request("csrf", "the form's token is missing or stale"));
        }
        let optional = |name: &str| Some(field(name)).filter(|v| !v.is_empty());
        let action = match field("action").as_str() {
            "verify" => Action::Verify {
                severity: Severity::parse(&field("severity")),
                public_text: fields.iter().find(|(k, _)| k == "public_text").map(|(_, v)| v.clone()),
            },
            "cancel" => Action::Cancel {
                reason: CancelReason::parse(&field("reason")).ok_or_else(|| AppError::bad_request("bad_reason", "choose why"))?,
                note: field("note"),
            },
            "mark_duplicate" => Action::MarkDuplicate {
                of: field("of")
                    .parse()
                    .map_err(|_| AppError::bad_request("bad_duplicate", "give the earlier report's number"))?,
            },
            "dispatch" => Action::Dispatch { squad: field("squad"), officer: optional("officer") },
            "reassign" => Action::Reassign { squad: field("squad"), officer: optional("officer"), reason: field("reason") },
            "handle" => Action::Handle { note: field("note") },
            "close" => Action::Close { note: field("note") },
            "rework" => Action::Rework { reason: field("reason") },
            other => return Err(AppError::bad_request("bad_action", format!("{other:?} is not a step"))),
        };
        let name = action.name();
        state.app.act_on_report(&auth.principal, id, action).await?;
        Ok(Redirect::to(&format!("/work/{id}?done={name}")).into_response())
    }
    .await;
    match result {
        Ok(r) => r,
        Err(e) => {
            let chrome = Chrome::new(&headers, Some(&auth));
            let message = crate::pages::error_message(&chrome, &e);
            let status = crate::error::status_of(&e);
            match work_page_response(&state, &headers, &auth, id, Some(message), status).await {
                Ok(page) => page,
                Err(_) => crate::pages::error_response(chrome, e),
            }
        }
    }
}

/// `POST /work/{id}/photo`: a photo of the scene or of the result, attached to the report.
pub async fn work_photo(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path(id): Path<i64>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let result: Result<Response, AppError> = async {
        let file = crate::evidence::read_form(&auth.csrf_token, form).await?;
        let object_id = id.to_string();
        let upload =
            Upload { object_type: "report", object_id: &object_id, bytes: &file.bytes, original_name: file.name.as_deref() };
        state.app.attach_evidence(&auth.principal, upload).await?;
        Ok(Redirect::to(&format!("/work/{id}?done=photo")).into_response())
    }
    .await;
    match result {
        Ok(r) => r,
        Err(e) => {
            let chrome = Chrome::new(&headers, Some(&auth));
            let message = crate::pages::error_message(&chrome, &e);
            let status = crate::error::status_of(&e);
            match work_page_response(&state, &headers, &auth, id, Some(message), status).await {
                Ok(page) => page,
                Err(_) => crate::pages::error_response(chrome, e),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "tasks_map.html")]
struct TasksMapPage {
    chrome: Chrome,
    territory: String,
    points: String,
    count: usize,
}

/// `GET /tasks/map`: the open tasks in the officer's territory on a map, each linking to its work page.
pub async fn tasks_map(State(state): State<AppState>, headers: HeaderMap, SignedIn(auth): SignedIn) -> Response {
    let result = async {
        let tasks = state.app.queue(&auth.principal, Queue::Tasks, 500).await?;
        let points: Vec<Value> = tasks
            .iter()
            .filter_map(|v| {
                let (lon, lat) = (v.report.lon?, v.report.lat?);
                // Leaflet shows the demo's GCJ-02 outlines; the report is stored in WGS-84.
                let (x, y) = Datum::Wgs84.convert(Datum::Gcj02, lon, lat);
                Some(json!({"id": v.report.id, "lon": x, "lat": y, "name": v.service_name, "overdue": v.overdue}))
            })
            .collect();
        let chrome = Chrome::new(&headers, Some(&auth));
        Ok(render(
            StatusCode::OK,
            &TasksMapPage {
                chrome,
                territory: auth.principal.scope.to_string(),
                count: points.len(),
                points: Value::Array(points).to_string(),
            },
        ))
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

#[derive(Template)]
#[template(path = "open311_keys.html")]
struct KeysPage {
    chrome: Chrome,
    keys: Vec<Open311Key>,
    issued: Option<(String, String)>,
    error: Option<String>,
}

async fn keys_page_response(
    state: &AppState,
    headers: &HeaderMap,
    auth: &gridward_app::auth::Authenticated,
    issued: Option<(String, String)>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let keys = state.app.open311_keys(&auth.principal).await?;
    Ok(render(status, &KeysPage { chrome: Chrome::new(headers, Some(auth)), keys, issued, error }))
}

/// `GET /open311-keys`: client applications and their keys (admin).
pub async fn keys_page(State(state): State<AppState>, headers: HeaderMap, SignedIn(auth): SignedIn) -> Response {
    let result = keys_page_response(&state, &headers, &auth, None, None, StatusCode::OK).await;
    page_result(&headers, Some(&auth), result)
}

/// `POST /open311-keys`: issues (`name`, `contact`) or revokes (`revoke`) a key; the new key is shown once.
pub async fn keys_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let outcome = async {
        if !same_secret(&field("csrf"), &auth.csrf_token) {
            return Err(AppError::bad_request("csrf", "the form's token is missing or stale"));
        }
        let revoke = field("revoke");
        if !revoke.is_empty() {
            state.app.revoke_open311_key(&auth.principal, &revoke).await?;
            return Ok(None);
        }
        let key = state.app.issue_open311_key(&auth.principal, &field("name"), &field("contact")).await?;
        Ok(Some((field("name"), key)))
    }
    .await;
    let result = match outcome {
        Ok(issued) => keys_page_response(&state, &headers, &auth, issued, None, StatusCode::OK).await,
        Err(e) => {
            let status = crate::error::status_of(&e);
            keys_page_response(&state, &headers, &auth, None, Some(e.to_string()), status).await
        }
    };
    page_result(&headers, Some(&auth), result)
}

/// `GET /report/outlines`: the district outlines the public maps draw.
pub async fn outlines(State(state): State<AppState>) -> Response {
    match state.app.public_outlines().await {
        Ok(fc) => ([(header::CACHE_CONTROL, "public, max-age=3600")], Json(fc)).into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct LookupQuery {
    pub q: Option<String>,
}

/// `GET /reports/lookup?q=`: a ticket number or token typed into the form's lookup box.
pub async fn lookup(Query(q): Query<LookupQuery>) -> Response {
    let q = q.q.unwrap_or_default();
    let q = q.trim();
    if !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit()) {
        Redirect::to(&format!("/reports/{q}")).into_response()
    } else if !q.is_empty() && q.len() <= 64 && q.bytes().all(|b| b.is_ascii_hexdigit()) {
        Redirect::to(&format!("/reports/t/{q}")).into_response()
    } else {
        Redirect::to("/report").into_response()
    }
}

#[derive(Template)]
#[template(path = "rewards.html")]
struct RewardsPage {
    chrome: Chrome,
    rules: Vec<gridward_domain::report::RewardRule>,
    monthly_cap: u32,
    stats: gridward_app::reports::RewardStats,
    /// For leaders: the rewards in their territory, to approve, pay or refuse.
    decisions: Option<Vec<(RewardRecord, ReportView)>>,
    error: Option<String>,
}

impl RewardsPage {
    fn label(&self, prefix: &str, key: &str) -> String {
        self.chrome.t(&format!("{prefix}.{key}"))
    }
    fn is_any(&self, rule: &gridward_domain::report::RewardRule) -> bool {
        rule.applies_to == "*"
    }
    /// The decisions a reward in `state` can take next, with their labels and whether each refuses.
    fn next_decisions(&self, state: &str) -> Vec<(&'static str, String, bool)> {
        let next: &[&'static str] = match state {
            "pending" => &["approved", "refused"],
            "approved" => &["paid", "refused"],
            _ => &[],
        };
        next.iter().map(|d| (*d, self.chrome.t(&format!("rewards.do.{d}")), *d == "refused")).collect()
    }
}

async fn rewards_page_response(
    state: &AppState,
    headers: &HeaderMap,
    auth: Option<&gridward_app::auth::Authenticated>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (rules, policy) = state.app.reward_rules();
    let decisions = match auth {
        Some(a) if a.principal.has(Role::Leader) => Some(state.app.rewards(&a.principal).await?),
        _ => None,
    };
    let page = RewardsPage {
        chrome: Chrome::new(headers, auth),
        rules: rules.to_vec(),
        monthly_cap: policy.monthly_cap,
        stats: state.app.reward_stats().await?,
        decisions,
        error,
    };
    Ok(render(status, &page))
}

/// `GET /rewards`: public: the reward rules in force and anonymous statistics by month; for leaders also
/// the rewards to decide.
pub async fn rewards_page(State(state): State<AppState>, headers: HeaderMap, MaybeSignedIn(auth): MaybeSignedIn) -> Response {
    let result = rewards_page_response(&state, &headers, auth.as_ref(), None, StatusCode::OK).await;
    page_result(&headers, auth.as_ref(), result)
}

/// `POST /rewards/{id}`: a leader approves, pays or refuses a reward (`csrf`, `decision`).
pub async fn reward_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path(id): Path<i64>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let outcome = async {
        if !same_secret(&field("csrf"), &auth.csrf_token) {
            return Err(AppError::bad_request("csrf", "the form's token is missing or stale"));
        }
        state.app.decide_reward(&auth.principal, id, &field("decision")).await
    }
    .await;
    let result = match outcome {
        Ok(_) => Ok(Redirect::to("/rewards").into_response()),
        Err(e) => {
            let message = crate::pages::error_message(&Chrome::new(&headers, Some(&auth)), &e);
            rewards_page_response(&state, &headers, Some(&auth), Some(message), crate::error::status_of(&e)).await
        }
    };
    page_result(&headers, Some(&auth), result)
}
