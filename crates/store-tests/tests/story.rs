//! One behavioural suite, run against SQLite and PostgreSQL alike.

use std::sync::Arc;

use gridward_domain::access::Role;
use gridward_domain::division::{Division, DivisionCode, Level};
use gridward_domain::org::{Body, BodyKind, Credential, EnforcementDomain, Staff};
use gridward_store::{BoundaryRecord, DbError, LoginAttempts, Page, SessionRecord, Store, UserRecord};
use gridward_testkit::{store_test, test_change};

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn division(c: &str, name: &str, level: Level, parent: Option<&str>) -> Division {
    Division { code: code(c), name: name.into(), level, parent_code: parent.map(code), valid_from: None, valid_to: None }
}

async fn seed_divisions(store: &Arc<dyn Store>) {
    let divisions = vec![
        division("320600000000", "南通市", Level::City, Some("320000000000")),
        division("320613000000", "崇川区", Level::District, Some("320600000000")),
        division("320612000000", "通州区", Level::District, Some("320600000000")),
        division("320613007000", "钟秀街道", Level::Street, Some("320613000000")),
        division("320613008000", "文峰街道", Level::Street, Some("320613000000")),
        division("320612001000", "金沙街道", Level::Street, Some("320612000000")),
    ];
    let boundary = BoundaryRecord {
        code: code("320613007000"),
        geometry: serde_json::json!({"type": "MultiPolygon", "coordinates": [[[[120.0, 32.0], [120.1, 32.0], [120.1, 32.1], [120.0, 32.0]]]]}),
        synthetic: true,
        source: "test".into(),
        datum: "gcj02".into(),
    };
    store.upsert_divisions(&divisions, &[boundary], &test_change()).await.unwrap();
}

fn body(c: &str, kind: BodyKind, division: &str, parent: Option<&str>) -> Body {
    Body {
        code: c.into(),
        name: format!("{c} 队"),
        kind,
        division_code: code(division),
        parent_code: parent.map(String::from),
        domains: vec![EnforcementDomain::UrbanManagement],
    }
}

fn officer(no: &str, body: &str, credential: Option<&str>) -> Staff {
    Staff {
        staff_no: no.into(),
        name: "李四".into(),
        body_code: body.into(),
        roles: vec![Role::Officer],
        credential: credential.map(|n| Credential {
            number: n.into(),
            valid_from: "2024-01-01".parse().unwrap(),
            valid_to: "2028-12-31".parse().unwrap(),
            domains: vec![EnforcementDomain::UrbanManagement],
        }),
        auxiliary: false,
        active: true,
    }
}

async fn seed_org(store: &Arc<dyn Store>) {
    seed_divisions(store).await;
    // The child comes before its parent: the parent link is checked at commit.
    store
        .upsert_bodies(
            &[
                body("nt.cc.zhongxiu", BodyKind::StreetSquad, "320613007000", Some("nt.cc")),
                body("nt.cc", BodyKind::Bureau, "320613000000", None),
                body("nt.cc.wenfeng", BodyKind::StreetSquad, "320613008000", Some("nt.cc")),
                body("nt.tz", BodyKind::Bureau, "320612000000", None),
            ],
            &test_change(),
        )
        .await
        .unwrap();
}

fn user(name: &str, scope: &str) -> UserRecord {
    UserRecord {
        username: name.into(),
        display_name: name.into(),
        password_hash: "$argon2id$fake".into(),
        roles: vec![Role::Dispatcher],
        scope: code(scope),
        staff_no: None,
        active: true,
        created_at: 1_700_000_000,
    }
}

fn page(after: Option<&str>, limit: u32) -> Page {
    Page { after: after.map(String::from), limit }
}

