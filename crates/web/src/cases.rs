//! Enforcement cases over HTTP: the case API, the deadline rule, the case list with its deadlines board,
//! the case workspace with a form for each lawful next step, and printable documents.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use gridward_app::AppError;
use gridward_app::auth::Authenticated;
use gridward_app::cases::{CaseView, DeadlineBoard, NextStep, OpenCase, SummaryInput};
use gridward_domain::Date;
use gridward_domain::access::Role;
use gridward_domain::calendar::{Period, PeriodUnit};
use gridward_domain::case::{
    AppealKind, CaseSource, EvidenceCategory, Instalment, NoPenaltyGround, Officer, Outcome, Penalty, Procedure, ServiceMethod,
    Stage, StepKind, TransferAttachment, yuan_of_fen,
};
use gridward_domain::catalog::PenaltyType;
use gridward_domain::party::{Party, PartyKind};
use gridward_store::{CaseDocument, CaseRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::{SignedIn, same_secret};
use crate::api::ApiResult;
use crate::error::ErrorBody;
use crate::pages::{Chrome, page_result, render};

/// Roles that work cases (the use-cases narrow by territory and the law by step).
pub const CASE_WORKERS: &[Role] = gridward_app::cases::WORKS_CASES;
/// Roles that read cases: those who work them, and the procuratorate, which watches transferred cases and
/// cases with signs of a crime.
pub const CASE_READERS: &[Role] = &[Role::Leader, Role::Officer, Role::Auxiliary, Role::LegalReviewer, Role::Procuratorate];
/// The longest a deadline query may run: the decision period and every extension fit well inside.
const MAX_PERIOD_DAYS: u32 = 3_660;

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeadlineQuery {
    /// The day the period starts from (not counted), `YYYY-MM-DD`.
    pub start: String,
    /// How many days.
    pub period: u32,
    /// `working_days` or `calendar_days`.
    pub unit: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineAnswer {
    pub start: String,
    pub period: u32,
    pub unit: String,
    /// The last day of the period.
    pub last_day: String,
    /// True when counting ran past the last year whose holidays are known: a later arrangement may move it.
    pub provisional: bool,
    /// The last year of the official arrangement the server knows.
    pub calendar_known_through: String,
    pub rule: String,
}

/// When a legal period ends, counted as the law counts it: the start day is not counted; working days skip
/// weekends and holidays and count make-up working days; a calendar-day period ending on a rest day runs
/// on to the next working day.
#[utoipa::path(get, path = "/api/v1/calendar/deadline", tag = "cases", params(DeadlineQuery),
    responses((status = 200, body = DeadlineAnswer), (status = 400, body = ErrorBody)))]
