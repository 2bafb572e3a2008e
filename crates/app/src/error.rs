//! One error type for every use-case, each with a stable snake_case code that the web layer sends and the
//! UI translates.

use gridward_domain::Problems;
use gridward_store::DbError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("sign in first")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("the account is locked after repeated failed sign-ins; try again later")]
    Locked { until: i64 },
    #[error("your role or territory does not allow this")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input was understood but breaks rules; every problem is listed.
    #[error("the input has {} problem(s)", .0.len())]
    Invalid(Problems),
    /// The input could not be understood at all.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("conflict: {0}")]
    Conflict(String),
    /// A delegation change was refused: it would overlap an assignment, or one it meant to end changed.
    #[error("{}", describe_refusal(.0))]
    Delegation(Box<gridward_store::DelegationRefusal>),
    /// A step the law does not allow now: the unmet condition's code and the article that sets it.
    #[error("{message} ({article})")]
    Unlawful { code: &'static str, article: &'static str, message: String },
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::BadCredentials => "bad_credentials",
            AppError::Locked { .. } => "account_locked",
            AppError::Forbidden => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Invalid(_) => "invalid_input",
            AppError::BadRequest { code, .. } => code,
            AppError::Conflict(_) => "conflict",
            AppError::Delegation(r) if matches!(**r, gridward_store::DelegationRefusal::Overlap { .. }) => "assignment_overlap",
            AppError::Delegation(_) => "stale_assignment",
            AppError::Unlawful { code, .. } => code,
            AppError::Internal(_) => "internal",
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::BadRequest { code, message: message.into() }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> AppError {
        match e {
            // The database's own wording names tables and columns; it goes to the log, not to the caller.
            DbError::Conflict(detail) => {
                tracing::info!(%detail, "refused by a database constraint");
                AppError::Conflict("the change conflicts with stored data".into())
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<Problems> for AppError {
    fn from(p: Problems) -> AppError {
        AppError::Invalid(p)
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// A refusal in a sentence that names every assignment involved.
fn describe_refusal(r: &gridward_store::DelegationRefusal) -> String {
    match r {
        gridward_store::DelegationRefusal::Overlap { candidate, existing } => format!(
            "{} in {} would be held by {} and also by {}; supersede the existing assignment to replace it",
            candidate.power_code,
            candidate.territory,
            candidate.body_code,
            existing.iter().map(|a| format!("{} (assignment {})", a.body_code, a.id)).collect::<Vec<_>>().join(", "),
        ),
        gridward_store::DelegationRefusal::Stale { assignment_id } => {
            format!("assignment {assignment_id} changed since it was read; preview again")
        }
    }
}
