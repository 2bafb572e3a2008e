//! The full-process record: every write appends its entries in the same transaction, the tree over them
//! is kept right, and the database itself refuses changes that bypass or rewrite the record.

use std::sync::Arc;

use gridward_domain::division::{Division, DivisionCode, Level};
use gridward_ledger::{HashAlgorithm, MemoryNodeStore, MerkleTree, NodeId};
use gridward_store::Store;
use gridward_testkit::{RawDb, raw_store_test, store_test, test_change};

fn division(code: &str, name: &str, level: Level, parent: Option<&str>) -> Division {
    Division {
        code: DivisionCode::parse(code).unwrap(),
        name: name.into(),
        level,
        parent_code: parent.map(|p| DivisionCode::parse(p).unwrap()),
        valid_from: None,
        valid_to: None,
    }
}

async fn seed(store: &Arc<dyn Store>) {
    let divisions = [
        division("320600000000", "南通市", Level::City, Some("320000000000")),
        division("320613000000", "崇川区", Level::District, Some("320600000000")),
    ];
    store.upsert_divisions(&divisions, &[], &test_change()).await.unwrap();
    store.upsert_divisions(&divisions[1..], &[], &test_change()).await.unwrap();
}

store_test!(every_write_appends_its_entries_and_the_tree_follows, |store: Arc<dyn Store>| async move {
    assert_eq!(store.ledger_head().await.unwrap().unwrap().size, 0);
    seed(&store).await;
    let entries = store.ledger_entries(0, 100).await.unwrap();
    assert_eq!(entries.len(), 3, "two divisions, then one of them again");
    assert_eq!(entries.iter().map(|e| e.entry.seq).collect::<Vec<_>>(), [0, 1, 2]);
    let last = &entries[2].entry;
    assert_eq!(
        (last.action.as_str(), last.object_type.as_str(), last.object_id.as_str()),
        ("division.upsert", "division", "320613000000")
    );
    assert_eq!((last.actor.as_str(), last.role.as_str(), last.recorded_at), ("test.admin", "admin", 1_700_000_000));
    for e in &entries {
        assert_eq!(e.entry.payload_digest, HashAlgorithm::Sm3.digest(e.payload.as_bytes()));
    }
    // The stored head is the root of the leaves recomputed from the entries alone.
    let mut tree = MerkleTree::new(HashAlgorithm::Sm3, MemoryNodeStore::new());
    for e in &entries {
        tree.append(&e.entry.canonical_bytes()).unwrap();
    }
    assert_eq!(store.ledger_head().await.unwrap().unwrap(), tree.head());
    // The stored nodes are the ones the tree computed.
    let nodes = store.ledger_nodes(&[NodeId::new(1, 0), NodeId::new(0, 2), NodeId::new(1, 1)]).await.unwrap();
    assert_eq!(nodes.len(), 2, "(1, 1) is not complete yet");
    assert_eq!(nodes[&NodeId::new(0, 2)], entries[2].entry.leaf_hash(HashAlgorithm::Sm3));
    // The algorithm is fixed at creation.
    assert_eq!(store.init_ledger(HashAlgorithm::Sha256, 5).await.unwrap(), HashAlgorithm::Sm3);
});

store_test!(a_refused_write_leaves_no_entry, |store: Arc<dyn Store>| async move {
    seed(&store).await;
    let before = store.ledger_head().await.unwrap().unwrap();
    let orphan = gridward_domain::org::Body {
        code: "nt.x".into(),
        name: "x".into(),
        kind: gridward_domain::org::BodyKind::Bureau,
        division_code: DivisionCode::parse("320613000000").unwrap(),
        parent_code: Some("missing".into()),
        domains: vec![gridward_domain::org::EnforcementDomain::UrbanManagement],
    };
    assert!(store.upsert_bodies(&[orphan], &test_change()).await.is_err());
    assert_eq!(store.ledger_head().await.unwrap().unwrap(), before);
    assert_eq!(store.ledger_entries(0, 100).await.unwrap().len(), 3);
});

async fn refused(raw: &RawDb, sql: &str) -> String {
    match raw.execute(sql).await {
        Ok(n) => panic!("the database accepted {sql:?} ({n} rows)"),
        Err(e) => e,
    }
}