pub async fn calendar_deadline(State(state): State<AppState>, Query(q): Query<DeadlineQuery>) -> ApiResult<Json<DeadlineAnswer>> {
    let start: Date = q.start.parse().map_err(|_| AppError::bad_request("bad_date", "start is a YYYY-MM-DD date"))?;
    let unit =
        PeriodUnit::parse(&q.unit).ok_or_else(|| AppError::bad_request("bad_unit", "unit is working_days or calendar_days"))?;
    if q.period == 0 || q.period > MAX_PERIOD_DAYS {
        return Err(AppError::bad_request("bad_period", format!("period is 1 to {MAX_PERIOD_DAYS} days")).into());
    }
    let cal = state.app.work_calendar().await?;
    let end = cal.period_end(start, Period { days: q.period, unit });
    let rule = match unit {
        PeriodUnit::WorkingDays => {
            "行政处罚法第八十五条：二日、三日、五日、七日的规定是指工作日，不含法定节假日；期间开始之日不计算在内"
        }
        PeriodUnit::CalendarDays => {
            "民法典第二百零一条、第二百零三条：开始的当日不计入；期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日"
        }
    };
    Ok(Json(DeadlineAnswer {
        start: start.to_string(),
        period: q.period,
        unit: unit.as_str().to_string(),
        last_day: end.last_day.to_string(),
        provisional: end.provisional,
        calendar_known_through: cal.known_through().to_string(),
        rule: rule.to_string(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CaseListQuery {
    /// Only cases at this stage.
    pub stage: Option<String>,
    /// Only the caller's own cases (as proposer or investigator).
    pub mine: Option<bool>,
}

/// Cases in the caller's territory, newest first.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])), params(CaseListQuery),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn list_cases(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(q): Query<CaseListQuery>,
) -> ApiResult<Json<Value>> {
    let stages = stages_of(q.stage.as_deref())?;
    let items = state.app.cases(&auth.principal, stages, q.mine.unwrap_or(false)).await?;
    Ok(Json(json!({ "items": items })))
}

fn stages_of(stage: Option<&str>) -> Result<Vec<Stage>, AppError> {
    match stage.filter(|s| !s.is_empty()) {
        None => Ok(Vec::new()),
        Some(s) => {
            Stage::parse(s).map(|s| vec![s]).ok_or_else(|| AppError::bad_request("bad_stage", format!("{s:?} is not a stage")))
        }
    }
}

/// Opens a case: an ordinary case awaiting approval, or a summary case with its on-the-spot decision.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])), request_body = Object,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn open_case(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Json(input): Json<OpenCase>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(state.app.open_case(&auth.principal, input).await?))
}

/// A case's workspace: the case, its timeline, documents, deadlines and which steps are open to the caller.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the case's id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_case(State(state): State<AppState>, SignedIn(auth): SignedIn, Path(id): Path<i64>) -> ApiResult<Json<CaseView>> {
    Ok(Json(state.app.case_view(&auth.principal, id).await?))
}

/// Takes one step, such as `{"step": "give_notice", "penalties": [{"kind": "fine", "amount_yuan": 500}],
/// "facts": …, "basis": …}`. A step the law does not allow now is answered 409 with the unmet condition's
/// code and article, and nothing changes.
#[utoipa::path(post, path = "/api/v1/cases/{id}/steps", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the case's id")), request_body = Object,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn take_step(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path(id): Path<i64>,
    Json(kind): Json<StepKind>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(state.app.act_on_case(&auth.principal, id, kind).await?))
}

/// One issued document with its number, fields and digest.
#[utoipa::path(get, path = "/api/v1/cases/{id}/documents/{document}", tag = "cases", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the case's id"), ("document" = i64, Path, description = "the document's id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_document(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Path((id, document)): Path<(i64, i64)>,
) -> ApiResult<Json<CaseDocument>> {
    Ok(Json(state.app.case_document(&auth.principal, id, document).await?.1))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct BoardQuery {
    /// Cases whose next deadline is within this many days (default 7), overdue ones included.
    pub days: Option<u32>,
}

/// Approaching and overdue deadlines in the caller's territory, counted per body and per officer.
#[utoipa::path(get, path = "/api/v1/cases/deadlines", tag = "cases", security(("bearer" = [])), params(BoardQuery),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn deadlines(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    Query(q): Query<BoardQuery>,
) -> ApiResult<Json<DeadlineBoard>> {
    Ok(Json(state.app.deadline_board(&auth.principal, q.days.unwrap_or(7)).await?))
}

// Pages.

/// How many days before a case deadline it shows as due soon: the shortest legal periods of a case are a
/// few working days, so the warning comes with most of them still ahead.
const CASE_WARNING_DAYS: i32 = 3;

/// How a deadline stands today, coloured the same everywhere: on time, within the warning window, overdue.
fn due_class(due: Option<Date>, today: Date) -> &'static str {
    match due {
        None => "",
        Some(d) if d < today => "due-over",
        Some(d) if (d - today).get_days() <= CASE_WARNING_DAYS => "due-soon",
        Some(_) => "due-ok",
    }
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    chrome: Chrome,
    cases: Vec<CaseRecord>,
    board: DeadlineBoard,
    stage: String,
    may_open: bool,
}

impl CasesPage {
    fn label(&self, prefix: &str, key: &str) -> String {
        self.chrome.t(&format!("{prefix}.{key}"))
    }
    fn due(&self, c: &CaseRecord) -> &'static str {
        due_class(c.next_due, self.board.today)
    }
    fn stages(&self) -> Vec<(&'static str, String)> {
        Stage::ALL.iter().map(|s| (s.as_str(), self.label("case.stage", s.as_str()))).collect()
    }
}

#[derive(Debug, Deserialize)]
pub struct CasesPageQuery {
    pub stage: Option<String>,
}

