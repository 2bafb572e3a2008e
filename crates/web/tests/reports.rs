//! Reports over HTTP on both backends: the Open311 conformance cases of the contract in JSON and XML, rate
//! limits, and the public form (a citizen's report with a photo; a supervisor's patrol finding).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use gridward_app::App;
use gridward_domain::access::{Principal, Role};
use gridward_domain::division::DivisionCode;
use gridward_grid::Datum;
use gridward_store::Store;
use gridward_testkit::store_test;
use gridward_web::{AppState, router};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const PASSWORD: &str = "demo-password-1";
const CITY: &str = "320600000000";

struct Reply {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

async fn call(router: &Router, method: Method, uri: &str, form: Option<&str>) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if form.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8");
    }
    let res =
        router.clone().oneshot(req.body(form.map(|f| Body::from(f.to_string())).unwrap_or_default()).unwrap()).await.unwrap();
    let status = res.status();
    let content_type = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Reply { status, content_type, body }
}

async fn get(router: &Router, uri: &str) -> Reply {
    call(router, Method::GET, uri, None).await
}

/// A WGS-84 point inside 钟秀街道, from its first community's outline.
async fn zhongxiu(store: &Arc<dyn Store>) -> (f64, f64) {
    let outline = store.boundary(&DivisionCode::parse("320613007001").unwrap()).await.unwrap().unwrap();
    let ring = outline.geometry["coordinates"][0][0].as_array().unwrap().clone();
    let (x, y) = ring.iter().fold((0.0, 0.0), |(x, y), p| (x + p[0].as_f64().unwrap(), y + p[1].as_f64().unwrap()));
    Datum::Gcj02.convert(Datum::Wgs84, x / ring.len() as f64, y / ring.len() as f64)
}

