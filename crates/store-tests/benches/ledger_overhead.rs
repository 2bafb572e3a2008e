//! What the full-process record costs a write: one body written through the store (row + ledger entry +
//! tree nodes, one transaction) against the same row written in one transaction to an unrecorded copy of
//! the table, on the same database with the same durability (SQLite WAL, synchronous=FULL).
//!
//! Run with `cargo bench -p gridward-store-tests --bench ledger_overhead` (`GRIDWARD_BENCH_SAMPLES`, default
//! 2000); the ratio of the two medians is the overhead. It then times integrating the entries into the tree.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use gridward_domain::division::{Division, DivisionCode, Level};
use gridward_domain::org::{Body, BodyKind, EnforcementDomain};
use gridward_ledger::HashAlgorithm;
use gridward_store::{Actor, Change, Store};
use gridward_store_sqlite::SqliteStore;

fn main() {
    let samples: usize = std::env::var("GRIDWARD_BENCH_SAMPLES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let b = &*BENCH;
    let variants: [(&str, Write); 3] =
        [("without ledger", write_without_ledger), ("with ledger", write_with_ledger), ("+ one plain row", write_with_plain_row)];
    let mut times = vec![Vec::with_capacity(samples); variants.len()];
    // Pairs, alternating which goes first, so that drift in the disk's latency falls on both alike.
    for i in 0..samples + 50 {
        for k in 0..variants.len() {
            let v = (i + k) % variants.len();
            let input = body();
            let start = Instant::now();
            (variants[v].1)(b, input);
            if i >= 50 {
                times[v].push(start.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    let quartiles = |t: &mut Vec<f64>| {
        t.sort_by(f64::total_cmp);
        (t[t.len() / 4], t[t.len() / 2], t[t.len() * 3 / 4])
    };
    let base = quartiles(&mut times[0].clone()).1;
    println!("{samples} writes each, one body per transaction, SQLite WAL synchronous=FULL");
    for (v, (name, _)) in variants.iter().enumerate() {
        let (p25, p50, p75) = quartiles(&mut times[v]);
        println!("{name:>16}: median {p50:7.1} µs (p25 {p25:.1}, p75 {p75:.1})  ratio {:.3}", p50 / base);
    }
    // The tree over those entries is built afterwards, off the write path; this is its cost per entry.
    let entries = b.runtime.block_on(b.store.ledger_entries(0, u32::MAX)).expect("entries").len();
    let start = Instant::now();
    let head = b.runtime.block_on(b.store.integrate_ledger()).expect("integrate");
    let took = start.elapsed();
    println!(
        "integrating {entries} entries afterwards: {:.1} ms, {:.1} µs per entry (tree size {})",
        took.as_secs_f64() * 1e3,
        took.as_secs_f64() * 1e6 / entries as f64,
        head.size
    );
}

/// One way of writing a body.
type Write = fn(&Bench, Body);

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
        // The unrecorded twin of `bodies`: the same columns, keys, references and index, without the
        // ledger's column, trigger and entry.
        sqlx::raw_sql(
            "CREATE TABLE bench_bodies (code TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
             division_code TEXT NOT NULL REFERENCES divisions (code),
             parent_code TEXT REFERENCES bench_bodies (code) DEFERRABLE INITIALLY DEFERRED, domains TEXT NOT NULL);
             CREATE INDEX bench_bodies_by_division ON bench_bodies (division_code);
             CREATE TABLE bench_rows (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);",
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

fn write_with_ledger(b: &Bench, body: Body) {
    b.runtime.block_on(b.store.upsert_bodies(&[body], &change())).expect("write");
}

fn write_without_ledger(b: &Bench, body: Body) {
    write_twin(b, body, false)
}

/// The floor of any record kept in the same transaction: the twin write plus one row of the same size as
/// an entry in another table, in the same call, with no numbering, hashing or checks.
fn write_with_plain_row(b: &Bench, body: Body) {
    write_twin(b, body, true)
}

fn write_twin(b: &Bench, body: Body, plain_row: bool) {
    b.runtime
            .block_on(async {
                let mut tx = b.store.writer().begin().await?;
                // The statement the store runs for a body, without the ledger's column.
                let sql = if plain_row {
                    "INSERT INTO bench_rows (seq, body) VALUES ((SELECT coalesce(max(seq) + 1, 0) FROM bench_rows), $7);
                     INSERT INTO bench_bodies (code, name, kind, division_code, parent_code, domains) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, division_code = excluded.division_code,
                     parent_code = excluded.parent_code, domains = excluded.domains"
                } else {
                    "INSERT INTO bench_bodies (code, name, kind, division_code, parent_code, domains) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, division_code = excluded.division_code,
                     parent_code = excluded.parent_code, domains = excluded.domains"
                };
                let query = sqlx::query(sql)
                    .bind(&body.code)
                    .bind(&body.name)
                    .bind(body.kind.as_str())
                    .bind(body.division_code.as_str())
                    .bind(body.parent_code.as_deref())
                    .bind(gridward_domain::org::format_domains(&body.domains));
                let query = if plain_row { query.bind("x".repeat(360)) } else { query };
                query.execute(&mut *tx).await?;
                tx.commit().await
            })
            .expect("write");
}