/// `GET /cases`: the cases in the caller's territory and the deadlines board.
pub async fn cases_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Query(q): Query<CasesPageQuery>,
) -> Response {
    let result = async {
        let stage = q.stage.unwrap_or_default();
        let cases = state.app.cases(&auth.principal, stages_of(Some(&stage))?, false).await?;
        let board = state.app.deadline_board(&auth.principal, 7).await?;
        let may_open = auth.principal.has_any(&[Role::Officer, Role::Leader]);
        Ok(render(StatusCode::OK, &CasesPage { chrome: Chrome::new(&headers, Some(&auth)), cases, board, stage, may_open }))
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

#[derive(Template)]
#[template(path = "case_new.html")]
struct NewCasePage {
    chrome: Chrome,
    summary: bool,
    powers: Vec<(String, String)>,
    colleagues: Vec<(String, String)>,
    error: Option<String>,
    today: String,
    report: String,
}

impl NewCasePage {
    fn sources(&self) -> Vec<(&'static str, &'static str)> {
        CaseSource::ALL.iter().map(|s| (s.as_str(), s.zh())).collect()
    }
}

#[derive(Debug, Deserialize)]
pub struct NewCaseQuery {
    pub procedure: Option<String>,
    pub report: Option<String>,
}

async fn new_case_response(
    state: &AppState,
    headers: &HeaderMap,
    auth: &Authenticated,
    summary: bool,
    report: String,
    error: Option<(String, StatusCode)>,
) -> Result<Response, AppError> {
    let gridward_app::cases::NewCaseChoices { powers, colleagues } = state.app.new_case_choices(&auth.principal).await?;
    let (error, status) = match error {
        Some((e, s)) => (Some(e), s),
        None => (None, StatusCode::OK),
    };
    let page = NewCasePage {
        chrome: Chrome::new(headers, Some(auth)),
        summary,
        powers,
        colleagues,
        error,
        today: gridward_app::today().to_string(),
        report,
    };
    Ok(render(status, &page))
}

/// `GET /cases/new[?procedure=summary]`: open a case; the summary form is the officer's phone view.
pub async fn new_case_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Query(q): Query<NewCaseQuery>,
) -> Response {
    let summary = q.procedure.as_deref() == Some("summary");
    let result = new_case_response(&state, &headers, &auth, summary, q.report.unwrap_or_default(), None).await;
    page_result(&headers, Some(&auth), result)
}

type Fields = Vec<(String, String)>;

fn field(fields: &Fields, name: &str) -> String {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
}

fn fields_named(fields: &Fields, name: &str) -> Vec<String> {
    fields.iter().filter(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.trim().to_string()).collect()
}

fn date_field(fields: &Fields, name: &str) -> Result<Date, AppError> {
    field(fields, name).parse().map_err(|_| AppError::bad_request("bad_date", format!("{name} is a YYYY-MM-DD date")))
}

fn number_field<T: std::str::FromStr>(fields: &Fields, name: &str) -> Result<T, AppError> {
    field(fields, name).parse().map_err(|_| AppError::bad_request("bad_number", format!("{name} is a number")))
}

/// Yuan as typed (`123.45`) into fen.
fn fen_field(fields: &Fields, name: &str) -> Result<i64, AppError> {
    let text = field(fields, name);
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let bad = || AppError::bad_request("bad_amount", format!("{name} is an amount in yuan, such as 200 or 12.50"));
    if frac.len() > 2 {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| bad())? };
    whole.checked_mul(100).and_then(|w| w.checked_add(frac)).ok_or_else(bad)
}

/// The penalties a form lists: `penalty_kind`/`penalty_amount` pairs, blank kinds skipped.
fn penalties_field(fields: &Fields) -> Result<Vec<Penalty>, AppError> {
    let kinds = fields.iter().filter(|(k, _)| k == "penalty_kind").map(|(_, v)| v.trim());
    let amounts = fields.iter().filter(|(k, _)| k == "penalty_amount").map(|(_, v)| v.trim());
    kinds
        .zip(amounts)
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, a)| {
            let kind =
                PenaltyType::parse(k).ok_or_else(|| AppError::bad_request("bad_penalty", format!("{k:?} is not a penalty")))?;
            let amount_yuan = if a.is_empty() {
                0
            } else {
                a.parse().map_err(|_| AppError::bad_request("bad_amount", "amounts are whole yuan"))?
            };
            Ok(Penalty { kind, amount_yuan })
        })
        .collect()
}

