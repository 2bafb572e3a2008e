//! Use-cases against both backends: imports are all-or-nothing, the demo loads once, sign-in locks.

use std::sync::Arc;

use gridward_app::{App, AppError, demo};
use gridward_domain::division::DivisionCode;
use gridward_store::{Page, Store};
use gridward_testkit::{store_test, test_actor};

const PASSWORD: &str = "demo-password-1";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

async fn fingerprint(store: &Arc<dyn Store>) -> (usize, usize, usize) {
    let city = code("320600000000");
    (
        store.all_divisions().await.unwrap().len(),
        store.bodies_within(&city, &Page { after: None, limit: 1000 }).await.unwrap().len(),
        store.staff_within(&city).await.unwrap().len(),
    )
}

store_test!(demo_loads_once_with_every_part, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    let first = app.load_demo_city(PASSWORD).await.unwrap();
    assert!(first.loaded);
    assert_eq!(first.divisions, 2150);
    assert!((90..=130).contains(&first.staff), "about a hundred staff, got {}", first.staff);
    // Every current street and community outside the development zone (which has no real outline) gets one.
    assert_eq!(first.synthetic_boundaries, synthesized_expected(&store).await);
    let before = fingerprint(&store).await;
    let again = app.load_demo_city(PASSWORD).await.unwrap();
    assert!(!again.loaded);
    assert_eq!(fingerprint(&store).await, before);

    // 崇川区 has 19 streets, each with a squad, 钟秀街道 among them.
    let chongchuan = store.child_divisions(&code("320613000000"), &Page { after: None, limit: 100 }).await.unwrap();
    assert_eq!(chongchuan.len(), 19);
    let squad = store.body("squad.320613007").await.unwrap().expect("钟秀街道 squad");
    assert_eq!(squad.division_code, code("320613007000"));
    let zhongxiu = store.boundary(&code("320613007000")).await.unwrap().expect("synthetic street outline");
    assert!(zhongxiu.synthetic);
    let district = store.boundary(&code("320613000000")).await.unwrap().expect("real district outline");
    assert!(!district.synthetic);
    // 港闸区 is kept, but as history.
    let gangzha = store.division(&code("320611000000")).await.unwrap().unwrap();
    assert!(!gangzha.is_valid_on("2024-01-01".parse().unwrap()));
    for (username, ..) in demo::ACCOUNTS {
        let session = app.sign_in(username, PASSWORD).await.unwrap();
        assert_eq!(app.authenticate(&session.token).await.unwrap().principal.username, *username);
    }
    let officer = store.user("officer.zhongxiu").await.unwrap().unwrap();
    let staff = store.staff_member(officer.staff_no.as_deref().unwrap()).await.unwrap().unwrap();
    assert_eq!(staff.body_code, "squad.320613007");

    // An administrator of 文峰街道 cannot link an account to 钟秀街道's staff, nor mix auxiliary and deciding roles.
    use gridward_app::auth::NewUser;
    use gridward_domain::access::{Principal, Role};
    let wenfeng_admin =
        Principal { username: "a".into(), display_name: "a".into(), roles: vec![Role::Admin], scope: code("320613008000") };
    let new = |staff_no: Option<String>, roles: Vec<Role>| NewUser {
        username: "new.account".into(),
        display_name: "新账号".into(),
        password: PASSWORD.into(),
        roles,
        scope: code("320613008000"),
        staff_no,
    };
    let outside = new(officer.staff_no.clone(), vec![Role::Officer]);
    assert!(matches!(app.create_user_as(&wenfeng_admin, outside).await, Err(AppError::NotFound("staff"))));
    let mixed = new(None, vec![Role::Auxiliary, Role::Officer]);
    assert!(matches!(
        app.create_user_as(&wenfeng_admin, mixed).await,
        Err(AppError::BadRequest { code: "auxiliary_decides", .. })
    ));
    let elsewhere = NewUser { scope: code("320613007000"), ..new(None, vec![Role::Officer]) };
    assert!(matches!(app.create_user_as(&wenfeng_admin, elsewhere).await, Err(AppError::Forbidden)));
    assert!(app.create_user_as(&wenfeng_admin, new(None, vec![Role::Officer])).await.is_ok());
});

async fn synthesized_expected(store: &Arc<dyn Store>) -> usize {
    use gridward_domain::division::Level;
    let today = "2026-01-01".parse().unwrap();
    store
        .all_divisions()
        .await
        .unwrap()
        .iter()
        .filter(|d| {
            matches!(d.level, Level::Street | Level::Community) && d.is_valid_on(today) && !d.code.as_str().starts_with("320671")
        })
        .count()
}

