//! Test helpers: a fresh, migrated store on either backend, thrown away afterwards.
//!
//! PostgreSQL tests read the server URL from `GRIDWARD_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), create a database of their own and drop it at the end,
//! whether the test passed or panicked.

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;

use gridward_ledger::HashAlgorithm;
use gridward_store::{Actor, Backend, Change, Store};
use gridward_store_postgres::PostgresStore;
use gridward_store_sqlite::SqliteStore;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};

pub const POSTGRES_URL_VAR: &str = "GRIDWARD_TEST_POSTGRES_URL";
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn postgres_admin_url() -> String {
    std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

/// What must be cleaned up once a test is over.
enum Cleanup {
    TempDir(#[allow(dead_code)] tempfile::TempDir),
    Database { admin_url: String, name: String },
}

/// A fresh, migrated store and what it takes to remove it.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    /// Direct SQL access, for tests that play an attacker with database access.
    pub raw: RawDb,
    cleanup: Cleanup,
}

/// Plain SQL against the test database, bypassing the store.
#[derive(Clone)]
pub enum RawDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl RawDb {
    /// Runs one statement; the error text when the database refuses it.
    pub async fn execute(&self, sql: &str) -> Result<u64, String> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self {
            RawDb::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected()),
            RawDb::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected()),
        }
        .map_err(|e| e.to_string())
    }
}

impl TestStore {
    pub async fn new(backend: Backend) -> TestStore {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                let store = SqliteStore::connect(&url).await.expect("open sqlite");
                store.migrate().await.expect("migrate sqlite");
                store.init_ledger(HashAlgorithm::Sm3, 0).await.expect("create the ledger");
                let raw = RawDb::Sqlite(store.pool().clone());
                TestStore { store: Arc::new(store), raw, cleanup: Cleanup::TempDir(dir) }
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!("gridward_test_{}", uuid::Uuid::now_v7().simple());
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} ({POSTGRES_URL_VAR}): {e}"));
                admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("create test database");
                admin.close().await.ok();
                let options = PgConnectOptions::from_str(&admin_url).expect("postgres url").database(&name);
                let store = PostgresStore::connect_with(options).await.expect("connect to test database");
                store.migrate().await.expect("migrate postgres");
                store.init_ledger(HashAlgorithm::Sm3, 0).await.expect("create the ledger");
                let raw = RawDb::Postgres(store.pool().clone());
                TestStore { store: Arc::new(store), raw, cleanup: Cleanup::Database { admin_url, name } }
            }
        }
    }

    /// Removes the database (the SQLite temp dir goes when dropped).
    pub async fn finish(self) {
        drop(self.store);
        match self.raw {
            RawDb::Sqlite(pool) => pool.close().await,
            RawDb::Postgres(pool) => pool.close().await,
        }
        if let Cleanup::Database { admin_url, name } = self.cleanup
            && let Ok(mut admin) = PgConnection::connect(&admin_url).await
        {
            let _ = admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await;
            admin.close().await.ok();
        }
    }
}

/// A change made by a test administrator at a fixed time.
pub fn test_change() -> Change {
    Change { actor: test_actor(), at: 1_700_000_000 }
}

pub fn test_actor() -> Actor {
    Actor::new("test.admin", "admin")
}

/// Runs `test` against a fresh store of `backend`, cleans up, then re-raises the test's panic if it had one.
pub async fn with_store<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = TestStore::new(backend).await;
    let outcome = tokio::spawn(test(db.store.clone())).await;
    db.finish().await;
    if let Err(e) = outcome
        && e.is_panic()
    {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Like [`with_store`], also handing the test direct SQL access.
pub async fn with_raw_store<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Arc<dyn Store>, RawDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = TestStore::new(backend).await;
    let outcome = tokio::spawn(test(db.store.clone(), db.raw.clone())).await;
    db.finish().await;
    if let Err(e) = outcome
        && e.is_panic()
    {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Declares one test per backend with direct SQL access: `raw_store_test!(name, |store, raw| async move { ... });`
#[macro_export]
macro_rules! raw_store_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::with_raw_store(gridward_store::Backend::Sqlite, $body).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::with_raw_store(gridward_store::Backend::Postgres, $body).await
            }
        }
    };
}

/// Declares one test per backend: `store_test!(name, |store| async move { ... });`
#[macro_export]
macro_rules! store_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::with_store(gridward_store::Backend::Sqlite, $body).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::with_store(gridward_store::Backend::Postgres, $body).await
            }
        }
    };
}
