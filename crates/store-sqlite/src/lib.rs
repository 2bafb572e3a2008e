//! Gridward's store on embedded SQLite: WAL journal, `synchronous=FULL` (an acknowledged write survives
//! power loss), foreign keys on, and a busy timeout so concurrent writers wait instead of failing.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use gridward_domain::access::format_roles;
use gridward_domain::division::{Division, DivisionCode, Level};
use gridward_domain::org::{Body, Staff, format_domains};
use gridward_store::decode::{self, StaffColumns};
use gridward_store::{Backend, BoundaryRecord, DbError, DbResult, Page, SessionRecord, Store, UserRecord};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

pub struct SqliteStore {
    pool: SqlitePool,
    /// The one connection recorded writes take: SQLite has one writer at a time anyway, and a connection
    /// that alone writes keeps its page cache (any other connection drops its cache after another's write).
    writer: SqlitePool,
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

impl SqliteStore {
    /// Opens (creating if missing) the database at a `sqlite:` URL.
    pub async fn connect(url: &str) -> DbResult<SqliteStore> {
        SqliteStore::connect_with(SqliteConnectOptions::from_str(url).map_err(db_err)?).await
    }

    /// Opens (creating if missing) the database file at `path`, whatever characters the path holds.
    pub async fn open_file(path: &std::path::Path) -> DbResult<SqliteStore> {
        SqliteStore::connect_with(SqliteConnectOptions::new().filename(path)).await
    }

    async fn connect_with(options: SqliteConnectOptions) -> DbResult<SqliteStore> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // A larger page cache per connection (16 MiB): a proof or a verification walks B-trees that
            // outgrow SQLite's 2 MiB default quickly. No memory map: while reports arrive the file grows at
            // every checkpoint and each connection maps it again, which cost intake a fifth of its
            // throughput, and verification and proofs ran no faster with it (BENCHMARKS.md).
            .pragma("cache_size", "-16384")
            // Statement journals (a multi-row insert keeps one, to undo just itself) stay in memory.
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options.clone()).await.map_err(db_err)?;
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.map_err(db_err)?;
        Ok(SqliteStore { pool, writer, algorithm: std::sync::OnceLock::new() })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The connection recorded writes go through.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }
}

/// A page of ledger entries as one text, see `gridward_store::ledger::entries_in_page`. `concat`
/// builds each entry's text in one pass (a chain of `||` copies it once per operator), and the aggregate
/// has no ORDER BY of its own: that sorts the whole page again, which doubled the cost of reading. Each
/// entry carries its number, so the decoder puts the page in order whatever order it comes in.
const ENTRIES_PAGE: &str = "SELECT count(*) AS n, max(seq) AS last_seq, string_agg(concat(
     seq, ' ', recorded_at, ' ', octet_length(actor), ':', actor,
     octet_length(role), ':', role, octet_length(action), ':', action,
     octet_length(object_type), ':', object_type, octet_length(object_id), ':', object_id,
     octet_length(jurisdiction), ':', jurisdiction, octet_length(payload), ':', payload,
     octet_length(payload_digest), ':', payload_digest), '') AS page
     FROM (SELECT * FROM ledger_entries WHERE seq >= $1 ORDER BY seq LIMIT $2)";

gridward_store::impl_sql_store!(
    SqliteStore,
    sqlx::Sqlite,
    SqliteRow,
    Backend::Sqlite,
    "BEGIN IMMEDIATE",
    true,
    "last_insert_rowid()",
    ENTRIES_PAGE
);

gridward_store::impl_sql_report_store!(SqliteStore, sqlx::Sqlite, SqliteRow);
gridward_store::impl_sql_case_store!(SqliteStore, sqlx::Sqlite, SqliteRow);
