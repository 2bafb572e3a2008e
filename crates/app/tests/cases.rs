//! Enforcement cases on both backends: an ordinary case from opening to archive with its documents, a
//! summary case on the street, and the gates of role, territory, law and concurrency around them.

use std::sync::Arc;

use gridward_app::cases::{OpenCase, SummaryInput};
use gridward_app::{App, AppError};
use gridward_domain::access::{Principal, Role};
use gridward_domain::case::{CaseSource, EvidenceCategory, Officer, Outcome, Penalty, Procedure, ServiceMethod, Stage, StepKind};
use gridward_domain::division::DivisionCode;
use gridward_domain::party::{Party, PartyKind};
use gridward_store::{Reporter, Store};
use gridward_testkit::store_test;

const PASSWORD: &str = "demo-password-1";
const POWER: &str = "srhw.34.1.4";

fn principal(name: &str, roles: &[Role], scope: &str) -> Principal {
    Principal {
        username: name.into(),
        display_name: name.into(),
        roles: roles.to_vec(),
        scope: DivisionCode::parse(scope).unwrap(),
    }
}

fn officer() -> Principal {
    principal("officer.zhongxiu", &[Role::Officer], "320613007000")
}
fn leader() -> Principal {
    principal("leader", &[Role::Leader], "320600000000")
}
fn legal() -> Principal {
    principal("legal", &[Role::LegalReviewer], "320600000000")
}
fn auxiliary() -> Principal {
    principal("auxiliary.zhongxiu", &[Role::Auxiliary], "320613007000")
}
fn elsewhere() -> Principal {
    principal("officer.wenfeng", &[Role::Officer], "320613008000")
}

fn party() -> Party {
    Party {
        kind: PartyKind::Person,
        name: "王小明".into(),
        id_number: "11010519491231002X".into(),
        address: "崇川区钟秀街道某路1号".into(),
        representative: String::new(),
        phone: "13912345678".into(),
    }
}

fn opening(procedure: Procedure, summary: Option<SummaryInput>) -> OpenCase {
    OpenCase {
        procedure,
        source: CaseSource::Patrol,
        source_ref: String::new(),
        party: party(),
        power_code: POWER.into(),
        facts: "在钟秀路人行道上堆放生活垃圾".into(),
        act_date: gridward_app::today(),
        discovered_on: None,
        serious_harm: false,
        summary,
    }
}

fn refusal(e: AppError) -> String {
    match e {
        AppError::Unlawful { code, article, .. } => format!("{code} {article}"),
        other => other.code().to_string(),
    }
}

fn named(staff_no: &str) -> Officer {
    Officer { staff_no: staff_no.into(), name: String::new(), roles: Vec::new(), auxiliary: false, credential: None }
}

