//! Unit grids, ownership and routing, on the demo city and on small files of our own.

use std::sync::Arc;

use gridward_app::places::GivenPoint;
use gridward_app::{App, AppError, demo};
use gridward_domain::access::{Principal, Role};
use gridward_domain::division::DivisionCode;
use gridward_grid::Datum;
use gridward_store::{Backend, GridOwner, Store};
use gridward_testkit::{TestStore, store_test};

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn principal(roles: &[Role], scope: &str) -> Principal {
    Principal { username: "tester".into(), display_name: "测试".into(), roles: roles.to_vec(), scope: code(scope) }
}

/// A deterministic stream of points in [0, 1)².
fn points(n: usize) -> impl Iterator<Item = (f64, f64)> {
    let mut rng = gridward_grid::SplitMix64::from_seed(0x5eed);
    (0..n).map(move |_| (rng.unit(), rng.unit()))
}

/// The demo's grids on both backends: they are the same grids, and 100,000 random points over 崇川区 (and
/// around it) land in the same grid through the index as through a scan of every grid; points on a shared
/// border go to the lowest code, and points outside the city are outside the jurisdiction.
#[tokio::test]
async fn demo_grids_route_like_a_brute_force_scan_on_both_backends() {
    let mut answers = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let test = TestStore::new(backend).await;
        let app = App::new(test.store.clone()).unwrap();
        app.load_demo(PASSWORD).await.unwrap();
        let grids = test.store.grids().await.unwrap();
        assert!(grids.len() > 40_000, "崇川区's urban streets hold tens of thousands of grids, got {}", grids.len());
        assert!(grids.iter().all(|g| g.synthetic && g.datum == "gcj02" && g.code.starts_with("320613")));
        let mean = grids.iter().map(|g| g.area_m2).sum::<f64>() / grids.len() as f64;
        assert!((8_000.0..12_000.0).contains(&mean), "about 10,000 m² each, got {mean}");
        assert_eq!(test.store.grid_owners().await.unwrap().len(), grids.len(), "every demo grid has an owner");
        // Loading again changes nothing.
        app.load_demo(PASSWORD).await.unwrap();
        assert_eq!(test.store.grids().await.unwrap().len(), grids.len());

        let index = app.places().await.unwrap();
        assert_eq!(index.datum, Datum::Gcj02);
        // 崇川区's extent, widened so that some points fall outside the city.
        let (x0, y0, x1, y1) = (120.70, 31.85, 121.15, 32.20);
        let mut inside = 0;
        let mut answer = Vec::with_capacity(100_000);
        for (u, v) in points(100_000) {
            let (lon, lat) = (x0 + u * (x1 - x0), y0 + v * (y1 - y0));
            let found = index.grid_at(lon, lat);
            assert_eq!(found, index.grid_by_scan(lon, lat), "({lon}, {lat})");
            inside += usize::from(found.is_some());
            answer.push(found.map(str::to_owned));
        }
        assert!(inside > 20_000, "a good share of the points fall in a grid: {inside}");
        answers.push((grids.iter().map(|g| (g.code.clone(), g.geometry.clone())).collect::<Vec<_>>(), answer));

        // A point on the border two grids share belongs to the lower code.
        let shape: serde_json::Value = serde_json::from_str(&grids[0].geometry).unwrap();
        let ring = shape["coordinates"][0][0].as_array().unwrap();
        let (a, b) = (&ring[0], &ring[1]);
        let mid =
            ((a[0].as_f64().unwrap() + b[0].as_f64().unwrap()) / 2.0, (a[1].as_f64().unwrap() + b[1].as_f64().unwrap()) / 2.0);
        let sharing = index.grids_containing(mid.0, mid.1);
        assert!(!sharing.is_empty());
        assert_eq!(index.grid_at(mid.0, mid.1), sharing.first().copied(), "lowest code wins on a border");

        let admin = principal(&[Role::Admin], demo::CITY);
        let far = app.route(&admin, GivenPoint { lon: 116.39, lat: 39.91, datum: Datum::Wgs84 }, None).await.unwrap_err();
        assert_eq!(far.code(), "outside_jurisdiction");
        test.finish().await;
    }
    assert!(answers[0] == answers[1], "SQLite and PostgreSQL hold the same grids and answer the same");
}

const PASSWORD: &str = "demo-password-1";

/// The GeoJSON of `grids` squares of 0.001° side in a row from (lon, lat), codes `community` + 001….
fn row_of_squares(community: &str, lon: f64, lat: f64, grids: usize, crs: Option<&str>) -> Vec<u8> {
    let features: Vec<serde_json::Value> = (0..grids)
        .map(|i| {
            let x = lon + i as f64 * 0.001;
            serde_json::json!({"type": "Feature", "properties": {"code": format!("{community}{:04}", i + 1), "name": format!("测试网格{}", i + 1)},
                "geometry": {"type": "Polygon", "coordinates": [[[x, lat], [x + 0.001, lat], [x + 0.001, lat + 0.001], [x, lat + 0.001], [x, lat]]]}})
        })
        .collect();
    let mut doc = serde_json::json!({"type": "FeatureCollection", "features": features});
    if let Some(crs) = crs {
        doc["crs"] = serde_json::json!({"type": "name", "properties": {"name": crs}});
    }
    serde_json::to_vec(&doc).unwrap()
}

