//! The power catalog and its delegation on the demo city, against both backends.

use std::sync::Arc;

use gridward_app::catalog::parse_catalog;
use gridward_app::sheet::{SheetFormat, read_sheet};
use gridward_app::{App, AppError, demo};
use gridward_domain::access::{Principal, Role};
use gridward_domain::catalog::validate_power_rows;
use gridward_domain::delegation::{Assignment, Plan, PlanStep};
use gridward_domain::division::DivisionCode;
use gridward_domain::staffing::{QuotaChange, QuotaKind};
use gridward_store::{DelegationRefusal, Store};
use gridward_testkit::store_test;

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn principal(roles: &[Role]) -> Principal {
    Principal { username: "admin".into(), display_name: "管理员".into(), roles: roles.to_vec(), scope: code(demo::CITY) }
}

async fn demo_app(store: Arc<dyn Store>) -> App {
    let app = App::new(store).unwrap();
    app.load_demo_city("demo-password-1").await.unwrap();
    app
}

store_test!(every_power_and_community_has_one_holder_or_a_listed_gap, |store: Arc<dyn Store>| async move {
    let app = demo_app(store).await;
    let today = gridward_app::today();
    let admin = principal(&[Role::Admin]);
    let check = app.delegation_check(&admin, today).await.unwrap();
    assert!(check.powers >= 150, "{} powers", check.powers);
    assert!(check.places > 1900, "{} places", check.places);
    assert!(check.overlaps.is_empty());
    assert_eq!(check.held_pairs + check.gap_pairs, check.powers * check.places);
    // Walk every pair: it resolves to exactly one assignment, or lies inside a listed gap.
    let snapshot = app.delegation_snapshot(today).await.unwrap();
    let mut held = 0;
    for power in &snapshot.powers {
        for place in snapshot.tree.leaves() {
            match snapshot.index.resolve(&power.power.code, place, today) {
                Some(a) => {
                    assert!(a.territory.covers(place));
                    held += 1;
                }
                None => assert!(
                    check.gaps.iter().any(|g| g.gap.power_code == power.power.code && g.gap.division.covers(place)),
                    "{} at {place} is neither held nor a listed gap",
                    power.power.code
                ),
            }
        }
    }
    assert_eq!(held, check.held_pairs);
    // In the demo every district has its bureau, so nothing is left unowned.
    assert_eq!(check.gap_pairs, 0, "{:?}", check.gaps.iter().take(3).collect::<Vec<_>>());

    // 钟秀街道's squad holds the street-level powers there; next door, the district bureau does.
    let zhongxiu_place = snapshot.tree.leaves().into_iter().find(|c| c.as_str().starts_with("320613007")).unwrap().clone();
    let wenfeng_place = snapshot.tree.leaves().into_iter().find(|c| c.as_str().starts_with("320613008")).unwrap().clone();
    let street_power =
        snapshot.powers.iter().find(|p| p.power.default_level == gridward_domain::division::Level::Street).unwrap();
    let here = app.resolve_power(&street_power.power.code, &zhongxiu_place, today).await.unwrap();
    assert_eq!(here.holder.unwrap().assignment.body_code, demo::ZHONGXIU_SQUAD);
    let there = app.resolve_power(&street_power.power.code, &wenfeng_place, today).await.unwrap();
    assert_eq!(there.holder.unwrap().assignment.body_code, "bureau.320613");
    let before_law = app.resolve_power(&street_power.power.code, &zhongxiu_place, "2010-01-01".parse().unwrap()).await;
    assert!(matches!(before_law, Err(AppError::NotFound("power"))));
});

store_test!(zhongxiu_lists_143_powers_and_its_xlsx_reimports, |store: Arc<dyn Store>| async move {
    let app = demo_app(store).await;
    let today = gridward_app::today();
    let list = app.responsibility_list(demo::ZHONGXIU_SQUAD, today).await.unwrap();
    assert_eq!(list.items.len(), 143);
    assert_eq!(list.categories.len(), 9, "{:?}", list.categories);
    assert!(
        list.items.iter().all(|r| !r.power.violation_basis.is_empty() && r.holding.assignment.territory == code(demo::ZHONGXIU))
    );
    // The division's page lists the bodies seated there.
    let seated = app.division_responsibilities(&code(demo::ZHONGXIU), today).await.unwrap();
    assert_eq!(seated.len(), 1);
    assert_eq!(seated[0].items.len(), 143);

    for format in [SheetFormat::Xlsx, SheetFormat::Csv] {
        let bytes = app.export_responsibility_list(demo::ZHONGXIU_SQUAD, today, format).await.unwrap();
        let sheet = read_sheet(&bytes).unwrap();
        let (header, rows) = list.rows();
        assert_eq!(sheet.header, header);
        assert_eq!(sheet.rows.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(), rows);
        let powers = validate_power_rows(&parse_catalog(&sheet).unwrap()).unwrap();
        assert_eq!(powers, list.items.iter().map(|r| r.power.clone()).collect::<Vec<_>>());
    }
    // Re-importing the catalog's own export changes nothing.
    let admin = principal(&[Role::Admin]);
    let export = app.export_catalog(&admin, today, &Default::default(), SheetFormat::Xlsx).await.unwrap();
    let outcome = app.import_catalog(&admin, &export).await.unwrap();
    assert_eq!((outcome.added, outcome.revised), (0, 0));
    assert!(outcome.unchanged >= 150);
});

