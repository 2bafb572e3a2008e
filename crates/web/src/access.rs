//! Authorization at the edge. Every route is registered through [`RouteTable::add`] with an [`Access`]
//! rule, so no route can exist without an authorization decision; a test walks the table. Territory and
//! object checks follow in the use-cases.

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::MethodRouter;
use gridward_app::AppError;
use gridward_app::auth::Authenticated;
use gridward_domain::access::{Access, Denial};

use crate::AppState;
use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "gw_session";
pub const LANG_COOKIE: &str = "gw_lang";
pub const LOGIN_CSRF_COOKIE: &str = "gw_login_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// One registered route and its rule, as the route-table test sees it.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

/// Builds the router and the table of rules together.
pub struct RouteTable {
    state: AppState,
    router: Router<AppState>,
    pub routes: Vec<RouteInfo>,
}

impl RouteTable {
    pub fn new(state: AppState) -> RouteTable {
        RouteTable { state, router: Router::new(), routes: Vec::new() }
    }

    /// Registers `handler` for `method` on `path`, guarded by `access`.
    pub fn add(mut self, method: Method, path: &'static str, access: Access, handler: MethodRouter<AppState>) -> RouteTable {
        self.routes.push(RouteInfo { method, path, access });
        let guard = middleware::from_fn_with_state((self.state.clone(), access), enforce);
        self.router = self.router.route(path, handler.route_layer(guard));
        self
    }

    /// Records a public route that a library registers itself (Swagger UI).
    pub fn add_public_external(mut self, method: Method, path: &'static str) -> RouteTable {
        self.routes.push(RouteInfo { method, path, access: Access::Public });
        self
    }

    pub fn merge(mut self, other: Router<AppState>) -> RouteTable {
        self.router = self.router.merge(other);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteInfo>) {
        (self.router, self.routes)
    }
}

/// Who is calling, as found by the access guard.
#[derive(Debug, Clone)]
pub struct Caller {
    pub auth: Option<Authenticated>,
    /// True when the credential came from the session cookie (so unsafe methods need a CSRF token).
    pub via_cookie: bool,
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Caller, AppError> {
    if let Some(token) = bearer(headers) {
        // A wrong bearer token is an error even on public routes: the client believes it is signed in.
        return Ok(Caller { auth: Some(state.app.authenticate(token).await?), via_cookie: false });
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        return match state.app.authenticate(token).await {
            Ok(auth) => Ok(Caller { auth: Some(auth), via_cookie: true }),
            Err(AppError::Unauthenticated) => Ok(Caller { auth: None, via_cookie: false }),
            Err(e) => Err(e),
        };
    }
    Ok(Caller { auth: None, via_cookie: false })
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/open311/")
}

async fn enforce(State((state, access)): State<(AppState, Access)>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let caller = match identify(&state, req.headers()).await {
        Ok(c) => c,
        Err(e) => return ApiError(e).into_response(),
    };
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if caller.via_cookie && unsafe_method && is_api(&path) {
        let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let expected = caller.auth.as_ref().map(|a| a.csrf_token.as_str());
        if !matches!((sent, expected), (Some(s), Some(e)) if same_secret(s, e)) {
            return ApiError(AppError::bad_request("csrf", "a cookie-authenticated change needs the X-CSRF-Token header"))
                .into_response();
        }
    }
    match access.allows(caller.auth.as_ref().map(|a| &a.principal)) {
        Ok(()) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(Denial::Unauthenticated) if !is_api(&path) => {
            let next_path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            Redirect::to(&format!("/login?next={}", urlencode(next_path))).into_response()
        }
        Err(Denial::Unauthenticated) => ApiError(AppError::Unauthenticated).into_response(),
        Err(Denial::Forbidden) if !is_api(&path) => crate::pages::error_page(&req, &caller, AppError::Forbidden),
        Err(Denial::Forbidden) => ApiError(AppError::Forbidden).into_response(),
    }
}

/// Compares two secrets in time that depends only on their lengths, so a guess learns nothing from timing.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Percent-encodes everything but unreserved characters and '/'.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The signed-in caller; only usable on routes whose rule demands a sign-in.
pub struct SignedIn(pub Authenticated);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().and_then(|c| c.auth.clone()).map(SignedIn).ok_or(ApiError(AppError::Unauthenticated))
    }
}

/// The caller, signed in or not (public routes).
pub struct MaybeSignedIn(pub Option<Authenticated>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSignedIn {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeSignedIn(parts.extensions.get::<Caller>().and_then(|c| c.auth.clone())))
    }
}
