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
    let samples: usize = std::env::var("GRIDWARD_BENCH_SAMPLES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let b = &*BENCH;
    let variants: [(&str, fn(&Bench, Body)); 6] = [
        ("without ledger", write_without_ledger),
        ("with ledger", write_with_ledger),
        ("one round trip", write_one_round_trip),
        ("entry only", write_entry_only),
        ("entry+node", write_entry_node),
        ("entry, no index", write_entry_no_index),
    ];
    let mut times = vec![Vec::with_capacity(samples); variants.len()];
    for i in 0..samples + 50 {
        for (v, (_, f)) in variants.iter().enumerate() {
            let input = body();
            let start = std::time::Instant::now();
            f(b, input);
            if i >= 50 {
                times[v].push(start.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    let median = |t: &mut Vec<f64>| {
        t.sort_by(f64::total_cmp);
        (t[t.len() / 4], t[t.len() / 2], t[t.len() * 3 / 4])
    };
    let base = median(&mut times[0].clone()).1;
    for (v, (name, _)) in variants.iter().enumerate() {
        let (p25, p50, p75) = median(&mut times[v]);
        println!("{name:>16}: median {p50:8.1} µs (p25 {p25:.1}, p75 {p75:.1})  ratio {:.3}", p50 / base);
    }
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

fn write_with_ledger(b: &Bench, body: Body) {
    b.runtime.block_on(b.store.upsert_bodies(&[body], &change())).expect("write");
}

fn write_without_ledger(b: &Bench, body: Body) {
    {
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
    }
}

// EXPERIMENT: the cost of the ledger's rows alone, sent with the body in one multi-statement round trip.
fn write_one_round_trip(b: &Bench, body: Body) {
    write_variant(b, body, 0)
}
fn write_entry_only(b: &Bench, body: Body) {
    write_variant(b, body, 1)
}
fn write_entry_no_index(b: &Bench, body: Body) {
    write_variant(b, body, 3)
}
fn write_entry_node(b: &Bench, body: Body) {
    write_variant(b, body, 2)
}
fn write_variant(b: &Bench, body: Body, variant: u8) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        b.runtime.block_on(async {
            sqlx::raw_sql(
                "CREATE TABLE x_entries (seq INTEGER PRIMARY KEY, recorded_at INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
                 action TEXT NOT NULL, object_type TEXT NOT NULL, object_id TEXT NOT NULL, jurisdiction TEXT NOT NULL, payload TEXT NOT NULL,
                 payload_digest TEXT NOT NULL, leaf_hash TEXT NOT NULL);
                 CREATE INDEX x_entries_by_object ON x_entries (object_type, object_id, seq);
                 CREATE TABLE x_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (level, idx));
                 CREATE TABLE z_entries (seq INTEGER PRIMARY KEY, recorded_at INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
                 action TEXT NOT NULL, object_type TEXT NOT NULL, object_id TEXT NOT NULL, jurisdiction TEXT NOT NULL, payload TEXT NOT NULL,
                 payload_digest TEXT NOT NULL);
                 CREATE TABLE z_bodies (code TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, division_code TEXT NOT NULL,
                 parent_code TEXT, domains TEXT NOT NULL, ledger_seq INTEGER NOT NULL);
                 CREATE TABLE y_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
                 CREATE TABLE x_state (id INTEGER PRIMARY KEY, size INTEGER NOT NULL, frontier TEXT NOT NULL);
                 INSERT INTO x_state VALUES (1, 0, '');
                 CREATE TABLE x_bodies (code TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, division_code TEXT NOT NULL,
                 parent_code TEXT, domains TEXT NOT NULL, ledger_seq INTEGER NOT NULL);",
            )
            .execute(b.store.pool())
            .await
            .expect("tables");
        })
    });
    static SEQ: AtomicU64 = AtomicU64::new(0);
    {
        let seq = SEQ.fetch_add(1, Ordering::Relaxed) as i64;
        let h = gridward_ledger::HashAlgorithm::Sm3;
        let payload = serde_json::to_string(&serde_json::json!({"code": body.code, "name": body.name, "kind": body.kind.as_str()})).unwrap();
        let digest = h.digest(payload.as_bytes()).to_hex();
        let leaf = h.digest(digest.as_bytes()).to_hex();
        let node = h.digest(leaf.as_bytes()).to_hex();
        b.runtime
            .block_on(async {
                let mut tx = b.store.pool().begin().await?;
                sqlx::query(match variant {
                    0 => "INSERT INTO x_entries VALUES ($1, 0, 'bench', 'admin', 'body.upsert', 'body', $2, '320600000000', $3, $4, $5);
                     INSERT INTO x_nodes VALUES (1, $1, $6);
                     UPDATE x_state SET size = $1 + 1, frontier = $6 WHERE id = 1;
                     INSERT INTO x_bodies VALUES ($2, $7, $8, $9, $10, $11, $1)",
                    1 => "INSERT INTO x_entries VALUES ($1, 0, 'bench', 'admin', 'body.upsert', 'body', $2, '320600000000', $3, $4, $5);
                     INSERT INTO x_bodies VALUES ($2, $7, $8, $9, $10, $11, $1 + 0 * length($6))",
                    3 => "INSERT INTO z_entries VALUES ((SELECT coalesce(max(seq) + 1, 0) FROM z_entries), 0, 'bench', 'admin', 'body.upsert', 'body', $2, '320600000000', $3, $4 || $5 || $1);
                     INSERT INTO z_bodies VALUES ($2, $7, $8, $9, $10, $11, (SELECT max(seq) FROM z_entries) + 0 * length($6))",
                    _ => "INSERT INTO x_entries VALUES ($1, 0, 'bench', 'admin', 'body.upsert', 'body', $2, '320600000000', $3, $4, $5);
                     INSERT INTO y_nodes VALUES (1, $1, unhex($6));
                     INSERT INTO x_bodies VALUES ($2, $7, $8, $9, $10, $11, $1)",
                })
                .bind(seq)
                .bind(&body.code)
                .bind(&payload)
                .bind(&digest)
                .bind(&leaf)
                .bind(&node)
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
    }
}