store_test!(a_bad_division_file_changes_nothing, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.import_divisions("code,name,level,parent_code\n320600000000,南通市,city,320000000000\n", &test_actor()).await.unwrap();
    let before = fingerprint(&store).await;
    let bad = "code,name,level,parent_code\n\
               320613000000,崇川区,district,320600000000\n\
               32061300700,坏,street,320613000000\n\
               320613008000,文峰街道,street,320699000000\n\
               320613009000,观音山街道,community,320613000000\n";
    let Err(AppError::Invalid(problems)) = app.import_divisions(bad, &test_actor()).await else { panic!("expected invalid") };
    let lines: Vec<_> = problems.0.iter().map(|p| (p.line, p.code)).collect();
    assert_eq!(lines, vec![(Some(3), "bad_code"), (Some(4), "bad_parent"), (Some(5), "level_mismatch")]);
    assert_eq!(fingerprint(&store).await, before, "nothing written, not even the good row");

    // A malformed line does not hide the problems of the well-formed ones.
    let ragged = "code,name,level,parent_code\n320613000000,崇川区\n32061300700,坏,street,320613000000\n";
    let Err(AppError::Invalid(problems)) = app.import_divisions(ragged, &test_actor()).await else { panic!("expected invalid") };
    let lines: Vec<_> = problems.0.iter().map(|p| (p.line, p.code)).collect();
    assert_eq!(lines, vec![(Some(2), "bad_row"), (Some(3), "bad_code")]);

    let Err(AppError::Invalid(p)) = app.import_divisions("id,name\n1,x\n", &test_actor()).await else { panic!() };
    assert_eq!(p.0[0].code, "bad_header");
    assert_eq!(fingerprint(&store).await, before);
});