store_test!(divisions_round_trip_and_page, |store: Arc<dyn Store>| async move {
    seed_divisions(&store).await;
    let levels = store.division_levels().await.unwrap();
    assert_eq!(levels.len(), 6);
    assert_eq!(levels[&code("320613007000")], Level::Street);

    let first = store.child_divisions(&code("320613000000"), &page(None, 1)).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].name, "钟秀街道");
    let second = store.child_divisions(&code("320613000000"), &page(Some("320613007000"), 10)).await.unwrap();
    assert_eq!(second.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["文峰街道"]);

    let city = store.division(&code("320600000000")).await.unwrap().unwrap();
    assert_eq!(city.parent_code, Some(code("320000000000")));
    assert!(store.division(&code("320699000000")).await.unwrap().is_none());

    let b = store.boundary(&code("320613007000")).await.unwrap().unwrap();
    assert!(b.synthetic);
    assert_eq!(b.geometry["type"], "MultiPolygon");
    assert_eq!(store.child_boundaries(&code("320613000000")).await.unwrap().len(), 1);
    assert_eq!(store.all_divisions().await.unwrap().len(), 6);
});

store_test!(division_validity_is_kept, |store: Arc<dyn Store>| async move {
    seed_divisions(&store).await;
    let mut gangzha = division("320611000000", "港闸区", Level::District, Some("320600000000"));
    gangzha.valid_to = Some("2020-07-22".parse().unwrap());
    store.upsert_divisions(&[gangzha.clone()], &[], &test_change()).await.unwrap();
    let stored = store.division(&code("320611000000")).await.unwrap().unwrap();
    assert_eq!(stored, gangzha);
    assert!(!stored.is_valid_on("2021-01-01".parse().unwrap()));
});

store_test!(a_failed_batch_writes_nothing, |store: Arc<dyn Store>| async move {
    seed_divisions(&store).await;
    let bad = BoundaryRecord {
        code: code("320699000000"),
        geometry: serde_json::json!({}),
        synthetic: false,
        source: "test".into(),
        datum: "gcj02".into(),
    };
    let new = division("320612002000", "新街道", Level::Street, Some("320612000000"));
    let err = store.upsert_divisions(&[new], &[bad], &test_change()).await.unwrap_err();
    assert!(matches!(err, DbError::Conflict(_)), "{err:?}");
    assert!(store.division(&code("320612002000")).await.unwrap().is_none());
});

store_test!(bodies_are_filtered_by_territory, |store: Arc<dyn Store>| async move {
    seed_org(&store).await;
    let chongchuan = store.bodies_within(&code("320613000000"), &page(None, 100)).await.unwrap();
    assert_eq!(chongchuan.iter().map(|b| b.code.as_str()).collect::<Vec<_>>(), ["nt.cc", "nt.cc.wenfeng", "nt.cc.zhongxiu"]);
    let wenfeng = store.bodies_within(&code("320613008000"), &page(None, 100)).await.unwrap();
    assert_eq!(wenfeng.len(), 1);
    let everything = store.bodies_within(&code("320600000000"), &page(Some("nt.cc.wenfeng"), 100)).await.unwrap();
    assert_eq!(everything.iter().map(|b| b.code.as_str()).collect::<Vec<_>>(), ["nt.cc.zhongxiu", "nt.tz"]);
    let squad = store.body("nt.cc.zhongxiu").await.unwrap().unwrap();
    assert_eq!(squad.parent_code.as_deref(), Some("nt.cc"));
    let links = store.body_links().await.unwrap();
    assert_eq!(links.len(), 4);
    assert_eq!(links["nt.cc.zhongxiu"].parent.as_deref(), Some("nt.cc"));
    assert_eq!(links["nt.cc"].division, code("320613000000"));
});

store_test!(bodies_need_existing_parents_and_divisions, |store: Arc<dyn Store>| async move {
    seed_org(&store).await;
    let orphan = body("nt.x", BodyKind::StreetSquad, "320613007000", Some("nowhere"));
    assert!(matches!(store.upsert_bodies(&[orphan], &test_change()).await, Err(DbError::Conflict(_))));
    let lost = body("nt.y", BodyKind::StreetSquad, "320613099000", None);
    assert!(matches!(store.upsert_bodies(&[lost], &test_change()).await, Err(DbError::Conflict(_))));
    assert!(store.body("nt.x").await.unwrap().is_none());
});

