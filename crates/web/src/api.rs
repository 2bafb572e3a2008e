//! The JSON API under `/api/v1`. Handlers parse input into domain types, call one use-case, and shape
//! the answer; they hold no rules of their own.

use axum::Json;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gridward_app::AppError;
use gridward_app::auth::Account;
use gridward_app::auth::NewUser;
use gridward_domain::access::parse_roles;
use gridward_domain::division::{Division, DivisionCode};
use gridward_domain::org::{Body, Staff};
use gridward_store::{BoundaryRecord, Page};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::{SESSION_COOKIE, SignedIn, cookie};
use crate::error::{ApiError, ErrorBody, bad_request};

pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON body whose rejection is a stable JSON error, not plain text.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(JsonBody(v)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(bad_request("payload_too_large", e.body_text())),
            Err(e) => Err(bad_request("bad_json", e.body_text())),
        }
    }
}

/// Cursor pagination: `limit` (1–500, default 100) and an opaque `cursor` from the previous page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 500;

impl PageQuery {
    pub fn page(&self) -> ApiResult<Page> {
        let limit = match &self.limit {
            None => DEFAULT_LIMIT,
            Some(s) => match s.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(bad_request("bad_limit", format!("limit is a whole number from 1 to {MAX_LIMIT}")));
                }
            },
        };
        let after = match &self.cursor {
            None => None,
            Some(c) => Some(
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| bad_request("bad_cursor", "the cursor is not one this server issued"))?,
            ),
        };
        Ok(Page { after, limit })
    }
}

pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListBody<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> ListBody<T> {
    fn from<U>(listing: gridward_app::directory::Listing<U>, f: impl Fn(U) -> T) -> ListBody<T> {
        ListBody {
            items: listing.items.into_iter().map(f).collect(),
            next_cursor: listing.next_cursor.as_deref().map(encode_cursor),
        }
    }
}

fn parse_code(s: &str) -> ApiResult<DivisionCode> {
    DivisionCode::parse(s).map_err(|e| bad_request("bad_code", format!("{s:?}: {e}")))
}

// Sessions.

#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
}

pub fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix).map(|t| t.to_string()).unwrap_or_default()
}

/// Sign in and get a bearer token.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = SessionRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create_session(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<SessionRequest>,
) -> ApiResult<Json<SessionResponse>> {
    let session = state.app.sign_in(&req.username, &req.password).await?;
    Ok(Json(SessionResponse { token: session.token, expires_at: rfc3339(session.expires_at) }))
}

/// Sign out: the bearer token (or session cookie) stops working.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn delete_session(State(state): State<AppState>, headers: axum::http::HeaderMap, _: SignedIn) -> ApiResult<StatusCode> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| cookie(&headers, SESSION_COOKIE))
        .ok_or(ApiError(AppError::Unauthenticated))?;
    state.app.sign_out(token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeBody {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    /// The division subtree this account works in.
    pub scope: String,
}

/// Who am I?
#[utoipa::path(get, path = "/api/v1/me", tag = "session", security(("bearer" = [])),
    responses((status = 200, body = MeBody), (status = 401, body = ErrorBody)))]
pub async fn me(SignedIn(auth): SignedIn) -> Json<MeBody> {
    let p = auth.principal;
    Json(MeBody {
        username: p.username,
        display_name: p.display_name,
        roles: p.roles.iter().map(|r| r.to_string()).collect(),
        scope: p.scope.to_string(),
    })
}

// Divisions.

#[derive(Debug, Serialize, ToSchema)]
pub struct DivisionBody {
    pub code: String,
    pub name: String,
    /// province, city, district, street or community.
    pub level: String,
    pub parent_code: Option<String>,
    /// First day the division exists (absent: always).
    pub valid_from: Option<String>,
    /// First day it no longer exists (absent: still valid).
    pub valid_to: Option<String>,
}

