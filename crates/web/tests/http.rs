//! The HTTP surface, exercised in-process on both backends.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use gridward_app::App;
use gridward_domain::access::Access;
use gridward_store::Store;
use gridward_testkit::store_test;
use gridward_web::{AppState, router_with_table};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "demo-password-1";

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&format!("{name}=")).map(|rest| rest.split(';').next().unwrap_or("").to_string()))
    }
}

async fn send(router: &Router, method: Method, uri: &str, headers: &[(&str, &str)], body: Body) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply { status, headers, body }
}

async fn get(router: &Router, uri: &str, token: Option<&str>) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| vec![("authorization", a)]).unwrap_or_default();
    send(router, Method::GET, uri, &headers, Body::empty()).await
}

async fn post_json(router: &Router, uri: &str, token: Option<&str>, body: &Value) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = auth.as_deref() {
        headers.push(("authorization", a));
    }
    send(router, Method::POST, uri, &headers, Body::from(body.to_string())).await
}

async fn demo_router(store: Arc<dyn Store>) -> Router {
    // The evidence directory lives as long as the test process; the OS temp dir is cleaned elsewhere.
    let evidence_dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
    let app = App::new(store)
        .unwrap()
        .with_signer(gridward_ledger::CheckpointKey::generate().unwrap(), "test.gridward")
        .with_evidence_store(Arc::new(gridward_app::evidence::FsBlobStore::new(evidence_dir.path())));
    app.load_demo_city(PASSWORD).await.unwrap();
    app.sign_checkpoint().await.unwrap();
    router_with_table(AppState::new(app, true, false)).0
}