/// The opening a form describes.
fn opening_from(fields: &Fields) -> Result<OpenCase, AppError> {
    let summary = field(fields, "procedure") == "summary";
    let kind = PartyKind::parse(&field(fields, "party_kind"))
        .ok_or_else(|| AppError::bad_request("bad_party_kind", "choose a person or an organisation"))?;
    let source = CaseSource::parse(&field(fields, "source")).unwrap_or(CaseSource::Patrol);
    Ok(OpenCase {
        procedure: if summary { Procedure::Summary } else { Procedure::Ordinary },
        source,
        source_ref: field(fields, "source_ref"),
        party: Party {
            kind,
            name: field(fields, "party_name"),
            id_number: field(fields, "party_id"),
            address: field(fields, "party_address"),
            representative: field(fields, "party_representative"),
            phone: field(fields, "party_phone"),
        },
        power_code: field(fields, "power_code"),
        facts: field(fields, "facts"),
        act_date: date_field(fields, "act_date")?,
        discovered_on: None,
        serious_harm: field(fields, "serious_harm") == "on",
        summary: if summary {
            let amount: u64 = if field(fields, "fine").is_empty() { 0 } else { number_field(fields, "fine")? };
            Some(SummaryInput {
                facts_clear: field(fields, "facts_clear") == "on",
                penalty: if amount == 0 { Penalty::warning() } else { Penalty::fine(amount) },
                form_number: field(fields, "form_number"),
                companion: field(fields, "companion"),
                collected_on_spot: field(fields, "collected_on_spot") == "on",
            })
        } else {
            None
        },
    })
}

/// `POST /cases/new`: opens the case the form describes and shows its workspace.
pub async fn new_case_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    axum::Form(fields): axum::Form<Fields>,
) -> Response {
    let result = async {
        if !same_secret(&field(&fields, "csrf"), &auth.csrf_token) {
            return Err(AppError::bad_request("csrf", "the form's token is missing or stale"));
        }
        let record = state.app.open_case_record(&auth.principal, opening_from(&fields)?).await?;
        Ok(Redirect::to(&format!("/cases/{}", record.id)).into_response())
    }
    .await;
    match result {
        Ok(r) => r,
        Err(e) => {
            let chrome = Chrome::new(&headers, Some(&auth));
            let message = crate::pages::error_message(&chrome, &e);
            let summary = field(&fields, "procedure") == "summary";
            let again = new_case_response(
                &state,
                &headers,
                &auth,
                summary,
                field(&fields, "source_ref"),
                Some((message, crate::error::status_of(&e))),
            )
            .await;
            again.unwrap_or_else(|e| crate::pages::error_response(chrome, e))
        }
    }
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    view: CaseView,
    may_attach: bool,
    notice: Option<String>,
    today: Date,
}

impl CasePage {
    fn label(&self, prefix: &str, key: &str) -> String {
        self.chrome.t(&format!("{prefix}.{key}"))
    }
    fn open(&self) -> Vec<&NextStep> {
        self.view.next_steps.iter().filter(|s| s.available).collect()
    }
    fn closed(&self) -> Vec<&NextStep> {
        self.view.next_steps.iter().filter(|s| !s.available).collect()
    }
    fn due(&self, d: &Date) -> &'static str {
        due_class(Some(*d), self.today)
    }
    fn yuan(&self, fen: &i64) -> String {
        yuan_of_fen(*fen)
    }
    fn penalty_types(&self) -> Vec<(&'static str, &'static str)> {
        PenaltyType::ALL.iter().filter(|p| **p != PenaltyType::Detention).map(|p| (p.as_str(), p.zh())).collect()
    }
    fn evidence_categories(&self) -> Vec<(&'static str, &'static str)> {
        EvidenceCategory::ALL.iter().map(|c| (c.as_str(), c.zh())).collect()
    }
    fn service_methods(&self) -> Vec<(&'static str, &'static str)> {
        ServiceMethod::ALL.iter().map(|c| (c.as_str(), c.zh())).collect()
    }
    fn grounds(&self) -> Vec<(&'static str, &'static str)> {
        NoPenaltyGround::ALL.iter().map(|c| (c.as_str(), c.zh())).collect()
    }
    fn attachments(&self) -> Vec<(&'static str, &'static str)> {
        TransferAttachment::ALL.iter().map(|c| (c.as_str(), c.zh())).collect()
    }
    fn appeal_kinds(&self) -> Vec<(&'static str, &'static str)> {
        AppealKind::ALL.iter().map(|c| (c.as_str(), c.zh())).collect()
    }
    /// The penalties a decision form starts from: the notice's.
    fn notified(&self) -> Vec<Penalty> {
        self.view.case.notice.as_ref().map(|n| n.penalties.clone()).unwrap_or_else(|| vec![Penalty::fine(0)])
    }
    fn penalty_text(&self, p: &Penalty) -> String {
        gridward_app::documents::penalty_text(p)
    }
    fn may_attach(&self) -> bool {
        self.may_attach && self.view.case.closed_on.is_none()
    }
    fn detail(&self, v: &Value) -> String {
        step_detail(&self.chrome, v)
    }
    /// Why a step is not open, in the page's language.
    fn refusal_text(&self, r: &gridward_app::cases::Refusal) -> String {
        let key = format!("error.{}", r.code);
        match self.chrome.t(&key) {
            m if m == key => r.message.clone(),
            m => m,
        }
    }
}