store_test!(open311_conformance, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    let key =
        app.issue_open311_key_as("fixmystreet", "ops@example.org", &gridward_store::Actor::new("test", "admin")).await.unwrap();
    let router = router(AppState::new(app.clone(), true, false));
    let (lon, lat) = zhongxiu(&store).await;

    // 1. Discovery in both formats, and they agree.
    let dj = get(&router, "/open311/discovery.json").await;
    assert_eq!(dj.status, StatusCode::OK);
    assert_eq!(dj.content_type, "application/json; charset=utf-8");
    let dx = get(&router, "/open311/discovery.xml").await;
    assert!(dx.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{}", dx.body);
    assert_eq!(dx.content_type, "text/xml; charset=utf-8");
    let discovery = dj.json();
    for field in ["changeset", "contact", "key_service"] {
        assert!(dx.body.contains(&format!("<{field}>")), "{field}");
        assert!(discovery[field].is_string(), "{field}");
    }
    let endpoint = &discovery["endpoints"][0];
    assert_eq!(endpoint["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert!(dx.body.contains("<format>text/xml</format>") && dx.body.contains("<format>application/json</format>"));

    // 2. Every service resolves to a definition; metadata=true means one exists.
    let services = get(&router, "/open311/v2/services.json").await.json();
    let services = services.as_array().unwrap();
    assert!(services.len() >= 20);
    let groups: std::collections::BTreeSet<&str> = services.iter().map(|s| s["group"].as_str().unwrap()).collect();
    for g in ["市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件"] {
        assert!(groups.contains(g), "{g}");
    }
    for s in services {
        assert_eq!(s["metadata"], true);
        assert_eq!(s["type"], "realtime");
        let code = s["service_code"].as_str().unwrap();
        let def = get(&router, &format!("/open311/v2/services/{code}.json")).await.json();
        assert_eq!(def["service_code"], code);
        let attr = &def["attributes"][0];
        assert_eq!(
            (attr["code"].as_str(), attr["datatype"].as_str(), attr["required"].as_bool()),
            (Some("severity"), Some("singlevaluelist"), Some(false))
        );
    }
    let xml_def = get(&router, "/open311/v2/services/0101.xml").await;
    assert!(
        xml_def.body.contains("<service_code>0101</service_code>") && xml_def.body.contains("<attributes><attribute>"),
        "{}",
        xml_def.body
    );
    assert!(xml_def.body.contains("<values><value><key>minor</key>"));
    let services_xml = get(&router, "/open311/v2/services.xml").await.body;
    assert!(
        services_xml.contains("<services><service>") && services_xml.contains("<service_code>0101</service_code>"),
        "{services_xml}"
    );
    assert_eq!(get(&router, "/open311/v2/services/9999.json").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&router, &format!("/open311/v2/services.json?jurisdiction_id={CITY}")).await.status, StatusCode::OK);
    assert_eq!(get(&router, "/open311/v2/services.json?jurisdiction_id=sfgov.org").await.status, StatusCode::NOT_FOUND);
    // 9. An empty optional parameter is the same as an absent one.
    assert_eq!(get(&router, "/open311/v2/services.json?jurisdiction_id=").await.status, StatusCode::OK);

    // 3. POST without a key → 403; unknown service → 404; no location → 400; errors in the spec's shape.
    let post = |body: String, format: &'static str| {
        let router = router.clone();
        async move { call(&router, Method::POST, &format!("/open311/v2/requests.{format}"), Some(&body)).await }
    };
    let base = format!("service_code=0101&lat={lat}&long={lon}&description=%E5%9E%83%E5%9C%BE&phone=13812345678");
    let nokey = post(base.clone(), "json").await;
    assert_eq!(nokey.status, StatusCode::FORBIDDEN);
    assert_eq!(nokey.json()[0]["code"], "bad_api_key");
    let badkey = post(format!("{base}&api_key=gw311_wrong"), "xml").await;
    assert_eq!(badkey.status, StatusCode::FORBIDDEN);
    assert!(badkey.body.contains("<errors><error><code>bad_api_key</code>"), "{}", badkey.body);
    let unknown = post(format!("service_code=9999&lat={lat}&long={lon}&api_key={key}"), "json").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let nowhere = post(format!("service_code=0101&api_key={key}"), "json").await;
    assert_eq!((nowhere.status, nowhere.json()[0]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("missing_location")));
    let abroad = post(format!("service_code=0101&lat=39.91&long=116.39&api_key={key}"), "json").await;
    assert_eq!(abroad.json()[0]["code"], "outside_jurisdiction");
    let long_text = "x".repeat(4001);
    assert_eq!(
        post(format!("service_code=0101&lat={lat}&long={lon}&api_key={key}&description={long_text}"), "json").await.json()[0]["code"],
        "text_too_long"
    );
    let wrong_type = call(&router, Method::POST, "/open311/v2/requests.json", None).await;
    assert_eq!(wrong_type.status, StatusCode::FORBIDDEN, "no body: no key");
    let json_body = Request::builder()
        .method(Method::POST)
        .uri("/open311/v2/requests.json")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(router.clone().oneshot(json_body).await.unwrap().status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // 4. A POST answers exactly one of an id and a token: in JSON and in XML.
    let created = post(format!("{base}&api_key={key}&attribute[severity]=serious"), "json").await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let created = created.json();
    let id = created[0]["service_request_id"].as_str().unwrap().to_string();
    assert!(created[0].get("token").is_none());
    let other = format!(
        "service_code=0401&lat={}&long={lon}&api_key={key}&first_name=%E7%8E%8B&last_name=%E5%B0%8F%E6%98%8E",
        lat + 0.003
    );
    let created_xml = post(other, "xml").await;
    assert_eq!(created_xml.status, StatusCode::OK, "{}", created_xml.body);
    assert!(
        created_xml.body.contains("<service_requests><request>") && created_xml.body.contains("<service_request_id>"),
        "{}",
        created_xml.body
    );
    assert!(!created_xml.body.contains("<token>"));
    // The same problem again nearby is linked, and the client is told.
    let again = post(format!("{base}&api_key={key}"), "json").await.json();
    assert!(again[0]["service_notice"].as_str().unwrap().contains(&id), "{again}");

    // Read back: one request as a list of one, in both formats; times carry their zone; no reporter.
    let one = get(&router, &format!("/open311/v2/requests/{id}.json")).await.json();
    let r = &one[0];
    assert_eq!(
        (r["service_request_id"].as_str(), r["status"].as_str(), r["service_code"].as_str()),
        (Some(id.as_str()), Some("open"), Some("0101"))
    );
    assert_eq!(r["extended_status"], "FOR_TRIAGE");
    assert!(r["requested_datetime"].as_str().unwrap().ends_with("+08:00"));
    assert!(!one.to_string().contains("13812345678"));
    assert_eq!(r["description"], "", "text is published after intake accepts it");
    let one_xml = get(&router, &format!("/open311/v2/requests/{id}.xml")).await;
    assert!(one_xml.body.contains(&format!("<service_request_id>{id}</service_request_id>")));
    assert_eq!(get(&router, "/open311/v2/requests/999999.json").await.status, StatusCode::NOT_FOUND);

    // 6–7. Lists: the default window, a range over 90 days refused, status as a list, ids override.
    let all = get(&router, "/open311/v2/requests.json").await.json();
    assert_eq!(all.as_array().unwrap().len(), 3);
    let too_long = get(&router, "/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z").await;
    assert_eq!((too_long.status, too_long.json()[0]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("date_range_too_long")));
    let no_zone = get(&router, "/open311/v2/requests.json?start_date=2026-01-01T00:00:00").await;
    assert_eq!(no_zone.json()[0]["code"], "bad_datetime");
    assert_eq!(get(&router, "/open311/v2/requests.json?status=open,closed").await.json().as_array().unwrap().len(), 3);
    assert_eq!(
        get(&router, "/open311/v2/requests.json?status=closed").await.json().as_array().unwrap().len(),
        1,
        "the duplicate"
    );
    assert_eq!(get(&router, "/open311/v2/requests.json?status=open&service_code=0401").await.json().as_array().unwrap().len(), 1);
    let by_id =
        get(&router, &format!("/open311/v2/requests.json?service_request_id={id}&status=closed&service_code=0401")).await.json();
    assert_eq!(by_id.as_array().unwrap().len(), 1, "a list of ids overrides the other filters");
    assert_eq!(get(&router, "/open311/v2/requests.json?page_size=2&page=2").await.json().as_array().unwrap().len(), 1);
    assert_eq!(get(&router, "/open311/v2/requests.json?status=lost").await.status, StatusCode::BAD_REQUEST);

    // 5. An address alone gets a token; it yields the number once a dispatcher places the report.
    let by_address =
        post(format!("service_code=0201&address_string=%E9%92%9F%E7%A7%80%E8%B7%AF12%E5%8F%B7&api_key={key}"), "json")
            .await
            .json();
    let token = by_address[0]["token"].as_str().unwrap().to_string();
    assert!(by_address[0].get("service_request_id").is_none());
    let pending = get(&router, &format!("/open311/v2/tokens/{token}.json")).await.json();
    assert_eq!(pending[0]["token"], token.as_str());
    assert!(pending[0].get("service_request_id").is_none());
    assert_eq!(get(&router, "/open311/v2/tokens/nope.json").await.status, StatusCode::NOT_FOUND);
    let hidden = store.report_by_token(&token).await.unwrap().unwrap();
    let centre = Principal {
        username: "centre".into(),
        display_name: "centre".into(),
        roles: vec![Role::Dispatcher],
        scope: DivisionCode::parse(CITY).unwrap(),
    };
    app.place_report(&centre, hidden.id, lon, lat + 0.006, Datum::Wgs84).await.unwrap();
    let resolved = get(&router, &format!("/open311/v2/tokens/{token}.xml")).await;
    assert!(resolved.body.contains(&format!("<service_request_id>{}</service_request_id>", hidden.id)), "{}", resolved.body);

    // The mySociety updates extension: the history, and a client's comment (never a state change).
    let updates = get(&router, "/open311/v2/servicerequestupdates.json").await.json();
    assert!(updates.as_array().unwrap().iter().any(|u| u["service_request_id"] == id.as_str() && u["status"] == "FOR_TRIAGE"));
    let comment_url = format!("/open311/v2/servicerequestupdates.json?api_key={key}");
    let comment =
        call(&router, Method::POST, &comment_url, Some(&format!("service_request_id={id}&description=%E8%A1%A5%E5%85%85"))).await;
    assert_eq!(comment.status, StatusCode::OK, "{}", comment.body);
    assert!(comment.json()[0]["update_id"].is_string());
    let closing =
        call(&router, Method::POST, &comment_url, Some(&format!("service_request_id={id}&description=x&status=CLOSED"))).await;
    assert_eq!(closing.json()[0]["code"], "status_not_settable");
    let xml_updates = get(&router, "/open311/v2/servicerequestupdates.xml").await.body;
    assert!(
        xml_updates.contains("<service_request_updates><request_update>") && xml_updates.contains("<update_id>"),
        "{xml_updates}"
    );

    // Bad paths and formats.
    assert_eq!(get(&router, "/open311/v2/services.csv").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&router, "/open311/v2/nothing.json").await.status, StatusCode::NOT_FOUND);
});