async fn token(router: &Router, username: &str) -> String {
    let reply = post_json(router, "/api/v1/session", None, &json!({"username": username, "password": PASSWORD})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    body["token"].as_str().unwrap().to_string()
}

/// Fills path parameters with plausible values so every route can be called.
fn concrete(path: &str) -> String {
    path.replace("{code}", "320613007000")
        .replace("{seq}", "0")
        .replace("{id}", "ev-0")
        .replace("{*path}", "app.css")
        .replace("{lang}", "en")
        .replace("{*rest}", "index.html")
        .replace("{name}", "fixmystreet")
}

store_test!(every_route_has_a_rule_and_the_rule_holds, |store: Arc<dyn Store>| async move {
    let app = App::new(store).unwrap();
    let (router, table) = router_with_table(AppState::new(app, false, false));
    let mut public: Vec<String> =
        table.iter().filter(|r| r.access == Access::Public).map(|r| format!("{} {}", r.method, r.path)).collect();
    public.sort();
    // The public allowlist is explicit: adding a public route means changing this list.
    let mut expected = vec![
        "GET /.well-known/gridward-ledger-key",
        "POST /api/v1/ledger/cosignatures",
        "GET /api/docs",
        "GET /api/docs/",
        "GET /api/docs/{*rest}",
        "GET /api/openapi.json",
        "GET /api/v1/ledger/checkpoint",
        "GET /api/v1/ledger/consistency",
        "GET /healthz",
        "GET /lang/{lang}",
        "GET /login",
        "GET /metrics",
        "GET /static/{*path}",
        "GET /transparency",
        // Responsibility lists are published by law.
        "GET /api/v1/divisions/{code}/responsibilities",
        "GET /api/v1/bodies/{code}/responsibilities",
        "GET /responsibilities",
        "GET /responsibilities/{code}",
        "POST /api/v1/session",
        "POST /login",
        // Public reporting: the form, ticket and status pages, and Open311 (posting checks its api_key).
        "GET /report",
        "POST /report",
        "GET /report/outlines",
        "GET /reports/lookup",
        "GET /reports/t/{token}",
        "GET /reports/{id}",
        "GET /reports/{id}/photos/{evidence}",
        "GET /api/v1/rewards/stats",
        "GET /rewards",
        // The rule by which legal periods are counted: no data, only the official calendar.
        "GET /api/v1/calendar/deadline",
        // Penalty decisions are published by law (Art. 48), personal data masked.
        "GET /api/v1/decisions",
        "GET /decisions",
        "GET /open311/{file}",
        "GET /open311/v2/{file}",
        "POST /open311/v2/{file}",
        "GET /open311/v2/services/{file}",
        "GET /open311/v2/requests/{file}",
        "GET /open311/v2/tokens/{file}",
    ];
    expected.sort();
    assert_eq!(public, expected);
    for route in table.iter().filter(|r| r.access != Access::Public) {
        let reply =
            send(&router, route.method.clone(), &concrete(route.path), &[("content-type", "application/json")], Body::from("{}"))
                .await;
        if route.path.starts_with("/api/") {
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{} {}", route.method, route.path);
            assert_eq!(reply.json()["error"], "unauthenticated");
        } else {
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{} {}", route.method, route.path);
            assert!(reply.headers[header::LOCATION].to_str().unwrap().starts_with("/login?next="));
        }
    }
    // The OpenAPI document and the route table describe the same API.
    let doc = get(&router, "/api/openapi.json", None).await.json();
    let documented: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    for route in table.iter().filter(|r| r.path.starts_with("/api/v1/")) {
        assert!(documented.contains(&route.path.to_string()), "{} is not in the OpenAPI document", route.path);
    }
    for path in &documented {
        assert!(table.iter().any(|r| r.path == path), "{path} is documented but not routed");
    }
});

store_test!(the_judged_api_flows, |store: Arc<dyn Store>| async move {
    let router = demo_router(store).await;
    let dispatcher = token(&router, "dispatcher").await;
    let reply = get(&router, "/api/v1/divisions?parent=320613000000", Some(&dispatcher)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let items = reply.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 19);
    assert!(items.iter().any(|d| d["code"] == "320613007000" && d["name"] == "钟秀街道"));

    let anonymous = get(&router, "/api/v1/divisions?parent=320613000000", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.json()["error"], "unauthenticated");

    let wenfeng = token(&router, "officer.wenfeng").await;
    for uri in [
        "/api/v1/bodies/squad.320613007",
        "/api/v1/bodies/squad.320613007/staff",
        "/api/v1/divisions/320613007000",
        "/api/v1/divisions/320613007000/boundary",
    ] {
        let reply = get(&router, uri, Some(&wenfeng)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(reply.json()["error"], "not_found");
    }
    let own = get(&router, "/api/v1/bodies/squad.320613008/staff", Some(&wenfeng)).await;
    assert_eq!(own.status, StatusCode::OK);
    let number = own.json()["items"][0]["credential"]["number"].as_str().unwrap().to_string();
    assert!(number.contains("****"), "credential numbers are masked: {number}");
    // A street officer sees only their own street among 崇川区's children, and only their squad.
    let siblings = get(&router, "/api/v1/divisions?parent=320613000000", Some(&wenfeng)).await.json();
    assert_eq!(siblings["items"].as_array().unwrap().len(), 1);
    assert_eq!(siblings["items"][0]["code"], "320613008000");
    let first = get(&router, "/api/v1/divisions?parent=320613000000&limit=1", Some(&wenfeng)).await.json();
    assert!(first["next_cursor"].is_null(), "no cursor that would name a neighbouring street");
    let own_street = get(&router, "/api/v1/divisions?parent=320613008000&limit=500", Some(&wenfeng)).await.json();
    assert!(!own_street["items"].as_array().unwrap().is_empty(), "inside the territory everything is listed");
    let bodies = get(&router, "/api/v1/bodies", Some(&wenfeng)).await.json();
    assert_eq!(
        bodies["items"].as_array().unwrap().iter().map(|b| b["code"].as_str().unwrap()).collect::<Vec<_>>(),
        ["squad.320613008"]
    );
    assert_eq!(get(&router, "/api/v1/users", Some(&wenfeng)).await.status, StatusCode::FORBIDDEN);
    let auxiliary = token(&router, "auxiliary.zhongxiu").await;
    assert_eq!(get(&router, "/api/v1/bodies/squad.320613007/staff", Some(&auxiliary)).await.status, StatusCode::FORBIDDEN);

    // The division with its ancestors, and its synthetic outline.
    let detail = get(&router, "/api/v1/divisions/320613007000", Some(&dispatcher)).await.json();
    assert_eq!(detail["ancestors"][0]["code"], "320613000000");
    assert_eq!(detail["ancestors"][1]["code"], "320600000000");
    assert_eq!(detail["boundary_synthetic"], true);
    let district = get(&router, "/api/v1/divisions/320613000000", Some(&dispatcher)).await.json();
    assert_eq!(district["boundary_synthetic"], false);
    let outline = get(&router, "/api/v1/divisions/320613007000/boundary", Some(&dispatcher)).await;
    assert_eq!(outline.headers[header::CONTENT_TYPE], "application/geo+json");
    assert_eq!(outline.json()["properties"]["synthetic"], true);
    let districts = get(&router, "/api/v1/boundaries?parent=320600000000", Some(&dispatcher)).await.json();
    assert_eq!(districts["features"].as_array().unwrap().len(), 7);
    assert!(districts["features"].as_array().unwrap().iter().all(|f| f["properties"]["synthetic"] == false));
});

store_test!(paging_and_bad_input, |store: Arc<dyn Store>| async move {
    let router = demo_router(store).await;
    let admin = token(&router, "admin").await;
    let mut seen = Vec::new();
    let mut uri = "/api/v1/divisions?parent=320613000000&limit=5".to_string();
    loop {
        let page = get(&router, &uri, Some(&admin)).await.json();
        seen.extend(page["items"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/divisions?parent=320613000000&limit=5&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 19);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "ordered and without repeats");

    for (uri, code) in [
        ("/api/v1/divisions?limit=0", "bad_limit"),
        ("/api/v1/divisions?limit=lots", "bad_limit"),
        ("/api/v1/divisions?cursor=%%%", "bad_cursor"),
        ("/api/v1/divisions?parent=12345", "bad_code"),
        ("/api/v1/divisions/99061300700x", "bad_code"),
    ] {
        let reply = get(&router, uri, Some(&admin)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}: {}", reply.text());
        assert_eq!(reply.json()["error"], code, "{uri}");
    }
    // Framework-level refusals speak the same JSON as everything else.
    let reply = get(&router, "/api/v1/divisions?limit=1&limit=2", Some(&admin)).await;
    assert_eq!((reply.status, reply.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")));
    let reply = send(&router, Method::PUT, "/api/v1/me", &[("authorization", &format!("Bearer {admin}"))], Body::empty()).await;
    assert_eq!((reply.status, reply.json()["error"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed")));
    let reply = send(&router, Method::POST, "/api/v1/session", &[("content-type", "text/plain")], Body::from("x")).await;
    assert_eq!(reply.json()["error"], "bad_json");

    let reply =
        send(&router, Method::POST, "/api/v1/session", &[("content-type", "application/json")], Body::from("{nope")).await;
    assert_eq!((reply.status, reply.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_json")));
    let huge = "x".repeat(gridward_web::MAX_BODY_BYTES + 10);
    let reply = send(&router, Method::POST, "/api/v1/session", &[("content-type", "application/json")], Body::from(huge)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    let reply = post_json(&router, "/api/v1/session", None, &json!({"username": "dispatcher", "password": "wrong"})).await;
    assert_eq!((reply.status, reply.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")));
    assert_eq!(get(&router, "/api/v1/me", Some("forged-token")).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&router, "/api/v1/nothing-here", Some(&admin)).await.json()["error"], "not_found");

    // Administrators create accounts inside their territory; bad ones are refused with a code.
    let new = json!({"username": "officer.chengdong", "display_name": "城东队员", "password": "a-long-password", "roles": ["officer"], "scope": "320613001000"});
    let reply = post_json(&router, "/api/v1/users", Some(&admin), &new).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(post_json(&router, "/api/v1/users", Some(&admin), &new).await.status, StatusCode::CONFLICT);
    let weak =
        json!({"username": "x.y", "display_name": "x", "password": "short", "roles": ["officer"], "scope": "320613001000"});
    assert_eq!(post_json(&router, "/api/v1/users", Some(&admin), &weak).await.json()["error"], "weak_password");
    let users = get(&router, "/api/v1/users", Some(&admin)).await.json();
    assert!(users["items"].as_array().unwrap().iter().any(|u| u["username"] == "officer.chengdong"));

    // Signing out ends the token.
    let reply =
        send(&router, Method::DELETE, "/api/v1/session", &[("authorization", &format!("Bearer {admin}"))], Body::empty()).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(get(&router, "/api/v1/me", Some(&admin)).await.status, StatusCode::UNAUTHORIZED);
});

store_test!(pages_sign_in_with_cookies_and_csrf, |store: Arc<dyn Store>| async move {
    let router = demo_router(store).await;
    let form = get(&router, "/login", None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text().contains("name=\"password\""));
    let csrf = form.set_cookie("gw_login_csrf").unwrap();

    // Without the matching CSRF cookie the form is refused.
    let body = format!("username=dispatcher&password={PASSWORD}&csrf={csrf}&next=%2Fmap");
    let reply =
        send(&router, Method::POST, "/login", &[("content-type", "application/x-www-form-urlencoded")], Body::from(body.clone()))
            .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let cookie = format!("gw_login_csrf={csrf}");
    let reply = send(
        &router,
        Method::POST,
        "/login",
        &[("content-type", "application/x-www-form-urlencoded"), ("cookie", &cookie)],
        Body::from(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    assert_eq!(reply.headers[header::LOCATION], "/map");
    let raw =
        reply.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>().join("\n");
    assert!(raw.contains("HttpOnly") && raw.contains("SameSite=Strict"), "{raw}");
    let session = format!("gw_session={}", reply.set_cookie("gw_session").unwrap());

    let home = send(&router, Method::GET, "/", &[("cookie", &session)], Body::empty()).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains("指挥中心派遣员"), "display name on the home page");
    let map = send(&router, Method::GET, "/map", &[("cookie", &session)], Body::empty()).await;
    assert!(map.text().contains("data-root=\"320600000000\"") && map.text().contains("GCJ-02"));
    let division = send(&router, Method::GET, "/divisions/320613000000", &[("cookie", &session)], Body::empty()).await;
    assert!(division.text().contains("钟秀街道"));
    let squad = send(&router, Method::GET, "/bodies/squad.320613007", &[("cookie", &session)], Body::empty()).await;
    assert_eq!(squad.status, StatusCode::OK);
    assert!(squad.text().contains("钟秀街道综合行政执法队") && squad.text().contains("due-"), "staff with credential standing");
    assert!(!squad.text().contains("32060020"), "credential numbers are masked for a dispatcher");
    let english =
        send(&router, Method::GET, "/divisions/320613000000", &[("cookie", &format!("{session}; gw_lang=en"))], Body::empty())
            .await;
    assert!(english.text().contains("Subdivisions"));

    // The API accepts the cookie for reading, but a change needs the CSRF header.
    assert_eq!(send(&router, Method::GET, "/api/v1/me", &[("cookie", &session)], Body::empty()).await.status, StatusCode::OK);
    let reply = send(&router, Method::DELETE, "/api/v1/session", &[("cookie", &session)], Body::empty()).await;
    assert_eq!((reply.status, reply.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("csrf")));

    // Wrong role on a page: an error page, not JSON.
    let reply = send(&router, Method::GET, "/login", &[("cookie", &session)], Body::empty()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "signed-in users skip the form");
    assert_eq!(get(&router, "/static/vendor/leaflet/leaflet.js", None).await.status, StatusCode::OK);
    assert_eq!(get(&router, "/api/docs/", None).await.status, StatusCode::OK);
    let health = get(&router, "/healthz", None).await;
    assert_eq!(health.json()["status"], "ok");
    assert!(health.headers.contains_key("x-request-id"));
    assert!(
        get(&router, "/metrics", None).await.text().contains("gridward_http_requests_total{method=\"GET\",route=\"/healthz\"")
    );
});

store_test!(the_record_is_public_and_verifiable, |store: Arc<dyn Store>| async move {
    let router = demo_router(store).await;
    let key = get(&router, "/.well-known/gridward-ledger-key", None).await.json();
    assert_eq!((key["algorithm"].as_str(), key["origin"].as_str()), (Some("sm2"), Some("test.gridward")));
    let latest = get(&router, "/api/v1/ledger/checkpoint", None).await.json();
    let checkpoint: gridward_ledger::Checkpoint = serde_json::from_value(latest["checkpoint"].clone()).unwrap();
    let signature: gridward_ledger::CheckpointSignature = serde_json::from_value(latest["signature"].clone()).unwrap();
    gridward_ledger::verify_checkpoint("test.gridward", &checkpoint, &signature, key["public_key"].as_str().unwrap()).unwrap();
    let size = checkpoint.head.size;
    assert!(size > 4000, "the demo city is recorded entry by entry: {size}");

    // A witness holding an older head checks the newer one against it.
    let admin = token(&router, "admin").await;
    let reply = post_json(&router, "/api/v1/users", Some(&admin), &json!({"username": "new.one", "display_name": "新", "password": "a-long-password", "roles": ["dispatcher"], "scope": "320600000000"})).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let newer = post_json(&router, "/api/v1/ledger/checkpoint", Some(&admin), &json!({})).await.json();
    let newer: gridward_ledger::Checkpoint = serde_json::from_value(newer["checkpoint"].clone()).unwrap();
    assert_eq!(newer.head.size, size + 1);
    let proof = get(&router, &format!("/api/v1/ledger/consistency?from={size}&to={}", size + 1), None).await.json();
    let proof: gridward_ledger::ConsistencyProof = serde_json::from_value(proof).unwrap();
    proof.verify(&checkpoint.head, &newer.head).unwrap();
    let bad = get(&router, &format!("/api/v1/ledger/consistency?from={}&to={}", size + 1, size + 5), None).await;
    assert_eq!((bad.status, bad.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_tree_size")));
    let dispatcher = token(&router, "dispatcher").await;
    assert_eq!(
        post_json(&router, "/api/v1/ledger/checkpoint", Some(&dispatcher), &json!({})).await.status,
        StatusCode::FORBIDDEN
    );

    // An entry with its proof, checked offline; outside the caller's territory it does not exist.
    let bundle = get(&router, "/api/v1/ledger/entries/7/proof", Some(&admin)).await;
    assert_eq!(bundle.status, StatusCode::OK, "{}", bundle.text());
    let bundle: gridward_ledger::EntryProofBundle = serde_json::from_slice(&bundle.body).unwrap();
    bundle.check(Some(key["key_id"].as_str().unwrap())).unwrap();
    let procurator = token(&router, "procurator").await;
    assert_eq!(get(&router, "/api/v1/ledger/entries/7/proof", Some(&procurator)).await.status, StatusCode::OK);
    assert_eq!(get(&router, "/api/v1/ledger/entries/7/proof", Some(&dispatcher)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(get(&router, "/api/v1/ledger/entries/99999999/proof", Some(&admin)).await.status, StatusCode::NOT_FOUND);

    let page = get(&router, "/transparency", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(&newer.head.root.to_hex()), "the page shows the signed root");
});

store_test!(evidence_goes_up_and_comes_back_within_the_territory, |store: Arc<dyn Store>| async move {
    let router = demo_router(store).await;
    let wenfeng = token(&router, "officer.wenfeng").await;
    let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n".to_vec();
    let auth = format!("Bearer {wenfeng}");
    let reply = send(
        &router,
        Method::POST,
        "/api/v1/evidence?object_type=body&object_id=squad.320613008&name=notice.pdf",
        &[("authorization", &auth), ("content-type", "application/octet-stream")],
        Body::from(pdf.clone()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let record = reply.json();
    assert_eq!((record["media_type"].as_str(), record["kind"].as_str()), (Some("application/pdf"), Some("document")));
    let id = record["id"].as_str().unwrap().to_string();

    let content = get(&router, &format!("/api/v1/evidence/{id}/content"), Some(&wenfeng)).await;
    assert_eq!(content.status, StatusCode::OK);
    assert_eq!(content.headers[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(content.body, pdf);
    let listed = get(&router, "/api/v1/evidence?object_type=body&object_id=squad.320613008", Some(&wenfeng)).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    let zhongxiu = token(&router, "officer.zhongxiu").await;
    assert_eq!(get(&router, &format!("/api/v1/evidence/{id}/content"), Some(&zhongxiu)).await.status, StatusCode::NOT_FOUND);
    let html = send(
        &router,
        Method::POST,
        "/api/v1/evidence?object_type=body&object_id=squad.320613008",
        &[("authorization", &auth)],
        Body::from("<html><script>alert(1)</script></html>"),
    )
    .await;
    assert_eq!((html.status, html.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("unsupported_evidence_type")));
});

/// A small real photo with EXIF capture time and GPS position (also used by the browser test).
const PHOTO: &[u8] = include_bytes!("../../../e2e/fixtures/stall.jpg");
const BOUNDARY: &str = "gridward-test-7MA4YWxkTrZu0gW";

/// One part of a multipart form: name, file name (for file inputs), content.
type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file_name {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A signed-in browser: its session cookie and the CSRF token its pages carry.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn browser(router: &Router, username: &str) -> Browser {
    let form = get(router, "/login", None).await;
    let login_csrf = form.set_cookie("gw_login_csrf").unwrap();
    let reply = send(
        router,
        Method::POST,
        "/login",
        &[("content-type", "application/x-www-form-urlencoded"), ("cookie", &format!("gw_login_csrf={login_csrf}"))],
        Body::from(format!("username={username}&password={PASSWORD}&csrf={login_csrf}")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{username}: {}", reply.text());
    let cookie = format!("gw_session={}", reply.set_cookie("gw_session").unwrap());
    let home = send(router, Method::GET, "/", &[("cookie", &cookie)], Body::empty()).await.text();
    let csrf = home.split("name=\"csrf\" value=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap().to_string();
    Browser { cookie, csrf }
}

impl Browser {
    async fn get(&self, router: &Router, uri: &str, extra: &[(&str, &str)]) -> Reply {
        let mut headers = vec![("cookie", self.cookie.as_str())];
        headers.extend_from_slice(extra);
        send(router, Method::GET, uri, &headers, Body::empty()).await
    }

    async fn upload(&self, router: &Router, body_code: &str, form: Vec<u8>) -> Reply {
        let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
        send(
            router,
            Method::POST,
            &format!("/bodies/{body_code}/evidence"),
            &[("cookie", &self.cookie), ("content-type", &content_type)],
            Body::from(form),
        )
        .await
    }

    /// The form as a browser sends it: token first, the unused camera input empty, then the chosen file.
    fn form(&self, name: &str, bytes: &[u8]) -> Vec<u8> {
        multipart(&[("csrf", None, self.csrf.as_bytes()), ("file", Some(""), b""), ("file", Some(name), bytes)])
    }
}

const ZHONGXIU_SQUAD: &str = "squad.320613007";

store_test!(the_body_page_takes_evidence_and_lists_it, |store: Arc<dyn Store>| async move {
    let router = demo_router(store).await;
    let officer = browser(&router, "officer.zhongxiu").await;
    let page = officer.get(&router, &format!("/bodies/{ZHONGXIU_SQUAD}"), &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("id=\"evidence\"") && html.contains("尚无证据"), "an empty evidence section");
    assert!(html.contains("enctype=\"multipart/form-data\"") && html.contains("capture=\"environment\""), "the upload form");
    assert!(html.contains("accept=\"image/*,video/*,audio/*,application/pdf\""));

    let reply = officer.upload(&router, ZHONGXIU_SQUAD, officer.form("现场照片.jpg", PHOTO)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    let location = reply.headers[header::LOCATION].to_str().unwrap().to_string();
    let id = location
        .strip_prefix(&format!("/bodies/{ZHONGXIU_SQUAD}?added="))
        .and_then(|rest| rest.strip_suffix("#evidence"))
        .unwrap_or_else(|| panic!("redirect back to the body page: {location}"))
        .to_string();

    // The record as the API has it, and as the page shows it after the redirect.
    let bearer = format!("Bearer {}", token(&router, "officer.zhongxiu").await);
    let record =
        send(&router, Method::GET, &format!("/api/v1/evidence/{id}"), &[("authorization", &bearer)], Body::empty()).await.json();
    assert_eq!((record["kind"].as_str(), record["media_type"].as_str()), (Some("photo"), Some("image/jpeg")));
    let seq = record["ledger_seq"].as_i64().unwrap();
    assert!(seq > 0);
    let html = officer.get(&router, &location.replace("#evidence", ""), &[]).await.text();
    assert!(html.contains(&format!("已上传「现场照片.jpg」，记入执法全过程记录第 {seq} 条。")), "the notice names the entry");
    assert!(html.contains(&format!("<img src=\"/api/v1/evidence/{id}/content\"")), "a thumbnail");
    assert!(html.contains("2025-05-12 09:41:27"), "capture time from EXIF");
    assert!(html.contains("32.01461, 120.85982"), "capture place from EXIF");
    assert!(html.contains(&format!("#{seq}</a>")) && html.contains("officer.zhongxiu"));
    // In English too.
    let english = officer.get(&router, &format!("/bodies/{ZHONGXIU_SQUAD}"), &[("cookie", "gw_lang=en")]).await.text();
    assert!(english.contains("Evidence") && english.contains("Add evidence"));

    // The content, through the same route the API serves, with the browser's cookie.
    let content = officer.get(&router, &format!("/api/v1/evidence/{id}/content"), &[]).await;
    assert_eq!(content.status, StatusCode::OK);
    assert_eq!(content.body, PHOTO);
    assert_eq!(content.headers[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(content.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let disposition = content.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with(&format!("inline; filename=\"{id}.jpg\"; filename*=UTF-8''%E7%8E%B0")), "{disposition}");
    let etag = content.headers[header::ETAG].to_str().unwrap().to_string();
    let again = officer.get(&router, &format!("/api/v1/evidence/{id}/content"), &[("if-none-match", &etag)]).await;
    assert_eq!((again.status, again.body.len()), (StatusCode::NOT_MODIFIED, 0));

    // Who may read the body's evidence sees it; only those who may attach get the form.
    let legal = browser(&router, "legal").await;
    let html = legal.get(&router, &format!("/bodies/{ZHONGXIU_SQUAD}"), &[]).await.text();
    assert!(html.contains("现场照片.jpg") && !html.contains("enctype=\"multipart/form-data\""));
    assert!(html.contains(&format!("href=\"/api/v1/ledger/entries/{seq}/proof\"")), "record readers get the entry's proof");
    let dispatcher = browser(&router, "dispatcher").await;
    let html = dispatcher.get(&router, &format!("/bodies/{ZHONGXIU_SQUAD}"), &[]).await.text();
    assert!(html.contains("现场照片.jpg") && html.contains("enctype=\"multipart/form-data\""));
    assert!(html.contains("href=\"/transparency\" title="), "others learn how the record is verified");
    let wenfeng = browser(&router, "officer.wenfeng").await;
    assert_eq!(wenfeng.get(&router, &format!("/api/v1/evidence/{id}/content"), &[]).await.status, StatusCode::NOT_FOUND);

    // The route takes the largest file evidence may have, form and all (far above the 1 MiB elsewhere).
    let mut video = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
    video.resize(gridward_domain::evidence::MAX_EVIDENCE_BYTES, 0);
    let reply = officer.upload(&router, ZHONGXIU_SQUAD, officer.form("patrol.mp4", &video)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    let id = reply.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .split("added=")
        .nth(1)
        .unwrap()
        .trim_end_matches("#evidence")
        .to_string();
    let content = officer.get(&router, &format!("/api/v1/evidence/{id}/content"), &[]).await;
    assert_eq!(content.headers[header::CONTENT_TYPE], "video/mp4");
    assert_eq!(
        content.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"{id}.mp4\"; filename*=UTF-8''patrol.mp4")
    );
});

store_test!(refused_uploads_say_why_and_change_nothing, |store: Arc<dyn Store>| async move {
    let router = demo_router(store.clone()).await;
    let size = || async { store.ledger_head().await.unwrap().map(|h| h.size) };
    let before = size().await;
    let page = format!("/bodies/{ZHONGXIU_SQUAD}");
    let officer = browser(&router, "officer.zhongxiu").await;

    // A role the app does not let attach: 403, on the body page with the reason.
    let legal = browser(&router, "legal").await;
    let reply = legal.upload(&router, ZHONGXIU_SQUAD, legal.form("a.jpg", PHOTO)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.text().contains("您的角色或辖区无权进行此操作") && reply.text().contains("id=\"evidence\""));

    // Another street's squad does not exist for this officer: 404, the plain error page.
    let wenfeng = browser(&router, "officer.wenfeng").await;
    let reply = wenfeng.upload(&router, ZHONGXIU_SQUAD, wenfeng.form("a.jpg", PHOTO)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.text().contains("未找到，或不在您的辖区内") && !reply.text().contains("钟秀街道综合行政执法队"));

    // No token, a wrong one, or a file before the token: refused as a forgery.
    for form in [
        multipart(&[("file", Some("a.jpg"), PHOTO)]),
        multipart(&[("csrf", None, b"not-the-token"), ("file", Some("a.jpg"), PHOTO)]),
        multipart(&[("file", Some("a.jpg"), PHOTO), ("csrf", None, officer.csrf.as_bytes())]),
    ] {
        let reply = officer.upload(&router, ZHONGXIU_SQUAD, form).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.text().contains("表单已过期"), "{}", reply.text());
    }

    // Nothing chosen, two files at once, a type not taken.
    let reply = officer.upload(&router, ZHONGXIU_SQUAD, officer.form("", b"")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text().contains("请先选择或拍摄一个文件"));
    let two =
        multipart(&[("csrf", None, officer.csrf.as_bytes()), ("file", Some("a.jpg"), PHOTO), ("file", Some("b.jpg"), PHOTO)]);
    let reply = officer.upload(&router, ZHONGXIU_SQUAD, two).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text().contains("一次只能上传一个文件"));
    let reply = officer.upload(&router, ZHONGXIU_SQUAD, officer.form("x.jpg", b"<html><script>alert(1)</script></html>")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text().contains("不支持此文件类型"), "{}", reply.text());
    let english = send(
        &router,
        Method::POST,
        &format!("{page}/evidence"),
        &[
            ("cookie", &format!("{}; gw_lang=en", officer.cookie)),
            ("content-type", &format!("multipart/form-data; boundary={BOUNDARY}")),
        ],
        Body::from(officer.form("x.pdf", b"MZ\x90\x00")),
    )
    .await;
    assert!(english.text().contains("This type of file is not taken"));

    // Too large: a photo over its own cap, and a form over the route's limit (cut off while it is read).
    let mut big_photo = PHOTO.to_vec();
    big_photo.resize(gridward_domain::evidence::EvidenceKind::Photo.max_bytes() + 1, 0);
    let reply = officer.upload(&router, ZHONGXIU_SQUAD, officer.form("big.jpg", &big_photo)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.text().contains("文件太大"));
    let mut huge = PHOTO.to_vec();
    huge.resize(gridward_web::evidence::MAX_UPLOAD_FORM_BYTES, 0);
    let reply = officer.upload(&router, ZHONGXIU_SQUAD, officer.form("huge.jpg", &huge)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.text().contains("文件太大") && reply.text().contains("role=\"alert\""), "the page says why");

    // None of it reached the record or the list.
    assert_eq!(size().await, before);
    assert!(store.evidence_of("body", ZHONGXIU_SQUAD).await.unwrap().is_empty());
    assert!(officer.get(&router, &page, &[]).await.text().contains("尚无证据"));
});

store_test!(the_catalog_and_delegation_over_http, |store: Arc<dyn Store>| async move {
    let router = demo_router(store).await;
    let admin = token(&router, "admin").await;
    let officer = token(&router, "officer.zhongxiu").await;

    // The responsibility lists are public: 钟秀街道's squad, seated there, with 143 powers.
    let lists = get(&router, "/api/v1/divisions/320613007000/responsibilities", None).await;
    assert_eq!(lists.status, StatusCode::OK, "{}", lists.text());
    let lists = lists.json();
    assert_eq!(lists[0]["body"]["code"], "squad.320613007");
    assert_eq!(lists[0]["items"].as_array().unwrap().len(), 143);
    assert_eq!(lists[0]["categories"].as_array().unwrap().len(), 9);
    assert_eq!(get(&router, "/api/v1/divisions/999999999999/responsibilities", None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&router, "/api/v1/divisions/320699000000/responsibilities", None).await.status, StatusCode::NOT_FOUND);
    let xlsx = get(&router, "/api/v1/bodies/squad.320613007/responsibilities?format=xlsx", None).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with(b"PK"));
    let page = get(&router, "/responsibilities/squad.320613007", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("id=\"resp-total\">143<"));

    // Search with filters.
    let air = get(&router, "/api/v1/powers?law=%E5%A4%A7%E6%B0%94&kind=penalty", Some(&officer)).await.json();
    let air = air["items"].as_array().unwrap();
    assert!(!air.is_empty() && air.iter().all(|p| p["code"].as_str().unwrap().starts_with("dqwr.")));
    assert_eq!(get(&router, "/api/v1/powers?kind=flogging", Some(&officer)).await.status, StatusCode::BAD_REQUEST);
    let power = get(&router, "/api/v1/powers/dqwr.118.1", Some(&officer)).await.json();
    assert_eq!(power["current"]["version"], 1);
    assert_eq!(power["usage"], 0);

    // Resolution and the city-wide check.
    let holder = get(&router, "/api/v1/powers/dqwr.118.1/holder?division=320613007001", Some(&officer)).await.json();
    let holder_body = holder["holder"]["body_code"].as_str().unwrap().to_string();
    // By point: the centre of 钟秀街道's outline lies in one of its communities.
    let outline = get(&router, "/api/v1/divisions/320613007001/boundary", Some(&admin)).await.json();
    let ring = outline["geometry"]["coordinates"][0][0].as_array().unwrap().clone();
    let (lon, lat) = ring.iter().fold((0.0, 0.0), |(x, y), p| (x + p[0].as_f64().unwrap(), y + p[1].as_f64().unwrap()));
    let (lon, lat) = (lon / ring.len() as f64, lat / ring.len() as f64);
    let by_point =
        get(&router, &format!("/api/v1/powers/dqwr.118.1/holder?lon={lon}&lat={lat}&datum=gcj02"), Some(&officer)).await;
    assert_eq!(by_point.status, StatusCode::OK, "{}", by_point.text());
    assert!(by_point.json()["division"].as_str().unwrap().starts_with("320613007"));
    assert_eq!(by_point.json()["holder"]["body_code"], holder_body.as_str());
    let far = get(&router, "/api/v1/powers/dqwr.118.1/holder?lon=0&lat=0", Some(&officer)).await;
    assert_eq!(far.json()["error"], "point_outside");
    let both = get(&router, "/api/v1/powers/dqwr.118.1/holder?division=320613007001&lon=1&lat=1", Some(&officer)).await;
    assert_eq!(both.json()["error"], "bad_place");
    let check = get(&router, "/api/v1/delegation/check", Some(&officer)).await.json();
    assert_eq!(check["overlaps"].as_array().unwrap().len(), 0);
    assert_eq!(check["gap_pairs"], 0);

    // An injected overlap is refused with both named; officers may not try.
    let intruder = json!({"power_code": "dqwr.118.1", "body_code": "squad.320613007", "territory": "320613007000",
        "valid_from": "2026-01-01", "instrument": "重复赋权"});
    let other = if holder_body == "squad.320613007" { "bureau.320613" } else { "squad.320613007" };
    let mut intruder = intruder;
    intruder["body_code"] = json!(other);
    if other == "bureau.320613" {
        let refused = post_json(&router, "/api/v1/assignments", Some(&admin), &intruder).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text());
        let body = refused.json();
        assert_eq!(body["error"], "assignment_overlap");
        assert_eq!(body["refusal"]["candidate"]["body_code"], "bureau.320613");
        assert_eq!(body["refusal"]["existing"][0]["body_code"], "squad.320613007");
        assert!(body["message"].as_str().unwrap().contains("squad.320613007"));
    }
    assert_eq!(post_json(&router, "/api/v1/assignments", Some(&officer), &intruder).await.status, StatusCode::FORBIDDEN);

    // A plan that grows the quota total is refused with the numbers.
    let plan = json!({"title": "扩编", "instrument": "决定", "effective_from": "2027-01-01",
        "steps": [], "quota_changes": [{"body_code": "squad.320613008", "kind": "administrative", "delta": 2}]});
    let preview = post_json(&router, "/api/v1/plans/preview", Some(&admin), &plan).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text());
    let preview = preview.json();
    assert_eq!(preview["committable"], false);
    let refused = post_json(&router, "/api/v1/plans", Some(&admin), &plan).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.json()["problems"].as_array().unwrap().iter().any(|p| p["code"] == "quota_total_grows"));

    // Catalog import: a broken file names its rows and changes nothing.
    let bad = "code,name,kind,domain,category,violation_basis,penalty_basis,penalty_types,hearing,default_level,valid_from\nBAD,,punish,x,,,,,maybe,moon,\n";
    let reply =
        send(&router, Method::POST, "/api/v1/powers/import", &[("authorization", &format!("Bearer {admin}"))], Body::from(bad))
            .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    let problems = reply.json()["problems"].as_array().unwrap().clone();
    assert!(problems.len() >= 6 && problems.iter().all(|p| p["line"] == 2));
    let export = get(&router, "/api/v1/powers/export?format=xlsx", Some(&officer)).await;
    let reply = send(
        &router,
        Method::POST,
        "/api/v1/powers/import",
        &[("authorization", &format!("Bearer {admin}"))],
        Body::from(export.body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["added"], 0);
    assert_eq!(reply.json()["revised"], 0);
});

/// Squares of 0.001° in a row, GCJ-02, around a point: the grid file a test imports.
fn grid_file(community: &str, lon: f64, lat: f64, n: usize) -> Vec<u8> {
    let features: Vec<Value> = (0..n)
        .map(|i| {
            let x = lon + i as f64 * 0.001;
            json!({"type": "Feature", "properties": {"code": format!("{community}{:04}", i + 1)},
                "geometry": {"type": "Polygon", "coordinates": [[[x, lat], [x + 0.001, lat], [x + 0.001, lat + 0.001], [x, lat + 0.001], [x, lat]]]}})
        })
        .collect();
    serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features})).unwrap()
}

store_test!(grids_route_and_owners_over_http, |store: Arc<dyn Store>| async move {
    let router = demo_router(store).await;
    let admin = token(&router, "admin").await;
    let officer = token(&router, "officer.zhongxiu").await;
    // A point well inside 钟秀街道's first community (its outline's interior point, GCJ-02).
    let outline = get(&router, "/api/v1/divisions/320613007001/boundary", Some(&admin)).await.json();
    let shape = gridward_grid::parse_geometry(&outline["geometry"].to_string()).unwrap();
    let p = geo::InteriorPoint::interior_point(&shape).unwrap();
    let (lon, lat) = (p.x() - 0.0005, p.y() - 0.0005);

    // Import: administrators only; the datum is declared for a file that names none.
    let file = grid_file("320613007001", lon, lat, 2);
    let import = |token: String, uri: &'static str, body: Vec<u8>| {
        let router = router.clone();
        async move {
            let auth = format!("Bearer {token}");
            send(
                &router,
                Method::POST,
                uri,
                &[("authorization", &auth), ("content-type", "application/geo+json")],
                Body::from(body),
            )
            .await
        }
    };
    assert_eq!(import(officer.clone(), "/api/v1/grids/import?datum=gcj02", file.clone()).await.status, StatusCode::FORBIDDEN);
    let bad = import(admin.clone(), "/api/v1/grids/import?datum=epsg:3857", file.clone()).await;
    assert_eq!((bad.status, bad.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("unsupported_crs")));
    let broken = import(admin.clone(), "/api/v1/grids/import?datum=gcj02", b"{\"type\": \"FeatureCollection\"".to_vec()).await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", broken.text());
    let done = import(admin.clone(), "/api/v1/grids/import?datum=gcj02", file).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert_eq!(done.json()["added"], 2);

    // Routing: from WGS-84 by default; the chain, the grid, the power's holder and its legal basis.
    let (wlon, wlat) = gridward_grid::Datum::Gcj02.convert(gridward_grid::Datum::Wgs84, lon + 0.0005, lat + 0.0005);
    let route = get(&router, &format!("/api/v1/route?lon={wlon}&lat={wlat}&power=dqwr.118.1"), Some(&officer)).await;
    assert_eq!(route.status, StatusCode::OK, "{}", route.text());
    let route = route.json();
    assert_eq!(route["grid"]["code"], "3206130070010001");
    assert_eq!(route["point"]["datum"], "wgs84");
    assert_eq!(route["located"]["datum"], "gcj02");
    assert_eq!(route["divisions"][1]["code"], "320613007000");
    assert_eq!(route["holder"]["body_code"], "squad.320613007");
    assert!(route["power"]["legal_basis"][0].as_str().unwrap().contains("《"));
    let outside = get(&router, "/api/v1/route?lon=116.39&lat=39.91&datum=wgs84", Some(&officer)).await;
    assert_eq!(outside.json()["error"], "outside_jurisdiction");
    let bad_point = get(&router, "/api/v1/route?lon=200&lat=0", Some(&officer)).await;
    assert_eq!(bad_point.json()["error"], "bad_point");
    assert_eq!(get(&router, "/api/v1/route?lon=1&lat=1", None).await.status, StatusCode::UNAUTHORIZED);

    // The map's grid layer, an owner set over the API, and coverage.
    let grids = get(&router, "/api/v1/grids?territory=320613007000", Some(&officer)).await.json();
    assert_eq!(grids["features"].as_array().unwrap().len(), 2);
    assert_eq!(get(&router, "/api/v1/grids?territory=320613008000", Some(&officer)).await.status, StatusCode::NOT_FOUND);
    let staff = get(&router, "/api/v1/bodies/squad.320613007/staff", Some(&admin)).await.json();
    let officer_no = staff["items"].as_array().unwrap().iter().find(|s| s["auxiliary"] == false).unwrap()["staff_no"]
        .as_str()
        .unwrap()
        .to_string();
    let put = send(
        &router,
        Method::PUT,
        "/api/v1/grids/3206130070010001/owner",
        &[("authorization", &format!("Bearer {admin}")), ("content-type", "application/json")],
        Body::from(json!({"squad": "squad.320613007", "primary_officer": officer_no}).to_string()),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    let refused = send(
        &router,
        Method::PUT,
        "/api/v1/grids/3206130070010001/owner",
        &[("authorization", &format!("Bearer {officer}")), ("content-type", "application/json")],
        Body::from(json!({"squad": "squad.320613007"}).to_string()),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let coverage = get(&router, "/api/v1/grids/coverage?territory=320613007000", Some(&admin)).await.json();
    assert_eq!((coverage["grids"].as_u64(), coverage["owned"].as_u64()), (Some(2), Some(1)));

    // Pages: the coverage report and the grid with its owner form, which saves through the record.
    let leader = browser(&router, "leader").await;
    let page = leader.get(&router, "/grids?territory=320613007000", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("3206130070010002"), "the unowned grid is listed");
    let page = leader.get(&router, "/grids/3206130070010002", &[]).await;
    assert!(page.text().contains("owner-form"));
    let form = format!("csrf={}&squad=squad.320613007&primary_officer={officer_no}", leader.csrf);
    let saved = send(
        &router,
        Method::POST,
        "/grids/3206130070010002/owner",
        &[("cookie", &leader.cookie), ("content-type", "application/x-www-form-urlencoded")],
        Body::from(form),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let coverage = get(&router, "/api/v1/grids/coverage?territory=320613007000", Some(&admin)).await.json();
    assert_eq!(coverage["owned"].as_u64(), Some(2));
});
