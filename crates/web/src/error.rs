//! HTTP errors: `{"error": "<stable_code>", "message": "…"}` with the status the code implies. Internal
//! details are logged, never sent.

use axum::Json;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gridward_app::AppError;
use gridward_domain::Problem;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable snake_case code, e.g. `unauthenticated`, `not_found`, `invalid_input`.
    pub error: String,
    /// A sentence for people (English); the UI translates the code.
    pub message: String,
    /// Every problem found in the input, when the input broke rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub problems: Vec<Problem>,
    /// For `assignment_overlap` and `stale_assignment`: the refused assignment and the ones it meets.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub refusal: Option<gridward_store::DelegationRefusal>,
    /// For a step the law does not allow now (409): the article that sets the unmet condition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article: Option<&'static str>,
}

pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Unauthenticated | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
        AppError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::BadRequest { code: "payload_too_large", .. } => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::BadRequest { code: "rate_limited", .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        AppError::Conflict(_) | AppError::Delegation(_) | AppError::Unlawful { .. } => StatusCode::CONFLICT,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        if let AppError::Internal(detail) = &e {
            tracing::error!(%detail, "internal error");
        }
        let problems = match &e {
            AppError::Invalid(p) => p.0.clone(),
            _ => Vec::new(),
        };
        let refusal = match &e {
            AppError::Delegation(r) => Some((**r).clone()),
            _ => None,
        };
        let article = match &e {
            AppError::Unlawful { article, .. } => Some(*article),
            _ => None,
        };
        let body = ErrorBody { error: e.code().to_string(), message: e.to_string(), problems, refusal, article };
        (status_of(&e), Json(body)).into_response()
    }
}

/// A plain error for the HTTP layer itself (bad query strings, oversized bodies).
pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError(AppError::bad_request(code, message))
}

/// The largest plain-text error body worth keeping as a message.
const MAX_REWRITTEN_BODY: usize = 16 * 1024;

/// Errors that the framework produces before or around a handler (a malformed query string, a wrong
/// method, a body over the limit, a timeout) come as plain text. On API paths they are rewritten into the
/// same `{"error", "message"}` shape as every other error, so clients need one error parser.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/v1/");
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), MAX_REWRITTEN_BODY).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_input",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_string() } else { text };
    (status, Json(ErrorBody { error: code.to_string(), message, problems: Vec::new(), refusal: None, article: None }))
        .into_response()
}
