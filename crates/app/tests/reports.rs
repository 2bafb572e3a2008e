//! Public reports through the seven steps, on both backends: intake, placement, duplicates, roles and
//! territory, photos, rework, escalation, rewards, Open311 keys and group commit.

use std::collections::BTreeMap;
use std::sync::Arc;

use gridward_app::evidence::{FsBlobStore, Upload};
use gridward_app::reports::{NewReport, Queue, Submitter};
use gridward_app::{App, AppError};
use gridward_domain::access::{Principal, Role};
use gridward_domain::division::DivisionCode;
use gridward_domain::report::{Action, CancelReason, Channel, ReportState};
use gridward_grid::Datum;
use gridward_store::{Reporter, Store};
use gridward_testkit::store_test;

const PASSWORD: &str = "demo-password-1";
const PHOTO: &[u8] = include_bytes!("../../../e2e/fixtures/stall.jpg");

fn principal(name: &str, roles: &[Role], scope: &str) -> Principal {
    Principal {
        username: name.into(),
        display_name: name.into(),
        roles: roles.to_vec(),
        scope: DivisionCode::parse(scope).unwrap(),
    }
}

/// A WGS-84 point inside community 320613007001 (钟秀街道), from the centre of its outline.
async fn point_in_zhongxiu(store: &Arc<dyn Store>) -> (f64, f64) {
    let outline = store.boundary(&DivisionCode::parse("320613007001").unwrap()).await.unwrap().unwrap();
    let geometry = outline.geometry.clone();
    let ring = geometry["coordinates"][0][0].as_array().or_else(|| geometry["coordinates"][0].as_array()).unwrap().clone();
    let ring: Vec<(f64, f64)> = ring.iter().filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?))).collect();
    let (x, y) = ring.iter().fold((0.0, 0.0), |(x, y), p| (x + p.0, y + p.1));
    let (x, y) = (x / ring.len() as f64, y / ring.len() as f64);
    Datum::Gcj02.convert(Datum::Wgs84, x, y)
}

fn report_at(service: &str, lon: f64, lat: f64) -> NewReport {
    NewReport {
        service_code: service.into(),
        lon: Some(lon),
        lat: Some(lat),
        description: "路边堆了很多垃圾".into(),
        reporter: Reporter { name: "王小明".into(), phone: "13812345678".into(), ..Reporter::default() },
        attributes: BTreeMap::from([("severity".to_string(), vec!["serious".to_string()])]),
        ..NewReport::default()
    }
}

fn code_of(e: AppError) -> String {
    e.code().to_string()
}

