//! Stored cases: numbering per body and year, documents numbered per kind, optimistic steps, queries, and a
//! database that refuses case rows written without their entry.

use std::sync::Arc;

use gridward_domain::Date;
use gridward_domain::case::{CaseSource, Procedure, Stage};
use gridward_domain::party::PartyKind;
use gridward_store::cases::numbered;
use gridward_store::{CaseQuery, CaseRecord, CaseStepRecord, NewDocument, Store};
use gridward_testkit::{RawDb, raw_store_test, store_test, test_change};

fn record(body: &str, jurisdiction: &str, proposed_on: Date) -> CaseRecord {
    CaseRecord {
        id: 0,
        number: String::new(),
        body_code: body.into(),
        jurisdiction: jurisdiction.into(),
        procedure: Procedure::Ordinary,
        stage: Stage::Filing,
        source: CaseSource::Patrol,
        source_ref: String::new(),
        power_code: "P1".into(),
        party_kind: PartyKind::Person,
        party_name: "王小明".into(),
        officers: vec!["A1".into()],
        fine_yuan: 0,
        next_due: None,
        next_due_code: None,
        proposed_on,
        decided_on: None,
        closed_on: None,
        crime_indicator: false,
        transfer_state: None,
        updated_at: 1,
        ledger_seq: 0,
    }
}

fn step(code: &str) -> CaseStepRecord {
    let body = serde_json::json!({
        "step": code,
        "opening": { "party": { "name": "王小明", "id_number": "11010519491231002X" } },
    });
    CaseStepRecord { id: 0, case_id: 0, step: code.into(), body, actor: "A1".into(), at: 1, ledger_seq: 0 }
}

fn document(kind: &str, year: i16) -> NewDocument {
    NewDocument { kind: kind.into(), prefix: "崇综执".into(), year, content: serde_json::json!({ "facts": "占道经营" }) }
}