store_test!(an_ordinary_case_runs_from_opening_to_archive, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    let squad = store.staff_of_body("squad.320613007", &gridward_store::Page { after: None, limit: 50 }).await.unwrap();
    let colleague = squad.iter().filter(|s| !s.auxiliary && s.credential.is_some()).nth(1).unwrap().staff_no.clone();
    let me = store.user("officer.zhongxiu").await.unwrap().unwrap().staff_no.unwrap();

    // Bad input is refused before anything is written.
    let bad_id =
        OpenCase { party: Party { id_number: "110105194912310021".into(), ..party() }, ..opening(Procedure::Ordinary, None) };
    assert_eq!(refusal(app.open_case(&officer(), bad_id).await.unwrap_err()), "bad_id_check");
    assert_eq!(refusal(app.open_case(&auxiliary(), opening(Procedure::Ordinary, None)).await.unwrap_err()), "forbidden");
    let not_held = OpenCase { power_code: "no.such.power".into(), ..opening(Procedure::Ordinary, None) };
    assert_eq!(refusal(app.open_case(&officer(), not_held).await.unwrap_err()), "not_found");
    assert!(store.cases(&Default::default()).await.unwrap().is_empty());

    let view = app.open_case(&officer(), opening(Procedure::Ordinary, None)).await.unwrap();
    let id = view.record.id;
    assert_eq!(view.record.stage, Stage::Filing);
    assert!(view.record.number.starts_with("钟秀综执立〔"), "{}", view.record.number);
    // The officer may not approve; the leader may. The workspace says why.
    let approve = view.next_steps.iter().find(|s| s.code == "approve_opening").unwrap();
    assert_eq!(approve.refusal.as_ref().unwrap().code, "leader_required");
    assert_eq!(refusal(app.act_on_case(&officer(), id, StepKind::ApproveOpening).await.unwrap_err()), "leader_required Art. 57");
    let v = app.act_on_case(&leader(), id, StepKind::ApproveOpening).await.unwrap();
    assert_eq!(v.record.stage, Stage::Investigation);
    assert_eq!(v.documents[0].kind, "filing_approval");
    let assign = StepKind::AssignInvestigators { investigators: vec![named(&me), named(&colleague)] };
    app.act_on_case(&leader(), id, assign).await.unwrap();

    // Territory: another street's officer does not learn the case exists; the auxiliary sees it masked.
    assert_eq!(refusal(app.case_view(&elsewhere(), id).await.unwrap_err()), "not_found");
    let masked = app.case_view(&auxiliary(), id).await.unwrap();
    assert!(masked.party_masked);
    assert_eq!(masked.case.opening.party.id_number, "110105**********2X");
    assert!(!serde_json::to_string(&masked).unwrap().contains("11010519491231002X"));
    // One document alone is masked the same way, and stays whole for those who need the identity.
    let filing = v.documents[0].id;
    let (record, document) = app.case_document(&auxiliary(), id, filing).await.unwrap();
    assert_eq!(record.party_name, masked.record.party_name);
    assert!(!document.content.to_string().contains("11010519491231002X"), "{}", document.content);
    assert!(app.case_document(&leader(), id, filing).await.unwrap().1.content.to_string().contains("11010519491231002X"));
    assert_eq!(refusal(app.case_document(&elsewhere(), id, filing).await.unwrap_err()), "not_found");
    assert_eq!(refusal(app.case_document(&leader(), id, filing + 1000).await.unwrap_err()), "not_found");
    let add =
        StepKind::AddEvidence { evidence_id: None, category: EvidenceCategory::AudioVisual, description: "现场照片".into() };
    assert_eq!(refusal(app.act_on_case(&auxiliary(), id, add.clone()).await.unwrap_err()), "auxiliary_cannot_act Art. 42");

    // A notice before evidence is refused and nothing changes.
    let notice = StepKind::GiveNotice {
        penalties: vec![Penalty::fine(500)],
        facts: "在人行道堆放垃圾".into(),
        basis: "《城市市容和环境卫生管理条例》第三十四条".into(),
    };
    let before = store.case(id).await.unwrap().unwrap();
    assert_eq!(refusal(app.act_on_case(&officer(), id, notice.clone()).await.unwrap_err()), "evidence_required Art. 46");
    assert_eq!(store.case(id).await.unwrap().unwrap(), before);
    app.act_on_case(&officer(), id, add).await.unwrap();
    let inquiry = StepKind::RecordInquiry {
        officers: vec![me.clone(), colleague.clone()],
        summary: "询问当事人，当事人承认堆放".into(),
        evidence_id: None,
    };
    app.act_on_case(&officer(), id, inquiry).await.unwrap();
    let v = app.act_on_case(&officer(), id, notice).await.unwrap();
    assert_eq!(v.record.stage, Stage::Notified);
    assert_eq!(v.record.next_due_code.as_deref(), Some("hearing_request"));
    // Art. 44: no decision while the party's time runs; the party then waives.
    let decide = StepKind::Decide {
        outcome: Outcome::Penalty { penalties: vec![Penalty::fine(500)] },
        reasons: "事实清楚，证据确凿".into(),
    };
    assert_eq!(refusal(app.act_on_case(&leader(), id, decide.clone()).await.unwrap_err()), "rights_period_open Art. 44, 64");
    app.act_on_case(&officer(), id, StepKind::WaiveRights).await.unwrap();
    // Legal review by a reviewer who did not investigate.
    app.act_on_case(&legal(), id, StepKind::LegalReview { passed: true, opinion: "事实清楚，程序合法".into() }).await.unwrap();
    let v = app.act_on_case(&leader(), id, decide).await.unwrap();
    assert_eq!(v.record.stage, Stage::Decided);
    assert_eq!(v.record.fine_yuan, 500);
    let decision = v.documents.iter().find(|d| d.kind == "decision").unwrap();
    assert!(decision.number.starts_with("钟秀综执罚决〔"), "{}", decision.number);
    let text = decision.content.to_string();
    for needed in ["王小明", "11010519491231002X", "十五日内", "百分之三", "六十日内", "崇川区人民政府", "罚款 500元"]
    {
        assert!(text.contains(needed), "the decision lacks {needed}: {text}");
    }
    app.act_on_case(&officer(), id, StepKind::Serve { method: ServiceMethod::OnTheSpot }).await.unwrap();
    assert_eq!(
        refusal(app.act_on_case(&leader(), id, StepKind::Close { summary: "结案".into() }).await.unwrap_err()),
        "fine_unpaid Art. 67, 72"
    );
    app.act_on_case(&officer(), id, StepKind::RecordPayment { amount_fen: 50_000, receipt: "NT-2026-0001".into() })
        .await
        .unwrap();
    app.act_on_case(&leader(), id, StepKind::Close { summary: "罚款已缴清，结案".into() }).await.unwrap();
    let v = app.act_on_case(&leader(), id, StepKind::Archive).await.unwrap();
    assert_eq!(v.record.stage, Stage::Archived);
    let kinds: Vec<_> = v.documents.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(kinds, ["filing_approval", "prior_notice", "decision", "service_receipt", "closing_report"]);
    assert!(v.next_steps.iter().all(|s| !s.available));

    // Every step is in the record, each document's digest in its step's entry, and the record verifies.
    let steps = store.case_steps(id).await.unwrap();
    assert_eq!(steps.len(), 13);
    for d in &v.documents {
        let entry = store.ledger_entries(d.ledger_seq as u64, 1).await.unwrap().remove(0);
        assert!(entry.payload.contains(&d.digest), "{} not in its entry", d.kind);
        assert!(!entry.payload.contains("11010519491231002X"));
    }
    assert!(app.verify_ledger().await.unwrap().is_intact());
    // Deadline dashboards list nothing for an archived case.
    assert!(app.deadline_board(&leader(), 30).await.unwrap().cases.is_empty());
});

