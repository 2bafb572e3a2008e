//! Gridward's store on PostgreSQL, for a city that outgrows one machine. The SQL mirrors the SQLite backend
//! deliberately: each backend owns its migrations and may diverge where an engine offers more (partitioning,
//! distribution by jurisdiction).

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use gridward_domain::access::format_roles;
use gridward_domain::division::{Division, DivisionCode, Level};
use gridward_domain::org::{Body, Staff, format_domains};
use gridward_store::decode::{self, StaffColumns};
use gridward_store::{Backend, BoundaryRecord, DbError, DbResult, Page, SessionRecord, Store, UserRecord};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};

pub struct PostgresStore {
    pool: PgPool,
    /// Recorded writes go through the same pool: PostgreSQL's writers run concurrently.
    writer: PgPool,
    /// The ledger\'s hash algorithm, fixed at creation and read once.
    algorithm: std::sync::OnceLock<gridward_ledger::HashAlgorithm>,
}

gridward_store::migrations!(
    (1, "foundation", include_str!("../migrations/0001_foundation.sql")),
    (2, "entries_without_leaves", include_str!("../migrations/0002_entries_without_leaves.sql")),
    (3, "catalog_and_delegation", include_str!("../migrations/0003_catalog_and_delegation.sql")),
    (4, "grids", include_str!("../migrations/0004_grids.sql")),
    (5, "reports", include_str!("../migrations/0005_reports.sql")),
    (6, "cases", include_str!("../migrations/0006_cases.sql")),
    (7, "report cells", include_str!("../migrations/0007_report_cells.sql")),
);

impl PostgresStore {
    /// Connects to a `postgres://` URL; the database must exist.
    pub async fn connect(url: &str) -> DbResult<PostgresStore> {
        PostgresStore::connect_with(PgConnectOptions::from_str(url).map_err(db_err)?).await
    }

    pub async fn connect_with(options: PgConnectOptions) -> DbResult<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(db_err)?;
        Ok(PostgresStore { writer: pool.clone(), pool, algorithm: std::sync::OnceLock::new() })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// A page of ledger entries as one text, see `gridward_store::ledger::entries_in_page`.
const ENTRIES_PAGE: &str = "SELECT count(*) AS n, max(seq) AS last_seq, string_agg(
     seq || ' ' || recorded_at || ' ' || octet_length(actor) || ':' || actor ||
     octet_length(role) || ':' || role || octet_length(action) || ':' || action ||
     octet_length(object_type) || ':' || object_type || octet_length(object_id) || ':' || object_id ||
     octet_length(jurisdiction) || ':' || jurisdiction || octet_length(payload) || ':' || payload ||
     octet_length(payload_digest) || ':' || payload_digest,
     '' ORDER BY seq) AS page
     FROM (SELECT * FROM ledger_entries WHERE seq >= $1 ORDER BY seq LIMIT $2) AS entries";

gridward_store::impl_sql_store!(
    PostgresStore,
    sqlx::Postgres,
    PgRow,
    Backend::Postgres,
    "BEGIN; SELECT 1 FROM ledger_state WHERE id = 1 FOR UPDATE",
    false,
    "(SELECT max(seq) FROM ledger_entries)",
    ENTRIES_PAGE
);

gridward_store::impl_sql_report_store!(PostgresStore, sqlx::Postgres, PgRow);
gridward_store::impl_sql_case_store!(PostgresStore, sqlx::Postgres, PgRow);
