//! Open311 GeoReport v2 at `/open311/v2/`: discovery, services and their definitions, requests (read and
//! post), tokens, and the mySociety `servicerequestupdates` extension, each in XML and JSON (chosen by the
//! file suffix), with errors in the form the specification gives.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridward_app::AppError;
use gridward_app::reports::{NewReport, PublicReport, Submitter};
use gridward_domain::report::{ReportState, Severity};
use gridward_store::{ReportQuery, Reporter};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::status_of;

/// The longest window a request list may span, and the default one (GeoReport v2, GET Service Requests:
/// `start_date`/`end_date` "may not span more than 90 days").
const MAX_WINDOW_S: i64 = 90 * 86_400;
/// The most requests one list returns (GeoReport v2: by default "the smaller of the last 90 days or the
/// first 1000 requests").
const MAX_REQUESTS: u32 = 1000;
/// The largest POST body taken (a description is at most 4,000 characters).
pub const MAX_POST_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

/// Splits `services.json` into (`services`, Json); anything but `.json` and `.xml` is not a resource.
fn split_format(file: &str) -> Option<(&str, Format)> {
    if let Some(stem) = file.strip_suffix(".json") {
        Some((stem, Format::Json))
    } else {
        file.strip_suffix(".xml").map(|stem| (stem, Format::Xml))
    }
}

/// One Open311 error, or several.
pub struct Open311Error {
    status: StatusCode,
    format: Format,
    errors: Vec<(String, String)>,
}

impl Open311Error {
    fn new(status: StatusCode, format: Format, code: &str, description: impl Into<String>) -> Open311Error {
        Open311Error { status, format, errors: vec![(code.to_string(), description.into())] }
    }