/// A step's details as one line for the timeline, in the page's language where the field has a label.
fn step_detail(chrome: &Chrome, v: &Value) -> String {
    let mut parts = Vec::new();
    let Some(map) = v.as_object() else { return String::new() };
    for (key, value) in map {
        let text = match (key.as_str(), value) {
            ("opening", _) | (_, Value::Null) => continue,
            ("investigators", Value::Array(people)) => {
                people.iter().filter_map(|p| p["name"].as_str()).collect::<Vec<_>>().join("、")
            }
            ("presiding", p) => p["name"].as_str().unwrap_or_default().to_string(),
            ("penalties", ps) => serde_json::from_value::<Vec<Penalty>>(ps.clone())
                .map(|ps| gridward_app::documents::penalties_text(&ps))
                .unwrap_or_default(),
            ("outcome", o) => match serde_json::from_value::<Outcome>(o.clone()) {
                Ok(outcome) => {
                    format!("{} {}", outcome.zh(), gridward_app::documents::penalties_text(outcome.penalties()))
                }
                Err(_) => continue,
            },
            ("category", Value::String(c)) => EvidenceCategory::parse(c).map_or(c.clone(), |c| c.zh().to_string()),
            ("method", Value::String(m)) => ServiceMethod::parse(m).map_or(m.clone(), |m| m.zh().to_string()),
            ("attachments", Value::Array(items)) => items
                .iter()
                .filter_map(|a| a.as_str().and_then(TransferAttachment::parse))
                .map(|a| a.zh())
                .collect::<Vec<_>>()
                .join("、"),
            ("amount_fen", Value::Number(n)) => format!("{}元", n.as_i64().map_or_else(|| n.to_string(), yuan_of_fen)),
            (_, Value::Array(items)) => {
                items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string)).collect::<Vec<_>>().join("、")
            }
            (_, Value::String(s)) => s.clone(),
            (_, Value::Bool(b)) => (if *b { "✓" } else { "✗" }).to_string(),
            (_, other) => other.to_string(),
        };
        if text.is_empty() {
            continue;
        }
        let label_key = format!("case.f.{key}");
        let label = match chrome.t(&label_key) {
            l if l == label_key => key.clone(),
            l => l,
        };
        parts.push(format!("{label}：{text}"));
    }
    parts.join(" · ")
}

async fn case_page_response(
    state: &AppState,
    headers: &HeaderMap,
    auth: &Authenticated,
    id: i64,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let view = state.app.case_view(&auth.principal, id).await?;
    let may_attach = gridward_app::evidence::may_attach(&auth.principal);
    Ok(render(
        status,
        &CasePage { chrome: Chrome::new(headers, Some(auth)), view, may_attach, notice, today: gridward_app::today() },
    ))
}