store_test!(a_report_goes_through_the_seven_steps, |store: Arc<dyn Store>| async move {
    let blobs = tempfile::tempdir().unwrap();
    let app = App::new(store.clone()).unwrap().with_evidence_store(Arc::new(FsBlobStore::new(blobs.path())));
    app.load_demo_city(PASSWORD).await.unwrap();
    assert!(app.services(true).await.unwrap().len() >= 20);
    let (lon, lat) = point_in_zhongxiu(&store).await;

    // Intake: placed by its community's outline (this test loads no grids), numbered, a token handed out.
    let first = app.submit_report(&Submitter::Public, report_at("0101", lon, lat)).await.unwrap();
    assert_eq!(first.state, ReportState::Submitted);
    assert!(first.placed && first.token.len() == 32);
    let stored = store.report(first.id).await.unwrap().unwrap();
    assert!(stored.jurisdiction.starts_with("320613007"), "{}", stored.jurisdiction);
    assert!(stored.step_due.unwrap() > stored.submitted_at);

    // The same problem 10 m away an hour later is linked to the first; another service is not.
    let again = app.submit_report(&Submitter::Client("fixmystreet".into()), report_at("0101", lon + 0.0001, lat)).await.unwrap();
    assert_eq!((again.state, again.duplicate_of), (ReportState::Duplicate, Some(first.id)));
    let other = app.submit_report(&Submitter::Public, report_at("0201", lon, lat)).await.unwrap();
    assert_eq!(other.duplicate_of, None);

    // Bad input: unknown service, no place, outside the city, markup, unknown attribute; nothing stored.
    let before = store.count_reports(&Default::default()).await.unwrap();
    let bad = |r: NewReport| async { code_of(app.submit_report(&Submitter::Public, r).await.unwrap_err()) };
    assert_eq!(bad(report_at("9999", lon, lat)).await, "not_found");
    assert_eq!(bad(NewReport { lon: None, lat: None, ..report_at("0101", lon, lat) }).await, "missing_location");
    assert_eq!(bad(report_at("0101", 116.39, 39.91)).await, "outside_jurisdiction");
    assert_eq!(bad(report_at("0101", 200.0, 0.0)).await, "bad_point");
    assert_eq!(
        bad(NewReport { description: "<script>x</script>".into(), ..report_at("0101", lon, lat) }).await,
        "markup_refused"
    );
    let mut odd = report_at("0101", lon, lat);
    odd.attributes.insert("colour".into(), vec!["red".into()]);
    assert_eq!(bad(odd).await, "unknown_attribute");
    assert_eq!(bad(NewReport { description: "长".repeat(4001), ..report_at("0101", lon, lat) }).await, "text_too_long");
    assert_eq!(store.count_reports(&Default::default()).await.unwrap(), before);

    let dispatcher = principal("dispatcher", &[Role::Dispatcher], "320613000000");
    let officer = principal("officer.zhongxiu", &[Role::Officer], "320613007000");
    let stranger = principal("officer.wenfeng", &[Role::Officer], "320613008000");
    let supervisor = principal("supervisor", &[Role::Supervisor], "320613000000");

    // Queues and territory: the dispatcher sees it; an officer of another street cannot even find it.
    let intake = app.queue(&dispatcher, Queue::Intake, 100).await.unwrap();
    let mine = intake.iter().find(|v| v.report.id == first.id).unwrap();
    assert_eq!(mine.report.reporter.phone, "13812345678", "the dispatcher sees who reported, to call back");
    assert!(mine.actions.contains(&"verify") && mine.actions.contains(&"cancel"));
    assert_eq!(code_of(app.report_view(&stranger, first.id).await.unwrap_err()), "not_found");
    let masked = app.report_view(&officer, first.id).await.unwrap();
    assert_eq!(masked.report.reporter.phone, "138****5678");
    assert!(masked.report.token.is_empty());

    // Roles and order: an officer cannot verify; nothing can be closed before it is handled.
    assert_eq!(
        code_of(app.act_on_report(&officer, first.id, Action::Verify { severity: None, public_text: None }).await.unwrap_err()),
        "forbidden"
    );
    let early = app.act_on_report(&supervisor, first.id, Action::Close { note: String::new() }).await.unwrap_err();
    assert_eq!(code_of(early), "illegal_transition");

    // Moderation: the clerk takes a name out of the text before it is published; the record keeps the original.
    let v = app
        .act_on_report(
            &dispatcher,
            first.id,
            Action::Verify { severity: None, public_text: Some("路边堆了很多垃圾（已隐去个人信息）".into()) },
        )
        .await
        .unwrap();
    assert_eq!(v.report.description, "路边堆了很多垃圾（已隐去个人信息）");
    assert_eq!(v.report.state, ReportState::Registered);
    // A squad of another street cannot take it; 钟秀街道's squad can.
    let wrong = Action::Dispatch { squad: "squad.320613008".into(), officer: None };
    assert_eq!(code_of(app.act_on_report(&dispatcher, first.id, wrong).await.unwrap_err()), "squad_out_of_territory");
    let d = app
        .act_on_report(&dispatcher, first.id, Action::Dispatch { squad: "squad.320613007".into(), officer: None })
        .await
        .unwrap();
    assert_eq!(d.report.state, ReportState::Dispatched);
    assert_eq!(app.queue(&officer, Queue::Tasks, 100).await.unwrap().iter().filter(|v| v.report.id == first.id).count(), 1);

    // Handling needs a photo of the result.
    let handle = || Action::Handle { note: "已清理完毕".into() };
    assert_eq!(code_of(app.act_on_report(&officer, first.id, handle()).await.unwrap_err()), "photo_required");
    let id = first.id.to_string();
    app.attach_evidence(
        &officer,
        Upload { object_type: "report", object_id: &id, bytes: PHOTO, original_name: Some("after.jpg") },
    )
    .await
    .unwrap();
    let h = app.act_on_report(&officer, first.id, handle()).await.unwrap();
    assert_eq!(h.report.state, ReportState::Handled);

    // The check fails once (rework), then passes.
    assert_eq!(
        code_of(app.act_on_report(&supervisor, first.id, Action::Rework { reason: " ".into() }).await.unwrap_err()),
        "missing_reason"
    );
    let r = app.act_on_report(&supervisor, first.id, Action::Rework { reason: "仍有垃圾".into() }).await.unwrap();
    assert_eq!((r.report.state, r.report.reworks), (ReportState::Dispatched, 1));
    assert_eq!(
        code_of(app.act_on_report(&officer, first.id, handle()).await.unwrap_err()),
        "photo_required",
        "a new photo after rework"
    );
    app.attach_evidence(&officer, Upload { object_type: "report", object_id: &id, bytes: PHOTO, original_name: None })
        .await
        .unwrap();
    app.act_on_report(&officer, first.id, handle()).await.unwrap();
    let closed = app.act_on_report(&supervisor, first.id, Action::Close { note: "核查通过".into() }).await.unwrap();
    assert_eq!(closed.report.state, ReportState::Closed);
    assert!(closed.report.closed_at.is_some());
    let steps: Vec<_> = closed.updates.iter().map(|u| u.action.as_str()).collect();
    assert_eq!(steps, ["submit", "verify", "dispatch", "handle", "rework", "handle", "close"]);

    // The public sees the result, the after-photos, and no reporter.
    let public = app.public_report_by_token(&first.token).await.unwrap();
    assert_eq!((public.status, public.extended_status), ("closed", "FIXED"));
    assert_eq!(public.photos.iter().filter(|p| p.after).count(), 2);
    assert!(public.notes.iter().any(|n| n.note == "核查通过"));
    assert_eq!(public.agency.as_deref(), Some("钟秀街道综合行政执法队"));

    // A serious report with a phone number earns a pending reward; leaders decide it.
    let reward = store.reward(first.id).await.unwrap().unwrap();
    assert_eq!((reward.state.as_str(), reward.amount), ("pending", 20));
    assert!(!reward.reporter_key.contains("138"));
    let leader = principal("leader", &[Role::Leader], "320600000000");
    assert_eq!(code_of(app.decide_reward(&leader, first.id, "paid").await.unwrap_err()), "illegal_transition");
    app.decide_reward(&leader, first.id, "approved").await.unwrap();
    app.decide_reward(&leader, first.id, "paid").await.unwrap();
    let stats = app.reward_stats().await.unwrap();
    assert_eq!((stats.months[0].paid, stats.months[0].paid_yuan), (1, 20));

    // Cancelling needs a reason; the reporter is told why.
    let c = app.act_on_report(&dispatcher, other.id, Action::Cancel { reason: CancelReason::NotOurs, note: String::new() }).await;
    assert_eq!(code_of(c.unwrap_err()), "missing_reason");
    app.act_on_report(&dispatcher, other.id, Action::Cancel { reason: CancelReason::NotOurs, note: "属供电部门职责".into() })
        .await
        .unwrap();
    let p = app.public_report(other.id).await.unwrap();
    assert_eq!(p.extended_status, "NOT_COUNCILS_RESPONSIBILITY");
    assert!(p.description.is_empty(), "text of a refused report is never published");

    // Patrol findings enter the same flow, filed by staff; the public cannot file them.
    let patrol = Submitter::Staff(supervisor.clone(), Channel::Patrol);
    let found = app.submit_report(&patrol, report_at("1101", lon + 0.002, lat)).await.unwrap();
    assert_eq!(store.report(found.id).await.unwrap().unwrap().channel, Channel::Patrol);
    // A finding that reveals a violation becomes an enforcement case; the link is kept and recorded.
    assert_eq!(code_of(app.link_case(&officer, found.id, "崇城管罚〔2026〕1号").await.unwrap_err()), "illegal_transition");
    app.act_on_report(&dispatcher, found.id, Action::Verify { severity: None, public_text: None }).await.unwrap();
    assert_eq!(code_of(app.link_case(&dispatcher, found.id, "x").await.unwrap_err()), "forbidden");
    let linked = app.link_case(&officer, found.id, "崇城管罚〔2026〕1号").await.unwrap();
    assert_eq!(linked.report.case_ref.as_deref(), Some("崇城管罚〔2026〕1号"));
    assert_eq!(code_of(app.link_case(&officer, found.id, "another").await.unwrap_err()), "case_linked");
    let bad_patrol = Submitter::Staff(principal("x", &[Role::Procuratorate], "320600000000"), Channel::Patrol);
    assert_eq!(code_of(app.submit_report(&bad_patrol, report_at("1101", lon, lat)).await.unwrap_err()), "forbidden");

    // An address alone waits to be placed: no number is given out through the token yet.
    let unplaced = app
        .submit_report(
            &Submitter::Public,
            NewReport { lon: None, lat: None, address: "钟秀路 12 号".into(), ..report_at("0201", lon, lat) },
        )
        .await
        .unwrap();
    assert!(!unplaced.placed);
    assert_eq!(app.report_id_for_token(&unplaced.token).await.unwrap(), None);
    assert_eq!(
        code_of(
            app.act_on_report(&dispatcher, unplaced.id, Action::Verify { severity: None, public_text: None }).await.unwrap_err()
        ),
        "not_found",
        "the city holds it until placed"
    );
    let centre = principal("centre", &[Role::Dispatcher], "320600000000");
    assert_eq!(
        code_of(app.act_on_report(&centre, unplaced.id, Action::Verify { severity: None, public_text: None }).await.unwrap_err()),
        "unplaced_report"
    );
    assert_eq!(
        code_of(app.place_report(&centre, unplaced.id, 116.39, 39.91, Datum::Wgs84).await.unwrap_err()),
        "outside_jurisdiction"
    );
    let placed = app.place_report(&centre, unplaced.id, lon, lat, Datum::Wgs84).await.unwrap();
    assert!(placed.report.jurisdiction.starts_with("320613007"));
    assert_eq!(app.report_id_for_token(&unplaced.token).await.unwrap(), Some(unplaced.id));
    app.act_on_report(&dispatcher, unplaced.id, Action::Verify { severity: None, public_text: None }).await.unwrap();

    // Every change is in the record.
    let verified = app.verify_ledger().await.unwrap();
    assert!(verified.is_intact(), "{:?}", verified.findings);
});