impl From<Division> for DivisionBody {
    fn from(d: Division) -> Self {
        DivisionBody {
            code: d.code.to_string(),
            name: d.name,
            level: d.level.to_string(),
            parent_code: d.parent_code.map(|c| c.to_string()),
            valid_from: d.valid_from.map(|d| d.to_string()),
            valid_to: d.valid_to.map(|d| d.to_string()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ParentQuery {
    /// The parent division's 12-digit code; defaults to the top of the caller's visible tree (the city).
    pub parent: Option<String>,
}

fn parent_or_city(q: &ParentQuery, auth: &gridward_app::auth::Authenticated) -> ApiResult<DivisionCode> {
    match &q.parent {
        Some(p) => parse_code(p),
        None => Ok(crate::city_of(&auth.principal.scope)),
    }
}

/// Children of a division, in code order, filtered by the caller's territory.
#[utoipa::path(get, path = "/api/v1/divisions", tag = "divisions", security(("bearer" = [])), params(ParentQuery, PageQuery),
    responses((status = 200, body = ListBody<DivisionBody>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_divisions(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(parent): Query<ParentQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<ListBody<DivisionBody>>> {
    let parent = parent_or_city(&parent, &auth)?;
    let listing = state.app.child_divisions(&auth.principal, &parent, &page.page()?).await?;
    Ok(Json(ListBody::from(listing, DivisionBody::from)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DivisionDetailBody {
    #[serde(flatten)]
    pub division: DivisionBody,
    /// Parent first, up to the city (and its province when stored).
    pub ancestors: Vec<DivisionBody>,
    pub has_boundary: bool,
    /// True when the outline is generated, not official (streets and communities); absent without outline.
    pub boundary_synthetic: Option<bool>,
}

/// One division with its ancestors.
#[utoipa::path(get, path = "/api/v1/divisions/{code}", tag = "divisions", security(("bearer" = [])),
    params(("code" = String, Path, description = "12-digit division code")),
    responses((status = 200, body = DivisionDetailBody), (status = 404, body = ErrorBody)))]
pub async fn get_division(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
) -> ApiResult<Json<DivisionDetailBody>> {
    let detail = state.app.division_detail(&auth.principal, &parse_code(&code)?).await?;
    Ok(Json(DivisionDetailBody {
        division: detail.division.into(),
        ancestors: detail.ancestors.into_iter().map(Into::into).collect(),
        has_boundary: detail.boundary_synthetic.is_some(),
        boundary_synthetic: detail.boundary_synthetic,
    }))
}

fn feature(division: &Division, b: BoundaryRecord) -> serde_json::Value {
    json!({
        "type": "Feature",
        "properties": {
            "code": division.code.as_str(),
            "name": division.name,
            "level": division.level.as_str(),
            "synthetic": b.synthetic,
            "source": b.source,
            "datum": "GCJ-02",
        },
        "geometry": b.geometry,
    })
}

/// A division's outline as a GeoJSON Feature (GCJ-02 lon/lat; `synthetic: true` when generated).
#[utoipa::path(get, path = "/api/v1/divisions/{code}/boundary", tag = "divisions", security(("bearer" = [])),
    params(("code" = String, Path, description = "12-digit division code")),
    responses((status = 200, description = "GeoJSON Feature", content_type = "application/geo+json"), (status = 404, body = ErrorBody)))]
pub async fn get_boundary(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
) -> ApiResult<Response> {
    let (division, boundary) = state.app.boundary(&auth.principal, &parse_code(&code)?).await?;
    Ok(geojson(feature(&division, boundary)))
}

/// Outlines of a division's children as a GeoJSON FeatureCollection (for maps).
#[utoipa::path(get, path = "/api/v1/boundaries", tag = "divisions", security(("bearer" = [])), params(ParentQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 404, body = ErrorBody)))]
pub async fn list_boundaries(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(q): Query<ParentQuery>,
) -> ApiResult<Response> {
    let parent = parent_or_city(&q, &auth)?;
    let features: Vec<_> =
        state.app.child_boundaries(&auth.principal, &parent).await?.into_iter().map(|(d, b)| feature(&d, b)).collect();
    Ok(geojson(json!({"type": "FeatureCollection", "features": features})))
}

fn geojson(value: serde_json::Value) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/geo+json")], value.to_string()).into_response()
}

// Organisation.

#[derive(Debug, Serialize, ToSchema)]
pub struct BodyBody {
    pub code: String,
    pub name: String,
    /// bureau, brigade, company or street_squad.
    pub kind: String,
    pub division_code: String,
    pub parent_code: Option<String>,
    pub domains: Vec<String>,
}

impl From<Body> for BodyBody {
    fn from(b: Body) -> Self {
        BodyBody {
            code: b.code,
            name: b.name,
            kind: b.kind.to_string(),
            division_code: b.division_code.to_string(),
            parent_code: b.parent_code,
            domains: b.domains.iter().map(|d| d.to_string()).collect(),
        }
    }
}

/// Enforcement bodies inside the caller's territory.
#[utoipa::path(get, path = "/api/v1/bodies", tag = "organisation", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = ListBody<BodyBody>), (status = 401, body = ErrorBody)))]
pub async fn list_bodies(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<ListBody<BodyBody>>> {
    let listing = state.app.bodies(&auth.principal, &page.page()?).await?;
    Ok(Json(ListBody::from(listing, BodyBody::from)))
}

/// One body; 404 when it lies outside the caller's territory.
#[utoipa::path(get, path = "/api/v1/bodies/{code}", tag = "organisation", security(("bearer" = [])),
    params(("code" = String, Path, description = "body code, e.g. squad.320613007")),
    responses((status = 200, body = BodyBody), (status = 404, body = ErrorBody)))]
pub async fn get_body(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
) -> ApiResult<Json<BodyBody>> {
    Ok(Json(state.app.body(&auth.principal, &code).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialBody {
    /// Masked (e.g. `320*******07`) for everyone but administrators.
    pub number: String,
    pub valid_from: String,
    pub valid_to: String,
    pub domains: Vec<String>,
    pub valid_today: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffBody {
    pub staff_no: String,
    pub name: String,
    pub body_code: String,
    pub roles: Vec<String>,
    pub credential: Option<CredentialBody>,
    pub auxiliary: bool,
    pub active: bool,
}

impl From<Staff> for StaffBody {
    fn from(s: Staff) -> Self {
        let today = gridward_app::today();
        StaffBody {
            staff_no: s.staff_no,
            name: s.name,
            body_code: s.body_code,
            roles: s.roles.iter().map(|r| r.to_string()).collect(),
            credential: s.credential.map(|c| CredentialBody {
                valid_today: c.is_valid_on(today),
                number: c.number,
                valid_from: c.valid_from.to_string(),
                valid_to: c.valid_to.to_string(),
                domains: c.domains.iter().map(|d| d.to_string()).collect(),
            }),
            auxiliary: s.auxiliary,
            active: s.active,
        }
    }
}

/// Staff of one body.
#[utoipa::path(get, path = "/api/v1/bodies/{code}/staff", tag = "organisation", security(("bearer" = [])),
    params(("code" = String, Path, description = "body code"), PageQuery),
    responses((status = 200, body = ListBody<StaffBody>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_staff(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(code): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<ListBody<StaffBody>>> {
    let listing = state.app.staff_of_body(&auth.principal, &code, &page.page()?).await?;
    Ok(Json(ListBody::from(listing, StaffBody::from)))
}

// Accounts (administrators only).

#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub scope: String,
    pub staff_no: Option<String>,
    pub active: bool,
    /// RFC 3339 instant until which sign-in is refused, if locked.
    pub locked_until: Option<String>,
}

impl From<Account> for UserBody {
    fn from(Account { user: u, locked_until }: Account) -> Self {
        UserBody {
            username: u.username,
            display_name: u.display_name,
            roles: u.roles.iter().map(|r| r.to_string()).collect(),
            scope: u.scope.to_string(),
            staff_no: u.staff_no,
            active: u.active,
            locked_until: locked_until.map(rfc3339),
        }
    }
}

/// Every account inside the administrator's territory.
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = ListBody<UserBody>), (status = 403, body = ErrorBody)))]
pub async fn list_users(State(state): State<AppState>, SignedIn(auth): SignedIn) -> ApiResult<Json<ListBody<UserBody>>> {
    let users = state.app.users(&auth.principal).await?;
    Ok(Json(ListBody { items: users.into_iter().map(Into::into).collect(), next_cursor: None }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserRequest {
    pub username: String,
    pub display_name: String,
    pub password: String,
    /// e.g. `["officer"]`.
    pub roles: Vec<String>,
    /// 12-digit division code of the account's territory.
    pub scope: String,
    pub staff_no: Option<String>,
}

/// Create an account inside the administrator's territory.
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", security(("bearer" = [])), request_body = NewUserRequest,
    responses((status = 201, body = UserBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    JsonBody(req): JsonBody<NewUserRequest>,
) -> ApiResult<(StatusCode, Json<UserBody>)> {
    let roles = parse_roles(&req.roles.join(";")).map_err(|e| bad_request("bad_role", e))?;
    let scope = parse_code(&req.scope)?;
    let new = NewUser {
        username: req.username,
        display_name: req.display_name,
        password: req.password,
        roles,
        scope,
        staff_no: req.staff_no,
    };
    let user = state.app.create_user_as(&auth.principal, new).await?;
    Ok((StatusCode::CREATED, Json(Account { user, locked_until: None }.into())))
}

// The full-process record.

/// The newest signed head of the record (public, for witnesses and anyone else).
#[utoipa::path(get, path = "/api/v1/ledger/checkpoint", tag = "record",
    responses((status = 200, description = "the checkpoint with its signature: origin, checkpoint {head {algorithm, size, root}, signed_at}, signature"), (status = 404, body = ErrorBody)))]
pub async fn latest_checkpoint(State(state): State<AppState>) -> ApiResult<Response> {
    let latest = state.app.latest_checkpoint().await?.ok_or(ApiError(AppError::NotFound("checkpoint")))?;
    Ok(Json(latest).into_response())
}

/// Sign the current head now (administrators).
#[utoipa::path(post, path = "/api/v1/ledger/checkpoint", tag = "record", security(("bearer" = [])),
    responses((status = 200, description = "the newest checkpoint"), (status = 403, body = ErrorBody)))]
pub async fn sign_checkpoint(State(state): State<AppState>, _: SignedIn) -> ApiResult<Response> {
    Ok(Json(state.app.sign_checkpoint().await?).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree size (e.g. of a checkpoint you hold).
    pub from: String,
    /// The newer tree size, at most the current size.
    pub to: String,
}

/// Proof that the record at `to` entries only appended to the record at `from` entries (RFC 9162 §2.1.4).
#[utoipa::path(get, path = "/api/v1/ledger/consistency", tag = "record", params(ConsistencyQuery),
    responses((status = 200, description = "{algorithm, old_size, new_size, path}"), (status = 400, body = ErrorBody)))]
pub async fn consistency_proof(State(state): State<AppState>, Query(q): Query<ConsistencyQuery>) -> ApiResult<Response> {
    let size = |s: &str| s.parse::<u64>().map_err(|_| bad_request("bad_tree_size", format!("{s:?} is not a tree size")));
    Ok(Json(state.app.consistency_proof(size(&q.from)?, size(&q.to)?).await?).into_response())
}

/// The public key checkpoints are signed with (SM2, GB/T 32918).
pub async fn ledger_key(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(Json(state.app.published_key()?).into_response())
}

/// A self-contained proof that one entry of the record is in a signed head; check it offline with
/// `gridward audit check-proof`. Entries outside the caller's territory answer 404.
#[utoipa::path(get, path = "/api/v1/ledger/entries/{seq}/proof", tag = "record", security(("bearer" = [])),
    params(("seq" = u64, Path, description = "the entry's number")),
    responses((status = 200, description = "gridward-entry-proof v1 bundle"), (status = 404, body = ErrorBody)))]
pub async fn entry_proof(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(seq): Path<String>,
) -> ApiResult<Response> {
    let seq = seq.parse::<u64>().map_err(|_| bad_request("bad_seq", format!("{seq:?} is not an entry number")))?;
    Ok(Json(state.app.prove_entry_as(&auth.principal, seq).await?).into_response())
}

/// A witness hands in its cosignature of one of this server's heads (authenticated by its SM2 signature,
/// which must come from a witness configured on this installation).
#[utoipa::path(post, path = "/api/v1/ledger/cosignatures", tag = "record",
    responses((status = 204), (status = 400, body = ErrorBody)))]
pub async fn add_cosignature(
    State(state): State<AppState>,
    JsonBody(cosigned): JsonBody<gridward_store::StoredCheckpoint>,
) -> ApiResult<StatusCode> {
    state.app.accept_cosignature(cosigned).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Evidence.

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceTarget {
    /// `division`, `body` or `staff`.
    pub object_type: String,
    /// The object's code (division code, body code or staff number).
    pub object_id: String,
    /// The file's original name, kept for people; the type is always detected from the content.
    pub name: Option<String>,
}

/// Attach a file (photo, video, audio or PDF; the raw bytes are the request body) to an object in the
/// caller's territory. The type comes from the content; EXIF capture time and position are kept.
#[utoipa::path(post, path = "/api/v1/evidence", tag = "evidence", security(("bearer" = [])), params(EvidenceTarget),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, description = "the evidence record"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn attach_evidence(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(target): Query<EvidenceTarget>,
    bytes: axum::body::Bytes,
) -> ApiResult<(StatusCode, Response)> {
    let upload = gridward_app::evidence::Upload {
        object_type: &target.object_type,
        object_id: &target.object_id,
        bytes: &bytes,
        original_name: target.name.as_deref(),
    };
    let record = state.app.attach_evidence(&auth.principal, upload).await?;
    Ok((StatusCode::CREATED, Json(record).into_response()))
}

/// Evidence attached to an object.
#[utoipa::path(get, path = "/api/v1/evidence", tag = "evidence", security(("bearer" = [])), params(EvidenceTarget),
    responses((status = 200, description = "the evidence records, oldest first"), (status = 404, body = ErrorBody)))]