    fn from_app(format: Format, e: AppError) -> Open311Error {
        if let AppError::Internal(detail) = &e {
            tracing::error!(%detail, "internal error");
        }
        let status = match status_of(&e) {
            // Open311 names three failures: 404 for unknown things, 403 for keys, 400 for the rest.
            s @ (StatusCode::NOT_FOUND
            | StatusCode::FORBIDDEN
            | StatusCode::TOO_MANY_REQUESTS
            | StatusCode::INTERNAL_SERVER_ERROR) => s,
            StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        let errors = match &e {
            AppError::Invalid(problems) => problems.0.iter().map(|p| (p.code.to_string(), p.message.clone())).collect(),
            _ => vec![(e.code().to_string(), e.to_string())],
        };
        Open311Error { status, format, errors }
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let body = match self.format {
            Format::Json => {
                Value::Array(self.errors.iter().map(|(c, d)| json!({"code": c, "description": d})).collect()).to_string()
            }
            Format::Xml => {
                let mut x = Xml::new("errors");
                for (c, d) in &self.errors {
                    x.open("error").text("code", c).text("description", d).close("error");
                }
                x.finish("errors")
            }
        };
        (self.status, [(header::CONTENT_TYPE, self.format.content_type())], body).into_response()
    }
}

type Result311<T> = Result<T, Open311Error>;

/// An XML document written element by element, escaped, with the declaration the specification requires.
struct Xml(String);

impl Xml {
    fn new(root: &str) -> Xml {
        Xml(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root}>"))
    }
    fn open(&mut self, name: &str) -> &mut Xml {
        self.0.push_str(&format!("<{name}>"));
        self
    }
    fn close(&mut self, name: &str) -> &mut Xml {
        self.0.push_str(&format!("</{name}>"));
        self
    }
    fn text(&mut self, name: &str, value: &str) -> &mut Xml {
        self.0.push_str(&format!("<{name}>{}</{name}>", escape(value)));
        self
    }
    /// Writes a JSON value as elements: objects as children, arrays as repeated `item` elements (named by
    /// the caller's map), scalars as text.
    fn value(&mut self, name: &str, v: &Value, item: &dyn Fn(&str) -> String) -> &mut Xml {
        match v {
            Value::Null => {
                self.0.push_str(&format!("<{name}/>"));
            }
            Value::Object(map) => {
                self.open(name);
                for (k, v) in map {
                    self.value(k, v, item);
                }
                self.close(name);
            }
            Value::Array(items) => {
                self.open(name);
                let child = item(name);
                for v in items {
                    self.value(&child, v, item);
                }
                self.close(name);
            }
            Value::String(s) => {
                self.text(name, s);
            }
            other => {
                self.text(name, &other.to_string());
            }
        }
        self
    }
    fn finish(mut self, root: &str) -> String {
        self.close(root);
        self.0
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// The child element name of a list element in the XML forms.
fn item_name(list: &str) -> String {
    match list {
        "services" => "service",
        "service_requests" => "request",
        "service_request_updates" => "request_update",
        "attributes" => "attribute",
        "values" => "value",
        "endpoints" => "endpoint",
        "formats" => "format",
        "notes" => "note",
        "groups" => "group",
        _ => "item",
    }
    .to_string()
}

/// A list answer: a JSON array, or `<root><child>…</child></root>`.
fn list_response(format: Format, root: &str, items: Vec<Value>) -> Response {
    let body = match format {
        Format::Json => Value::Array(items).to_string(),
        Format::Xml => {
            let mut x = Xml::new(root);
            let child = item_name(root);
            for v in &items {
                x.value(&child, v, &item_name);
            }
            x.finish(root)
        }
    };
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

/// An object answer: a JSON object, or `<root>…</root>`.
fn object_response(format: Format, root: &str, value: Value) -> Response {
    let body = match format {
        Format::Json => value.to_string(),
        Format::Xml => {
            let mut x = Xml::new(root);
            if let Value::Object(map) = &value {
                for (k, v) in map {
                    x.value(k, v, &item_name);
                }
            }
            x.finish(root)
        }
    };
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

/// W3C date-time in Beijing time, with its offset.
pub fn w3c(at: i64) -> String {
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_second(at)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(tz)
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// Reads a W3C date-time; a time zone is required, as the specification says.
fn parse_w3c(format: Format, field: &str, s: &str) -> Result311<i64> {
    s.parse::<jiff::Timestamp>().map(|t| t.as_second()).map_err(|_| {
        Open311Error::new(
            StatusCode::BAD_REQUEST,
            format,
            "bad_datetime",
            format!("{field} is a W3C date-time with a time zone, e.g. 2026-11-28T09:00:00+08:00"),
        )
    })
}

/// Query or form pairs; an empty value counts as absent, as the specification requires.
fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw)
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.into_owned(), v.trim().to_string()))
        .collect()
}

fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.contains(['/', ' ', '"', '<']))
        .unwrap_or("localhost");
    format!("{}://{host}", if state.secure_cookies { "https" } else { "http" })
}

/// The jurisdiction this endpoint serves: the city's division code. An absent `jurisdiction_id` means it.
async fn check_jurisdiction(state: &AppState, format: Format, pairs: &[(String, String)]) -> Result311<String> {
    let city = state.app.intake_cache().await.map_err(|e| Open311Error::from_app(format, e))?.city.to_string();
    match first(pairs, "jurisdiction_id") {
        Some(j) if j != city => Err(Open311Error::new(
            StatusCode::NOT_FOUND,
            format,
            "unknown_jurisdiction",
            format!("this endpoint serves jurisdiction {city}"),
        )),
        _ => Ok(city),
    }
}

/// `GET /open311/discovery.{json,xml}` (and the same under `/open311/v2/`).
pub async fn discovery(State(state): State<AppState>, headers: HeaderMap, file: &str) -> Response {
    let Some(("discovery", format)) = split_format(file) else {
        return Open311Error::new(StatusCode::NOT_FOUND, Format::Xml, "not_found", "no such resource").into_response();
    };
    let base = base_url(&state, &headers);
    let changeset = "2026-11-28T00:00:00+08:00";
    let value = json!({
        "changeset": changeset,
        "contact": "城市管理综合行政执法局 12319 热线 / the enforcement bureau's 12319 line",
        "key_service": format!("{base}/open311-keys (API keys are issued by the bureau's administrator)"),
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": format!("{base}/open311/v2"),
            "changeset": changeset,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    });
    object_response(format, "discovery", value)
}