raw_store_test!(a_change_without_its_entry_is_impossible, |store: Arc<dyn Store>, raw: RawDb| async move {
    seed(&store).await;
    // The tree over the entries exists too.
    store.integrate_ledger().await.unwrap();
    // A new row needs an entry about that very object.
    let e = refused(&raw, "INSERT INTO divisions (code, name, level, parent_code, ledger_seq) VALUES ('320612000000', '通州区', 'district', '320600000000', 99)").await;
    assert!(e.contains("unrecorded_change"), "{e}");
    let e = refused(&raw, "INSERT INTO divisions (code, name, level, parent_code, ledger_seq) VALUES ('320612000000', '通州区', 'district', '320600000000', 0)").await;
    assert!(e.contains("unrecorded_change"), "entry 0 is about another division: {e}");
    // An update must name a newer entry, and nothing may be deleted.
    let e = refused(&raw, "UPDATE divisions SET name = '改名' WHERE code = '320613000000'").await;
    assert!(e.contains("unrecorded_change"), "{e}");
    let e = refused(&raw, "DELETE FROM divisions WHERE code = '320613000000'").await;
    assert!(e.contains("unrecorded_change"), "{e}");
    // The record itself is append-only.
    for sql in [
        "UPDATE ledger_entries SET actor = 'someone else' WHERE seq = 0",
        "DELETE FROM ledger_entries WHERE seq = 2",
        "UPDATE ledger_nodes SET hash = 'ff' WHERE level = 0 AND idx = 0",
        "DELETE FROM ledger_nodes",
        "UPDATE ledger_state SET size = 1 WHERE id = 1",
        "UPDATE ledger_state SET algorithm = 'sha256' WHERE id = 1",
        "DELETE FROM ledger_state",
    ] {
        let e = refused(&raw, sql).await;
        assert!(e.contains("ledger_append_only"), "{sql}: {e}");
    }
    assert_eq!(store.division(&DivisionCode::parse("320613000000").unwrap()).await.unwrap().unwrap().name, "崇川区");
    assert_eq!(store.ledger_head().await.unwrap().unwrap().size, 3);
});

store_test!(concurrent_writers_get_consecutive_entries, |store: Arc<dyn Store>| async move {
    seed(&store).await;
    let writers = (0..12).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let body = gridward_domain::org::Body {
                code: format!("nt.b{i}"),
                name: format!("执法队 {i}"),
                kind: gridward_domain::org::BodyKind::Bureau,
                division_code: DivisionCode::parse("320613000000").unwrap(),
                parent_code: None,
                domains: vec![gridward_domain::org::EnforcementDomain::UrbanManagement],
            };
            store.upsert_bodies(&[body], &test_change()).await
        })
    });
    for w in writers.collect::<Vec<_>>() {
        w.await.unwrap().unwrap();
    }
    let entries = store.ledger_entries(0, 100).await.unwrap();
    assert_eq!(entries.iter().map(|e| e.entry.seq).collect::<Vec<_>>(), (0..15).collect::<Vec<_>>());
    let mut tree = MerkleTree::new(HashAlgorithm::Sm3, MemoryNodeStore::new());
    for e in &entries {
        tree.append(&e.entry.canonical_bytes()).unwrap();
    }
    assert_eq!(store.ledger_head().await.unwrap().unwrap(), tree.head());
});

store_test!(a_long_tail_of_entries_is_integrated_page_by_page, |store: Arc<dyn Store>| async move {
    // More entries than one integration transaction takes.
    let mut divisions = vec![division("320600000000", "南通市", Level::City, Some("320000000000"))];
    divisions.extend((1..=4200).map(|i| {
        let code = format!("3206{:02}{:03}000", 10 + i / 900, i % 900 + 1);
        division(&code, "街道", Level::Street, Some(&format!("3206{:02}000000", 10 + i / 900)))
    }));
    let districts: Vec<_> =
        (10..=14).map(|d| division(&format!("3206{d:02}000000"), "区", Level::District, Some("320600000000"))).collect();
    store.upsert_divisions(&[&divisions[..1], &districts].concat(), &[], &test_change()).await.unwrap();
    store.upsert_divisions(&divisions[1..], &[], &test_change()).await.unwrap();
    let entries = store.ledger_entries(0, 5000).await.unwrap();
    assert_eq!(entries.len(), 4206);
    let mut tree = MerkleTree::new(HashAlgorithm::Sm3, MemoryNodeStore::new());
    for e in &entries {
        tree.append(&e.entry.canonical_bytes()).unwrap();
    }
    assert_eq!(store.integrate_ledger().await.unwrap(), tree.head());
    assert_eq!(store.ledger_head().await.unwrap().unwrap(), tree.head());
    let last = NodeId::new(0, 4205);
    assert_eq!(store.ledger_nodes(&[last]).await.unwrap()[&last], entries[4205].entry.leaf_hash(HashAlgorithm::Sm3));
});

store_test!(actions_without_a_row_are_recorded_in_order, |store: Arc<dyn Store>| async move {
    seed(&store).await;
    let records: Vec<_> = (0..250)
        .map(|i| gridward_store::ledger::Record {
            action: "evidence.read",
            object_type: "evidence",
            object_id: "ev-1",
            jurisdiction: "320613000000",
            payload: serde_json::json!({ "reader": format!("officer.{i}") }),
        })
        .collect();
    assert_eq!(store.record_actions(&records, &test_change()).await.unwrap(), 250);
    let entries = store.ledger_entries(0, 1000).await.unwrap();
    assert_eq!(entries.iter().map(|e| e.entry.seq).collect::<Vec<_>>(), (0..253).collect::<Vec<_>>());
    assert_eq!(entries[252].payload, r#"{"reader":"officer.249"}"#);
    assert_eq!(entries[252].entry.payload_digest, HashAlgorithm::Sm3.digest(entries[252].payload.as_bytes()));
    assert_eq!(store.ledger_head().await.unwrap().unwrap().size, 253);
});
