//! Cases over HTTP on both backends: the deadline rule, an unlawful step answered 409 with its article,
//! roles and territory at the edge, and documents as printable pages and PDF.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use gridward_app::App;
use gridward_store::Store;
use gridward_testkit::store_test;
use gridward_web::{AppState, router};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "demo-password-1";

struct Reply {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

async fn call(router: &Router, method: Method, uri: &str, token: Option<&str>, body: Option<Value>) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let res =
        router.clone().oneshot(req.body(body.map(|b| Body::from(b.to_string())).unwrap_or_default()).unwrap()).await.unwrap();
    let status = res.status();
    let content_type = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    Reply { status, content_type, body: res.into_body().collect().await.unwrap().to_bytes().to_vec() }
}

async fn token(router: &Router, username: &str) -> String {
    let reply =
        call(router, Method::POST, "/api/v1/session", None, Some(json!({"username": username, "password": PASSWORD}))).await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json()["token"].as_str().unwrap().to_string()
}

store_test!(the_deadline_rule_answers_as_the_law_counts, |store: Arc<dyn Store>| async move {
    let router = router(AppState::new(App::new(store).unwrap(), false, false));
    let ask = |q: &str| {
        let router = router.clone();
        let uri = format!("/api/v1/calendar/deadline?{q}");
        async move { call(&router, Method::GET, &uri, None, None).await }
    };
    let r = ask("start=2025-09-28&period=7&unit=working_days").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!((r.json()["last_day"].as_str(), r.json()["provisional"].as_bool()), (Some("2025-10-14"), Some(false)));
    let r = ask("start=2026-09-16&period=15&unit=calendar_days").await.json();
    assert_eq!(r["last_day"], "2026-10-08", "a period ending in the National Day holiday runs on");
    assert_eq!(ask("start=2026-12-01&period=90&unit=calendar_days").await.json()["provisional"], true);
    for (q, code) in [
        ("start=2026-13-01&period=5&unit=working_days", "bad_date"),
        ("start=2026-01-01&period=5&unit=weeks", "bad_unit"),
        ("start=2026-01-01&period=0&unit=working_days", "bad_period"),
    ] {
        let r = ask(q).await;
        assert_eq!((r.status, r.json()["error"].as_str().unwrap()), (StatusCode::BAD_REQUEST, code), "{q}");
    }
});

store_test!(an_unlawful_step_is_409_with_its_article, |store: Arc<dyn Store>| async move {
    let app = App::new(store.clone()).unwrap();
    app.load_demo_city(PASSWORD).await.unwrap();
    let router = router(AppState::new(app, false, false));
    let officer = token(&router, "officer.zhongxiu").await;
    let leader = token(&router, "leader").await;
    let opening = json!({
        "procedure": "ordinary", "source": "patrol", "power_code": "srhw.34.1.4", "facts": "堆放垃圾", "act_date": "2026-11-20",
        "party": {"kind": "organisation", "name": "南通某某餐饮有限公司", "id_number": "91350100M000100Y43", "address": "钟秀中路", "representative": "陈海燕"},
    });
    // Roles at the edge: a supervisor works reports, not cases; nobody unsigned sees them.
    let supervisor = token(&router, "supervisor").await;
    assert_eq!(call(&router, Method::GET, "/api/v1/cases", Some(&supervisor), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(call(&router, Method::GET, "/api/v1/cases", None, None).await.status, StatusCode::UNAUTHORIZED);
    let bad = call(&router, Method::POST, "/api/v1/cases", Some(&officer), Some(json!({"party": {"kind": "alien"}}))).await;
    assert!(bad.status.is_client_error(), "{}", bad.text());

    let r = call(&router, Method::POST, "/api/v1/cases", Some(&officer), Some(opening)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let id = r.json()["record"]["id"].as_i64().unwrap();
    let steps = format!("/api/v1/cases/{id}/steps");
    let r = call(&router, Method::POST, &steps, Some(&officer), Some(json!({"step": "approve_opening"}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!((r.json()["error"].as_str(), r.json()["article"].as_str()), (Some("leader_required"), Some("Art. 57")));
    let r = call(&router, Method::POST, &steps, Some(&leader), Some(json!({"step": "approve_opening"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = call(&router, Method::POST, &steps, Some(&leader), Some(json!({"step": "decide", "outcome": {"outcome": "penalty", "penalties": [{"kind": "fine", "amount_yuan": 500}]}, "reasons": "r"}))).await;
    assert_eq!((r.status, r.json()["error"].as_str()), (StatusCode::CONFLICT, Some("two_qualified_officers_required")));
    let r = call(&router, Method::POST, &steps, Some(&leader), Some(json!({"step": "no_such_step"}))).await;
    assert!(r.status.is_client_error());

    // The workspace lists the next steps and why the others are closed; another street's officer gets 404.
    let view = call(&router, Method::GET, &format!("/api/v1/cases/{id}"), Some(&officer), None).await.json();
    let decide = view["next_steps"].as_array().unwrap().iter().find(|s| s["code"] == "decide").unwrap().clone();
    assert_eq!(decide["refusal"]["code"], "leader_required");
    let wenfeng = token(&router, "officer.wenfeng").await;
    assert_eq!(
        call(&router, Method::GET, &format!("/api/v1/cases/{id}"), Some(&wenfeng), None).await.status,
        StatusCode::NOT_FOUND
    );

    // The filing approval: JSON, a printable page, and a PDF in a Chinese font.
    let doc = view["documents"][0]["id"].as_i64().unwrap();
    let json_doc = call(&router, Method::GET, &format!("/api/v1/cases/{id}/documents/{doc}"), Some(&officer), None).await.json();
    assert_eq!(json_doc["content"]["title"], "立案审批表");
    let page = call(&router, Method::GET, &format!("/cases/{id}/documents/{doc}"), Some(&officer), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("立案审批表") && page.text().contains(json_doc["number"].as_str().unwrap()));
    let pdf = call(&router, Method::GET, &format!("/cases/{id}/documents/{doc}/pdf"), Some(&officer), None).await;
    if gridward_web::pdf::document_font().is_some() {
        assert_eq!((pdf.status, pdf.content_type.as_str()), (StatusCode::OK, "application/pdf"));
        assert!(pdf.body.starts_with(b"%PDF-"), "a PDF");
    } else {
        assert_eq!(pdf.status, StatusCode::BAD_REQUEST, "no font: said plainly");
    }
    // The procuratorate reads only the cases it watches: none yet. Published decisions are public.
    let procurator = token(&router, "procurator").await;
    let watched = call(&router, Method::GET, "/api/v1/cases", Some(&procurator), None).await;
    assert_eq!((watched.status, watched.json()["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    assert_eq!(
        call(&router, Method::GET, &format!("/api/v1/cases/{id}"), Some(&procurator), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&router, Method::POST, &steps, Some(&procurator), Some(json!({"step": "archive"}))).await.status,
        StatusCode::FORBIDDEN
    );
    let published = call(&router, Method::GET, "/api/v1/decisions", None, None).await;
    assert_eq!((published.status, published.json()["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    assert_eq!(call(&router, Method::GET, "/decisions", None, None).await.status, StatusCode::OK);
    // The deadline board and the list answer for the leader's territory.
    let board = call(&router, Method::GET, "/api/v1/cases/deadlines?days=120", Some(&leader), None).await.json();
    assert_eq!(board["cases"][0]["id"].as_i64(), Some(id));
    assert_eq!(board["cases"][0]["next_due_code"], "decision");
});