store_test!(staff_and_credentials, |store: Arc<dyn Store>| async move {
    seed_org(&store).await;
    let mut helper = officer("S3", "nt.cc.zhongxiu", None);
    helper.auxiliary = true;
    helper.roles = vec![Role::Auxiliary];
    store
        .upsert_staff(
            &[officer("S1", "nt.cc.zhongxiu", Some("C-1")), officer("S2", "nt.cc.wenfeng", Some("C-2")), helper],
            &test_change(),
        )
        .await
        .unwrap();
    let s1 = store.staff_member("S1").await.unwrap().unwrap();
    assert_eq!(s1.credential.unwrap().valid_to, "2028-12-31".parse().unwrap());
    assert_eq!(store.staff_of_body("nt.cc.zhongxiu", &page(None, 10)).await.unwrap().len(), 2);
    assert_eq!(store.staff_of_body("nt.cc.zhongxiu", &page(Some("S1"), 10)).await.unwrap().len(), 1);
    assert_eq!(store.staff_within(&code("320613008000")).await.unwrap().len(), 1);
    let holders = store.credential_holders().await.unwrap();
    assert_eq!(holders["C-2"], "S2");

    // A credential held twice, an unknown body, or an auxiliary with a credential is refused whole.
    let clash = officer("S4", "nt.cc.wenfeng", Some("C-1"));
    assert!(matches!(
        store.upsert_staff(&[officer("S5", "nt.cc", None), clash], &test_change()).await,
        Err(DbError::Conflict(_))
    ));
    assert!(store.staff_member("S5").await.unwrap().is_none());
    assert!(matches!(store.upsert_staff(&[officer("S6", "nt.nowhere", None)], &test_change()).await, Err(DbError::Conflict(_))));
    let mut bad_helper = officer("S7", "nt.cc", Some("C-7"));
    bad_helper.auxiliary = true;
    assert!(matches!(store.upsert_staff(&[bad_helper], &test_change()).await, Err(DbError::Conflict(_))));
});

store_test!(accounts_and_sign_in_attempts, |store: Arc<dyn Store>| async move {
    seed_divisions(&store).await;
    store.create_user(&user("dispatcher", "320600000000"), &test_change()).await.unwrap();
    assert!(matches!(store.create_user(&user("dispatcher", "320600000000"), &test_change()).await, Err(DbError::Conflict(_))));
    assert_eq!(store.users().await.unwrap().len(), 1);
    assert_eq!(store.user("dispatcher").await.unwrap().unwrap().roles, vec![Role::Dispatcher]);

    // Attempts are counted per name, known or not, and a lock that ran out starts the count again.
    for n in 1..=3 {
        assert_eq!(
            store.count_login_attempt("dispatcher", 1000).await.unwrap(),
            LoginAttempts { attempts: n, locked_until: None }
        );
    }
    assert_eq!(store.count_login_attempt("nobody", 1000).await.unwrap().attempts, 1);
    store.lock_login("dispatcher", 1600).await.unwrap();
    assert_eq!(store.login_lock("dispatcher", 1000).await.unwrap(), Some(1600));
    assert_eq!(
        store.count_login_attempt("dispatcher", 1200).await.unwrap(),
        LoginAttempts { attempts: 4, locked_until: Some(1600) }
    );
    assert_eq!(store.count_login_attempt("dispatcher", 1600).await.unwrap(), LoginAttempts { attempts: 1, locked_until: None });
    assert_eq!(store.login_lock("dispatcher", 1600).await.unwrap(), None);
    store.clear_login_attempts("dispatcher").await.unwrap();
    assert_eq!(store.count_login_attempt("dispatcher", 1700).await.unwrap().attempts, 1);

    // A new password ends the user's sessions and lifts the lock.
    store.lock_login("dispatcher", 5000).await.unwrap();
    let session = SessionRecord {
        token_hash: "t".into(),
        username: "dispatcher".into(),
        csrf_token: "c".into(),
        created_at: 1,
        expires_at: 9999,
    };
    store.create_session(&session).await.unwrap();
    assert!(store.set_password("dispatcher", "$argon2id$new", &test_change()).await.unwrap());
    assert!(store.session("t", 2000).await.unwrap().is_none());
    assert_eq!(store.login_lock("dispatcher", 2000).await.unwrap(), None);
    assert_eq!(store.user("dispatcher").await.unwrap().unwrap().password_hash, "$argon2id$new");
    assert!(!store.set_password("nobody", "$argon2id$new", &test_change()).await.unwrap());

    // The purge forgets old attempts but keeps live locks.
    store.count_login_attempt("old", 100).await.unwrap();
    store.count_login_attempt("locked", 100).await.unwrap();
    store.lock_login("locked", 99_999).await.unwrap();
    store.purge_stale(3000, 2000).await.unwrap();
    assert_eq!(store.count_login_attempt("old", 3000).await.unwrap().attempts, 1, "forgotten");
    assert_eq!(store.login_lock("locked", 3000).await.unwrap(), Some(99_999), "kept while locked");
});

