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
    app.load_demo(PASSWORD).await.unwrap();
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
        "POST /api/v1/session",
        "POST /login",
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