store_test!(overdue_steps_are_escalated_once, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    let (lon, lat) = point_in_zhongxiu(&store).await;
    let submitted = app.submit_report(&Submitter::Public, report_at("0401", lon, lat)).await.unwrap();
    // Pretend the verify step ran out: the stored due time is moved into the past through a revision.
    let mut r = store.report(submitted.id).await.unwrap().unwrap();
    let seq = r.ledger_seq;
    r.step_due = Some(r.submitted_at - 60);
    let update = gridward_store::ReportUpdate {
        id: 0,
        report_id: r.id,
        action: "reschedule".into(),
        state: r.state,
        note: "test".into(),
        public_note: String::new(),
        actor: "test".into(),
        at: r.submitted_at,
        ledger_seq: 0,
    };
    store.update_report(&r, seq, &update, &gridward_testkit::test_change()).await.unwrap().unwrap();
    assert_eq!(
        store.update_report(&r, seq, &update, &gridward_testkit::test_change()).await.unwrap(),
        None,
        "a stale write is refused"
    );
    assert_eq!(app.escalate_overdue().await.unwrap(), 1);
    assert_eq!(app.escalate_overdue().await.unwrap(), 0);
    let r = store.report(submitted.id).await.unwrap().unwrap();
    assert!(r.escalated);
    let dispatcher = principal("dispatcher", &[Role::Dispatcher], "320613000000");
    let overdue = app.queue(&dispatcher, Queue::Overdue, 100).await.unwrap();
    assert!(overdue.iter().any(|v| v.report.id == submitted.id && v.overdue));
});