store_test!(sessions_expire_and_end, |store: Arc<dyn Store>| async move {
    seed_divisions(&store).await;
    store.create_user(&user("leader", "320600000000"), &test_change()).await.unwrap();
    let session = SessionRecord {
        token_hash: "h1".into(),
        username: "leader".into(),
        csrf_token: "c1".into(),
        created_at: 100,
        expires_at: 200,
    };
    store.create_session(&session).await.unwrap();
    let (found, u) = store.session("h1", 150).await.unwrap().unwrap();
    assert_eq!(found, session);
    assert_eq!(u.username, "leader");
    assert!(store.session("h1", 200).await.unwrap().is_none(), "expired at expires_at");
    assert!(store.session("nope", 150).await.unwrap().is_none());
    assert_eq!(store.purge_stale(250, 0).await.unwrap(), 1);
    store.create_session(&SessionRecord { token_hash: "h2".into(), expires_at: 500, ..session }).await.unwrap();
    assert!(store.delete_session("h2").await.unwrap());
    assert!(!store.delete_session("h2").await.unwrap());
});

store_test!(seeds_are_remembered, |store: Arc<dyn Store>| async move {
    assert!(!store.seed_applied("demo").await.unwrap());
    store.mark_seed_applied("demo", 1).await.unwrap();
    store.mark_seed_applied("demo", 2).await.unwrap();
    assert!(store.seed_applied("demo").await.unwrap());
    store.ping().await.unwrap();
    // Migrating again is a no-op.
    store.migrate().await.unwrap();
});

// The power catalog, delegation and staffing quotas.

fn power(code_text: &str, name: &str, valid_from: &str) -> gridward_domain::catalog::Power {
    let row = gridward_domain::catalog::PowerRow {
        line: 2,
        code: code_text.into(),
        name: name.into(),
        kind: "penalty".into(),
        domain: "urban_management".into(),
        category: "市政道路".into(),
        violation_basis: "《城市道路管理条例》第二十七条：城市道路范围内禁止下列行为".into(),
        penalty_basis: "《城市道路管理条例》第四十二条：可以处以2万元以下的罚款".into(),
        penalty_types: "fine".into(),
        fine_max: "20000".into(),
        hearing: "true".into(),
        default_level: "street".into(),
        valid_from: valid_from.into(),
        ..Default::default()
    };
    gridward_domain::catalog::validate_power_rows(&[row]).unwrap().remove(0)
}

fn assignment(power: &str, body: &str, territory: &str, from: &str) -> gridward_domain::delegation::Assignment {
    gridward_domain::delegation::Assignment {
        id: 0,
        power_code: power.into(),
        body_code: body.into(),
        territory: code(territory),
        valid_from: from.parse().unwrap(),
        valid_to: None,
        instrument: "省政府赋权决定".into(),
        evaluation_due: Some("2027-06-30".parse().unwrap()),
    }
}

