//! What the full-process record costs a write: one body written through the store (row + ledger entry +
//! tree nodes, one transaction) against the same row written in one transaction to an unrecorded copy of
//! the table, on the same database with the same durability (SQLite WAL, synchronous=FULL).
//!
//! Run with `cargo bench -p gridward-store-tests`; the ratio of the two medians is the overhead.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use gridward_domain::division::{Division, DivisionCode, Level};
use gridward_domain::org::{Body, BodyKind, EnforcementDomain};
use gridward_ledger::HashAlgorithm;
use gridward_store::{Actor, Change, Store};
use gridward_store_sqlite::SqliteStore;

fn main() {
    divan::main();
}

struct Bench {
    runtime: tokio::runtime::Runtime,
    store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

static BENCH: LazyLock<Bench> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = runtime.block_on(async {
        let store = SqliteStore::open_file(&dir.path().join("bench.db")).await.expect("open");
        store.migrate().await.expect("migrate");
        store.init_ledger(HashAlgorithm::Sm3, 0).await.expect("ledger");
        let city = Division {
            code: DivisionCode::parse("320600000000").expect("code"),
            name: "南通市".into(),
            level: Level::City,
            parent_code: Some(DivisionCode::parse("320000000000").expect("code")),
            valid_from: None,
            valid_to: None,
        };
        store.upsert_divisions(&[city], &[], &change()).await.expect("seed");
        // The unrecorded twin of `bodies`: same columns, no triggers, no ledger.
        sqlx::query(
            "CREATE TABLE bench_bodies (code TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, division_code TEXT NOT NULL,
             parent_code TEXT, domains TEXT NOT NULL)",
        )
        .execute(store.pool())
        .await
        .expect("twin table");
        store
    });
    Bench { runtime, store: Arc::new(store), _dir: dir }
});

fn change() -> Change {
    Change { actor: Actor::new("bench", "admin"), at: 1_700_000_000 }
}

static NEXT: AtomicU64 = AtomicU64::new(0);

fn body() -> Body {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Body {
        code: format!("bench.{n}"),
        name: format!("综合行政执法队 {n}"),
        kind: BodyKind::Bureau,
        division_code: DivisionCode::parse("320600000000").expect("code"),
        parent_code: None,
        domains: vec![EnforcementDomain::UrbanManagement, EnforcementDomain::MarketSupervision],
    }
}

#[divan::bench(sample_count = 200)]
fn write_with_ledger(bencher: divan::Bencher) {
    let b = &*BENCH;
    bencher.with_inputs(body).bench_local_values(|body| {
        b.runtime.block_on(b.store.upsert_bodies(&[body], &change())).expect("write");
    });
}

#[divan::bench(sample_count = 200)]
fn write_without_ledger(bencher: divan::Bencher) {
    let b = &*BENCH;
    bencher.with_inputs(body).bench_local_values(|body| {
        b.runtime
            .block_on(async {
                let mut tx = b.store.pool().begin().await?;
                sqlx::query("INSERT INTO bench_bodies (code, name, kind, division_code, parent_code, domains) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(&body.code)
                    .bind(&body.name)
                    .bind(body.kind.as_str())
                    .bind(body.division_code.as_str())
                    .bind(body.parent_code.as_deref())
                    .bind(gridward_domain::org::format_domains(&body.domains))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            })
            .expect("write");
    });
}
