//! The storage contract. Only the backend crates (`store-sqlite`, `store-postgres`) know SQL; everything
//! else talks to a `dyn Store`. Each method is one whole step of a use-case and runs in one transaction.

pub mod case_sql;
pub mod cases;
pub mod ledger;
#[doc(hidden)]
pub mod report_sql;
pub mod reports;
#[doc(hidden)]
pub mod sql;

use std::collections::HashMap;

use async_trait::async_trait;
use gridward_domain::access::Role;
use gridward_domain::catalog::Power;
use gridward_domain::delegation::{Assignment, Plan, PlanEffect};
use gridward_domain::division::{Division, DivisionCode, Level};
use gridward_domain::org::{Body, BodyLink, Staff};
use gridward_domain::staffing::Quota;
use gridward_ledger::{Hash, HashAlgorithm, NodeId, TreeHead};
use serde::Serialize;

pub use cases::{CaseDocument, CaseQuery, CaseRecord, CaseStepRecord, CaseStore, NewDocument};
pub use ledger::{Actor, Change, StoredCheckpoint, StoredEntry};
pub use reports::{
    NearArea, NearbyReport, Open311Key, ReportQuery, ReportRecord, ReportStore, ReportUpdate, Reporter, RewardRecord,
};

/// A storage failure, in the few shapes callers act on.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique or foreign-key rule refused the change; nothing was written.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database refused a write that would bypass or rewrite the full-process record.
    #[error("refused by the ledger rules: {0}")]
    LedgerRule(String),
    /// Stored data could not be read back into domain types.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database itself failed (connection, IO, syntax).
    #[error("database error: {0}")]
    Backend(String),
}

pub type DbResult<T> = Result<T, DbError>;

/// Which engine is behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A division's outline, as a GeoJSON geometry (MultiPolygon) in GCJ-02 lon/lat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoundaryRecord {
    pub code: DivisionCode,
    pub geometry: serde_json::Value,
    /// True when the outline was generated (no public street or community boundaries exist).
    pub synthetic: bool,
    /// Where the outline came from, for attribution.
    pub source: String,
    /// The datum of the coordinates: `wgs84`, `cgcs2000` or `gcj02`.
    pub datum: String,
}

/// One piece of evidence as stored (the file itself is in the evidence store, by digest).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceRecord {
    pub id: String,
    pub object_type: String,
    pub object_id: String,
    /// The division code of the object's territory; reading the evidence is authorized by it.
    pub jurisdiction: String,
    /// SM3 of the file, hex: its name in the evidence store.
    pub digest: String,
    /// Detected from the content, never from the file name.
    pub media_type: String,
    pub kind: String,
    pub size: i64,
    pub original_name: Option<String>,
    /// When the picture was taken, from its EXIF data (as written there, camera-local time).
    pub captured_at: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub uploaded_by: String,
    pub uploaded_at: i64,
    /// The ledger entry that recorded the upload.
    pub ledger_seq: i64,
}

/// A user account as stored. The password hash never leaves the app crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub scope: DivisionCode,
    pub staff_no: Option<String>,
    pub active: bool,
    pub created_at: i64,
}

/// A signed-in session. Only a hash of the token is stored, so a leaked database grants no sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub username: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Sign-in attempts counted for one username since its last success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempts {
    /// Attempts counted so far, this one included (a lock that ran out starts the count again).
    pub attempts: i64,
    /// Unix seconds until which sign-in is refused, when locked.
    pub locked_until: Option<i64>,
}

/// Pages through a list ordered by a text key: rows after `after`, at most `limit`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub after: Option<String>,
    pub limit: u32,
}

/// One stored version of a power (执法事项); versions are numbered from 1 and never change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PowerVersion {
    #[serde(flatten)]
    pub power: Power,
    pub version: u32,
    pub ledger_seq: i64,
}

