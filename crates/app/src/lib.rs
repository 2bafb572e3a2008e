//! Use-cases. Each public method authorizes the caller (role × territory × object), loads what it needs,
//! applies the domain's rules and persists the change through the store in one transaction.

pub mod auth;
pub mod cases;
pub mod catalog;
pub mod delegation;
pub mod demo;
pub mod demo_cases;
pub mod directory;
pub mod documents;
pub mod error;
pub mod evidence;
pub mod import;
pub mod places;
pub mod record;
pub mod reports;
pub mod sheet;

use std::sync::Arc;

use gridward_store::{Actor, Backend, Change, Store};
use gridward_store_postgres::PostgresStore;
use gridward_store_sqlite::SqliteStore;

pub use error::{AppError, AppResult};

/// The application: a handle on a store and what every use-case shares. Every request clones it, so a
/// clone is one reference count, not one per part.
#[derive(Clone)]
pub struct App {
    inner: Arc<AppParts>,
}

impl std::ops::Deref for App {
    type Target = AppParts;
    fn deref(&self) -> &AppParts {
        &self.inner
    }
}

/// What an [`App`] holds.
#[derive(Clone)]
pub struct AppParts {
    pub store: Arc<dyn Store>,
    /// A real argon2 hash checked when a username does not exist, so both paths cost the same.
    dummy_hash: Arc<str>,
    /// Bounds concurrent argon2 checks (each takes ~19 MiB and a core for tens of milliseconds).
    verifiers: Arc<tokio::sync::Semaphore>,
    /// The key that signs checkpoints of the record, and the name it signs as.
    signer: Option<Arc<record::Signer>>,
    /// The outside witnesses whose cosignatures are accepted: name → public key (SEC1 hex).
    witnesses: Arc<std::collections::BTreeMap<String, String>>,
    /// Where evidence files are kept.
    blobs: Option<Arc<dyn evidence::BlobStore>>,
    /// Grids and leaf outlines indexed for placing a point: built on first use, rebuilt and swapped whole
    /// when grids or outlines change.
    places: Arc<std::sync::RwLock<Option<Arc<places::PlaceIndex>>>>,
    /// Serialises rebuilds of `places`.
    places_rebuild: Arc<tokio::sync::Mutex<()>>,
    /// How long grid codes are in this province.
    grid_rule: gridward_grid::GridCodeRule,
    /// Services and grid owners as intake reads them on every report.
    intake_cache: Arc<std::sync::RwLock<Option<Arc<reports::IntakeCache>>>>,
    /// Live Open311 keys already looked up.
    open311_keys: Arc<std::sync::RwLock<reports::KnownKeys>>,
    /// The group-commit writer of public reports, started on first use.
    intake_writer: Arc<std::sync::OnceLock<tokio::sync::mpsc::Sender<reports::IntakeJob>>>,
    /// Whether public reports share transactions (group commit) or take one each.
    group_commit: bool,
    duplicate_rule: gridward_domain::report::DuplicateRule,
    reward_rules: Arc<Vec<gridward_domain::report::RewardRule>>,
    reward_policy: gridward_domain::report::RewardPolicy,
    /// The province's Art. 63 amounts from which a fine carries a hearing right.
    hearing_thresholds: gridward_domain::case::HearingThresholds,
    /// The working-day calendar with the imported years, read once and replaced on import.
    calendar: Arc<std::sync::RwLock<Option<Arc<gridward_domain::calendar::WorkCalendar>>>>,
}

/// Concurrent password checks allowed at once.
const CONCURRENT_VERIFIERS: usize = 4;