store_test!(group_commit_numbers_concurrent_reports_without_gaps, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    let (lon, lat) = point_in_zhongxiu(&store).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let app = app.clone();
        // Different services and places, so none is a duplicate of another.
        let service = ["0101", "0201", "0301", "0401", "1101"][i % 5];
        let r = report_at(service, lon + (i as f64) * 0.0008, lat);
        tasks.push(tokio::spawn(async move {
            app.submit_report(&Submitter::Public, NewReport { description: format!("第{i}号"), ..r }).await
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        if let Ok(s) = t.await.unwrap() {
            ids.push(s.id);
        }
    }
    ids.sort();
    assert!(ids.len() >= 150, "most points lie inside the city: {}", ids.len());
    assert_eq!(ids.windows(2).filter(|w| w[1] != w[0] + 1).count(), 0, "numbers are consecutive");
    for id in &ids {
        assert!(store.report(*id).await.unwrap().is_some());
    }
    assert!(app.verify_ledger().await.unwrap().is_intact());
});

store_test!(concurrent_reports_of_one_problem_are_linked_to_one_original, |store: Arc<dyn Store>| async move {
    let city = App::new(store.clone()).unwrap();
    city.load_demo_city(PASSWORD).await.unwrap();
    let (lon, lat) = point_in_zhongxiu(&store).await;
    // Through group commit, forty at once (many share a batch); with one transaction per report, one after
    // another (that path sees only reports already committed).
    for (group_commit, service) in [(true, "0101"), (false, "0201")] {
        let app = city.clone().with_group_commit(group_commit);
        let mut submitted = Vec::new();
        let mut tasks = Vec::new();
        for i in 0..40 {
            // Within a few metres of each other.
            let r = report_at(service, lon + (i % 5) as f64 * 0.00002, lat);
            let app = app.clone();
            let task = tokio::spawn(async move { app.submit_report(&Submitter::Public, r).await.unwrap() });
            if group_commit {
                tasks.push(task);
            } else {
                submitted.push(task.await.unwrap());
            }
        }
        for t in tasks {
            submitted.push(t.await.unwrap());
        }
        let originals: Vec<i64> = submitted.iter().filter(|s| s.duplicate_of.is_none()).map(|s| s.id).collect();
        assert_eq!(originals.len(), 1, "one original: {submitted:?}");
        // Every other report names it and is closed as its duplicate.
        for s in submitted.iter().filter(|s| s.id != originals[0]) {
            assert_eq!(s.duplicate_of, Some(originals[0]), "{s:?}");
            let stored = store.report(s.id).await.unwrap().unwrap();
            assert_eq!(
                (stored.state, stored.step_due.is_none(), stored.closed_at.is_some()),
                (ReportState::Duplicate, true, true)
            );
        }
    }
    // Another service at the same place is not a duplicate.
    assert_eq!(city.submit_report(&Submitter::Public, report_at("0301", lon, lat)).await.unwrap().duplicate_of, None);
    assert!(city.verify_ledger().await.unwrap().is_intact());
});

store_test!(duplicates_are_found_across_cell_edges_and_not_beyond_the_radius, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    let (lon, lat) = point_in_zhongxiu(&store).await;
    // The corner where four cells of the search meet (a thousandth of a degree apart), near the point.
    let (east, north) = ((lon * 1000.0).ceil() / 1000.0, (lat * 1000.0).ceil() / 1000.0);
    let d = 0.00008; // about 8 m
    let first = app.submit_report(&Submitter::Public, report_at("0101", east - d, north - d)).await.unwrap();
    assert_eq!(first.duplicate_of, None);
    // Each across an edge from the first, within 50 m: north, east, and diagonally.
    for (x, y) in [(east - d, north + d), (east + d, north - d), (east + d, north + d)] {
        let again = app.submit_report(&Submitter::Public, report_at("0101", x, y)).await.unwrap();
        assert_eq!(again.duplicate_of, Some(first.id), "({x}, {y})");
    }
    // 80 m north is another problem, though its search box reaches the first report's cell.
    let apart = app.submit_report(&Submitter::Public, report_at("0101", east - d, north - d + 0.00072)).await.unwrap();
    assert_eq!(apart.duplicate_of, None);
    assert!(app.verify_ledger().await.unwrap().is_intact());
});