store_test!(a_summary_case_is_decided_on_the_street, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    let squad = store.staff_of_body("squad.320613007", &gridward_store::Page { after: None, limit: 50 }).await.unwrap();
    let colleague = squad.iter().filter(|s| !s.auxiliary && s.credential.is_some()).nth(1).unwrap().staff_no.clone();
    // The form offers the squad's penalty powers and the credentialed colleagues, never the officer.
    let me = store.user("officer.zhongxiu").await.unwrap().unwrap().staff_no.unwrap();
    let choices = app.new_case_choices(&officer()).await.unwrap();
    assert!(choices.powers.len() >= 3, "{:?}", choices.powers);
    assert!(choices.colleagues.iter().all(|(no, _)| *no != me) && !choices.colleagues.is_empty());
    if colleague != me {
        assert!(choices.colleagues.iter().any(|(no, _)| *no == colleague));
    }
    assert!(matches!(app.new_case_choices(&auxiliary()).await, Err(AppError::Forbidden)));
    let summary = |amount, collected| SummaryInput {
        facts_clear: true,
        penalty: Penalty::fine(amount),
        form_number: "NT-JY-000123".into(),
        companion: colleague.clone(),
        collected_on_spot: collected,
    };
    // Art. 51: 201 yuan on a person is beyond the summary procedure; Art. 68: 150 yuan is not collected on the spot.
    let over = app.open_case(&officer(), opening(Procedure::Summary, Some(summary(201, false)))).await.unwrap_err();
    assert_eq!(refusal(over), "summary_fine_over_limit Art. 51");
    let cash = app.open_case(&officer(), opening(Procedure::Summary, Some(summary(150, true)))).await.unwrap_err();
    assert_eq!(refusal(cash), "on_the_spot_collection_over_limit Art. 68");
    assert!(store.cases(&Default::default()).await.unwrap().is_empty(), "nothing half-written");

    let v = app.open_case(&officer(), opening(Procedure::Summary, Some(summary(50, true)))).await.unwrap();
    assert_eq!((v.record.stage, v.outstanding_fen), (Stage::Execution, 0));
    let doc = &v.documents[0];
    assert_eq!(doc.kind, "summary_decision");
    assert!(doc.content.to_string().contains(&v.record.number), "the form carries the case number");
    assert!(doc.content.to_string().contains("NT-JY-000123"));
    assert_eq!(
        refusal(app.act_on_case(&leader(), v.record.id, StepKind::Close { summary: "结案".into() }).await.unwrap_err()),
        "summary_not_filed Art. 52"
    );
    app.act_on_case(&officer(), v.record.id, StepKind::FileSummary).await.unwrap();
    let closed = app.act_on_case(&leader(), v.record.id, StepKind::Close { summary: "当场缴纳，备案结案".into() }).await.unwrap();
    assert_eq!(closed.record.stage, Stage::Closed);

    // Two writers on the same case: the second, holding a stale row, is told and writes nothing.
    let w = app.open_case(&officer(), opening(Procedure::Summary, Some(summary(20, false)))).await.unwrap();
    let stale = store.case(w.record.id).await.unwrap().unwrap();
    app.act_on_case(&officer(), w.record.id, StepKind::FileSummary).await.unwrap();
    let step = gridward_store::CaseStepRecord {
        id: 0,
        case_id: 0,
        step: "file_summary".into(),
        body: serde_json::json!({}),
        actor: "x".into(),
        at: 0,
        ledger_seq: 0,
    };
    let again = store.add_case_step(&stale, stale.ledger_seq, &step, &[], &gridward_testkit::test_change()).await.unwrap();
    assert!(again.is_none());
    assert_eq!(store.case_steps(w.record.id).await.unwrap().len(), 2);
    // The deadlines board shows the unpaid fine's payment date, counted for the squad and the officer.
    let board = app.deadline_board(&leader(), 30).await.unwrap();
    assert_eq!(board.cases.iter().map(|c| c.id).collect::<Vec<_>>(), [w.record.id]);
    assert_eq!(board.cases[0].next_due_code.as_deref(), Some("payment"));
    assert_eq!(board.by_body[0].1, 1);
});