store_test!(an_overlap_is_refused_with_both_named, |store: Arc<dyn Store>| async move {
    let app = demo_app(store.clone()).await;
    let today = gridward_app::today();
    let admin = principal(&[Role::Admin]);
    let list = app.responsibility_list(demo::ZHONGXIU_SQUAD, today).await.unwrap();
    let held = &list.items[0].holding.assignment;
    let intruder = Assignment {
        id: 0,
        power_code: held.power_code.clone(),
        body_code: "bureau.320613".into(),
        territory: code(demo::ZHONGXIU),
        valid_from: today,
        valid_to: None,
        instrument: "重复赋权".into(),
        evaluation_due: None,
    };
    let before = store.assignments().await.unwrap().len();
    match app.assign(&admin, &intruder, None).await {
        Err(AppError::Delegation(refusal)) => {
            let DelegationRefusal::Overlap { candidate, existing } = *refusal else { panic!("expected an overlap") };
            assert_eq!(candidate.body_code, "bureau.320613");
            assert_eq!(existing.iter().map(|a| a.id).collect::<Vec<_>>(), vec![held.id]);
        }
        other => panic!("expected an overlap, got {other:?}"),
    }
    assert_eq!(store.assignments().await.unwrap().len(), before);
    // Officers may not assign at all; a body outside the territory is refused before writing.
    assert!(matches!(app.assign(&principal(&[Role::Officer]), &intruder, None).await, Err(AppError::Forbidden)));
    let outside = Assignment { body_code: "squad.320613008".into(), ..intruder.clone() };
    match app.assign(&admin, &outside, Some(held.id)).await {
        Err(AppError::Invalid(p)) => assert_eq!(p.0[0].code, "outside_body"),
        other => panic!("expected outside_body, got {other:?}"),
    }
    // Superseding the squad's assignment hands the power back to the bureau from tomorrow.
    let tomorrow = today.tomorrow().unwrap();
    let handed_back = Assignment { valid_from: tomorrow, ..intruder };
    let stored = app.assign(&admin, &handed_back, Some(held.id)).await.unwrap();
    let zhongxiu_place = code(&format!("{}001", &demo::ZHONGXIU[..9]));
    let resolved = app.resolve_power(&held.power_code, &zhongxiu_place, tomorrow).await.unwrap();
    assert_eq!(resolved.holder.unwrap().assignment.id, stored.id);
});

store_test!(plans_keep_the_quota_total, |store: Arc<dyn Store>| async move {
    let app = demo_app(store.clone()).await;
    let admin = principal(&[Role::Admin]);
    let today = gridward_app::today();
    let wenfeng = code(demo::WENFENG);
    let powers: Vec<String> = app
        .responsibility_list(demo::ZHONGXIU_SQUAD, today)
        .await
        .unwrap()
        .items
        .iter()
        .take(5)
        .map(|r| r.power.code.clone())
        .collect();
    let plan = |quota_changes: Vec<QuotaChange>| Plan {
        title: "下放到文峰街道".into(),
        instrument: "区政府决定".into(),
        effective_from: today.tomorrow().unwrap(),
        steps: powers
            .iter()
            .map(|p| PlanStep::Assign {
                power_code: p.clone(),
                body_code: "squad.320613008".into(),
                territory: wenfeng.clone(),
                evaluation_due: None,
            })
            .collect(),
        quota_changes,
    };
    let growing = plan(vec![QuotaChange { body_code: "squad.320613008".into(), kind: QuotaKind::Administrative, delta: 2 }]);
    let preview = app.preview_plan(&admin, &growing).await.unwrap();
    assert!(!preview.committable);
    let grows = preview.effect.problems.0.iter().find(|p| p.code == "quota_total_grows").unwrap();
    let total = preview.effect.quotas.totals.iter().find(|t| t.kind == QuotaKind::Administrative).unwrap();
    assert!(grows.message.contains(&format!("from {} to {}", total.before, total.before + 2)), "{}", grows.message);
    let assignments_before = store.assignments().await.unwrap();
    assert!(matches!(app.commit_plan(&admin, &growing).await, Err(AppError::Invalid(_))));
    assert_eq!(store.assignments().await.unwrap(), assignments_before);

    let balanced = plan(QuotaChange::transfer("bureau.320613", "squad.320613008", QuotaKind::Administrative, 2).to_vec());
    let preview = app.preview_plan(&admin, &balanced).await.unwrap();
    assert!(preview.committable, "{}", preview.effect.problems);
    assert_eq!(preview.moves_named.len(), 5);
    assert!(preview.moves_named.iter().all(|(_, _, from, _)| from.contains("崇川区")));
    assert!(matches!(app.commit_plan(&principal(&[Role::Leader]), &balanced).await, Err(AppError::Forbidden)));
    let record = app.commit_plan(&admin, &balanced).await.unwrap();
    assert_eq!(store.assignments().await.unwrap().len(), assignments_before.len() + 5);
    assert_eq!(app.plans(&admin).await.unwrap()[0].id, record.id);
    let staffing = app.staffing(&admin).await.unwrap();
    let wenfeng_squad = staffing.lines.iter().find(|l| l.body.code == "squad.320613008").unwrap();
    assert_eq!(wenfeng_squad.staffing.administrative, 6);
});
