//! `audit verify` recomputes the record and names the first thing that was changed behind its back.

use std::sync::Arc;

use gridward_app::App;
use gridward_store::{Backend, Store};
use gridward_testkit::{RawDb, raw_store_test, test_actor};

const DIVISIONS: &str = "code,name,level,parent_code\n320600000000,南通市,city,320000000000\n\
                         320613000000,崇川区,district,320600000000\n320613007000,钟秀街道,street,320613000000\n\
                         320613008000,文峰街道,street,320613000000\n";

async fn recorded_app(store: Arc<dyn Store>) -> App {
    let app = App::new(store).unwrap();
    app.import_divisions(DIVISIONS, &test_actor()).await.unwrap();
    app.import_divisions(DIVISIONS, &test_actor()).await.unwrap();
    // The tree over the entries, as the server builds it within moments of each write.
    app.ledger_head().await.unwrap();
    app
}

/// Statements that switch off the append-only triggers, as someone with full database access could.
async fn disable_guards(store: &Arc<dyn Store>, raw: &RawDb) {
    let statements: &[&str] = match store.backend() {
        Backend::Sqlite => &[
            "DROP TRIGGER ledger_entries_no_update",
            "DROP TRIGGER ledger_entries_no_delete",
            "DROP TRIGGER ledger_nodes_no_update",
            "DROP TRIGGER ledger_state_only_grows",
        ],
        Backend::Postgres => &[
            "ALTER TABLE ledger_entries DISABLE TRIGGER ALL",
            "ALTER TABLE ledger_nodes DISABLE TRIGGER ALL",
            "ALTER TABLE ledger_state DISABLE TRIGGER ALL",
        ],
    };
    for sql in statements {
        raw.execute(sql).await.unwrap();
    }
}

raw_store_test!(an_untouched_record_verifies, |store: Arc<dyn Store>, _raw: RawDb| async move {
    let app = recorded_app(store).await;
    let report = app.verify_ledger().await.unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.entries_checked, 8);
    assert_eq!(report.recomputed_head, report.stored_head);
});

raw_store_test!(a_changed_payload_is_named, |store: Arc<dyn Store>, raw: RawDb| async move {
    let app = recorded_app(store.clone()).await;
    disable_guards(&store, &raw).await;
    raw.execute("UPDATE ledger_entries SET payload = replace(payload, '钟秀街道', '钟秀街道X') WHERE seq = 6").await.unwrap();
    let report = app.verify_ledger().await.unwrap();
    assert_eq!(report.findings[0].seq, Some(6), "{:?}", report.findings);
    assert_eq!(report.findings[0].code, "payload_mismatch");
});

raw_store_test!(a_changed_field_and_a_forged_leaf_are_named, |store: Arc<dyn Store>, raw: RawDb| async move {
    let app = recorded_app(store.clone()).await;
    disable_guards(&store, &raw).await;
    raw.execute("UPDATE ledger_entries SET actor = 'someone.else' WHERE seq = 3").await.unwrap();
    let report = app.verify_ledger().await.unwrap();
    assert_eq!((report.findings[0].seq, report.findings[0].code), (Some(3), "leaf_mismatch"), "{:?}", report.findings);
    // Forging the leaf to match the new fields still breaks the stored tree.
    let forged = report.recomputed_head;
    let entries = store.ledger_entries(3, 1).await.unwrap();
    let leaf = entries[0].entry.leaf_hash(forged.algorithm).to_hex();
    raw.execute(&format!("UPDATE ledger_nodes SET hash = '{leaf}' WHERE level = 0 AND idx = 3")).await.unwrap();
    let report = app.verify_ledger().await.unwrap();
    assert_eq!((report.findings[0].seq, report.findings[0].code), (Some(3), "node_mismatch"), "{:?}", report.findings);
    assert!(report.findings.iter().any(|f| f.code == "root_mismatch"));
});

raw_store_test!(lost_entries_are_named, |store: Arc<dyn Store>, raw: RawDb| async move {
    let app = recorded_app(store.clone()).await;
    disable_guards(&store, &raw).await;
    raw.execute("DELETE FROM ledger_entries WHERE seq >= 5").await.unwrap();
    let report = app.verify_ledger().await.unwrap();
    assert_eq!((report.findings[0].seq, report.findings[0].code), (Some(5), "size_mismatch"), "{:?}", report.findings);
});

fn signing(app: App) -> App {
    app.with_signer(gridward_ledger::CheckpointKey::generate().unwrap(), "test.gridward")
}

raw_store_test!(checkpoints_are_signed_and_proven_consistent, |store: Arc<dyn Store>, _raw: RawDb| async move {
    let app = signing(recorded_app(store).await);
    let first = app.sign_checkpoint().await.unwrap();
    assert_eq!(first.checkpoint.head.size, 8);
    assert_eq!(app.sign_checkpoint().await.unwrap(), first, "nothing new, nothing signed");
    let key = app.published_key().unwrap();
    gridward_ledger::verify_checkpoint(&first.origin, &first.checkpoint, &first.signature, &key.public_key).unwrap();

    app.import_divisions(DIVISIONS, &test_actor()).await.unwrap();
    let second = app.sign_checkpoint().await.unwrap();
    assert_eq!(second.checkpoint.head.size, 12);
    let proof = app.consistency_proof(8, 12).await.unwrap();
    proof.verify(&first.checkpoint.head, &second.checkpoint.head).unwrap();
    assert!(app.consistency_proof(8, 13).await.is_err(), "beyond the record");
    assert_eq!(app.latest_checkpoint().await.unwrap().unwrap(), second);

    let report = app.verify_ledger().await.unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.checkpoints_checked, 2);
});

raw_store_test!(a_truncated_record_is_caught_by_its_signed_checkpoint, |store: Arc<dyn Store>, raw: RawDb| async move {
    let app = signing(recorded_app(store.clone()).await);
    app.sign_checkpoint().await.unwrap();
    // Someone with database access removes the last three entries and everything that pointed at them,
    // leaving a record that is consistent in itself.
    disable_guards(&store, &raw).await;
    let statements: &[&str] = match store.backend() {
        Backend::Sqlite => &["DROP TRIGGER ledger_nodes_no_delete"],
        Backend::Postgres => &[],
    };
    for sql in statements {
        raw.execute(sql).await.unwrap();
    }
    raw.execute("DELETE FROM ledger_entries WHERE seq >= 5").await.unwrap();
    raw.execute("DELETE FROM ledger_nodes WHERE idx * (1 << level) + (1 << level) > 5").await.unwrap();
    let plan = gridward_ledger::root_plan(5);
    let nodes = store.ledger_nodes(&plan).await.unwrap();
    let frontier = plan.iter().map(|id| nodes[id].to_hex()).collect::<Vec<_>>().join(",");
    raw.execute(&format!("UPDATE ledger_state SET size = 5, frontier = '{frontier}'")).await.unwrap();
    let report = app.verify_ledger().await.unwrap();
    assert!(report.findings.iter().any(|f| f.code == "checkpoint_ahead"), "{:?}", report.findings);
    assert_eq!(report.findings[0].seq, Some(5));
});
