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
    let bad =
        BoundaryRecord { code: code("320699000000"), geometry: serde_json::json!({}), synthetic: false, source: "test".into() };
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