store_test!(powers_are_versioned, |store: Arc<dyn Store>| async move {
    let v1 = power("csdl.27", "对擅自占用城市道路的行政处罚", "2019-03-24");
    let outcome = store.import_powers(std::slice::from_ref(&v1), &test_change()).await.unwrap();
    assert_eq!((outcome.added, outcome.revised, outcome.unchanged), (1, 0, 0));
    let outcome = store.import_powers(std::slice::from_ref(&v1), &test_change()).await.unwrap();
    assert_eq!((outcome.added, outcome.revised, outcome.unchanged), (0, 0, 1));
    let v2 = power("csdl.27", "对擅自占用或者挖掘城市道路的行政处罚", "2025-01-01");
    let outcome = store.import_powers(std::slice::from_ref(&v2), &test_change()).await.unwrap();
    assert_eq!((outcome.added, outcome.revised, outcome.unchanged), (0, 1, 0));
    let history = store.power_history("csdl.27").await.unwrap();
    assert_eq!(
        history.iter().map(|v| (v.version, v.power.name.as_str())).collect::<Vec<_>>(),
        vec![(1, "对擅自占用城市道路的行政处罚"), (2, "对擅自占用或者挖掘城市道路的行政处罚")]
    );
    let in_2024 = store.powers_in_force("2024-06-01".parse().unwrap()).await.unwrap();
    assert_eq!(in_2024[0].version, 1);
    let in_2026 = store.powers_in_force("2026-06-01".parse().unwrap()).await.unwrap();
    assert_eq!(in_2026[0].power, v2);
    assert!(store.powers_in_force("2000-01-01".parse().unwrap()).await.unwrap().is_empty());
    // A version may not take effect before the one it follows; the whole import is refused.
    let backdated = power("csdl.27", "倒签", "2020-01-01");
    let fresh = power("csdl.42", "对新事项的行政处罚", "2020-01-01");
    let err = store.import_powers(&[fresh, backdated], &test_change()).await.unwrap_err();
    assert!(matches!(err, DbError::Conflict(_)), "{err:?}");
    assert!(store.power_history("csdl.42").await.unwrap().is_empty());
});

store_test!(overlapping_assignments_are_refused_unless_superseded, |store: Arc<dyn Store>| async move {
    seed_org(&store).await;
    let first = store
        .add_assignment(&assignment("p", "nt.cc", "320613000000", "2020-01-01"), None, &test_change())
        .await
        .unwrap()
        .unwrap();
    let squad = store
        .add_assignment(&assignment("p", "nt.cc.zhongxiu", "320613007000", "2021-01-01"), None, &test_change())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((first.id, squad.id), (1, 2));
    let clash = assignment("p", "nt.cc.wenfeng", "320613007000", "2024-01-01");
    match store.add_assignment(&clash, None, &test_change()).await.unwrap() {
        Err(gridward_store::DelegationRefusal::Overlap { candidate, existing }) => {
            assert_eq!(candidate.body_code, "nt.cc.wenfeng");
            assert_eq!(existing, vec![squad.clone()]);
        }
        other => panic!("expected an overlap, got {other:?}"),
    }
    assert_eq!(store.assignments().await.unwrap().len(), 2);
    let replacement = store.add_assignment(&clash, Some(squad.id), &test_change()).await.unwrap().unwrap();
    let all = store.assignments().await.unwrap();
    assert_eq!(all[1].valid_to, Some("2023-12-31".parse().unwrap()));
    assert_eq!(all[2], replacement);
    let index = gridward_domain::delegation::DelegationIndex::new(all);
    assert!(index.overlaps().is_empty());
});