store_test!(cases_and_documents_are_numbered_per_body_and_year, |store: Arc<dyn Store>| async move {
    let change = test_change();
    let day = Date::constant(2026, 3, 2);
    let (first, docs) = store
        .open_case(&record("squad.a", "320613007", day), "崇综执立", &step("open"), &[document("filing_approval", 2026)], &change)
        .await
        .unwrap();
    assert_eq!((first.id, first.number.as_str()), (1, "崇综执立〔2026〕1号"));
    assert_eq!(docs[0].number, numbered("崇综执", 2026, 1));
    assert_eq!(docs[0].ledger_seq, first.ledger_seq);
    let (second, _) =
        store.open_case(&record("squad.a", "320613007", day), "崇综执立", &step("open"), &[], &change).await.unwrap();
    let (other, _) =
        store.open_case(&record("squad.b", "320613001", day), "崇综执立", &step("open"), &[], &change).await.unwrap();
    let (next_year, _) = store
        .open_case(&record("squad.a", "320613007", Date::constant(2027, 1, 4)), "崇综执立", &step("open"), &[], &change)
        .await
        .unwrap();
    assert_eq!(
        [second.number.as_str(), other.number.as_str(), next_year.number.as_str()],
        ["崇综执立〔2026〕2号", "崇综执立〔2026〕1号", "崇综执立〔2027〕1号"]
    );

    // A step replaces the row only if it is still the one read; its documents continue the numbering.
    let moved = CaseRecord { stage: Stage::Investigation, officers: vec!["A1".into(), "A2".into()], ..first.clone() };
    let (after, docs) = store
        .add_case_step(
            &moved,
            first.ledger_seq,
            &step("approve_opening"),
            &[document("filing_approval", 2026), document("notice", 2026)],
            &change,
        )
        .await
        .unwrap()
        .expect("not changed meanwhile");
    assert_eq!(docs.iter().map(|d| d.number.as_str()).collect::<Vec<_>>(), ["崇综执〔2026〕2号", "崇综执〔2026〕1号"]);
    assert!(
        store.add_case_step(&moved, first.ledger_seq, &step("approve_opening"), &[], &change).await.unwrap().is_none(),
        "stale"
    );
    let stored = store.case(first.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.stage, stored.number.as_str(), stored.ledger_seq),
        (Stage::Investigation, "崇综执立〔2026〕1号", after.ledger_seq)
    );
    let steps = store.case_steps(first.id).await.unwrap();
    assert_eq!(steps.iter().map(|s| s.step.as_str()).collect::<Vec<_>>(), ["open", "approve_opening"]);
    assert_eq!(steps[0].body["opening"]["party"]["id_number"], "11010519491231002X", "the step is stored whole");
    assert_eq!(store.case_documents(first.id).await.unwrap().len(), 3);

    // The entry carries the party's digest, not the person, and each document's digest.
    let entries = store.ledger_entries(first.ledger_seq as u64, 1).await.unwrap();
    let payload = &entries[0].payload;
    assert!(!payload.contains("11010519491231002X") && !payload.contains("王小明"), "{payload}");
    let entry = store.ledger_entries(after.ledger_seq as u64, 1).await.unwrap().remove(0);
    let payload: serde_json::Value = serde_json::from_str(&entry.payload).unwrap();
    assert_eq!(payload["documents"][1]["digest"], docs[1].digest.as_str());

    // Queries: territory prefixes, officer, stage and due dates.
    let q = |query: CaseQuery| {
        let store = store.clone();
        async move { store.cases(&query).await.unwrap().iter().map(|c| c.id).collect::<Vec<_>>() }
    };
    assert_eq!(q(CaseQuery { within: vec!["320613007".into()], ..Default::default() }).await, [4, 2, 1]);
    assert_eq!(q(CaseQuery { within: vec!["320613001".into(), "320613007".into()], ..Default::default() }).await, [4, 3, 2, 1]);
    assert_eq!(q(CaseQuery { officer: Some("A2".into()), ..Default::default() }).await, [1]);
    assert_eq!(q(CaseQuery { stages: vec![Stage::Investigation], ..Default::default() }).await, [1]);
    let due = CaseRecord {
        next_due: Some(Date::constant(2026, 3, 9)),
        next_due_code: Some("hearing_request".into()),
        ..second.clone()
    };
    store.add_case_step(&due, second.ledger_seq, &step("give_notice"), &[], &change).await.unwrap().unwrap();
    assert_eq!(q(CaseQuery { due_by: Some(Date::constant(2026, 3, 10)), ..Default::default() }).await, [2]);
    assert_eq!(q(CaseQuery { due_by: Some(Date::constant(2026, 3, 8)), ..Default::default() }).await, Vec::<i64>::new());
    // The procuratorate's watch list: transferred, or with signs of a crime.
    let watched = CaseRecord { crime_indicator: true, ..store.case(4).await.unwrap().unwrap() };
    store.add_case_step(&watched, watched.ledger_seq, &step("flag_crime_indicator"), &[], &change).await.unwrap().unwrap();
    let sent = CaseRecord { transfer_state: Some("transferred".into()), ..store.case(3).await.unwrap().unwrap() };
    store.add_case_step(&sent, sent.ledger_seq, &step("transfer_to_police"), &[], &change).await.unwrap().unwrap();
    assert_eq!(q(CaseQuery { watched: true, ..Default::default() }).await, [4, 3]);
    // Published decisions, less those withdrawn later.
    let c2 = store.case(2).await.unwrap().unwrap();
    let (c2, _) = store
        .add_case_step(&c2, c2.ledger_seq, &step("publish"), &[document("publication", 2026)], &change)
        .await
        .unwrap()
        .unwrap();
    let c3 = store.case(3).await.unwrap().unwrap();
    store.add_case_step(&c3, c3.ledger_seq, &step("publish"), &[document("publication", 2026)], &change).await.unwrap().unwrap();
    assert_eq!(store.published_documents(10).await.unwrap().iter().map(|d| d.case_id).collect::<Vec<_>>(), [3, 2]);
    store
        .add_case_step(&c2, c2.ledger_seq, &step("withdraw_publication"), &[document("withdrawal", 2026)], &change)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.published_documents(10).await.unwrap().iter().map(|d| d.case_id).collect::<Vec<_>>(), [3]);
});

raw_store_test!(case_rows_need_their_entry, |store: Arc<dyn Store>, raw: RawDb| async move {
    let (case, _) = store
        .open_case(
            &record("squad.a", "320613007", Date::constant(2026, 3, 2)),
            "崇综执立",
            &step("open"),
            &[document("notice", 2026)],
            &test_change(),
        )
        .await
        .unwrap();
    for sql in [
        "UPDATE cases SET stage = 'closed'".to_string(),
        "DELETE FROM cases".to_string(),
        "UPDATE case_steps SET body = '{}'".to_string(),
        "DELETE FROM case_steps".to_string(),
        "UPDATE case_documents SET content = '{}'".to_string(),
        "DELETE FROM case_documents".to_string(),
        format!(
            "INSERT INTO case_steps (id, case_id, step, body, actor, at, ledger_seq) VALUES (99, {}, 'x', '{{}}', 'a', 1, 99)",
            case.id
        ),
    ] {
        match raw.execute(&sql).await {
            Ok(n) => panic!("the database accepted {sql:?} ({n} rows)"),
            Err(e) => assert!(e.contains("unrecorded_change"), "{sql}: {e}"),
        }
    }
    assert_eq!(store.case(case.id).await.unwrap().unwrap().stage, Stage::Filing);
});