store_test!(open311_keys_are_issued_shown_once_and_revoked, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    let admin = principal("admin", &[Role::Admin], "320600000000");
    let leader = principal("leader", &[Role::Leader], "320600000000");
    assert_eq!(code_of(app.issue_open311_key(&leader, "fms", "x").await.unwrap_err()), "forbidden");
    assert_eq!(code_of(app.issue_open311_key(&admin, "bad name", "x").await.unwrap_err()), "bad_key_name");
    let key = app.issue_open311_key(&admin, "fixmystreet", "ops@example.org").await.unwrap();
    assert_eq!(app.open311_client(&key).await.unwrap().as_deref(), Some("fixmystreet"));
    assert_eq!(app.open311_client("gw311_nope").await.unwrap(), None);
    assert_eq!(code_of(app.issue_open311_key(&admin, "fixmystreet", "x").await.unwrap_err()), "conflict");
    let keys = app.open311_keys(&admin).await.unwrap();
    assert!(keys.iter().all(|k| !k.key_hash.contains(&key)));
    app.revoke_open311_key(&admin, "fixmystreet").await.unwrap();
    assert_eq!(app.open311_client(&key).await.unwrap(), None);
    assert_eq!(code_of(app.revoke_open311_key(&admin, "fixmystreet").await.unwrap_err()), "not_found");
});