/// A point inside 钟秀街道's first community, in the outlines' datum (GCJ-02).
async fn point_in(app: &App, community: &str) -> (f64, f64) {
    let outline = app.store.boundary(&code(community)).await.unwrap().unwrap();
    let shape = gridward_grid::parse_geometry(&outline.geometry.to_string()).unwrap();
    let p = geo::InteriorPoint::interior_point(&shape).unwrap();
    (p.x(), p.y())
}

store_test!(grid_files_are_all_or_nothing_and_owners_are_checked, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    let admin = principal(&[Role::Admin], demo::CITY);
    let community = "320613007001";
    let (lon, lat) = point_in(&app, community).await;

    // Only administrators import.
    let officer = principal(&[Role::Officer], demo::ZHONGXIU);
    let file = row_of_squares(community, lon - 0.0015, lat - 0.0005, 3, Some("GCJ-02"));
    assert!(matches!(app.import_grids(&officer, &file, None, "test").await, Err(AppError::Forbidden)));

    // A bad file writes nothing: an unknown community, and an unclosed ring, each named by feature.
    let mut bad: serde_json::Value = serde_json::from_slice(&row_of_squares(community, lon, lat, 2, Some("GCJ-02"))).unwrap();
    bad["features"][1]["properties"]["code"] = "3206139990010001".into();
    let problems = match app.import_grids(&admin, &serde_json::to_vec(&bad).unwrap(), None, "test").await {
        Err(AppError::Invalid(p)) => p,
        other => panic!("expected invalid input, got {other:?}"),
    };
    assert_eq!(problems.0[0].column.as_deref(), Some("features[1]"));
    assert_eq!(problems.0[0].code, "unknown_community");
    bad["features"][1]["properties"]["code"] = format!("{community}0002").into();
    bad["features"][0]["geometry"]["coordinates"][0].as_array_mut().unwrap().pop();
    let problems = match app.import_grids(&admin, &serde_json::to_vec(&bad).unwrap(), None, "test").await {
        Err(AppError::Invalid(p)) => p,
        other => panic!("expected invalid input, got {other:?}"),
    };
    assert_eq!(problems.0[0].column.as_deref(), Some("features[0]"));
    assert!(problems.0[0].message.contains("not closed"), "{problems:?}");
    let projected = row_of_squares(community, lon, lat, 1, Some("EPSG:3857"));
    let problems = match app.import_grids(&admin, &projected, None, "test").await {
        Err(AppError::Invalid(p)) => p,
        other => panic!("expected invalid input, got {other:?}"),
    };
    assert_eq!(problems.0[0].code, "unsupported_crs");
    assert!(store.grids().await.unwrap().is_empty(), "nothing was written");

    // A good file: three grids in GCJ-02, the middle one around the community's interior point.
    let report = app.import_grids(&admin, &file, None, "test").await.unwrap();
    assert_eq!((report.outcome.added, report.datum), (3, Datum::Gcj02));
    assert_eq!(report.uncovered.len(), 1, "three grids leave most of the community uncovered");
    let index = app.places().await.unwrap();
    assert_eq!(index.grid_at(lon, lat), Some(format!("{community}0002").as_str()), "the index was swapped in");

    // A grid of another community may not overlap them.
    let other = row_of_squares("320613007002", lon - 0.0015, lat - 0.0005, 1, Some("GCJ-02"));
    let problems = match app.import_grids(&admin, &other, None, "test").await {
        Err(AppError::Invalid(p)) => p,
        other => panic!("expected an overlap, got {other:?}"),
    };
    assert_eq!(problems.0[0].code, "grid_overlap");

    // Owners: the squad must cover the grid, the primary officer must be one of its credentialed officers.
    let squad_staff: Vec<_> = store
        .staff_within(&code(demo::ZHONGXIU))
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.body_code == demo::ZHONGXIU_SQUAD)
        .collect();
    let officer_no = squad_staff.iter().find(|s| !s.auxiliary).unwrap().staff_no.clone();
    let auxiliary_no = squad_staff.iter().find(|s| s.auxiliary).unwrap().staff_no.clone();
    let grid = format!("{community}0001");
    let owner = |squad: &str, primary: &str, backups: Vec<String>| GridOwner {
        grid: grid.clone(),
        squad: squad.into(),
        primary_officer: Some(primary.into()),
        backups,
    };
    let dispatcher_elsewhere = principal(&[Role::Dispatcher], demo::WENFENG);
    let refused = app.assign_grids(&dispatcher_elsewhere, &[owner(demo::ZHONGXIU_SQUAD, &officer_no, vec![])]).await.unwrap_err();
    assert!(matches!(&refused, AppError::Invalid(p) if p.0[0].code == "unknown_grid"), "{refused:?}");
    let refused = app.assign_grids(&admin, &[owner("squad.320613008", &officer_no, vec![])]).await.unwrap_err();
    assert!(matches!(&refused, AppError::Invalid(p) if p.0.iter().any(|p| p.code == "outside_territory")), "{refused:?}");
    let refused = app.assign_grids(&admin, &[owner(demo::ZHONGXIU_SQUAD, &auxiliary_no, vec![])]).await.unwrap_err();
    assert!(matches!(&refused, AppError::Invalid(p) if p.0[0].code == "not_an_officer"), "{refused:?}");
    let before = store.integrate_ledger().await.unwrap();
    let dispatcher = principal(&[Role::Dispatcher], demo::ZHONGXIU);
    assert_eq!(
        app.assign_grids(&dispatcher, &[owner(demo::ZHONGXIU_SQUAD, &officer_no, vec![auxiliary_no.clone()])]).await.unwrap(),
        1
    );
    assert_eq!(
        app.assign_grids(&dispatcher, &[owner(demo::ZHONGXIU_SQUAD, &officer_no, vec![auxiliary_no.clone()])]).await.unwrap(),
        0,
        "unchanged"
    );
    let entries = store.ledger_entries(before.size, 10).await.unwrap();
    let assigned: Vec<_> = entries.iter().filter(|e| e.entry.object_type == "grid_owner").collect();
    assert_eq!(assigned.len(), 1, "the reassignment went through the record");

    // Coverage of 钟秀街道: two grids without an owner, every other officer of the squad without a grid.
    let coverage = app.coverage(&dispatcher, None).await.unwrap();
    assert_eq!((coverage.grids, coverage.owned, coverage.unowned.len()), (3, 1, 2));
    let load = coverage.loads.iter().find(|l| l.officer.staff_no == officer_no).unwrap();
    assert_eq!((load.grids, load.backup_grids), (1, 0));
    assert!(coverage.loads.iter().any(|l| l.officer.staff_no == auxiliary_no && l.backup_grids == 1));
    assert!(!coverage.idle_officers.iter().any(|o| o.staff_no == officer_no));
    assert!(coverage.idle_officers.len() >= 2);
    assert!(matches!(app.coverage(&principal(&[Role::Officer], demo::ZHONGXIU), None).await, Err(AppError::Forbidden)));

    // Routing from WGS-84 (as a phone reports) reaches the same grid, with the power's holder and officer.
    let (wlon, wlat) = Datum::Gcj02.convert(Datum::Wgs84, lon, lat);
    let route = app.route(&officer, GivenPoint { lon: wlon, lat: wlat, datum: Datum::Wgs84 }, Some("dqwr.118.1")).await.unwrap();
    assert_eq!(route.grid.as_ref().unwrap().code, format!("{community}0002"));
    let levels: Vec<&str> = route.divisions.iter().map(|d| d.level).collect();
    assert_eq!(levels, ["community", "street", "district", "city", "province"][..levels.len()]);
    assert_eq!(route.divisions[1].code, code(demo::ZHONGXIU));
    let holder = route.holder.as_ref().unwrap();
    assert_eq!(holder.assignment.body_code, demo::ZHONGXIU_SQUAD, "钟秀's squad holds the street-level power");
    assert!(!route.power.as_ref().unwrap().legal_basis.is_empty());
    assert!(route.why.len() >= 3, "{:?}", route.why);
    // The middle grid has no owner yet, so no officer; the first grid's officer is named.
    assert!(route.owner.is_none() && route.handler.is_none());
    let (glon, glat) = (lon - 0.001, lat);
    let route = app.route(&officer, GivenPoint { lon: glon, lat: glat, datum: Datum::Gcj02 }, Some("dqwr.118.1")).await.unwrap();
    assert_eq!(route.grid.as_ref().unwrap().code, grid);
    assert_eq!(route.handler.as_ref().unwrap().primary_officer.as_ref().unwrap().staff_no, officer_no);
    // Someone whose territory is elsewhere sees the squad but not its people.
    let elsewhere = principal(&[Role::Officer], demo::WENFENG);
    let route = app.route(&elsewhere, GivenPoint { lon: glon, lat: glat, datum: Datum::Gcj02 }, None).await.unwrap();
    let owner = route.owner.unwrap();
    assert_eq!(owner.squad.code, demo::ZHONGXIU_SQUAD);
    assert!(owner.primary_officer.is_none() && owner.backups.is_empty());

    // Re-importing the community with two grids retires the third, recorded.
    let fewer = row_of_squares(community, lon - 0.0015, lat - 0.0005, 2, Some("GCJ-02"));
    let report = app.import_grids(&admin, &fewer, None, "test").await.unwrap();
    assert_eq!((report.outcome.unchanged, report.outcome.retired), (2, 1));
    assert_eq!(store.grids().await.unwrap().len(), 2);
    assert_eq!(app.places().await.unwrap().grid_at(lon + 0.001, lat), None, "the retired grid left the index");
});