store_test!(the_demo_has_cases_at_every_stage, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    app.load_demo_cases().await.unwrap();
    app.load_demo_cases().await.unwrap();
    let cases = app.cases(&leader(), Vec::new(), false).await.unwrap();
    assert_eq!(cases.len(), 9, "loaded once");
    let mut stages: Vec<_> = cases.iter().map(|c| c.stage.as_str()).collect();
    stages.sort();
    stages.dedup();
    assert_eq!(stages, ["archived", "closed", "decided", "execution", "filing", "investigation", "notified"]);
    // Some deadlines are missed, and the served case's late fee has reached the fine.
    let board = app.deadline_board(&leader(), 7).await.unwrap();
    assert!(board.cases.iter().any(|c| c.next_due.is_some_and(|d| d < board.today)), "an overdue deadline");
    let served = cases.iter().find(|c| c.stage.as_str() == "execution" && c.fine_yuan == 600).unwrap();
    let view = app.case_view(&leader(), served.id).await.unwrap();
    assert!(view.late_fee_fen > 0 && view.late_fee_fen <= 60_000, "{}", view.late_fee_fen);
    // The procuratorate sees the transferred case and the one with signs of a crime that was penalised.
    let procurator = principal("procurator", &[Role::Procuratorate], "320600000000");
    let watched = app.cases(&procurator, Vec::new(), false).await.unwrap();
    assert_eq!(watched.len(), 2);
    assert!(watched.iter().any(|c| c.transfer_state.as_deref() == Some("transferred")));
    assert!(watched.iter().any(|c| c.crime_indicator && c.transfer_state.is_none() && c.fine_yuan > 0), "以罚代刑 watch");
    let other = cases.iter().find(|c| !c.crime_indicator && c.transfer_state.is_none()).unwrap();
    assert_eq!(app.case_view(&procurator, other.id).await.unwrap_err().code(), "not_found");
    assert_eq!(app.published_decisions(10).await.unwrap().len(), 2);
    assert!(app.verify_ledger().await.unwrap().is_intact());
});