store_test!(a_plan_commits_whole_or_not_at_all, |store: Arc<dyn Store>| async move {
    use gridward_domain::delegation::{DelegationIndex, DivisionTree, Plan, PlanContext, PlanStep, preview_plan};
    use gridward_domain::staffing::{Quota, QuotaChange, QuotaKind, quota_table};
    seed_org(&store).await;
    store.import_powers(&[power("csdl.40", "对甲的行政处罚", "2019-03-24")], &test_change()).await.unwrap();
    store
        .add_assignment(&assignment("csdl.40", "nt.cc", "320613000000", "2020-01-01"), None, &test_change())
        .await
        .unwrap()
        .unwrap();
    store
        .set_quotas(
            &[
                Quota { body_code: "nt.cc".into(), kind: QuotaKind::Administrative, posts: 30 },
                Quota { body_code: "nt.cc.zhongxiu".into(), kind: QuotaKind::Administrative, posts: 4 },
            ],
            &test_change(),
        )
        .await
        .unwrap();
    let plan = |body: &str| Plan {
        title: "下放到钟秀街道".into(),
        instrument: "省政府赋权决定".into(),
        effective_from: "2025-01-01".parse().unwrap(),
        steps: vec![PlanStep::Assign {
            power_code: "csdl.40".into(),
            body_code: body.into(),
            territory: code("320613007000"),
            evaluation_due: None,
        }],
        quota_changes: QuotaChange::transfer("nt.cc", "nt.cc.zhongxiu", QuotaKind::Administrative, 3).to_vec(),
    };
    let divisions = store.all_divisions().await.unwrap();
    let tree = DivisionTree::new(divisions.iter().map(|d| (d.code.clone(), d.parent_code.clone())));
    let index = DelegationIndex::new(store.assignments().await.unwrap());
    let powers = ["csdl.40".to_string()].into_iter().collect();
    let bodies = store.body_links().await.unwrap().into_iter().map(|(c, l)| (c, l.division)).collect();
    let quotas = quota_table(&store.quotas().await.unwrap());
    let ctx = PlanContext { index: &index, tree: &tree, powers: &powers, bodies: &bodies, quotas: &quotas };

    // A plan whose last write fails (a body the database does not know) leaves nothing behind.
    let broken = plan("nt.cc.zhongxiu");
    let mut effect = preview_plan(&broken, &ctx);
    assert!(effect.problems.is_empty(), "{}", effect.problems);
    effect.created[0].body_code = "ghost".into();
    let size_before = store.integrate_ledger().await.unwrap().size;
    assert!(store.commit_plan(&broken, &effect, &test_change()).await.is_err());
    assert_eq!(store.integrate_ledger().await.unwrap().size, size_before);
    assert_eq!(store.assignments().await.unwrap().len(), 1);
    assert!(store.plans().await.unwrap().is_empty());
    assert_eq!(quota_table(&store.quotas().await.unwrap()), quotas);

    let good = plan("nt.cc.zhongxiu");
    let effect = preview_plan(&good, &ctx);
    let record = store.commit_plan(&good, &effect, &test_change()).await.unwrap().unwrap();
    assert_eq!(record.plan, good);
    let all = store.assignments().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].body_code, "nt.cc.zhongxiu");
    let after = quota_table(&store.quotas().await.unwrap());
    assert_eq!(after[&("nt.cc".to_string(), QuotaKind::Administrative)], 27);
    assert_eq!(after[&("nt.cc.zhongxiu".to_string(), QuotaKind::Administrative)], 7);
    assert_eq!(store.plans().await.unwrap(), vec![record]);

    // Committing the same preview again is refused: the assignment it meant to create now overlaps.
    match store.commit_plan(&good, &effect, &test_change()).await.unwrap() {
        Err(gridward_store::DelegationRefusal::Overlap { existing, .. }) => assert_eq!(existing[0].body_code, "nt.cc.zhongxiu"),
        other => panic!("expected an overlap, got {other:?}"),
    }
    assert_eq!(store.assignments().await.unwrap().len(), 2);
});

store_test!(headcounts_split_auxiliaries, |store: Arc<dyn Store>| async move {
    seed_org(&store).await;
    let mut helper = officer("A1", "nt.cc.zhongxiu", None);
    helper.auxiliary = true;
    helper.roles = vec![Role::Auxiliary];
    store.upsert_staff(&[officer("O1", "nt.cc.zhongxiu", Some("3206001")), helper], &test_change()).await.unwrap();
    let counts = store.headcounts().await.unwrap();
    assert_eq!(counts["nt.cc.zhongxiu"], gridward_store::Headcount { established: 1, auxiliaries: 1 });
});