impl App {
    pub fn new(store: Arc<dyn Store>) -> AppResult<App> {
        let dummy_hash = auth::hash_password("gridward-timing-equaliser")?.into();
        let parts = AppParts {
            store,
            dummy_hash,
            verifiers: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_VERIFIERS)),
            signer: None,
            witnesses: Arc::default(),
            blobs: None,
            places: Arc::default(),
            places_rebuild: Arc::default(),
            grid_rule: gridward_grid::GridCodeRule::default(),
            intake_cache: Arc::default(),
            open311_keys: Arc::default(),
            intake_writer: Arc::default(),
            group_commit: true,
            duplicate_rule: gridward_domain::report::DuplicateRule::default(),
            reward_rules: Arc::new(reports::default_reward_rules()),
            reward_policy: gridward_domain::report::RewardPolicy::default(),
            hearing_thresholds: gridward_domain::case::HearingThresholds::default(),
            calendar: Arc::default(),
        };
        Ok(App { inner: Arc::new(parts) })
    }

    /// The parts to change while building: shared ones are copied first, so other handles keep theirs.
    fn parts_mut(&mut self) -> &mut AppParts {
        Arc::make_mut(&mut self.inner)
    }

    /// Lets this app sign checkpoints of the record with `key`, as `origin` (e.g. `nantong.gridward`).
    pub fn with_signer(mut self, key: gridward_ledger::CheckpointKey, origin: impl Into<String>) -> App {
        self.parts_mut().signer = Some(Arc::new(record::Signer { key, origin: origin.into() }));
        self
    }

    /// Accepts cosignatures from these witnesses (name → SM2 public key, SEC1 hex).
    pub fn with_witnesses(mut self, witnesses: std::collections::BTreeMap<String, String>) -> App {
        self.parts_mut().witnesses = Arc::new(witnesses);
        self
    }

    /// Keeps evidence files in `blobs`.
    pub fn with_evidence_store(mut self, blobs: Arc<dyn evidence::BlobStore>) -> App {
        self.parts_mut().blobs = Some(blobs);
        self
    }

    /// Uses `rule` for grid codes (the sequence length differs between provinces).
    pub fn with_grid_rule(mut self, rule: gridward_grid::GridCodeRule) -> App {
        self.parts_mut().grid_rule = rule;
        self
    }

    /// Stores each public report in its own transaction instead of grouping concurrent ones (the
    /// baseline the intake benchmark compares against).
    pub fn with_group_commit(mut self, on: bool) -> App {
        self.parts_mut().group_commit = on;
        self
    }

    /// When a new report is linked to an earlier one as its duplicate.
    pub fn duplicate_rule(&self) -> gridward_domain::report::DuplicateRule {
        self.duplicate_rule
    }

    /// Reports of one service this close in space and time are the same problem.
    pub fn with_duplicate_rule(mut self, rule: gridward_domain::report::DuplicateRule) -> App {
        self.parts_mut().duplicate_rule = rule;
        self
    }

    /// Pays rewards by these rules, within this monthly cap per reporter.
    pub fn with_reward_rules(
        mut self,
        rules: Vec<gridward_domain::report::RewardRule>,
        policy: gridward_domain::report::RewardPolicy,
    ) -> App {
        self.parts_mut().reward_rules = Arc::new(rules);
        self.parts_mut().reward_policy = policy;
        self
    }

    /// The reward rules in force and the monthly cap: published, since a reward must be predictable.
    /// The province's hearing thresholds (行政处罚法 Art. 63 (1)).
    pub fn with_hearing_thresholds(mut self, thresholds: gridward_domain::case::HearingThresholds) -> App {
        self.parts_mut().hearing_thresholds = thresholds;
        self
    }

    pub fn hearing_thresholds(&self) -> gridward_domain::case::HearingThresholds {
        self.hearing_thresholds
    }

    pub fn reward_rules(&self) -> (&[gridward_domain::report::RewardRule], gridward_domain::report::RewardPolicy) {
        (&self.reward_rules, self.reward_policy)
    }

    pub fn grid_rule(&self) -> gridward_grid::GridCodeRule {
        self.grid_rule
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }
}

/// Opens the store a URL names: `postgres://` or `postgresql://` for PostgreSQL, `sqlite:` for SQLite.
pub async fn open_store(url: &str) -> AppResult<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(PostgresStore::connect(url).await?)
    } else if url.starts_with("sqlite:") {
        Arc::new(SqliteStore::connect(url).await?)
    } else {
        return Err(AppError::bad_request("bad_database_url", format!("{url:?} is neither a sqlite: nor a postgres:// URL")));
    };
    Ok(store)
}

/// Opens (creating if missing) an embedded SQLite database file.
pub async fn open_sqlite_file(path: &std::path::Path) -> AppResult<Arc<dyn Store>> {
    Ok(Arc::new(SqliteStore::open_file(path).await?))
}

/// A change by `actor`, now.
pub fn change(actor: &Actor) -> Change {
    Change { actor: actor.clone(), at: now() }
}

/// The actor for what a signed-in user does: the username, under the roles the account holds.
pub fn actor_of(who: &gridward_domain::access::Principal) -> Actor {
    Actor::new(who.username.clone(), gridward_domain::access::format_roles(&who.roles))
}

/// `N` random bytes as lowercase hex.
pub(crate) fn random_hex<const N: usize>() -> AppResult<String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Now, in Unix seconds (UTC).
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Today's business date in Asia/Shanghai.
pub fn today() -> gridward_domain::Date {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC)).date()
}