store_test!(next_years_calendar_is_imported_once, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    let admin = principal("admin", &[Role::Admin], "320600000000");
    let next = "date,kind,festival\n2027-01-01,holiday,New Year's Day\n2027-02-06,holiday,Spring Festival\n";
    assert_eq!(app.import_calendar(&leader(), next.as_bytes()).await.unwrap_err().code(), "forbidden");
    assert_eq!(
        app.import_calendar(&admin, b"date,kind,festival\n2026-01-02,holiday,x\n").await.unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(app.import_calendar(&admin, next.as_bytes()).await.unwrap(), 2);
    assert_eq!(app.work_calendar().await.unwrap().known_through(), gridward_domain::Date::constant(2027, 12, 31));
    // Read again from the store by a fresh app: the import stays, and importing the same year again is refused.
    let again = App::new(store.clone()).unwrap();
    assert!(!again.work_calendar().await.unwrap().is_working_day(gridward_domain::Date::constant(2027, 2, 6)));
    assert_eq!(again.import_calendar(&admin, next.as_bytes()).await.unwrap_err().code(), "invalid_input");
    assert!(app.verify_ledger().await.unwrap().is_intact());
});

/// A WGS-84 point inside community 320613007001 (钟秀街道), from the centre of its outline.
async fn point_in_zhongxiu(store: &Arc<dyn Store>) -> (f64, f64) {
    let outline = store.boundary(&DivisionCode::parse("320613007001").unwrap()).await.unwrap().unwrap();
    let ring = outline.geometry["coordinates"][0][0].as_array().unwrap().clone();
    let (x, y) = ring.iter().fold((0.0, 0.0), |(x, y), p| (x + p[0].as_f64().unwrap(), y + p[1].as_f64().unwrap()));
    gridward_grid::Datum::Gcj02.convert(gridward_grid::Datum::Wgs84, x / ring.len() as f64, y / ring.len() as f64)
}

store_test!(an_escalated_report_becomes_a_case, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    let (lon, lat) = point_in_zhongxiu(&store).await;
    let report = gridward_app::reports::NewReport {
        service_code: "0101".into(),
        lon: Some(lon),
        lat: Some(lat),
        description: "店门口长期堆放垃圾".into(),
        reporter: Reporter { name: "王小明".into(), phone: "13812345678".into(), ..Reporter::default() },
        ..Default::default()
    };
    let submitted = app.submit_report(&gridward_app::reports::Submitter::Public, report).await.unwrap();
    let as_case =
        OpenCase { source: CaseSource::Report, source_ref: submitted.id.to_string(), ..opening(Procedure::Ordinary, None) };
    // Only a registered report becomes a case, and nothing is written otherwise.
    assert_eq!(refusal(app.open_case(&officer(), as_case.clone()).await.unwrap_err()), "illegal_transition");
    assert!(store.cases(&Default::default()).await.unwrap().is_empty());
    let dispatcher = principal("dispatcher", &[Role::Dispatcher], "320600000000");
    let verify = gridward_domain::report::Action::Verify { severity: None, public_text: None };
    app.act_on_report(&dispatcher, submitted.id, verify).await.unwrap();
    let view = app.open_case(&officer(), as_case).await.unwrap();
    assert_eq!(
        (view.case.opening.source, view.case.opening.source_ref.as_str()),
        (CaseSource::Report, submitted.id.to_string().as_str())
    );
    let linked = store.report(submitted.id).await.unwrap().unwrap();
    assert_eq!(linked.case_ref.as_deref(), Some(view.record.number.as_str()), "the report names its case");
    // A report in another street's territory cannot be named by this officer.
    let stranger = OpenCase { source: CaseSource::Report, source_ref: "999999".into(), ..opening(Procedure::Ordinary, None) };
    assert_eq!(refusal(app.open_case(&officer(), stranger).await.unwrap_err()), "not_found");
});