/// A unit grid (单元网格) as stored: its outline as GeoJSON text in the datum it came in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridRecord {
    pub code: String,
    pub community: DivisionCode,
    pub name: String,
    /// `wgs84`, `cgcs2000` or `gcj02`.
    pub datum: String,
    /// A GeoJSON MultiPolygon, as text, exactly as stored.
    pub geometry: String,
    pub area_m2: f64,
    pub synthetic: bool,
    pub source: String,
}

/// What a grid import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GridImport {
    pub added: usize,
    pub revised: usize,
    pub unchanged: usize,
    pub retired: usize,
}

/// Who owns a grid: a squad, its primary officer and backups (staff numbers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GridOwner {
    pub grid: String,
    pub squad: String,
    pub primary_officer: Option<String>,
    pub backups: Vec<String>,
}

/// What a catalog import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CatalogImport {
    pub added: usize,
    pub revised: usize,
    pub unchanged: usize,
}

/// A committed delegation plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanRecord {
    pub id: i64,
    pub plan: Plan,
    pub committed_by: String,
    pub committed_at: i64,
    pub ledger_seq: i64,
}

/// Why a delegation change was refused: the assignments it would overlap, or an assignment it meant to
/// end that changed since it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum DelegationRefusal {
    Overlap { candidate: Assignment, existing: Vec<Assignment> },
    Stale { assignment_id: i64 },
}

/// Established (non-auxiliary) and auxiliary active staff of one body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Headcount {
    pub established: u32,
    pub auxiliaries: u32,
}

#[async_trait]
pub trait Store: ReportStore + CaseStore + Send + Sync {
    fn backend(&self) -> Backend;

    /// Applies this backend's migrations that are not applied yet.
    async fn migrate(&self) -> DbResult<()>;

    /// Cheap liveness check for `/healthz`.
    async fn ping(&self) -> DbResult<()>;

    // Divisions.

    /// The level of every stored division, for validating an import against what exists.
    async fn division_levels(&self) -> DbResult<HashMap<DivisionCode, Level>>;
    /// Inserts or updates divisions and writes the given boundaries, each with its ledger entry, all in one
    /// transaction.
    async fn upsert_divisions(&self, divisions: &[Division], boundaries: &[BoundaryRecord], change: &Change) -> DbResult<()>;
    async fn division(&self, code: &DivisionCode) -> DbResult<Option<Division>>;
    /// Children of `parent` ordered by code; `page.after` is a code.
    async fn child_divisions(&self, parent: &DivisionCode, page: &Page) -> DbResult<Vec<Division>>;
    /// Every division, ordered by code (for export).
    async fn all_divisions(&self) -> DbResult<Vec<Division>>;
    async fn boundary(&self, code: &DivisionCode) -> DbResult<Option<BoundaryRecord>>;
    /// Boundaries of the children of `parent`, ordered by code.
    async fn child_boundaries(&self, parent: &DivisionCode) -> DbResult<Vec<BoundaryRecord>>;

    // Organisation.

    /// The division and parent of every stored body, keyed by body code.
    async fn body_links(&self) -> DbResult<HashMap<String, BodyLink>>;
    async fn upsert_bodies(&self, bodies: &[Body], change: &Change) -> DbResult<()>;
    async fn body(&self, code: &str) -> DbResult<Option<Body>>;
    /// Every body, by code.
    async fn all_bodies(&self) -> DbResult<Vec<Body>>;
    /// Bodies whose division lies inside `territory`, ordered by code; `page.after` is a body code.
    async fn bodies_within(&self, territory: &DivisionCode, page: &Page) -> DbResult<Vec<Body>>;
    /// Credential number → staff number, for every stored credential.
    async fn credential_holders(&self) -> DbResult<HashMap<String, String>>;
    async fn upsert_staff(&self, staff: &[Staff], change: &Change) -> DbResult<()>;
    async fn staff_member(&self, staff_no: &str) -> DbResult<Option<Staff>>;
    /// Staff of one body ordered by staff number; `page.after` is a staff number.
    async fn staff_of_body(&self, body_code: &str, page: &Page) -> DbResult<Vec<Staff>>;
    /// Staff whose body lies inside `territory`, ordered by staff number (for export).
    async fn staff_within(&self, territory: &DivisionCode) -> DbResult<Vec<Staff>>;