/// A refused form: the workspace again with the reason and the refusal's status, or the plain error page
/// when the case itself cannot be shown.
async fn refused_on_case_page(state: &AppState, headers: &HeaderMap, auth: &Authenticated, id: i64, e: AppError) -> Response {
    let chrome = Chrome::new(headers, Some(auth));
    let message = crate::pages::error_message(&chrome, &e);
    let status = crate::error::status_of(&e);
    case_page_response(state, headers, auth, id, Some(message), status)
        .await
        .unwrap_or_else(|_| crate::pages::error_response(chrome, e))
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

/// `GET /cases/{id}`: the case workspace.
pub async fn case_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let notice = q.done.map(|s| format!("{} ✓", Chrome::new(&headers, Some(&auth)).t(&format!("case.step.{s}"))));
    let result = case_page_response(&state, &headers, &auth, id, notice, StatusCode::OK).await;
    page_result(&headers, Some(&auth), result)
}

/// The step a workspace form describes.
fn step_from(fields: &Fields) -> Result<StepKind, AppError> {
    let text = |name: &str| field(fields, name);
    let checked = |name: &str| field(fields, name) == "on";
    Ok(match text("step").as_str() {
        "approve_opening" => StepKind::ApproveOpening,
        "refuse_opening" => StepKind::RefuseOpening { reason: text("reason") },
        "assign_investigators" => StepKind::AssignInvestigators {
            investigators: fields_named(fields, "investigator").into_iter().map(Officer::by_staff_no).collect(),
        },
        "mark_significance" => StepKind::MarkSignificance {
            major_public_interest: checked("major_public_interest"),
            complex: checked("complex"),
            serious: checked("serious"),
        },
        "add_evidence" => StepKind::AddEvidence {
            evidence_id: Some(text("evidence_id")).filter(|e| !e.is_empty()),
            category: EvidenceCategory::parse(&text("category"))
                .ok_or_else(|| AppError::bad_request("bad_category", "choose the kind of evidence"))?,
            description: text("description"),
        },
        "record_inquiry" => {
            StepKind::RecordInquiry { officers: fields_named(fields, "officer"), summary: text("summary"), evidence_id: None }
        }
        "order_correction" => {
            StepKind::OrderCorrection { requirement: text("requirement"), within_days: number_field(fields, "within_days")? }
        }
        "give_notice" => StepKind::GiveNotice { penalties: penalties_field(fields)?, facts: text("facts"), basis: text("basis") },
        "record_statement" => StepKind::RecordStatement { summary: text("summary") },
        "request_hearing" => StepKind::RequestHearing,
        "waive_rights" => StepKind::WaiveRights,
        "schedule_hearing" => StepKind::ScheduleHearing {
            hearing_on: date_field(fields, "hearing_on")?,
            presiding: Officer::by_staff_no(text("presiding")),
            place: text("place"),
        },
        "record_hearing" => StepKind::RecordHearing {
            party_attended: checked("party_attended"),
            transcript: text("transcript"),
            evidence_id: None,
        },
        "legal_review" => StepKind::LegalReview { passed: text("passed") == "true", opinion: text("opinion") },
        "collective_deliberation" => StepKind::CollectiveDeliberation {
            members: text("members")
                .split(['、', ',', '，', ';', '；'])
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .collect(),
            conclusion: text("conclusion"),
        },
        "extend_decision_period" => {
            StepKind::ExtendDecisionPeriod { days: number_field(fields, "days")?, reason: text("reason") }
        }
        "record_consent" => StepKind::RecordConsentToElectronicService { address: text("address") },
        "decide" => StepKind::Decide {
            outcome: match text("outcome").as_str() {
                "penalty" => Outcome::Penalty { penalties: penalties_field(fields)? },
                "no_penalty" => Outcome::NoPenalty {
                    ground: NoPenaltyGround::parse(&text("ground"))
                        .ok_or_else(|| AppError::bad_request("bad_ground", "choose the Art. 33 ground"))?,
                },
                "facts_not_established" => Outcome::FactsNotEstablished,
                "transfer_to_judicial" => Outcome::TransferToJudicial,
                _ => return Err(AppError::bad_request("bad_outcome", "choose the decision")),
            },
            reasons: text("reasons"),
        },
        "serve" => StepKind::Serve {
            method: ServiceMethod::parse(&text("method"))
                .ok_or_else(|| AppError::bad_request("bad_method", "choose how it was served"))?,
        },
        "file_summary" => StepKind::FileSummary,
        "record_appeal" => StepKind::RecordAppeal {
            kind: AppealKind::parse(&text("kind")).ok_or_else(|| AppError::bad_request("bad_appeal", "choose the appeal"))?,
        },
        "end_appeal" => StepKind::EndAppeal { decision_upheld: text("upheld") == "true" },
        "grant_deferral" => StepKind::GrantDeferral { until: date_field(fields, "until")? },
        "grant_instalments" => StepKind::GrantInstalments { plan: instalments_field(&text("plan"))? },
        "record_payment" => StepKind::RecordPayment { amount_fen: fen_field(fields, "amount")?, receipt: text("receipt") },
        "flag_crime_indicator" => StepKind::FlagCrimeIndicator { note: text("note") },
        "propose_transfer" => StepKind::ProposeTransfer { report: text("report") },
        "decide_transfer" => StepKind::DecideTransfer { approve: text("approve") == "true", reason: text("reason") },
        "transfer_to_police" => StepKind::TransferToPolice {
            police: text("police"),
            attachments: fields_named(fields, "attachment").iter().filter_map(|a| TransferAttachment::parse(a)).collect(),
        },
        "record_police_receipt" => StepKind::RecordPoliceReceipt { receipt: text("receipt") },
        "record_police_decision" => {
            StepKind::RecordPoliceDecision { accepted: text("accepted") == "true", reason: text("reason") }
        }
        "request_police_review" => StepKind::RequestPoliceReview,
        "record_review_decision" => StepKind::RecordReviewDecision { accepted: text("accepted") == "true" },
        "request_supervision" => StepKind::RequestSupervision,
        "publish" => StepKind::Publish,
        "withdraw_publication" => StepKind::WithdrawPublication { reason: text("reason") },
        "close" => StepKind::Close { summary: text("summary") },
        "archive" => StepKind::Archive,
        other => return Err(AppError::bad_request("bad_step", format!("{other:?} is not a step"))),
    })
}