store_test!(open311_posts_are_rate_limited_per_key, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    let key = app.issue_open311_key_as("tiny", "", &gridward_store::Actor::new("test", "admin")).await.unwrap();
    let limits = gridward_web::limits::RateLimits { per_key: 2, per_address: 20, per_device: 10 };
    let router = router(AppState::new(app, true, false).with_rate_limits(limits));
    let (lon, lat) = zhongxiu(&store).await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let body = format!("service_code=0101&lat={}&long={lon}&api_key={key}", lat + f64::from(i) * 0.002);
        statuses.push(call(&router, Method::POST, "/open311/v2/requests.json", Some(&body)).await.status);
    }
    assert_eq!(statuses, [StatusCode::OK, StatusCode::OK, StatusCode::TOO_MANY_REQUESTS]);
    assert_eq!(store.count_reports(&Default::default()).await.unwrap(), 2);
});

fn multipart(fields: &[(&str, &str)], photo: Option<&[u8]>) -> (String, Vec<u8>) {
    let boundary = "gridwardtestboundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    if let Some(bytes) = photo {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").as_bytes());
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

store_test!(the_public_form_takes_reports_and_patrol_findings, |store: Arc<dyn Store>| async move {
    let blobs = Box::leak(Box::new(tempfile::tempdir().unwrap()));
    let app =
        App::new(store.clone()).unwrap().with_evidence_store(Arc::new(gridward_app::evidence::FsBlobStore::new(blobs.path())));
    app.load_demo_city(PASSWORD).await.unwrap();
    let router = router(AppState::new(app.clone(), true, false));
    let (lon, lat) = zhongxiu(&store).await;
    let (lon, lat) = (lon.to_string(), lat.to_string());
    let send = |token: Option<String>, fields: Vec<(&'static str, String)>, photo: Option<&'static [u8]>| {
        let router = router.clone();
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (content_type, body) = multipart(&fields, photo);
            let mut req = Request::builder().method(Method::POST).uri("/report").header(header::CONTENT_TYPE, content_type);
            if let Some(t) = token {
                req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
            }
            let res = router.oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
            (res.status(), res.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string())
        }
    };
    let photo: &'static [u8] = include_bytes!("../../../e2e/fixtures/stall.jpg");
    let fields = |service: &str| {
        vec![
            ("service_code", service.to_string()),
            ("lon", lon.clone()),
            ("lat", lat.clone()),
            ("datum", "wgs84".to_string()),
            ("description", "门口堆物".to_string()),
        ]
    };
    // A citizen: the ticket page follows, and the photo is kept with the report.
    let (status, location) = send(None, fields("0402"), Some(photo)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let token = location.strip_prefix("/reports/t/").unwrap().trim_end_matches("?new=1").to_string();
    let report = store.report_by_token(&token).await.unwrap().unwrap();
    assert_eq!(report.channel, gridward_domain::report::Channel::Web);
    assert_eq!(store.evidence_of("report", &report.id.to_string()).await.unwrap().len(), 1);
    let page = get(&router, &location).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("id=\"ticket-number\">{}<", report.id)));
    // Something that is not a photo refuses the whole report.
    let before = store.count_reports(&Default::default()).await.unwrap();
    let (status, _) = send(None, fields("0101"), Some(b"%PDF-1.4 not a photo")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(store.count_reports(&Default::default()).await.unwrap(), before);
    // A supervisor signed in files a patrol finding with the same form.
    let login = call(&router, Method::POST, "/api/v1/session", None).await;
    assert_eq!(login.status, StatusCode::BAD_REQUEST, "no body");
    let session = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!(r#"{{"username":"supervisor","password":"{PASSWORD}"}}"#)))
        .unwrap();
    let session = router.clone().oneshot(session).await.unwrap().into_body().collect().await.unwrap().to_bytes();
    let bearer = serde_json::from_slice::<Value>(&session).unwrap()["token"].as_str().unwrap().to_string();
    let (status, location) = send(Some(bearer), fields("1101"), None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let token = location.strip_prefix("/reports/t/").unwrap().trim_end_matches("?new=1").to_string();
    let finding = store.report_by_token(&token).await.unwrap().unwrap();
    assert_eq!(finding.channel, gridward_domain::report::Channel::Patrol);
});