pub async fn list_evidence(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(target): Query<EvidenceTarget>,
) -> ApiResult<Response> {
    let items = state.app.evidence_of(&auth.principal, &target.object_type, &target.object_id).await?;
    Ok(Json(json!({ "items": items, "next_cursor": null })).into_response())
}

/// One evidence record.
#[utoipa::path(get, path = "/api/v1/evidence/{id}", tag = "evidence", security(("bearer" = [])),
    params(("id" = String, Path, description = "evidence id")),
    responses((status = 200, description = "the evidence record"), (status = 404, body = ErrorBody)))]
pub async fn get_evidence(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(state.app.evidence(&auth.principal, &id).await?).into_response())
}

/// The evidence file itself, checked against its digest before it is sent. Pictures and PDFs come
/// `inline` (the pages show and open them from here, with the session cookie), other files as attachments;
/// the ETag is the file's SM3 digest.
#[utoipa::path(get, path = "/api/v1/evidence/{id}/content", tag = "evidence", security(("bearer" = [])),
    params(("id" = String, Path, description = "evidence id")),
    responses((status = 200, description = "the file, with its detected media type"), (status = 304, description = "unchanged since the ETag sent in If-None-Match"), (status = 404, body = ErrorBody)))]
pub async fn evidence_content(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let record = state.app.evidence(&auth.principal, &id).await?;
    if crate::evidence::not_modified(&headers, &record) {
        return Ok(crate::evidence::content_response(record, None));
    }
    let (record, bytes) = state.app.evidence_content(&auth.principal, &id).await?;
    Ok(crate::evidence::content_response(record, Some(bytes)))
}