    // Accounts and sessions.

    /// Creates an account; `Conflict` when the username is taken.
    async fn create_user(&self, user: &UserRecord, change: &Change) -> DbResult<()>;
    async fn user(&self, username: &str) -> DbResult<Option<UserRecord>>;
    async fn users(&self) -> DbResult<Vec<UserRecord>>;
    /// Replaces the password hash, ends the user's sessions and clears any lock, in one transaction.
    /// Returns false when no such user exists.
    async fn set_password(&self, username: &str, password_hash: &str, change: &Change) -> DbResult<bool>;
    /// Counts a sign-in attempt before its password is checked, atomically, so that parallel attempts
    /// cannot slip past the limit. A lock that ran out by `now` is lifted and the count starts again.
    async fn count_login_attempt(&self, username: &str, now: i64) -> DbResult<LoginAttempts>;
    async fn lock_login(&self, username: &str, until: i64) -> DbResult<()>;
    /// Forgets the attempts after a successful sign-in.
    async fn clear_login_attempts(&self, username: &str) -> DbResult<()>;
    /// The time until which `username` is locked, if it is locked at `now`.
    async fn login_lock(&self, username: &str, now: i64) -> DbResult<Option<i64>>;
    async fn create_session(&self, session: &SessionRecord) -> DbResult<()>;
    /// The live session for a token hash together with its user.
    async fn session(&self, token_hash: &str, now: i64) -> DbResult<Option<(SessionRecord, UserRecord)>>;
    async fn delete_session(&self, token_hash: &str) -> DbResult<bool>;
    /// Deletes expired sessions and attempt records untouched since `attempts_before`; returns rows deleted.
    async fn purge_stale(&self, now: i64, attempts_before: i64) -> DbResult<u64>;

    // The full-process record.