pub async fn root_resource(state: State<AppState>, headers: HeaderMap, Path(file): Path<String>) -> Response {
    discovery(state, headers, &file).await
}

/// `GET /open311/v2/{services,requests,servicerequestupdates,discovery}.{fmt}`.
pub async fn get_resource(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some((name, format)) = split_format(&file) else {
        return Open311Error::new(StatusCode::NOT_FOUND, Format::Xml, "not_found", "resources end in .xml or .json")
            .into_response();
    };
    let q = pairs(query.unwrap_or_default().as_bytes());
    let result = match name {
        "discovery" => return discovery(State(state), headers, &file).await,
        "services" => list_services(&state, format, &q).await,
        "requests" => list_requests(&state, &headers, format, &q).await,
        "servicerequestupdates" => list_updates(&state, format, &q).await,
        _ => Err(Open311Error::new(StatusCode::NOT_FOUND, format, "not_found", format!("no resource {name}"))),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /open311/v2/{requests,servicerequestupdates}.{fmt}` with an `api_key`.
pub async fn post_resource(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let Some((name, format)) = split_format(&file) else {
        return Open311Error::new(StatusCode::NOT_FOUND, Format::Xml, "not_found", "resources end in .xml or .json")
            .into_response();
    };
    let result: Result311<Response> = async {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !body.is_empty() && !content_type.starts_with("application/x-www-form-urlencoded") {
            return Err(Open311Error::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format,
                "unsupported_media_type",
                "POST bodies are application/x-www-form-urlencoded",
            ));
        }
        // Parameters may come in the query string (some clients put api_key there) or in the body.
        let mut q = pairs(query.unwrap_or_default().as_bytes());
        q.extend(pairs(&body));
        check_jurisdiction(&state, format, &q).await?;
        let key = first(&q, "api_key").unwrap_or("");
        let client = state.app.open311_client(key).await.map_err(|e| Open311Error::from_app(format, e))?;
        let Some(client) = client else {
            return Err(Open311Error::new(StatusCode::FORBIDDEN, format, "bad_api_key", "a valid api_key is required to post"));
        };
        state
            .limits
            .take(&[("key", &client), ("device", first(&q, "device_id").unwrap_or(""))])
            .map_err(|e| Open311Error::from_app(format, e))?;
        match name {
            "requests" => post_request(&state, format, &client, &q).await,
            "servicerequestupdates" => post_update(&state, format, &client, &q).await,
            _ => Err(Open311Error::new(StatusCode::NOT_FOUND, format, "not_found", format!("no resource {name} takes a POST"))),
        }
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn list_services(state: &AppState, format: Format, q: &[(String, String)]) -> Result311<Response> {
    check_jurisdiction(state, format, q).await?;
    let services = state.app.services(true).await.map_err(|e| Open311Error::from_app(format, e))?;
    let items = services
        .iter()
        .map(|s| {
            json!({
                "service_code": s.code,
                "service_name": s.name,
                "description": s.description,
                "metadata": true,
                "type": "realtime",
                "keywords": s.keywords.join(","),
                "group": s.group,
            })
        })
        .collect();
    Ok(list_response(format, "services", items))
}

/// `GET /open311/v2/services/{code}.{fmt}`: the attributes a report of this service takes.
pub async fn service_definition(State(state): State<AppState>, Path(file): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some((code, format)) = split_format(&file) else {
        return Open311Error::new(StatusCode::NOT_FOUND, Format::Xml, "not_found", "resources end in .xml or .json")
            .into_response();
    };
    let result: Result311<Response> = async {
        let q = pairs(query.unwrap_or_default().as_bytes());
        check_jurisdiction(&state, format, &q).await?;
        let services = state.app.services(true).await.map_err(|e| Open311Error::from_app(format, e))?;
        let Some(service) = services.iter().find(|s| s.code == code) else {
            return Err(Open311Error::new(StatusCode::NOT_FOUND, format, "unknown_service", format!("no service {code}")));
        };
        let values: Vec<Value> = Severity::ALL
            .iter()
            .map(|s| json!({"key": s.as_str(), "name": format!("{} / {}", s.label_zh(), s.as_str())}))
            .collect();
        let definition = json!({
            "service_code": service.code,
            "attributes": [{
                "variable": true,
                "code": "severity",
                "datatype": "singlevaluelist",
                "required": false,
                "datatype_description": "How bad it is; minor when not given",
                "order": 1,
                "description": "严重程度 / severity",
                "values": values,
            }],
        });
        Ok(object_response(format, "service_definition", definition))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

fn request_json(r: &PublicReport, base: &str) -> Value {
    json!({
        "service_request_id": r.id.to_string(),
        "status": r.status,
        "extended_status": r.extended_status,
        "status_notes": r.notes.iter().rev().find(|n| !n.note.is_empty()).map(|n| n.note.clone()).unwrap_or_default(),
        "service_name": r.service_name,
        "service_code": r.service_code,
        "description": r.description,
        "agency_responsible": r.agency.clone().unwrap_or_default(),
        "service_notice": r.duplicate_of.map(|d| format!("duplicate of {d}")).unwrap_or_default(),
        "requested_datetime": w3c(r.submitted_at),
        "updated_datetime": w3c(r.closed_at.unwrap_or(r.updated_at)),
        "expected_datetime": r.expected_at.map(w3c).unwrap_or_default(),
        "address": r.address,
        "address_id": "",
        "zipcode": "",
        "lat": r.lat,
        "long": r.lon,
        "media_url": r.photos.last().map(|p| format!("{base}/reports/{}/photos/{}", r.id, p.id)).unwrap_or_default(),
    })
}

fn csv_list(s: Option<&str>) -> Vec<String> {
    s.map(|s| s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect()).unwrap_or_default()
}

async fn list_requests(state: &AppState, headers: &HeaderMap, format: Format, q: &[(String, String)]) -> Result311<Response> {
    check_jurisdiction(state, format, q).await?;
    let bad = |code: &str, text: String| Open311Error::new(StatusCode::BAD_REQUEST, format, code, text);
    let mut query = ReportQuery { newest_first: true, limit: MAX_REQUESTS, ..ReportQuery::default() };
    let ids = csv_list(first(q, "service_request_id"));
    if !ids.is_empty() {
        // A list of numbers overrides every other filter.
        query.ids = ids
            .iter()
            .map(|i| i.parse::<i64>().map_err(|_| bad("bad_request_id", format!("{i:?} is not a request id"))))
            .collect::<Result<_, _>>()?;
    } else {
        query.service_codes = csv_list(first(q, "service_code"));
        let now = gridward_app::now();
        let start = first(q, "start_date").map(|s| parse_w3c(format, "start_date", s)).transpose()?;
        let end = first(q, "end_date").map(|s| parse_w3c(format, "end_date", s)).transpose()?;
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, (s + MAX_WINDOW_S).min(now + 1)),
            (None, Some(e)) => (e - MAX_WINDOW_S, e),
            (None, None) => (now + 1 - MAX_WINDOW_S, now + 1),
        };
        if end < start {
            return Err(bad("bad_date_range", "end_date is before start_date".into()));
        }
        if end - start > MAX_WINDOW_S {
            return Err(bad("date_range_too_long", "start_date and end_date may span at most 90 days".into()));
        }
        query.from = Some(start);
        query.to = Some(end);
        for status in csv_list(first(q, "status")) {
            match status.as_str() {
                "open" => query.states.extend(ReportState::ALL.into_iter().filter(|s| s.is_open())),
                "closed" => query.states.extend(ReportState::ALL.into_iter().filter(|s| !s.is_open())),
                other => return Err(bad("bad_status", format!("status is open or closed, not {other:?}"))),
            }
        }
        if let Some(after) = first(q, "updated_after") {
            query.updated_from = Some(parse_w3c(format, "updated_after", after)?);
        }
        let page_size = match first(q, "page_size") {
            Some(n) => n
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_REQUESTS).contains(n))
                .ok_or_else(|| bad("bad_page_size", "page_size is 1 to 1000".into()))?,
            None => MAX_REQUESTS,
        };
        let page = match first(q, "page") {
            Some(n) => n.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| bad("bad_page", "page counts from 1".into()))?,
            None => 1,
        };
        query.limit = page_size;
        query.offset = (page - 1).saturating_mul(page_size);
    }
    let reports = state.app.public_reports(query).await.map_err(|e| Open311Error::from_app(format, e))?;
    let base = base_url(state, headers);
    // A report known only by its address has no public number until it is placed.
    let items = reports.iter().filter(|r| r.lon.is_some()).map(|r| request_json(r, &base)).collect();
    Ok(list_response(format, "service_requests", items))
}

/// `GET /open311/v2/requests/{id}.{fmt}`: one request, as a list of one.
pub async fn get_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some((id, format)) = split_format(&file) else {
        return Open311Error::new(StatusCode::NOT_FOUND, Format::Xml, "not_found", "resources end in .xml or .json")
            .into_response();
    };
    let result: Result311<Response> = async {
        let q = pairs(query.unwrap_or_default().as_bytes());
        check_jurisdiction(&state, format, &q).await?;
        let not_found = || Open311Error::new(StatusCode::NOT_FOUND, format, "unknown_request", format!("no request {id}"));
        let id: i64 = id.parse().map_err(|_| not_found())?;
        let report = state.app.public_report(id).await.map_err(|_| not_found())?;
        if report.lon.is_none() {
            return Err(not_found());
        }
        Ok(list_response(format, "service_requests", vec![request_json(&report, &base_url(&state, &headers))]))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /open311/v2/tokens/{token}.{fmt}`: the request number behind a token, once it has one.
pub async fn get_token(State(state): State<AppState>, Path(file): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some((token, format)) = split_format(&file) else {
        return Open311Error::new(StatusCode::NOT_FOUND, Format::Xml, "not_found", "resources end in .xml or .json")
            .into_response();
    };
    let result: Result311<Response> = async {
        let q = pairs(query.unwrap_or_default().as_bytes());
        check_jurisdiction(&state, format, &q).await?;
        let id = state
            .app
            .report_id_for_token(token)
            .await
            .map_err(|_| Open311Error::new(StatusCode::NOT_FOUND, format, "unknown_token", "no such token"))?;
        let mut item = json!({"token": token});
        if let Some(id) = id {
            item["service_request_id"] = json!(id.to_string());
        }
        Ok(list_response(format, "service_requests", vec![item]))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn post_request(state: &AppState, format: Format, client: &str, q: &[(String, String)]) -> Result311<Response> {
    let bad = |code: &str, text: String| Open311Error::new(StatusCode::BAD_REQUEST, format, code, text);
    let service_code = first(q, "service_code").ok_or_else(|| bad("missing_service_code", "service_code is required".into()))?;
    let number = |field: &str| -> Result311<Option<f64>> {
        first(q, field).map(|v| v.parse::<f64>().map_err(|_| bad("bad_point", format!("{field} is a number")))).transpose()
    };
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in q {
        if let Some(rest) = k.strip_prefix("attribute[") {
            let code = rest.trim_end_matches("[]").trim_end_matches(']');
            attributes.entry(code.to_string()).or_default().push(v.clone());
        }
    }
    let name = [first(q, "first_name"), first(q, "last_name")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let input = NewReport {
        service_code: service_code.to_string(),
        lat: number("lat")?,
        lon: number("long")?,
        datum: None,
        address: first(q, "address_string").unwrap_or("").to_string(),
        description: first(q, "description").unwrap_or("").to_string(),
        reporter: Reporter {
            name,
            phone: first(q, "phone").unwrap_or("").to_string(),
            email: first(q, "email").unwrap_or("").to_string(),
            device_id: first(q, "device_id").unwrap_or("").to_string(),
        },
        attributes,
        media_url: first(q, "media_url").map(str::to_string),
    };
    let submitted = state
        .app
        .submit_report(&Submitter::Client(client.to_string()), input)
        .await
        .map_err(|e| Open311Error::from_app(format, e))?;
    let notice = match submitted.duplicate_of {
        Some(of) => format!(
            "已有相同问题的报告 {of}，本报告已与其关联 / the same problem was reported as {of}; this report is linked to it"
        ),
        None => "已收到，将在时限内受理 / received; it will be verified within the time limit".to_string(),
    };
    // Exactly one of the number and the token: a report given only as an address has no number yet.
    let item = if submitted.placed {
        json!({"service_request_id": submitted.id.to_string(), "service_notice": notice, "account_id": ""})
    } else {
        json!({"token": submitted.token, "service_notice": notice, "account_id": ""})
    };
    Ok(list_response(format, "service_requests", vec![item]))
}

async fn list_updates(state: &AppState, format: Format, q: &[(String, String)]) -> Result311<Response> {
    check_jurisdiction(state, format, q).await?;
    let now = gridward_app::now();
    let start = first(q, "start_date").map(|s| parse_w3c(format, "start_date", s)).transpose()?.unwrap_or(now - 86_400);
    let end = first(q, "end_date").map(|s| parse_w3c(format, "end_date", s)).transpose()?.unwrap_or(now + 1);
    if end < start || end - start > MAX_WINDOW_S {
        return Err(Open311Error::new(
            StatusCode::BAD_REQUEST,
            format,
            "bad_date_range",
            "the range runs forwards and spans at most 90 days",
        ));
    }
    let updates = state.app.public_updates(start, end, MAX_REQUESTS).await.map_err(|e| Open311Error::from_app(format, e))?;
    let items = updates
        .iter()
        .filter(|(u, r)| r.lon.is_some() && (!u.public_note.is_empty() || u.action == "submit"))
        .map(|(u, r)| {
            let (_, extended) = gridward_domain::report::open311_status(u.state, r.cancel_reason);
            json!({
                "update_id": u.id.to_string(),
                "service_request_id": u.report_id.to_string(),
                "status": extended,
                "updated_datetime": w3c(u.at),
                "description": u.public_note,
                "media_url": "",
                "external_status_code": u.state.as_str(),
            })
        })
        .collect();
    Ok(list_response(format, "service_request_updates", items))
}

/// A client's update to a request: a public comment; a client cannot change a request's state.
async fn post_update(state: &AppState, format: Format, client: &str, q: &[(String, String)]) -> Result311<Response> {
    let bad = |code: &str, text: &str| Open311Error::new(StatusCode::BAD_REQUEST, format, code, text.to_string());
    let id: i64 = first(q, "service_request_id")
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| bad("bad_request_id", "service_request_id is required"))?;
    let description = first(q, "description").ok_or_else(|| bad("missing_description", "description is required"))?;
    match first(q, "status").map(str::to_ascii_uppercase).as_deref() {
        None | Some("OPEN") => {}
        Some(_) => {
            return Err(bad("status_not_settable", "a client may add to an open request; its state is decided by the bureau"));
        }
    }
    let update = state.app.comment_on_report(client, id, description).await.map_err(|e| Open311Error::from_app(format, e))?;
    Ok(list_response(format, "service_request_updates", vec![json!({"update_id": update.id.to_string()})]))
}