/// Instalments as typed, one a line: `2026-12-01 500`.
fn instalments_field(text: &str) -> Result<Vec<Instalment>, AppError> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut parts = line.split_whitespace();
            let bad = || AppError::bad_request("bad_instalments", "one instalment a line: YYYY-MM-DD amount");
            let due: Date = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
            let fields = vec![("a".to_string(), parts.next().ok_or_else(bad)?.to_string())];
            Ok(Instalment { due, amount_fen: fen_field(&fields, "a")? })
        })
        .collect()
}

/// `POST /cases/{id}`: one step from the workspace's forms.
pub async fn case_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path(id): Path<i64>,
    axum::Form(fields): axum::Form<Fields>,
) -> Response {
    let result = async {
        if !same_secret(&field(&fields, "csrf"), &auth.csrf_token) {
            return Err(AppError::bad_request("csrf", "the form's token is missing or stale"));
        }
        let step = step_from(&fields)?;
        let code = step.code();
        state.app.act_on_case_record(&auth.principal, id, step).await?;
        Ok(Redirect::to(&format!("/cases/{id}?done={code}")).into_response())
    }
    .await;
    match result {
        Ok(r) => r,
        Err(e) => refused_on_case_page(&state, &headers, &auth, id, e).await,
    }
}

#[derive(Template)]
#[template(path = "case_document.html")]
struct DocumentPage {
    chrome: Chrome,
    case: CaseRecord,
    document: CaseDocument,
}