store_test!(the_service_list_is_imported_whole_or_not_at_all, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    let admin = principal("admin", &[Role::Admin], "320600000000");
    let leader = principal("leader", &[Role::Leader], "320600000000");
    let header = "code,class,group,name,description,keywords,power_code,verify,dispatch,handle,check,public\n";
    let good = format!(
        "{header}0101,event,市容环境,暴露垃圾,,垃圾,srhw.34.1.4,2h,1h,1d,4h,true\n9001,event,市容环境,新类别,,,srhw.34.1.4,1h,1h,1d,4h,false\n"
    );
    assert_eq!(code_of(app.import_services_csv(&leader, good.as_bytes()).await.unwrap_err()), "forbidden");
    let bad = format!(
        "{header}0101,event,市容环境,暴露垃圾,,,no.such.power,2h,1h,1d,4h,true\n9002,thing,,x,,,srhw.34.1.4,1w,1h,1d,4h,true\n"
    );
    let refused = app.import_services_csv(&admin, bad.as_bytes()).await.unwrap_err();
    let AppError::Invalid(problems) = refused else { panic!("every problem is listed") };
    assert!(problems.len() >= 4, "{problems}");
    assert_eq!(code_of(app.import_services_csv(&admin, b"a,b\n1,2\n").await.unwrap_err()), "bad_header");
    let before = app.services(false).await.unwrap();
    assert_eq!(app.import_services_csv(&admin, good.as_bytes()).await.unwrap(), 2, "one revised, one added");
    let after = app.services(false).await.unwrap();
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(
        after.iter().find(|s| s.code == "0101").unwrap().limits.verify,
        gridward_domain::calendar::TimeLimit::WorkingHours(2)
    );
    assert!(
        !app.services(true).await.unwrap().iter().any(|s| s.code == "9001"),
        "a non-public service is not offered to the public"
    );
});