    /// Creates the ledger with `algorithm` unless it exists, and returns the algorithm it was created with.
    async fn init_ledger(&self, algorithm: HashAlgorithm, at: i64) -> DbResult<HashAlgorithm>;
    /// The current tree head over every committed entry, or `None` before the ledger is created.
    /// Integrates entries not yet in the tree first.
    async fn ledger_head(&self) -> DbResult<Option<TreeHead>>;
    /// Records actions that change no stored row (one entry each, in one transaction), e.g. that a
    /// document was served; returns how many were recorded.
    async fn record_actions(&self, records: &[ledger::Record<'_>], change: &Change) -> DbResult<u64>;
    /// Extends the tree over the entries committed since the last integration and returns the head.
    async fn integrate_ledger(&self) -> DbResult<TreeHead>;
    /// Entries from `from_seq` on, in order, at most `limit`.
    async fn ledger_entries(&self, from_seq: u64, limit: u32) -> DbResult<Vec<StoredEntry>> {
        ledger::decode_entries_page(&self.ledger_entries_page(from_seq, limit).await?.text)
    }
    /// The same entries as one text, to be read with [`ledger::entries_in_page`].
    async fn ledger_entries_page(&self, from_seq: u64, limit: u32) -> DbResult<ledger::EntriesPage>;
    /// The stored nodes of one level with index in `[from_index, to_index]`, in index order.
    async fn ledger_node_range(&self, level: u8, from_index: u64, to_index: u64) -> DbResult<Vec<(u64, Hash)>>;
    /// The stored hashes of the given tree nodes (missing ones are absent from the map).
    async fn ledger_nodes(&self, ids: &[NodeId]) -> DbResult<HashMap<NodeId, Hash>>;

    /// Appends a signed checkpoint (the server's own or a witness's cosignature).
    async fn add_checkpoint(&self, checkpoint: &StoredCheckpoint) -> DbResult<()>;
    /// The newest checkpoints signed by `signer`, newest first.
    async fn checkpoints_by(&self, signer: &str, limit: u32) -> DbResult<Vec<StoredCheckpoint>>;
    /// Every stored checkpoint signature, oldest first.
    async fn all_checkpoints(&self) -> DbResult<Vec<StoredCheckpoint>>;

    // Evidence.

    /// Records evidence with its ledger entry (the record's `ledger_seq` is set by the store).
    async fn add_evidence(&self, evidence: &EvidenceRecord, change: &Change) -> DbResult<EvidenceRecord>;
    async fn evidence(&self, id: &str) -> DbResult<Option<EvidenceRecord>>;
    /// Evidence attached to one object, oldest first.
    async fn evidence_of(&self, object_type: &str, object_id: &str) -> DbResult<Vec<EvidenceRecord>>;
    /// Every evidence record, in upload order (for audits).
    async fn all_evidence(&self) -> DbResult<Vec<EvidenceRecord>>;

    // Seeds.

    // The power catalog, delegation and staffing quotas.

    /// Writes a validated catalog in one transaction: a new code becomes version 1, a changed power a new
    /// version, an unchanged one nothing. A new version taking effect before its predecessor is refused.
    async fn import_powers(&self, powers: &[Power], change: &Change) -> DbResult<CatalogImport>;
    /// Every power's version in force on `day` (the newest taking effect on or before it).
    async fn powers_in_force(&self, day: gridward_domain::Date) -> DbResult<Vec<PowerVersion>>;
    /// Every version of one power, oldest first.
    async fn power_history(&self, code: &str) -> DbResult<Vec<PowerVersion>>;
    /// Every assignment, whatever its dates, by id.
    async fn assignments(&self) -> DbResult<Vec<Assignment>>;
    /// Adds one assignment (its id is chosen here), ending `supersedes` the day before it starts. Refused
    /// without writing when it would overlap another assignment.
    async fn add_assignment(
        &self,
        assignment: &Assignment,
        supersedes: Option<i64>,
        change: &Change,
    ) -> DbResult<Result<Assignment, DelegationRefusal>>;
    /// Commits a previewed plan in one transaction: the ends, the new assignments (each checked against
    /// overlaps again, under the ledger's lock), the quota changes and the plan itself. Any refusal or
    /// failure writes nothing.
    async fn commit_plan(
        &self,
        plan: &Plan,
        effect: &PlanEffect,
        change: &Change,
    ) -> DbResult<Result<PlanRecord, DelegationRefusal>>;
    /// Committed plans, newest first.
    async fn plans(&self) -> DbResult<Vec<PlanRecord>>;
    async fn quotas(&self) -> DbResult<Vec<Quota>>;
    /// Sets bodies' posts outright (the establishment, 定编); plans move posts with `commit_plan`.
    async fn set_quotas(&self, quotas: &[Quota], change: &Change) -> DbResult<()>;
    /// Active staff per body.
    async fn headcounts(&self) -> DbResult<HashMap<String, Headcount>>;

    // Unit grids and their owners.

    /// Writes validated grids in one transaction: a new code is added, a changed one revised (a retired
    /// grid comes back), an unchanged one left; the grids named in `retire` are retired.
    async fn import_grids(&self, grids: &[GridRecord], retire: &[String], change: &Change) -> DbResult<GridImport>;
    /// Every grid in service, by code.
    async fn grids(&self) -> DbResult<Vec<GridRecord>>;
    /// The grids in service whose code starts with `prefix` (a division's territory prefix), by code.
    async fn grids_within(&self, prefix: &str) -> DbResult<Vec<GridRecord>>;
    async fn grid(&self, code: &str) -> DbResult<Option<GridRecord>>;
    /// Sets the owners of grids, one entry each; an unchanged owner writes nothing.
    async fn set_grid_owners(&self, owners: &[GridOwner], change: &Change) -> DbResult<usize>;
    /// The owners of grids in service, by grid code.
    async fn grid_owners(&self) -> DbResult<Vec<GridOwner>>;
    /// The owners of grids in service whose code starts with `prefix` (a territory, or one grid's code).
    async fn grid_owners_within(&self, prefix: &str) -> DbResult<Vec<GridOwner>>;

    /// Whether a named seed (e.g. the demo city) was already loaded.
    async fn seed_applied(&self, name: &str) -> DbResult<bool>;
    async fn mark_seed_applied(&self, name: &str, at: i64) -> DbResult<()>;
}

/// Turns stored columns back into domain values. Both backends store the same text forms, so both use
/// these, and a row that no longer parses is reported as `Corrupt` instead of crashing.
pub mod decode {
    use gridward_domain::access::{Role, parse_roles};
    use gridward_domain::division::{Division, DivisionCode, Level};
    use gridward_domain::org::{Body, BodyKind, Credential, Staff, parse_domains};

    use crate::DbError;

    fn corrupt(what: &str, value: &str) -> DbError {
        DbError::Corrupt(format!("{what} {value:?}"))
    }

    pub fn code(s: &str) -> Result<DivisionCode, DbError> {
        DivisionCode::parse(s).map_err(|_| corrupt("division code", s))
    }

    pub fn date(s: Option<String>) -> Result<Option<jiff_date::Date>, DbError> {
        s.map(|s| s.parse().map_err(|_| corrupt("date", &s))).transpose()
    }

    pub fn roles(s: &str) -> Result<Vec<Role>, DbError> {
        parse_roles(s).map_err(|_| corrupt("roles", s))
    }

    pub fn division(
        code_text: String,
        name: String,
        level: String,
        parent: Option<String>,
        valid_from: Option<String>,
        valid_to: Option<String>,
    ) -> Result<Division, DbError> {
        Ok(Division {
            code: code(&code_text)?,
            name,
            level: Level::parse(&level).ok_or_else(|| corrupt("level", &level))?,
            parent_code: parent.as_deref().map(code).transpose()?,
            valid_from: date(valid_from)?,
            valid_to: date(valid_to)?,
        })
    }

    pub fn body(
        code_text: String,
        name: String,
        kind: String,
        division: String,
        parent: Option<String>,
        domains: String,
    ) -> Result<Body, DbError> {
        Ok(Body {
            code: code_text,
            name,
            kind: BodyKind::parse(&kind).ok_or_else(|| corrupt("body kind", &kind))?,
            division_code: code(&division)?,
            parent_code: parent,
            domains: parse_domains(&domains).map_err(|_| corrupt("domains", &domains))?,
        })
    }

    /// The stored columns of one staff row.
    pub struct StaffColumns {
        pub staff_no: String,
        pub name: String,
        pub body_code: String,
        pub roles: String,
        pub credential_no: Option<String>,
        pub credential_valid_from: Option<String>,
        pub credential_valid_to: Option<String>,
        pub qualification_domains: Option<String>,
        pub auxiliary: bool,
        pub active: bool,
    }

    pub fn staff(c: StaffColumns) -> Result<Staff, DbError> {
        let credential = match c.credential_no {
            None => None,
            Some(number) => Some(Credential {
                number,
                valid_from: date(c.credential_valid_from)?.ok_or_else(|| corrupt("credential start", ""))?,
                valid_to: date(c.credential_valid_to)?.ok_or_else(|| corrupt("credential end", ""))?,
                domains: parse_domains(c.qualification_domains.as_deref().unwrap_or(""))
                    .map_err(|_| corrupt("domains", c.qualification_domains.as_deref().unwrap_or("")))?,
            }),
        };
        Ok(Staff {
            staff_no: c.staff_no,
            name: c.name,
            body_code: c.body_code,
            roles: roles(&c.roles)?,
            credential,
            auxiliary: c.auxiliary,
            active: c.active,
        })
    }

    /// Re-exported so backends need no direct jiff dependency for dates.
    pub mod jiff_date {
        pub use gridward_domain::Date;
    }
}