impl DocumentPage {
    fn digest_line(&self) -> String {
        digest_line(&self.document)
    }
    fn title(&self) -> &str {
        self.document.content["title"].as_str().unwrap_or_default()
    }
    fn text(&self, key: &str) -> &str {
        self.document.content[key].as_str().unwrap_or_default()
    }
    fn rows(&self) -> Vec<(String, String)> {
        crate::pdf::document_fields(&self.document.content)
    }
    fn paragraphs(&self) -> Vec<String> {
        self.document.content["paragraphs"]
            .as_array()
            .map(|p| p.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
}

/// `GET /cases/{id}/documents/{document}`: a document as a printable A4 page (the browser saves it as PDF).
pub async fn document_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path((id, document)): Path<(i64, i64)>,
) -> Response {
    let result = async {
        let (case, document) = state.app.case_document(&auth.principal, id, document).await?;
        Ok(render(StatusCode::OK, &DocumentPage { chrome: Chrome::new(&headers, Some(&auth)), case, document }))
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

/// The line under a document that ties it to the record.
fn digest_line(document: &CaseDocument) -> String {
    format!("文书摘要 {} · 全过程记录第{}条", document.digest, document.ledger_seq)
}

/// `GET /cases/{id}/documents/{document}/pdf`: the document as an A4 PDF in a Chinese serif font.
pub async fn document_pdf(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path((id, document)): Path<(i64, i64)>,
) -> Response {
    let result = async {
        let (_, document) = state.app.case_document(&auth.principal, id, document).await?;
        let footer = digest_line(&document);
        let number = document.number.clone();
        let content = document.content.clone();
        // The font is read from disk on first use: off the async threads, like the rendering.
        let bytes = tokio::task::spawn_blocking(move || {
            let font = crate::pdf::document_font().ok_or_else(|| {
                AppError::bad_request("pdf_font_missing", "no Chinese font is installed for PDF; print the page instead")
            })?;
            crate::pdf::render(font, &number, &content, &footer).map_err(AppError::Internal)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        let name = format!("attachment; filename=\"{}-{}.pdf\"", document.kind, document.id);
        Ok((
            [(axum::http::header::CONTENT_TYPE, "application/pdf".to_string()), (axum::http::header::CONTENT_DISPOSITION, name)],
            bytes,
        )
            .into_response())
    }
    .await;
    page_result(&headers, Some(&auth), result)
}

/// `POST /cases/{id}/evidence`: attaches a file to the case in the evidence store (stored by digest, its
/// entry in the record); the add-evidence step then registers it with its Art. 46 kind.
pub async fn upload_evidence(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(auth): SignedIn,
    Path(id): Path<i64>,
    form: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let attached = async {
        let file = crate::evidence::read_form(&auth.csrf_token, form).await?;
        let object_id = id.to_string();
        let upload = gridward_app::evidence::Upload {
            object_type: "case",
            object_id: &object_id,
            bytes: &file.bytes,
            original_name: file.name.as_deref(),
        };
        state.app.attach_evidence(&auth.principal, upload).await
    }
    .await;
    match attached {
        Ok(_) => Redirect::to(&format!("/cases/{id}?done=upload_evidence")).into_response(),
        Err(e) => refused_on_case_page(&state, &headers, &auth, id, e).await,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PublishedQuery {
    /// At most this many (1–500, default 100).
    pub limit: Option<u32>,
}

/// Penalty decisions published under Art. 48 and not withdrawn, newest first; personal data is masked.
#[utoipa::path(get, path = "/api/v1/decisions", tag = "cases", params(PublishedQuery), responses((status = 200, body = Object)))]
pub async fn published_decisions(State(state): State<AppState>, Query(q): Query<PublishedQuery>) -> ApiResult<Json<Value>> {
    let items = state.app.published_decisions(q.limit.unwrap_or(100)).await?;
    let items: Vec<Value> = items
        .iter()
        .map(|d| json!({"number": d.number, "issued_at": d.issued_at, "content": d.content, "digest": d.digest, "ledger_seq": d.ledger_seq}))
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[derive(Template)]
#[template(path = "decisions.html")]
struct DecisionsPage {
    chrome: Chrome,
    items: Vec<CaseDocument>,
}

impl DecisionsPage {
    fn rows(&self, d: &CaseDocument) -> Vec<(String, String)> {
        crate::pdf::document_fields(&d.content)
    }
}

/// `GET /decisions`: the public register of penalty decisions (执法公示).
pub async fn decisions_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    crate::access::MaybeSignedIn(auth): crate::access::MaybeSignedIn,
) -> Response {
    let result = async {
        let items = state.app.published_decisions(200).await?;
        Ok(render(StatusCode::OK, &DecisionsPage { chrome: Chrome::new(&headers, auth.as_ref()), items }))
    }
    .await;
    page_result(&headers, auth.as_ref(), result)
}

/// Adds the official arrangement of the next years (admins): the CSV `date,kind,festival` with `kind`
/// `holiday` or `makeup_workday`, as the State Council publishes it each year. Known years never change.
#[utoipa::path(post, path = "/api/v1/calendar/import", tag = "cases", security(("bearer" = [])), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_calendar(
    State(state): State<AppState>,
    SignedIn(auth): SignedIn,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let days = state.app.import_calendar(&auth.principal, &body).await?;
    let known_through = state.app.work_calendar().await?.known_through().to_string();
    Ok(Json(json!({ "days": days, "known_through": known_through })))
}