store_test!(bad_boundaries_change_nothing, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.import_divisions(
        "code,name,level,parent_code\n320600000000,南通市,city,320000000000\n320613000000,崇川区,district,320600000000\n",
        &test_actor(),
    )
    .await
    .unwrap();
    let square = r#"{"type":"MultiPolygon","coordinates":[[[[120.8,32.0],[120.9,32.0],[120.9,32.1],[120.8,32.0]]]]}"#;
    let good = format!(r#"{{"type":"Feature","properties":{{"code":"320613000000","level":"district"}},"geometry":{square}}}"#);
    let unknown = format!(r#"{{"type":"Feature","properties":{{"code":"320612000000"}},"geometry":{square}}}"#);
    let broken =
        r#"{"type":"Feature","properties":{"code":"320600000000"},"geometry":{"type":"Polygon","coordinates":[[[500,1]]]}}"#;
    let file = format!(r#"{{"type":"FeatureCollection","features":[{good},{unknown}]}}"#);
    let Err(AppError::Invalid(p)) = app.import_boundaries(&file, "test", &test_actor()).await else { panic!() };
    assert_eq!(p.0[0].code, "unknown_division");
    assert_eq!(p.0[0].column.as_deref(), Some("features[1]"));
    // A broken geometry does not hide an unknown code elsewhere in the file.
    let file = format!(r#"{{"type":"FeatureCollection","features":[{good},{broken},{unknown}]}}"#);
    let Err(AppError::Invalid(p)) = app.import_boundaries(&file, "test", &test_actor()).await else { panic!() };
    let found: Vec<_> = p.0.iter().map(|p| (p.column.clone().unwrap(), p.code)).collect();
    assert!(found.contains(&("features[1]".to_string(), "bad_geometry")), "{found:?}");
    assert!(found.contains(&("features[2]".to_string(), "unknown_division")), "{found:?}");
    assert!(matches!(app.import_boundaries("{not json", "test", &test_actor()).await, Err(AppError::Invalid(_))));
    assert!(store.boundary(&code("320613000000")).await.unwrap().is_none());
    let file = format!(r#"{{"type":"FeatureCollection","features":[{good}]}}"#);
    assert_eq!(app.import_boundaries(&file, "test", &test_actor()).await.unwrap().rows, 1);
    assert!(store.boundary(&code("320613000000")).await.unwrap().is_some());
});

store_test!(sign_in_locks_after_repeated_failures, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.import_divisions("code,name,level,parent_code\n320600000000,南通市,city,320000000000\n", &test_actor()).await.unwrap();
    app.create_user(
        gridward_app::auth::NewUser {
            username: "dispatcher".into(),
            display_name: "派遣员".into(),
            password: PASSWORD.into(),
            roles: vec![gridward_domain::access::Role::Dispatcher],
            scope: code("320600000000"),
            staff_no: None,
        },
        &test_actor(),
    )
    .await
    .unwrap();
    // Unknown names are counted and locked exactly like real ones, so the answers reveal nothing.
    for _ in 0..gridward_app::auth::LOCKOUT.max_failures {
        assert!(matches!(app.sign_in("nobody", PASSWORD).await, Err(AppError::BadCredentials)));
    }
    assert!(matches!(app.sign_in("nobody", PASSWORD).await, Err(AppError::Locked { .. })));
    for _ in 0..gridward_app::auth::LOCKOUT.max_failures {
        assert!(matches!(app.sign_in("dispatcher", "wrong-password").await, Err(AppError::BadCredentials)));
    }
    assert!(matches!(app.sign_in("dispatcher", PASSWORD).await, Err(AppError::Locked { .. })), "even the right password");
    app.set_password("dispatcher", "a-new-password-2", &test_actor()).await.unwrap();
    let session = app.sign_in("dispatcher", "a-new-password-2").await.unwrap();
    assert!(app.authenticate(&session.token).await.is_ok());
    app.sign_out(&session.token).await.unwrap();
    assert!(matches!(app.authenticate(&session.token).await, Err(AppError::Unauthenticated)));
    assert!(matches!(
        app.set_password("dispatcher", "short", &test_actor()).await,
        Err(AppError::BadRequest { code: "weak_password", .. })
    ));
});

store_test!(parallel_guessing_gets_no_more_tries, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.import_divisions("code,name,level,parent_code\n320600000000,南通市,city,320000000000\n", &test_actor()).await.unwrap();
    app.create_user(
        gridward_app::auth::NewUser {
            username: "leader".into(),
            display_name: "局领导".into(),
            password: PASSWORD.into(),
            roles: vec![gridward_domain::access::Role::Leader],
            scope: code("320600000000"),
            staff_no: None,
        },
        &test_actor(),
    )
    .await
    .unwrap();
    let guesses: Vec<_> = (0..20)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move { app.sign_in("leader", &format!("guess-{i}")).await })
        })
        .collect();
    let mut checked = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            Err(AppError::BadCredentials) => checked += 1,
            Err(AppError::Locked { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(checked <= gridward_app::auth::LOCKOUT.max_failures, "{checked} passwords were checked");
    assert!(matches!(app.sign_in("leader", PASSWORD).await, Err(AppError::Locked { .. })));
});

store_test!(organisation_files_import_whole_or_not_at_all, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.import_divisions(
        "code,name,level,parent_code\n320600000000,南通市,city,320000000000\n320613000000,崇川区,district,320600000000\n\
         320613007000,钟秀街道,street,320613000000\n",
        &test_actor(),
    )
    .await
    .unwrap();
    let bodies = "code,name,kind,division_code,parent_code,domains\n\
                  nt.cc,崇川区综合行政执法局,bureau,320613000000,,urban_management;market_supervision\n\
                  nt.cc.zx,钟秀街道综合行政执法队,street_squad,320613007000,nt.cc,urban_management\n";
    assert_eq!(app.import_bodies(bodies, &test_actor()).await.unwrap().rows, 2);
    let bad_bodies = "code,name,kind,division_code,parent_code,domains\n\
                      nt.x,某队,street_squad,320613000000,nt.cc,urban_management\n\
                      nt.y,某局,bureau,320613000000,nt.cc,astrology\n";
    let Err(AppError::Invalid(p)) = app.import_bodies(bad_bodies, &test_actor()).await else { panic!("expected invalid") };
    assert_eq!(p.0.iter().map(|p| (p.line, p.code)).collect::<Vec<_>>(), [(Some(2), "level_mismatch"), (Some(3), "bad_domain")]);
    assert!(store.body("nt.x").await.unwrap().is_none());

    let header = "staff_no,name,body_code,roles,credential_no,credential_valid_from,credential_valid_to,qualification_domains,auxiliary,active\n";
    let staff = format!(
        "{header}S1,王伟,nt.cc.zx,officer,C-1,2024-01-01,2028-12-31,urban_management,false,true\nS2,李娜,nt.cc.zx,auxiliary,,,,,true,true\n"
    );
    assert_eq!(app.import_staff(&staff, &test_actor()).await.unwrap().rows, 2);
    let bad_staff = format!(
        "{header}S3,赵强,nt.cc.zx,officer,C-1,2024-01-01,2028-12-31,urban_management,false,true\n\
         S4,钱军,nt.cc.zx,officer;auxiliary,,,,,true,true\nS5,孙敏,nt.none,officer,C-5,2024-01-01,2023-01-01,urban_management,false,true\n"
    );
    let Err(AppError::Invalid(p)) = app.import_staff(&bad_staff, &test_actor()).await else { panic!("expected invalid") };
    let found: Vec<_> = p.0.iter().map(|p| (p.line.unwrap(), p.code)).collect();
    for expected in [(2, "duplicate_credential"), (3, "auxiliary_decides"), (4, "unknown_body"), (4, "bad_validity")] {
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
    assert!(store.staff_member("S3").await.unwrap().is_none());
    assert_eq!(store.staff_of_body("nt.cc.zx", &Page { after: None, limit: 10 }).await.unwrap().len(), 2);
});
