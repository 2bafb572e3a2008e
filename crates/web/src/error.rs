//! HTTP errors: `{"error": "<stable_code>", "message": "…"}` with the status the code implies. Internal
//! details are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
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
        AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        AppError::Conflict(_) => StatusCode::CONFLICT,
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
        let body = ErrorBody { error: e.code().to_string(), message: e.to_string(), problems };
        (status_of(&e), Json(body)).into_response()
    }
}

/// A plain error for the HTTP layer itself (bad query strings, oversized bodies).
pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError(AppError::bad_request(code, message))
}
